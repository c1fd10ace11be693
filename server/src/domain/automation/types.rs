//! The vocabulary of automation rules: what sets a rule off, what must hold, and what it
//! does. Conditions and actions are stored as JSON through these types only.

use serde::{Deserialize, Serialize};

use crate::domain::{events::Topic, named::named_enum};

named_enum!(
    /// What kind of event a rule answers.
    Trigger {
        /// A ticket was raised.
        TicketCreated = "TICKET_CREATED",
        /// A ticket's fields, status, assignment or group changed.
        TicketChanged = "TICKET_CHANGED",
        /// A comment or work note was added to a ticket.
        CommentAdded = "COMMENT_ADDED",
        /// An SLA clock passed a warning threshold.
        SlaWarning = "SLA_WARNING",
        /// An SLA clock passed its target.
        SlaBreached = "SLA_BREACHED",
        /// A problem moved along its lifecycle (actions apply to its incidents).
        ProblemStatusChanged = "PROBLEM_STATUS_CHANGED",
        /// A change moved along its lifecycle (actions apply to the incidents it caused).
        ChangeStatusChanged = "CHANGE_STATUS_CHANGED",
        /// A requester answered a satisfaction survey (`ratingAtMost` picks the unhappy).
        SurveyAnswered = "SURVEY_ANSWERED",
        /// A release moved along its lifecycle: deployed, verified, rolled back (actions
        /// apply to the incidents of its early life).
        ReleaseStatusChanged = "RELEASE_STATUS_CHANGED",
        /// A release's deployment step was recorded, failed ones included (actions
        /// apply to the incidents of its early life).
        ReleaseStepRecorded = "RELEASE_STEP_RECORDED",
        /// An alert began firing, or fired again (`RAISE_INCIDENT` makes it an incident;
        /// other actions apply to the incident it is attached to).
        AlertFiring = "ALERT_FIRING",
        /// An alert was resolved (actions apply to its incident).
        AlertResolved = "ALERT_RESOLVED",
        /// A service spent its month's downtime budget.
        AvailabilityTargetBreached = "AVAILABILITY_TARGET_BREACHED",
        /// A capacity measure went over its threshold, or is forecast to within the
        /// horizon (`RAISE_INCIDENT` raises one on the item).
        CapacityWarning = "CAPACITY_WARNING",
    }
);

impl Trigger {
    /// The trigger an event's topic sets off, if any.
    pub fn of(topic: Topic) -> Option<Trigger> {
        Some(match topic {
            Topic::TicketCreated => Trigger::TicketCreated,
            Topic::TicketUpdated
            | Topic::TicketStatusChanged
            | Topic::TicketReopened
            | Topic::TicketAssigned
            | Topic::TicketRouted
            | Topic::TicketEscalated => Trigger::TicketChanged,
            Topic::TicketCommented => Trigger::CommentAdded,
            Topic::SlaWarning => Trigger::SlaWarning,
            Topic::SlaBreached => Trigger::SlaBreached,
            Topic::ProblemStatusChanged => Trigger::ProblemStatusChanged,
            Topic::ChangeStatusChanged => Trigger::ChangeStatusChanged,
            Topic::SurveyAnswered => Trigger::SurveyAnswered,
            Topic::ReleaseStatusChanged => Trigger::ReleaseStatusChanged,
            Topic::ReleaseStepRecorded => Trigger::ReleaseStepRecorded,
            Topic::AlertFired => Trigger::AlertFiring,
            Topic::AlertResolved => Trigger::AlertResolved,
            Topic::AvailabilityTargetBreached => Trigger::AvailabilityTargetBreached,
            Topic::CapacityThresholdCrossed | Topic::CapacityForecast => Trigger::CapacityWarning,
            _ => return None,
        })
    }
}

/// What must hold for a rule to act. Each list, when not empty, must contain the
/// ticket's (or the event's) value; all that are given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Conditions {
    /// 1 (critical) to 4 (low).
    pub priorities: Vec<i16>,
    /// `INCIDENT`, `SERVICE_REQUEST`.
    pub kinds: Vec<String>,
    pub statuses: Vec<String>,
    pub group_ids: Vec<i64>,
    pub organization_ids: Vec<i64>,
    pub service_ids: Vec<i64>,
    pub category_ids: Vec<i64>,
    /// Any of these words in the title, in any case.
    pub title_words: Vec<String>,
    /// For SLA events: `RESPONSE`, `RESOLUTION`.
    pub sla_metrics: Vec<String>,
    /// For SLA events: the threshold passed is at least this percent.
    pub sla_percent_at_least: Option<i32>,
    /// Who acted (people's ids).
    pub actor_ids: Vec<i64>,
    /// For survey answers: the rating is at most this (1 to 5).
    pub rating_at_most: Option<i32>,
    /// For alerts: the alert's severity is one of these (`critical`, `warning`…).
    pub severities: Vec<String>,
    /// For alerts: the alert's name is one of these.
    pub alert_names: Vec<String>,
}

/// One thing a rule does, through the command a person would use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum Action {
    SetGroup {
        group_id: i64,
    },
    SetAssignee {
        user_id: i64,
    },
    /// 1 to 4, reached through the desk's impact × urgency matrix.
    SetPriority {
        priority: i16,
    },
    SetStatus {
        status: String,
    },
    SetCategory {
        category_id: i64,
    },
    /// `FUNCTIONAL` (to the group's escalation group) or `HIERARCHICAL` (flag its manager).
    Escalate {
        level: String,
        reason: String,
    },
    /// An internal work note from a template.
    AddNote {
        template: String,
    },
    /// A public comment from a template.
    AddComment {
        template: String,
    },
    /// Sends the event to a webhook endpoint.
    NotifyWebhook {
        endpoint_id: i64,
    },
    /// For alerts and capacity warnings: raises an incident on the item (one per item
    /// and alert group; a later alert joins the open one), at `priority` (by default
    /// from the alert's severity) in `groupId`'s queue (by default as routing says).
    RaiseIncident {
        #[serde(default)]
        priority: Option<i16>,
        #[serde(default)]
        group_id: Option<i64>,
    },
}

impl Action {
    /// The action's name as stored, for history and refusals.
    pub fn name(&self) -> &'static str {
        match self {
            Action::SetGroup { .. } => "SET_GROUP",
            Action::SetAssignee { .. } => "SET_ASSIGNEE",
            Action::SetPriority { .. } => "SET_PRIORITY",
            Action::SetStatus { .. } => "SET_STATUS",
            Action::SetCategory { .. } => "SET_CATEGORY",
            Action::Escalate { .. } => "ESCALATE",
            Action::AddNote { .. } => "ADD_NOTE",
            Action::AddComment { .. } => "ADD_COMMENT",
            Action::NotifyWebhook { .. } => "NOTIFY_WEBHOOK",
            Action::RaiseIncident { .. } => "RAISE_INCIDENT",
        }
    }
}
