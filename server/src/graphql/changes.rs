//! Change management: changes, their risk, approvals, windows, conflicts and report.

use async_graphql::{
    Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject, connection::Connection,
};
use entity::{change, change_approval_policy, change_freeze, change_template, change_vote};
use sea_orm::{EntityTrait, QueryOrder};

use crate::graphql::instant::Instant;
use crate::{
    auth::Role,
    domain::input::{instant, maybe_instant},
    domain::{
        changes::{
            self, ChangeFields, PolicyFields, TemplateFields, Transition,
            risk::{Answers, Grade},
            schedule,
        },
        desk::require_admin,
        events,
        tickets::commands,
    },
    error::{AppError, AppResult},
    graphql::{
        caller,
        catalog::Service,
        cmdb::ConfigurationItem,
        desk::Group,
        from_stored_name, ids, loaders, now,
        pagination::{self, PageArgs},
        state, stored_name,
        tickets::{HistoryEntry, Ticket, TicketPayload},
        users::User,
    },
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    /// From a pre-approved template: no CAB.
    Standard,
    /// Risk assessment and CAB approval.
    Normal,
    /// Expedited: its own (smaller) CAB, allowed inside freezes and outside windows.
    Emergency,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ChangeStatus {
    Draft,
    Submitted,
    Assessed,
    Authorized,
    Rejected,
    Scheduled,
    Implementing,
    Review,
    Closed,
    Cancelled,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Grade")]
pub enum RiskGrade {
    Low,
    Medium,
    High,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOutcome {
    Successful,
    Failed,
    BackedOut,
}

pub struct Change(pub change::Model);

#[Object]
impl Change {
    pub async fn id(&self) -> ID {
        ids::encode("Change", self.0.id)
    }
    /// CHG0000001.
    async fn number(&self) -> &str {
        &self.0.number
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn r#type(&self) -> AppResult<ChangeType> {
        from_stored_name(&self.0.change_type)
    }
    async fn status(&self) -> AppResult<ChangeStatus> {
        from_stored_name(&self.0.status)
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn implementation_plan(&self) -> &str {
        &self.0.implementation_plan
    }
    async fn rollback_plan(&self) -> &str {
        &self.0.rollback_plan
    }
    async fn test_plan(&self) -> &str {
        &self.0.test_plan
    }
    async fn planned_start(&self) -> Option<Instant> {
        self.0.planned_start.map(Instant)
    }
    async fn planned_end(&self) -> Option<Instant> {
        self.0.planned_end.map(Instant)
    }
    /// Once assessed.
    async fn risk(&self) -> AppResult<Option<RiskGrade>> {
        self.0.risk.as_deref().map(from_stored_name).transpose()
    }
    /// How the risk was reached: each factor's points and the rule applied.
    async fn risk_reasons(&self) -> Vec<String> {
        self.0
            .risk_reasons
            .clone()
            .and_then(|r| serde_json::from_value(r).ok())
            .unwrap_or_default()
    }
    /// Who must approve, once assessed.
    async fn approvers(&self, ctx: &Context<'_>) -> AppResult<Option<ChangeApprovers>> {
        let Some(quorum) = self.0.quorum else {
            return Ok(None);
        };
        let group = match self.0.approval_group_id {
            Some(id) => ctx
                .data_unchecked::<loaders::Groups>()
                .load_one(id)
                .await?
                .map(Group),
            None => None,
        };
        Ok(Some(ChangeApprovers {
            group,
            role: self.0.approval_role.as_deref().and_then(Role::parse),
            quorum,
        }))
    }
    /// Every vote, oldest first.
    async fn votes(&self, ctx: &Context<'_>) -> AppResult<Vec<ChangeVote>> {
        let rows = loaders::children_of::<loaders::VotesByChange, _>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(ChangeVote).collect())
    }
    async fn configuration_items(&self, ctx: &Context<'_>) -> AppResult<Vec<ConfigurationItem>> {
        let rows = loaders::children_of::<loaders::ItemsByChange, _>(ctx, self.0.id).await?;
        Ok(rows.into_iter().map(ConfigurationItem).collect())
    }
    /// The catalog services delivered by its items or anything depending on them.
    async fn services_at_risk(&self, ctx: &Context<'_>) -> AppResult<Vec<Service>> {
        let conn = state(ctx).db.conn();
        let ids = item_ids(ctx, self.0.id).await?;
        Ok(schedule::services_at_risk(conn, &ids)
            .await?
            .into_iter()
            .map(Service)
            .collect())
    }
    /// Other changes in an overlapping slot on the same items, or on items that depend
    /// on each other.
    async fn conflicts(&self, ctx: &Context<'_>) -> AppResult<Vec<ChangeConflict>> {
        let conn = state(ctx).db.conn();
        let ids = item_ids(ctx, self.0.id).await?;
        Ok(schedule::conflicts(conn, &self.0, &ids)
            .await?
            .into_iter()
            .map(ChangeConflict)
            .collect())
    }
    /// Scheduled inside a freeze, as an emergency.
    async fn freeze_override(&self) -> bool {
        self.0.freeze_override
    }
    async fn group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        loaders::group(ctx, self.0.group_id).await
    }
    async fn assignee(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        loaders::user(ctx, self.0.assignee_id).await
    }
    async fn requested_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        loaders::user(ctx, self.0.requested_by).await
    }
    async fn outcome(&self) -> AppResult<Option<ChangeOutcome>> {
        self.0.outcome.as_deref().map(from_stored_name).transpose()
    }
    /// The post-implementation review.
    async fn review(&self) -> Option<&str> {
        self.0.review.as_deref()
    }
    async fn closed_at(&self) -> Option<Instant> {
        self.0.closed_at.map(Instant)
    }
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Connection<String, HistoryEntry>> {
        let page = PageArgs::new(first, after, last, before).keyed_or(50)?;
        let rows = events::history_of(state(ctx).db.conn(), "change", self.0.id, &page).await?;
        Ok(pagination::connection(&page, rows, |e| e.id, HistoryEntry))
    }
}

/// A change's item ids, through the page's loader: one query for a list of changes.
async fn item_ids(ctx: &Context<'_>, change_id: i64) -> AppResult<Vec<i64>> {
    let items = loaders::children_of::<loaders::ItemsByChange, _>(ctx, change_id).await?;
    Ok(items.into_iter().map(|i| i.id).collect())
}

#[derive(SimpleObject)]
pub struct ChangeApprovers {
    pub group: Option<Group>,
    pub role: Option<Role>,
    /// Approvals needed.
    pub quorum: i32,
}

pub struct ChangeVote(pub change_vote::Model);

#[Object]
impl ChangeVote {
    async fn voter(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(ctx
            .data_unchecked::<loaders::Users>()
            .load_one(self.0.voter_id)
            .await?
            .map(User))
    }
    async fn approve(&self) -> bool {
        self.0.approve
    }
    async fn comment(&self) -> &str {
        &self.0.comment
    }
    async fn at(&self) -> Instant {
        Instant(self.0.created_at)
    }
}

pub struct ChangeConflict(schedule::Conflict);

#[Object]
impl ChangeConflict {
    async fn change(&self) -> Change {
        Change(self.0.other.clone())
    }
    /// Items both changes touch.
    async fn shared_items(&self, ctx: &Context<'_>) -> AppResult<Vec<ConfigurationItem>> {
        let found = ctx
            .data_unchecked::<loaders::ConfigurationItems>()
            .load_many(self.0.shared.iter().copied())
            .await?;
        Ok(found.into_values().map(ConfigurationItem).collect())
    }
    /// One change's items depend on the other's.
    async fn dependent(&self) -> bool {
        self.0.dependent
    }
}

/// A change in the calendar, with what it collides with.
#[derive(SimpleObject)]
pub struct CalendarEntry {
    pub change: Change,
    pub conflicts: Vec<ChangeConflict>,
}

#[derive(SimpleObject)]
pub struct ChangeReport {
    pub closed: i32,
    pub successful: i32,
    pub failed: i32,
    pub backed_out: i32,
    /// Successful of closed; null when none closed.
    pub success_rate: Option<f64>,
    /// Closed changes that caused at least one incident.
    pub changes_causing_incidents: i32,
    pub incidents_caused: i32,
}

pub struct ChangeTemplate(pub change_template::Model);

#[Object]
impl ChangeTemplate {
    async fn id(&self) -> ID {
        ids::encode("ChangeTemplate", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn implementation_plan(&self) -> &str {
        &self.0.implementation_plan
    }
    async fn rollback_plan(&self) -> &str {
        &self.0.rollback_plan
    }
    async fn test_plan(&self) -> &str {
        &self.0.test_plan
    }
    async fn active(&self) -> bool {
        self.0.active
    }
}

pub struct ChangeApprovalPolicy(pub change_approval_policy::Model);

#[Object]
impl ChangeApprovalPolicy {
    async fn id(&self) -> ID {
        ids::encode("ChangeApprovalPolicy", self.0.id)
    }
    async fn change_type(&self) -> AppResult<ChangeType> {
        from_stored_name(&self.0.change_type)
    }
    /// None: any risk.
    async fn risk(&self) -> AppResult<Option<RiskGrade>> {
        self.0.risk.as_deref().map(from_stored_name).transpose()
    }
    async fn approver_group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        loaders::group(ctx, self.0.approver_group_id).await
    }
    async fn approver_role(&self) -> Option<Role> {
        self.0.approver_role.as_deref().and_then(Role::parse)
    }
    async fn quorum(&self) -> i32 {
        self.0.quorum
    }
}

pub struct ChangeFreeze(pub change_freeze::Model);

#[Object]
impl ChangeFreeze {
    async fn id(&self) -> ID {
        ids::encode("ChangeFreeze", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn starts_at(&self) -> Instant {
        Instant(self.0.starts_at)
    }
    async fn ends_at(&self) -> Instant {
        Instant(self.0.ends_at)
    }
}

pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<Change> {
    changes::require_reader(caller(ctx))?;
    Ok(Change(changes::find(state(ctx).db.conn(), id).await?))
}

pub async fn changes_of_item(ctx: &Context<'_>, item_id: i64) -> AppResult<Vec<Change>> {
    changes::require_reader(caller(ctx))?;
    let rows = loaders::children_of::<loaders::ChangesByItem, _>(ctx, item_id).await?;
    Ok(rows.into_iter().map(Change).collect())
}

pub async fn open_changes_touching(ctx: &Context<'_>, item_ids: &[i64]) -> AppResult<Vec<Change>> {
    changes::require_reader(caller(ctx))?;
    let rows = changes::open_changes_touching(state(ctx).db.conn(), item_ids).await?;
    Ok(rows.into_iter().map(Change).collect())
}

pub async fn cause_of_ticket(
    ctx: &Context<'_>,
    change_id: Option<i64>,
) -> AppResult<Option<Change>> {
    let Some(id) = change_id else { return Ok(None) };
    changes::require_reader(caller(ctx))?;
    Ok(Some(Change(changes::find(state(ctx).db.conn(), id).await?)))
}

#[derive(Default)]
pub struct ChangeQuery;

#[Object]
impl ChangeQuery {
    /// Changes, newest first.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(1) as usize * child_complexity")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] status: Vec<ChangeStatus>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Connection<String, Change>> {
        changes::require_reader(caller(ctx))?;
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let statuses: Vec<String> = status.into_iter().map(stored_name).collect();
        let rows = changes::list(state(ctx).db.conn(), &statuses, &page).await?;
        Ok(pagination::connection(&page, rows, |c| c.id, Change))
    }

    /// The change calendar: changes holding a slot that overlaps `[from, to)`, by start,
    /// each with its conflicts. At most 31 days at a time.
    async fn change_calendar(
        &self,
        ctx: &Context<'_>,
        from: Instant,
        to: Instant,
    ) -> AppResult<Vec<CalendarEntry>> {
        changes::require_reader(caller(ctx))?;
        let (from, to) = (instant("from", from)?, instant("to", to)?);
        if to <= from || to - from > chrono::Duration::days(31) {
            return Err(AppError::bad_input(
                "to",
                "give a period of up to 31 days, ending after it starts",
            ));
        }
        let conn = state(ctx).db.conn();
        let rows = schedule::overlapping(conn, from, to, None).await?;
        let items =
            schedule::items_of(conn, &rows.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let mine = items.get(&row.id).cloned().unwrap_or_default();
            let conflicts = schedule::conflicts(conn, &row, &mine).await?;
            entries.push(CalendarEntry {
                change: Change(row),
                conflicts: conflicts.into_iter().map(ChangeConflict).collect(),
            });
        }
        Ok(entries)
    }

    /// How the changes closed in `[from, to)` went. Managers.
    async fn change_report(
        &self,
        ctx: &Context<'_>,
        from: Instant,
        to: Instant,
    ) -> AppResult<ChangeReport> {
        caller(ctx).require_role(Role::Manager)?;
        let (from, to) = (instant("from", from)?, instant("to", to)?);
        let report = changes::report(state(ctx).db.conn(), from, to).await?;
        Ok(ChangeReport {
            closed: report.closed as i32,
            successful: report.successful as i32,
            failed: report.failed as i32,
            backed_out: report.backed_out as i32,
            success_rate: (report.closed > 0)
                .then(|| report.successful as f64 / report.closed as f64),
            changes_causing_incidents: report.causing_incidents as i32,
            incidents_caused: report.incidents_caused as i32,
        })
    }

    async fn change_templates(&self, ctx: &Context<'_>) -> AppResult<Vec<ChangeTemplate>> {
        changes::require_reader(caller(ctx))?;
        let rows = change_template::Entity::find()
            .order_by_asc(change_template::Column::Name)
            .all(state(ctx).db.conn())
            .await?;
        Ok(rows.into_iter().map(ChangeTemplate).collect())
    }

    async fn change_approval_policies(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<ChangeApprovalPolicy>> {
        changes::require_reader(caller(ctx))?;
        let rows = change_approval_policy::Entity::find()
            .order_by_asc(change_approval_policy::Column::Id)
            .all(state(ctx).db.conn())
            .await?;
        Ok(rows.into_iter().map(ChangeApprovalPolicy).collect())
    }

    async fn change_freezes(&self, ctx: &Context<'_>) -> AppResult<Vec<ChangeFreeze>> {
        changes::require_reader(caller(ctx))?;
        let rows = change_freeze::Entity::find()
            .order_by_asc(change_freeze::Column::StartsAt)
            .all(state(ctx).db.conn())
            .await?;
        Ok(rows.into_iter().map(ChangeFreeze).collect())
    }
}

#[derive(InputObject)]
pub struct CreateChangeInput {
    pub r#type: ChangeType,
    /// STANDARD changes name their pre-approved template; its plans fill in what is not given.
    pub template_id: Option<ID>,
    /// Defaults to the template's name.
    pub title: Option<String>,
    pub description: Option<String>,
    pub reason: Option<String>,
    pub implementation_plan: Option<String>,
    pub rollback_plan: Option<String>,
    pub test_plan: Option<String>,
    pub planned_start: Option<Instant>,
    pub planned_end: Option<Instant>,
    #[graphql(default)]
    pub configuration_item_ids: Vec<ID>,
    pub group_id: Option<ID>,
    pub assignee_id: Option<ID>,
}

#[derive(InputObject)]
pub struct UpdateChangeInput {
    pub id: ID,
    pub version: i32,
    pub title: Option<String>,
    pub description: Option<String>,
    pub reason: Option<String>,
    pub implementation_plan: Option<String>,
    pub rollback_plan: Option<String>,
    pub test_plan: Option<String>,
    pub planned_start: MaybeUndefined<Instant>,
    pub planned_end: MaybeUndefined<Instant>,
    /// The whole set.
    pub configuration_item_ids: Option<Vec<ID>>,
    pub group_id: MaybeUndefined<ID>,
    pub assignee_id: MaybeUndefined<ID>,
}

#[derive(InputObject)]
pub struct TransitionChangeInput {
    pub id: ID,
    pub version: i32,
    pub to: ChangeStatus,
    /// Moving to REVIEW: how it went.
    pub outcome: Option<ChangeOutcome>,
    /// Moving to CLOSED: the post-implementation review, unless recorded already.
    pub review: Option<String>,
}

#[derive(InputObject)]
pub struct AssessChangeInput {
    pub id: ID,
    pub version: i32,
    /// How much of the business notices the change.
    pub impact: RiskGrade,
    /// How hard it is to carry out.
    pub complexity: RiskGrade,
    /// How hard it is to undo.
    pub rollback_difficulty: RiskGrade,
}

#[derive(InputObject)]
pub struct VoteOnChangeInput {
    pub id: ID,
    pub approve: bool,
    /// Required to reject.
    #[graphql(default)]
    pub comment: String,
}

#[derive(InputObject)]
pub struct SetIncidentCauseInput {
    pub ticket_id: ID,
    /// Null unlinks.
    pub change_id: Option<ID>,
}

#[derive(InputObject)]
pub struct SaveChangeTemplateInput {
    pub id: Option<ID>,
    pub name: String,
    #[graphql(default)]
    pub description: String,
    pub implementation_plan: String,
    pub rollback_plan: String,
    pub test_plan: String,
    #[graphql(default = true)]
    pub active: bool,
}

#[derive(InputObject)]
pub struct SaveChangeApprovalPolicyInput {
    pub id: Option<ID>,
    pub change_type: ChangeType,
    /// None: any risk (a policy for the exact risk wins).
    pub risk: Option<RiskGrade>,
    pub approver_group_id: Option<ID>,
    pub approver_role: Option<Role>,
    pub quorum: i32,
}

#[derive(InputObject)]
pub struct SaveChangeFreezeInput {
    pub id: Option<ID>,
    pub name: String,
    pub starts_at: Instant,
    pub ends_at: Instant,
}

#[derive(SimpleObject)]
pub struct ChangePayload {
    pub change: Change,
}

fn payload(row: change::Model) -> ChangePayload {
    ChangePayload {
        change: Change(row),
    }
}

#[derive(Default)]
pub struct ChangeMutation;

#[Object]
impl ChangeMutation {
    /// Raises a change in DRAFT. Agents.
    async fn create_change(
        &self,
        ctx: &Context<'_>,
        input: CreateChangeInput,
    ) -> AppResult<ChangePayload> {
        let fields = ChangeFields {
            title: input.title,
            description: input.description,
            reason: input.reason,
            implementation_plan: input.implementation_plan,
            rollback_plan: input.rollback_plan,
            test_plan: input.test_plan,
            planned_start: Some(maybe_instant("plannedStart", input.planned_start)?),
            planned_end: Some(maybe_instant("plannedEnd", input.planned_end)?),
            configuration_item_ids: Some(ids::decode_all(
                &input.configuration_item_ids,
                "ConfigurationItem",
                "configurationItemIds",
            )?),
            group_id: Some(ids::decode_opt(input.group_id, "Group", "groupId")?),
            assignee_id: Some(ids::decode_opt(input.assignee_id, "User", "assigneeId")?),
        };
        let template = ids::decode_opt(input.template_id, "ChangeTemplate", "templateId")?;
        Ok(payload(
            changes::create(
                &state(ctx).db,
                caller(ctx),
                now(ctx),
                &stored_name(input.r#type),
                template,
                fields,
            )
            .await?,
        ))
    }

    /// Edits a change: its words in DRAFT, its slot and items until it is scheduled.
    async fn update_change(
        &self,
        ctx: &Context<'_>,
        input: UpdateChangeInput,
    ) -> AppResult<ChangePayload> {
        let id = ids::decode_as(&input.id, "Change", "id")?;
        let fields = ChangeFields {
            title: input.title,
            description: input.description,
            reason: input.reason,
            implementation_plan: input.implementation_plan,
            rollback_plan: input.rollback_plan,
            test_plan: input.test_plan,
            planned_start: ids::change_of(input.planned_start)
                .map(|at| maybe_instant("plannedStart", at))
                .transpose()?,
            planned_end: ids::change_of(input.planned_end)
                .map(|at| maybe_instant("plannedEnd", at))
                .transpose()?,
            configuration_item_ids: input
                .configuration_item_ids
                .map(|list| ids::decode_all(&list, "ConfigurationItem", "configurationItemIds"))
                .transpose()?,
            group_id: ids::decode_maybe(input.group_id, "Group", "groupId")?,
            assignee_id: ids::decode_maybe(input.assignee_id, "User", "assigneeId")?,
        };
        Ok(payload(
            changes::update(
                &state(ctx).db,
                caller(ctx),
                now(ctx),
                id,
                input.version,
                fields,
            )
            .await?,
        ))
    }

    /// DRAFT → SUBMITTED (plans required; a STANDARD change is authorized at once) …
    /// AUTHORIZED → SCHEDULED (windows and freezes checked) → IMPLEMENTING → REVIEW
    /// (with the outcome) → CLOSED (with the review). ASSESSED comes from assessChange,
    /// AUTHORIZED and REJECTED from voteOnChange.
    async fn transition_change(
        &self,
        ctx: &Context<'_>,
        input: TransitionChangeInput,
    ) -> AppResult<ChangePayload> {
        let id = ids::decode_as(&input.id, "Change", "id")?;
        let transition = Transition {
            to: stored_name(input.to),
            outcome: input.outcome.map(stored_name),
            review: input.review,
        };
        Ok(payload(
            changes::transition(
                &state(ctx).db,
                caller(ctx),
                now(ctx),
                id,
                input.version,
                transition,
            )
            .await?,
        ))
    }

    /// Assesses a submitted change's risk and fixes who must approve it.
    async fn assess_change(
        &self,
        ctx: &Context<'_>,
        input: AssessChangeInput,
    ) -> AppResult<ChangePayload> {
        let id = ids::decode_as(&input.id, "Change", "id")?;
        let answers = Answers {
            impact: input.impact.into(),
            complexity: input.complexity.into(),
            rollback_difficulty: input.rollback_difficulty.into(),
        };
        Ok(payload(
            changes::assess(
                &state(ctx).db,
                caller(ctx),
                now(ctx),
                id,
                input.version,
                answers,
            )
            .await?,
        ))
    }

    /// An approver's vote: the quorum of approvals authorizes, the first rejection rejects.
    async fn vote_on_change(
        &self,
        ctx: &Context<'_>,
        input: VoteOnChangeInput,
    ) -> AppResult<ChangePayload> {
        let id = ids::decode_as(&input.id, "Change", "id")?;
        Ok(payload(
            changes::vote(
                &state(ctx).db,
                caller(ctx),
                now(ctx),
                id,
                input.approve,
                &input.comment,
            )
            .await?,
        ))
    }

    /// Links an incident to the change that caused it.
    async fn set_incident_cause(
        &self,
        ctx: &Context<'_>,
        input: SetIncidentCauseInput,
    ) -> AppResult<TicketPayload> {
        let ticket = ids::decode_as(&input.ticket_id, "Ticket", "ticketId")?;
        let change = ids::decode_opt(input.change_id, "Change", "changeId")?;
        let row =
            commands::link_cause(&state(ctx).db, caller(ctx), now(ctx), ticket, change).await?;
        Ok(TicketPayload {
            ticket: Ticket(row),
        })
    }

    /// A pre-approved way of making a STANDARD change. Admins.
    async fn save_change_template(
        &self,
        ctx: &Context<'_>,
        input: SaveChangeTemplateInput,
    ) -> AppResult<ChangeTemplate> {
        require_admin(caller(ctx))?;
        let id = ids::decode_opt(input.id, "ChangeTemplate", "id")?;
        let fields = TemplateFields {
            name: input.name,
            description: input.description,
            implementation_plan: input.implementation_plan,
            rollback_plan: input.rollback_plan,
            test_plan: input.test_plan,
            active: input.active,
        };
        Ok(ChangeTemplate(
            changes::save_template(&state(ctx).db, now(ctx), id, fields).await?,
        ))
    }

    /// Who approves changes of a type (and risk), and how many approvals authorize one.
    /// Without a policy, one manager decides. Admins.
    async fn save_change_approval_policy(
        &self,
        ctx: &Context<'_>,
        input: SaveChangeApprovalPolicyInput,
    ) -> AppResult<ChangeApprovalPolicy> {
        require_admin(caller(ctx))?;
        let id = ids::decode_opt(input.id, "ChangeApprovalPolicy", "id")?;
        let fields = PolicyFields {
            change_type: stored_name(input.change_type),
            risk: input.risk.map(stored_name),
            approver_group_id: ids::decode_opt(
                input.approver_group_id,
                "Group",
                "approverGroupId",
            )?,
            approver_role: input.approver_role,
            quorum: input.quorum,
        };
        Ok(ChangeApprovalPolicy(
            changes::save_policy(&state(ctx).db, now(ctx), id, fields).await?,
        ))
    }

    /// A period in which only EMERGENCY changes may be scheduled. Admins.
    async fn save_change_freeze(
        &self,
        ctx: &Context<'_>,
        input: SaveChangeFreezeInput,
    ) -> AppResult<ChangeFreeze> {
        require_admin(caller(ctx))?;
        let id = ids::decode_opt(input.id, "ChangeFreeze", "id")?;
        Ok(ChangeFreeze(
            changes::save_freeze(
                &state(ctx).db,
                now(ctx),
                id,
                &input.name,
                instant("startsAt", input.starts_at)?,
                instant("endsAt", input.ends_at)?,
            )
            .await?,
        ))
    }
}
