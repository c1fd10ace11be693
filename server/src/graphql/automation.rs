//! Automation rules in the schema: admins define what the desk does by itself.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use entity::automation_rule;

use crate::{
    auth::Role,
    domain::{
        automation::{
            rules::{self, RuleInput},
            types::{Action, Conditions, Trigger},
        },
        tickets::types::Status,
    },
    error::{AppError, AppResult},
    graphql::{
        caller, ids,
        instant::Instant,
        now,
        pagination::{self, Page, PageArgs},
        state,
        tickets::{EscalationLevel, Priority, TicketStatus},
    },
};

/// What kind of event sets a rule off.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Trigger")]
pub enum AutomationTrigger {
    /// A ticket was raised.
    TicketCreated,
    /// A ticket's fields, status, assignment or group changed.
    TicketChanged,
    /// A comment or work note was added to a ticket.
    CommentAdded,
    /// An SLA clock passed a warning threshold (see `slaPercentAtLeast`).
    SlaWarning,
    /// An SLA clock passed its target.
    SlaBreached,
    /// A problem moved along its lifecycle; actions apply to its incidents.
    ProblemStatusChanged,
    /// A change moved along its lifecycle; actions apply to the incidents it caused.
    ChangeStatusChanged,
    /// A requester answered a satisfaction survey (see `ratingAtMost`).
    SurveyAnswered,
    /// A release moved along its lifecycle: deployed, verified, rolled back (actions
    /// apply to the incidents of its early life).
    ReleaseStatusChanged,
    /// A release's deployment step was recorded, failed ones included (actions apply to
    /// the incidents of its early life).
    ReleaseStepRecorded,
    /// An alert began firing, or fired again: RAISE_INCIDENT makes it an incident (one per
    /// item and alert group); other actions apply to the incident it is attached to.
    AlertFiring,
    /// An alert was resolved; actions apply to its incident.
    AlertResolved,
    /// A service spent its month's downtime budget (RAISE_INCIDENT, NOTIFY_WEBHOOK).
    AvailabilityTargetBreached,
    /// A capacity measure went over its threshold or is forecast to within the horizon
    /// (RAISE_INCIDENT raises one on the item, NOTIFY_WEBHOOK).
    CapacityWarning,
}

/// What an action does.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum AutomationActionType {
    /// Move the ticket to `groupId`'s queue.
    SetGroup,
    /// Assign the ticket to `userId` (a member of its group).
    SetAssignee,
    /// Give the ticket `priority`, through the desk's impact × urgency matrix.
    SetPriority,
    /// Move the ticket to `status`.
    SetStatus,
    /// Put the ticket in `categoryId`.
    SetCategory,
    /// Escalate at `level` with `reason`.
    Escalate,
    /// Add an internal work note written from `template`.
    AddNote,
    /// Add a public comment written from `template`.
    AddComment,
    /// Send the event to the webhook endpoint `endpointId`.
    NotifyWebhook,
    /// For alerts and capacity warnings: raise an incident on the item (one per item and
    /// alert group: a later alert joins the open one), at `priority` (by default from
    /// the alert's severity), in `groupId`'s queue (by default as routing says).
    RaiseIncident,
}

/// One action of a rule; the fields its type needs are set, the others null.
#[derive(SimpleObject)]
pub struct AutomationAction {
    /// What it does.
    pub r#type: AutomationActionType,
    /// For SET_GROUP.
    pub group_id: Option<ID>,
    /// For SET_ASSIGNEE.
    pub user_id: Option<ID>,
    /// For SET_PRIORITY.
    pub priority: Option<Priority>,
    /// For SET_STATUS.
    pub status: Option<TicketStatus>,
    /// For SET_CATEGORY.
    pub category_id: Option<ID>,
    /// For ESCALATE.
    pub level: Option<EscalationLevel>,
    /// For ESCALATE: the reason written into history.
    pub reason: Option<String>,
    /// For ADD_NOTE and ADD_COMMENT: the text, a template that may use `ticket.number`,
    /// `ticket.title`, `ticket.priority`, `event.metric`, `event.percent`, `rule.name`
    /// in `{{ … }}`.
    pub template: Option<String>,
    /// For NOTIFY_WEBHOOK.
    pub endpoint_id: Option<ID>,
}

