//! What an event records, one name per kind of change: written to the log, published,
//! filtered on and shown to subscribers as `action`, always through this one enum.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares the topics with the name each is stored and sent as.
macro_rules! topics {
    ($($(#[$meta:meta])* $variant:ident = $text:literal),+ $(,)?) => {
        /// What happened: `area.change`, as stored in the event log.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Topic {
            $($(#[$meta])* $variant,)+
            /// A topic this version does not know: written by a newer replica sharing
            /// the database during a rolling upgrade. Passed on, matched by nothing.
            Unknown,
        }

        impl Topic {
            /// Every value, in declaration order.
            pub const ALL: &'static [Topic] = &[$(Topic::$variant),+];

            /// The stored and sent name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Topic::$variant => $text,)+
                    Topic::Unknown => "unknown",
                }
            }

            /// The topic a stored name stands for.
            pub fn parse(text: &str) -> Topic {
                match text {
                    $($text => Topic::$variant,)+
                    _ => Topic::Unknown,
                }
            }
        }
    };
}

topics! {
    TicketCreated = "ticket.created",
    TicketUpdated = "ticket.updated",
    TicketStatusChanged = "ticket.status_changed",
    TicketReopened = "ticket.reopened",
    TicketAssigned = "ticket.assigned",
    TicketRouted = "ticket.routed",
    TicketEscalated = "ticket.escalated",
    TicketCommented = "ticket.commented",
    /// Time worked was recorded on a ticket (internal: the desk's own record).
    TicketTimeRecorded = "ticket.time_recorded",
    /// A time entry was removed.
    TicketTimeRemoved = "ticket.time_removed",
    /// Two tickets were linked (recorded on both).
    TicketLinked = "ticket.linked",
    /// A link between two tickets was removed (recorded on both).
    TicketUnlinked = "ticket.unlinked",
    /// A file was attached to a ticket or one of its comments (`payload.attachmentId`).
    TicketAttachmentAdded = "ticket.attachment_added",
    /// A file was removed from a ticket.
    TicketAttachmentRemoved = "ticket.attachment_removed",
    /// A duplicate was merged into the ticket that survives it (recorded on both;
    /// `payload.role` says which this is).
    TicketMerged = "ticket.merged",
    /// A merge was undone (recorded on both).
    TicketUnmerged = "ticket.unmerged",
    /// A manager declared an incident major (`payload.audience`: whom it affects).
    MajorIncidentDeclared = "major_incident.declared",
    /// The coordinator published an update to the people a major incident affects.
    MajorIncidentUpdated = "major_incident.update_published",
    /// A major incident was resolved, its children with it.
    MajorIncidentResolved = "major_incident.resolved",
    /// A major incident was closed with its review.
    MajorIncidentClosed = "major_incident.closed",
    /// The requester of a resolved ticket was asked how satisfied they are.
    SurveyOffered = "survey.offered",
    /// The requester answered the survey (`payload.rating`, 1 to 5).
    SurveyAnswered = "survey.answered",
    /// An SLA clock passed a warning threshold.
    SlaWarning = "sla.warning",
    /// An SLA clock passed its target.
    SlaBreached = "sla.breached",
    /// A ticket's clocks were recomputed under another policy.
    SlaPolicyChanged = "sla.policy_changed",
    CatalogOrdered = "catalog.ordered",
    CatalogOrderApproved = "catalog.order_approved",
    CatalogOrderRejected = "catalog.order_rejected",
    ProblemCreated = "problem.created",
    ProblemUpdated = "problem.updated",
    ProblemStatusChanged = "problem.status_changed",
    ProblemIncidentsLinked = "problem.incidents_linked",
    /// Incidents that look alike suggest a problem to investigate.
    ProblemProposed = "problem.proposed",
    ChangeCreated = "change.created",
    ChangeUpdated = "change.updated",
    ChangeStatusChanged = "change.status_changed",
    ChangeAssessed = "change.assessed",
    ChangeVoted = "change.voted",
    ArticleCreated = "article.created",
    ArticleUpdated = "article.updated",
    ArticleStatusChanged = "article.status_changed",
    /// A file was attached to an article.
    ArticleAttachmentAdded = "article.attachment_added",
    /// A file was removed from an article.
    ArticleAttachmentRemoved = "article.attachment_removed",
    /// A release was planned (`payload.changeIds`, `serviceIds`).
    ReleaseCreated = "release.created",
    /// A release, its changes, services or deployment plan were rewritten.
    ReleaseUpdated = "release.updated",
    /// A release moved along its lifecycle (deployed, verified, rolled back…).
    ReleaseStatusChanged = "release.status_changed",
    /// A deployment step started, succeeded, failed or was skipped (`payload.state`).
    ReleaseStepRecorded = "release.step_recorded",
    /// An incident in a release's early life was linked to it.
    ReleaseIncidentLinked = "release.incident_linked",
    /// An alert began firing: new, or again after it was resolved (`payload.refired`).
    AlertFired = "alert.fired",
    /// An alert was resolved by its monitoring system.
    AlertResolved = "alert.resolved",
    /// An alert was attached to an incident (`payload.ticketId`).
    AlertAttached = "alert.attached",
    /// An alert began or stopped flapping (`payload.flapping`).
    AlertFlapping = "alert.flapping",
    /// An outage was recorded on a configuration item, or changed, or ended.
    OutageRecorded = "outage.recorded",
    OutageUpdated = "outage.updated",
    /// A service spent its month's downtime budget (`payload.spentAt`).
    AvailabilityTargetBreached = "availability.target_breached",
    /// A capacity measure of an item went over its threshold (or back under it).
    CapacityThresholdCrossed = "capacity.threshold_crossed",
    /// A capacity measure is forecast to cross its threshold within the horizon.
    CapacityForecast = "capacity.forecast",
    /// An agreement (SLA, OLA, contract) comes up for review within 30 days.
    AgreementReviewDue = "agreement.review_due",
    /// A continuity plan was written or changed.
    ContinuityPlanUpdated = "continuity.plan_updated",
    /// A continuity plan was exercised (`payload.outcome`, `recoveryMinutes`).
    ContinuityExerciseRecorded = "continuity.exercise_recorded",
    /// A continuity plan's successful exercise is overdue (`payload.dueAt`).
    ContinuityExerciseOverdue = "continuity.exercise_overdue",
    /// A service's spending this year passed its budget's alert share.
    BudgetThresholdPassed = "budget.threshold_passed",
    /// Last month's service report is ready for the service's owner, who asked for it
    /// by mail (`payload.month`).
    ServiceReportReady = "service_report.ready",
    CiCreated = "ci.created",
    CiUpdated = "ci.updated",
    CiRelated = "ci.related",
    CiUnrelated = "ci.unrelated",
    ApiTokenCreated = "api_token.created",
    ApiTokenRevoked = "api_token.revoked",
    /// The desk disabled a webhook endpoint: it answered 410 Gone, or failed for days.
    WebhookDisabled = "webhook.disabled",
    /// An automation rule's action was refused (the rule's person may not do it, or it
    /// does not fit the ticket); the rule's other actions went on.
    AutomationActionRefused = "automation.action_refused",
    /// A chain of rules setting each other off was stopped at its bounded depth.
    AutomationChainStopped = "automation.chain_stopped",
}

impl Topic {
    /// An SLA warning or breach: what `slaAlerts` carries.
    pub fn is_sla_alert(self) -> bool {
        matches!(self, Topic::SlaWarning | Topic::SlaBreached)
    }

    /// An event of a major incident: what `majorIncidents` carries.
    pub fn is_major_incident(self) -> bool {
        matches!(
            self,
            Topic::MajorIncidentDeclared
                | Topic::MajorIncidentUpdated
                | Topic::MajorIncidentResolved
                | Topic::MajorIncidentClosed
        )
    }

    /// An alert's event: what `alertsChanged` carries.
    pub fn is_alert(self) -> bool {
        matches!(
            self,
            Topic::AlertFired | Topic::AlertResolved | Topic::AlertAttached | Topic::AlertFlapping
        )
    }

    /// An event about a ticket's SLA clocks, which changes nothing else of it.
    pub fn is_about_sla(self) -> bool {
        matches!(
            self,
            Topic::SlaWarning | Topic::SlaBreached | Topic::SlaPolicyChanged
        )
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Topic {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Topic {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Topic, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(Topic::parse(&text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_reads_back_as_itself() {
        for &topic in Topic::ALL {
            assert_eq!(Topic::parse(topic.as_str()), topic);
            let json = serde_json::to_string(&topic).unwrap();
            assert_eq!(serde_json::from_str::<Topic>(&json).unwrap(), topic);
        }
        assert_eq!(Topic::parse("ticket.teleported"), Topic::Unknown);
    }
}