/// What must hold for a rule to act; every list given must contain the value.
#[derive(SimpleObject, InputObject, Default)]
#[graphql(input_name = "AutomationConditionsInput")]
pub struct AutomationConditions {
    /// The ticket's priority is one of these.
    #[graphql(default)]
    pub priorities: Vec<Priority>,
    /// The ticket's kind is one of these (`INCIDENT`, `SERVICE_REQUEST`).
    #[graphql(default)]
    pub kinds: Vec<String>,
    /// The ticket's status is one of these.
    #[graphql(default)]
    pub statuses: Vec<TicketStatus>,
    /// The ticket is in one of these groups' queues.
    #[graphql(default)]
    pub group_ids: Vec<ID>,
    /// The ticket is of one of these organizations.
    #[graphql(default)]
    pub organization_ids: Vec<ID>,
    /// The ticket is about one of these services.
    #[graphql(default)]
    pub service_ids: Vec<ID>,
    /// The ticket is in one of these categories.
    #[graphql(default)]
    pub category_ids: Vec<ID>,
    /// The ticket's title contains one of these words, in any case.
    #[graphql(default)]
    pub title_words: Vec<String>,
    /// For SLA events: the clock's metric is one of these (`RESPONSE`, `RESOLUTION`).
    #[graphql(default)]
    pub sla_metrics: Vec<String>,
    /// For SLA events: the threshold passed is at least this percent.
    pub sla_percent_at_least: Option<i32>,
    /// The person who acted is one of these.
    #[graphql(default)]
    pub actor_ids: Vec<ID>,
    /// For survey answers: the rating is at most this (1 to 5): 2 picks the unhappy.
    pub rating_at_most: Option<i32>,
    /// For alerts: the alert's severity is one of these (`critical`, `warning`…).
    #[graphql(default)]
    pub severities: Vec<String>,
    /// For alerts: the alert's name is one of these.
    #[graphql(default)]
    pub alert_names: Vec<String>,
}

impl AutomationConditions {
    fn decode(self) -> AppResult<Conditions> {
        Ok(Conditions {
            priorities: self.priorities.iter().map(|p| p.number()).collect(),
            kinds: self.kinds,
            statuses: self
                .statuses
                .into_iter()
                .map(|s| Status::from(s).as_str().to_string())
                .collect(),
            group_ids: ids::decode_all(&self.group_ids, "Group", "groupIds")?,
            organization_ids: ids::decode_all(
                &self.organization_ids,
                "Organization",
                "organizationIds",
            )?,
            service_ids: ids::decode_all(&self.service_ids, "Service", "serviceIds")?,
            category_ids: ids::decode_all(&self.category_ids, "Category", "categoryIds")?,
            title_words: self.title_words,
            sla_metrics: self.sla_metrics,
            sla_percent_at_least: self.sla_percent_at_least,
            actor_ids: ids::decode_all(&self.actor_ids, "User", "actorIds")?,
            rating_at_most: self.rating_at_most,
            severities: self.severities,
            alert_names: self.alert_names,
        })
    }

    fn encode(c: Conditions) -> AppResult<AutomationConditions> {
        let all = |t: &str, v: &[i64]| v.iter().map(|id| ids::encode(t, *id)).collect();
        Ok(AutomationConditions {
            priorities: c
                .priorities
                .iter()
                .map(|p| Priority::from_number(*p))
                .collect(),
            statuses: c
                .statuses
                .iter()
                .map(|s| Status::stored(s).map(TicketStatus::from))
                .collect::<AppResult<_>>()?,
            group_ids: all("Group", &c.group_ids),
            organization_ids: all("Organization", &c.organization_ids),
            service_ids: all("Service", &c.service_ids),
            category_ids: all("Category", &c.category_ids),
            actor_ids: all("User", &c.actor_ids),
            kinds: c.kinds,
            title_words: c.title_words,
            sla_metrics: c.sla_metrics,
            sla_percent_at_least: c.sla_percent_at_least,
            rating_at_most: c.rating_at_most,
            severities: c.severities,
            alert_names: c.alert_names,
        })
    }
}

/// One action, as a rule's author writes it: its type and the fields that type needs.
#[derive(InputObject)]
pub struct AutomationActionInput {
    /// What it does.
    pub r#type: AutomationActionType,
    /// For SET_GROUP.
    pub group_id: Option<ID>,
    /// For SET_ASSIGNEE.
    pub user_id: Option<ID>,
    /// For SET_PRIORITY.
    pub priority: Option<Priority>,
    /// For SET_STATUS.
    pub status: Option<TicketStatus>,
    /// For SET_CATEGORY.
    pub category_id: Option<ID>,
    /// For ESCALATE.
    pub level: Option<EscalationLevel>,
    /// For ESCALATE: the reason written into history.
    pub reason: Option<String>,
    /// For ADD_NOTE and ADD_COMMENT: a template (see `AutomationAction.template`).
    pub template: Option<String>,
    /// For NOTIFY_WEBHOOK.
    pub endpoint_id: Option<ID>,
}

fn needs<T>(value: Option<T>, field: &str, kind: &str) -> AppResult<T> {
    value.ok_or_else(|| AppError::bad_input(field, format!("a {kind} action needs {field}")))
}

impl AutomationActionInput {
    fn decode(self) -> AppResult<Action> {
        use AutomationActionType as T;
        Ok(match self.r#type {
            T::SetGroup => Action::SetGroup {
                group_id: ids::decode_as(
                    &needs(self.group_id, "groupId", "SET_GROUP")?,
                    "Group",
                    "groupId",
                )?,
            },
            T::SetAssignee => Action::SetAssignee {
                user_id: ids::decode_as(
                    &needs(self.user_id, "userId", "SET_ASSIGNEE")?,
                    "User",
                    "userId",
                )?,
            },
            T::SetPriority => Action::SetPriority {
                priority: needs(self.priority, "priority", "SET_PRIORITY")?.number(),
            },
            T::SetStatus => Action::SetStatus {
                status: Status::from(needs(self.status, "status", "SET_STATUS")?)
                    .as_str()
                    .into(),
            },
            T::SetCategory => Action::SetCategory {
                category_id: ids::decode_as(
                    &needs(self.category_id, "categoryId", "SET_CATEGORY")?,
                    "Category",
                    "categoryId",
                )?,
            },
            T::Escalate => Action::Escalate {
                level: match needs(self.level, "level", "ESCALATE")? {
                    EscalationLevel::Functional => "FUNCTIONAL".into(),
                    EscalationLevel::Hierarchical => "HIERARCHICAL".into(),
                },
                reason: needs(self.reason, "reason", "ESCALATE")?,
            },
            T::AddNote => Action::AddNote {
                template: needs(self.template, "template", "ADD_NOTE")?,
            },
            T::AddComment => Action::AddComment {
                template: needs(self.template, "template", "ADD_COMMENT")?,
            },
            T::NotifyWebhook => Action::NotifyWebhook {
                endpoint_id: ids::decode_as(
                    &needs(self.endpoint_id, "endpointId", "NOTIFY_WEBHOOK")?,
                    "WebhookEndpoint",
                    "endpointId",
                )?,
            },
            T::RaiseIncident => Action::RaiseIncident {
                priority: self.priority.map(|p| p.number()),
                group_id: ids::decode_opt(self.group_id, "Group", "groupId")?,
            },
        })
    }
}

fn encode_action(action: Action) -> AppResult<AutomationAction> {
    use AutomationActionType as T;
    let mut out = AutomationAction {
        r#type: T::AddNote,
        group_id: None,
        user_id: None,
        priority: None,
        status: None,
        category_id: None,
        level: None,
        reason: None,
        template: None,
        endpoint_id: None,
    };
    match action {
        Action::SetGroup { group_id } => {
            (out.r#type, out.group_id) = (T::SetGroup, Some(ids::encode("Group", group_id)))
        }
        Action::SetAssignee { user_id } => {
            (out.r#type, out.user_id) = (T::SetAssignee, Some(ids::encode("User", user_id)))
        }
        Action::SetPriority { priority } => {
            (out.r#type, out.priority) = (T::SetPriority, Some(Priority::from_number(priority)))
        }
        Action::SetStatus { status } => {
            (out.r#type, out.status) = (T::SetStatus, Some(Status::stored(&status)?.into()))
        }
        Action::SetCategory { category_id } => {
            (out.r#type, out.category_id) =
                (T::SetCategory, Some(ids::encode("Category", category_id)))
        }
        Action::Escalate { level, reason } => {
            out.r#type = T::Escalate;
            out.level = Some(if level == "HIERARCHICAL" {
                EscalationLevel::Hierarchical
            } else {
                EscalationLevel::Functional
            });
            out.reason = Some(reason);
        }
        Action::AddNote { template } => (out.r#type, out.template) = (T::AddNote, Some(template)),
        Action::AddComment { template } => {
            (out.r#type, out.template) = (T::AddComment, Some(template))
        }
        Action::NotifyWebhook { endpoint_id } => {
            (out.r#type, out.endpoint_id) = (
                T::NotifyWebhook,
                Some(ids::encode("WebhookEndpoint", endpoint_id)),
            )
        }
        Action::RaiseIncident { priority, group_id } => {
            out.r#type = T::RaiseIncident;
            out.priority = priority.map(Priority::from_number);
            out.group_id = group_id.map(|id| ids::encode("Group", id));
        }
    }
    Ok(out)
}

/// When an event of a kind happens and its conditions hold, the desk carries out the
/// rule's actions, with the rights of the person it runs as, and names the rule in the
/// ticket's history.
pub struct AutomationRule(pub automation_rule::Model);

/// When an event of a kind happens and its conditions hold, the desk carries out the
/// rule's actions, with the rights of the person it runs as, and names the rule in the
/// ticket's history.
#[Object]
impl AutomationRule {
    /// The globally unique id (Relay `Node`): pass it to `node(id:)` to fetch it again.
    pub async fn id(&self) -> ID {
        ids::encode("AutomationRule", self.0.id)
    }
    /// What the rule is called in history.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What it is for.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Rules are tried in ascending position.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// Whether it acts.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// When it acted, the rules after it are not tried for that event.
    async fn stop_processing(&self) -> bool {
        self.0.stop_processing
    }
    /// What sets it off.
    async fn trigger(&self) -> AppResult<AutomationTrigger> {
        Ok(rules::parts(&self.0)?.0.into())
    }
    /// What must hold.
    async fn conditions(&self) -> AppResult<AutomationConditions> {
        AutomationConditions::encode(rules::parts(&self.0)?.1)
    }
    /// What it does, in order.
    async fn actions(&self) -> AppResult<Vec<AutomationAction>> {
        rules::parts(&self.0)?
            .2
            .into_iter()
            .map(encode_action)
            .collect()
    }
    /// The person whose rights it acts with.
    async fn run_as_id(&self) -> ID {
        ids::encode("User", self.0.run_as_id)
    }
    /// Send this back with a change, to be sure nobody changed it since you read it.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When it last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
}

/// A rule by id, for `node(id:)`.
pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<AutomationRule> {
    Ok(AutomationRule(
        rules::find(&state(ctx).db, caller(ctx), id).await?,
    ))
}

#[derive(Default)]
pub struct AutomationQuery;

#[Object]
impl AutomationQuery {
    /// The desk's automation rules. Admins only.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn automation_rules(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many items to take from the start of the list (after `after`), 0 to 100; 20 unless given."
        )]
        first: Option<i32>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(
            desc = "How many items to take from the end of the list (before `before`), 0 to 100. Pass `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(desc = "Take items before this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> AppResult<Page<AutomationRule>> {
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let rows = rules::list(&state(ctx).db, caller(ctx), &page).await?;
        Ok(pagination::connection(
            &page,
            rows,
            |row| row.id,
            AutomationRule,
        ))
    }
}

/// A rule as an admin writes it.
#[derive(InputObject)]
pub struct AutomationRuleInput {
    /// What the rule is called in history.
    pub name: String,
    /// What it is for.
    #[graphql(default)]
    pub description: String,
    /// Rules are tried in ascending position.
    #[graphql(default)]
    pub position: i32,
    /// Whether it acts; true unless given.
    #[graphql(default = true)]
    pub enabled: bool,
    /// When it acted, do not try the rules after it for that event.
    #[graphql(default)]
    pub stop_processing: bool,
    /// What sets it off.
    pub trigger: AutomationTrigger,
    /// What must hold; nothing beyond the trigger when absent.
    pub conditions: Option<AutomationConditions>,
    /// What it does, in order (1 to 20 actions).
    pub actions: Vec<AutomationActionInput>,
    /// The person whose rights it acts with; you, when absent.
    pub run_as_id: Option<ID>,
}

impl AutomationRuleInput {
    fn decode(self) -> AppResult<RuleInput> {
        Ok(RuleInput {
            name: self.name,
            description: self.description,
            position: self.position,
            enabled: self.enabled,
            stop_processing: self.stop_processing,
            trigger: self.trigger.into(),
            conditions: self.conditions.unwrap_or_default().decode()?,
            actions: self
                .actions
                .into_iter()
                .map(AutomationActionInput::decode)
                .collect::<AppResult<_>>()?,
            run_as_id: ids::decode_opt(self.run_as_id, "User", "runAsId")?,
        })
    }
}

/// What `updateAutomationRule` takes: the rule's id, the version read, and the rule.
#[derive(InputObject)]
pub struct UpdateAutomationRuleInput {
    /// The rule's id.
    pub id: ID,
    /// The version you read.
    pub version: i32,
    /// The rule as it should be.
    pub rule: AutomationRuleInput,
}

/// What `deleteAutomationRule` takes.
#[derive(InputObject)]
pub struct DeleteAutomationRuleInput {
    /// The rule's id.
    pub id: ID,
}

/// What the automation mutations return.
#[derive(SimpleObject)]
pub struct AutomationRulePayload {
    /// The rule as it is after the change.
    pub automation_rule: AutomationRule,
}

#[derive(Default)]
pub struct AutomationMutation;

#[Object]
impl AutomationMutation {
    /// Defines a rule; it acts on events from now on. Admins only.
    async fn create_automation_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: AutomationRuleInput,
    ) -> AppResult<AutomationRulePayload> {
        caller(ctx).require_role(Role::Admin)?;
        let row = rules::create(&state(ctx).db, caller(ctx), now(ctx), input.decode()?).await?;
        Ok(AutomationRulePayload {
            automation_rule: AutomationRule(row),
        })
    }

    /// Replaces a rule. Admins only.
    async fn update_automation_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: UpdateAutomationRuleInput,
    ) -> AppResult<AutomationRulePayload> {
        caller(ctx).require_role(Role::Admin)?;
        let id = ids::decode_as(&input.id, "AutomationRule", "id")?;
        let row = rules::update(
            &state(ctx).db,
            caller(ctx),
            now(ctx),
            id,
            input.version,
            input.rule.decode()?,
        )
        .await?;
        Ok(AutomationRulePayload {
            automation_rule: AutomationRule(row),
        })
    }

    /// Removes a rule. Admins only.
    async fn delete_automation_rule(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: DeleteAutomationRuleInput,
    ) -> AppResult<AutomationRulePayload> {
        let id = ids::decode_as(&input.id, "AutomationRule", "id")?;
        let row = rules::delete(&state(ctx).db, caller(ctx), id).await?;
        Ok(AutomationRulePayload {
            automation_rule: AutomationRule(row),
        })
    }
}
