//! Change management: changes, their risk, approvals, windows, conflicts and report.
//!
//! The enums and objects are here; the queries in `query` and the mutations in
//! `mutation`.

mod mutation;
mod query;

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use entity::{change, change_approval_policy, change_freeze, change_template, change_vote};

use crate::graphql::instant::Instant;
use crate::{
    auth::Role,
    domain::{
        changes::{self, risk::Grade, schedule, types as vocabulary},
        events,
    },
    error::AppResult,
    graphql::{
        caller,
        catalog::Service,
        cmdb::ConfigurationItem,
        desk::Group,
        ids, loaders,
        pagination::{self, Page, PageArgs},
        state,
        tickets::HistoryEntry,
        users::User,
    },
};

pub use mutation::{
    AssessChangeInput, ChangeMutation, ChangePayload, CreateChangeInput,
    SaveChangeApprovalPolicyInput, SaveChangeFreezeInput, SaveChangeTemplateInput,
    SetIncidentCauseInput, TransitionChangeInput, UpdateChangeInput, VoteOnChangeInput,
};
pub use query::ChangeQuery;

/// How a change is approved.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::ChangeType")]
pub enum ChangeType {
    /// From a pre-approved template: no CAB.
    Standard,
    /// Risk assessment and CAB approval.
    Normal,
    /// Expedited: its own (smaller) CAB, allowed inside freezes and outside windows.
    Emergency,
}

/// The change lifecycle; `transitionChange` moves along it.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::ChangeStatus")]
pub enum ChangeStatus {
    /// Being written by its requester.
    Draft,
    /// Submitted for assessment.
    Submitted,
    /// Risk and impact are assessed.
    Assessed,
    /// Approved by enough approvers; may be scheduled.
    Authorized,
    /// The approvers refused it.
    Rejected,
    /// Has a window on the change calendar.
    Scheduled,
    /// The work is under way.
    Implementing,
    /// Implemented; the outcome is being reviewed.
    Review,
    /// Finished and reviewed, with an outcome.
    Closed,
    /// Withdrawn before implementation.
    Cancelled,
}

/// How risky a change is judged to be.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Grade")]
pub enum RiskGrade {
    /// Low risk.
    Low,
    /// Medium risk.
    Medium,
    /// High risk.
    High,
}

/// How an implemented change went.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "vocabulary::Outcome")]
pub enum ChangeOutcome {
    /// It did what was planned.
    Successful,
    /// It failed and was not rolled back cleanly.
    Failed,
    /// It was rolled back.
    BackedOut,
}

pub struct Change(pub change::Model);

/// A change to the infrastructure or services, from request through assessment, approval
/// and implementation to review.
#[Object]
impl Change {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("Change", self.0.id)
    }
    /// CHG0000001.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// A one-line summary.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// What will change, and why, in detail.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Standard, normal or emergency: decides the approvals it needs.
    async fn r#type(&self) -> AppResult<ChangeType> {
        vocabulary::ChangeType::stored(&self.0.change_type).map(Into::into)
    }
    /// Where it is in the change lifecycle.
    async fn status(&self) -> AppResult<ChangeStatus> {
        vocabulary::ChangeStatus::stored(&self.0.status).map(Into::into)
    }
    /// The business reason for the change.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// The steps to carry it out.
    async fn implementation_plan(&self) -> &str {
        &self.0.implementation_plan
    }
    /// How to undo it if it fails.
    async fn rollback_plan(&self) -> &str {
        &self.0.rollback_plan
    }
    /// How success is checked.
    async fn test_plan(&self) -> &str {
        &self.0.test_plan
    }
    /// When the work is planned to start.
    async fn planned_start(&self) -> Option<Instant> {
        self.0.planned_start.map(Instant)
    }
    /// When the work is planned to end.
    async fn planned_end(&self) -> Option<Instant> {
        self.0.planned_end.map(Instant)
    }
    /// Once assessed.
    async fn risk(&self) -> AppResult<Option<RiskGrade>> {
        self.0
            .risk
            .as_deref()
            .map(|r| Grade::stored(r).map(Into::into))
            .transpose()
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
    /// The configuration items it touches.
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
    /// The group that implements it.
    async fn group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        loaders::group(ctx, self.0.group_id).await
    }
    /// Who implements it.
    async fn assignee(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        loaders::user(ctx, self.0.assignee_id).await
    }
    /// Who asked for it.
    async fn requested_by(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        loaders::user(ctx, self.0.requested_by).await
    }
    /// How the implementation went, once it is reviewed; null before.
    async fn outcome(&self) -> AppResult<Option<ChangeOutcome>> {
        self.0
            .outcome
            .as_deref()
            .map(|o| vocabulary::Outcome::stored(o).map(Into::into))
            .transpose()
    }
    /// The post-implementation review.
    async fn review(&self) -> Option<&str> {
        self.0.review.as_deref()
    }
    /// When it was closed; null until then.
    async fn closed_at(&self) -> Option<Instant> {
        self.0.closed_at.map(Instant)
    }
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// Grows by one with every change. Send it back with a change so that an edit made
    /// meanwhile is never overwritten.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Every change to it, oldest first.
    async fn history(
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
    ) -> AppResult<Page<HistoryEntry>> {
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

/// Who may vote on a change.
#[derive(SimpleObject)]
pub struct ChangeApprovers {
    /// The approving group, if approvers are a group.
    pub group: Option<Group>,
    /// The approving role, if approvers are a role.
    pub role: Option<Role>,
    /// Approvals needed.
    pub quorum: i32,
}

pub struct ChangeVote(pub change_vote::Model);

/// One approver's vote on a change.
#[Object]
impl ChangeVote {
    /// Who voted.
    async fn voter(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        Ok(ctx
            .data_unchecked::<loaders::Users>()
            .load_one(self.0.voter_id)
            .await?
            .map(User))
    }
    /// True to approve, false to reject.
    async fn approve(&self) -> bool {
        self.0.approve
    }
    /// Why, in the voter's words.
    async fn comment(&self) -> &str {
        &self.0.comment
    }
    /// When the vote was cast.
    async fn at(&self) -> Instant {
        Instant(self.0.created_at)
    }
}

pub struct ChangeConflict(schedule::Conflict);

/// Something a change collides with: another change on a shared configuration item at the
/// same time, or a freeze.
#[Object]
impl ChangeConflict {
    /// The other change, when the conflict is with a change (null for a freeze).
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
    /// The scheduled change.
    pub change: Change,
    /// Other changes and freezes overlapping it on a shared configuration item or in time.
    pub conflicts: Vec<ChangeConflict>,
}

/// How changes closed in a period went, and the incidents they caused.
#[derive(SimpleObject)]
pub struct ChangeReport {
    /// Changes closed in the period.
    pub closed: i32,
    /// Changes that succeeded.
    pub successful: i32,
    /// Changes that failed.
    pub failed: i32,
    /// Changes rolled back.
    pub backed_out: i32,
    /// Successful of closed; null when none closed.
    pub success_rate: Option<f64>,
    /// Closed changes that caused at least one incident.
    pub changes_causing_incidents: i32,
    /// Incidents recorded as caused by those changes.
    pub incidents_caused: i32,
}

pub struct ChangeTemplate(pub change_template::Model);

/// A pre-written standard change: its plans are copied into changes made from it.
#[Object]
impl ChangeTemplate {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    async fn id(&self) -> ID {
        ids::encode("ChangeTemplate", self.0.id)
    }
    /// The name shown when choosing a template.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What changes made from it do.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The steps copied into each change.
    async fn implementation_plan(&self) -> &str {
        &self.0.implementation_plan
    }
    /// The rollback copied into each change.
    async fn rollback_plan(&self) -> &str {
        &self.0.rollback_plan
    }
    /// The test plan copied into each change.
    async fn test_plan(&self) -> &str {
        &self.0.test_plan
    }
    /// Inactive templates cannot be used.
    async fn active(&self) -> bool {
        self.0.active
    }
}

pub struct ChangeApprovalPolicy(pub change_approval_policy::Model);

/// Who must approve changes of a type, and how many approvals are enough.
#[Object]
impl ChangeApprovalPolicy {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    async fn id(&self) -> ID {
        ids::encode("ChangeApprovalPolicy", self.0.id)
    }
    /// The change type it applies to.
    async fn change_type(&self) -> AppResult<ChangeType> {
        vocabulary::ChangeType::stored(&self.0.change_type).map(Into::into)
    }
    /// None: any risk.
    async fn risk(&self) -> AppResult<Option<RiskGrade>> {
        self.0
            .risk
            .as_deref()
            .map(|r| Grade::stored(r).map(Into::into))
            .transpose()
    }
    /// The group whose members vote, if approvers are a group.
    async fn approver_group(&self, ctx: &Context<'_>) -> AppResult<Option<Group>> {
        loaders::group(ctx, self.0.approver_group_id).await
    }
    /// The role whose holders vote, if approvers are a role.
    async fn approver_role(&self) -> Option<Role> {
        self.0.approver_role.as_deref().and_then(Role::parse)
    }
    /// How many approving votes authorize a change.
    async fn quorum(&self) -> i32 {
        self.0.quorum
    }
}

pub struct ChangeFreeze(pub change_freeze::Model);

/// A period when no change may be scheduled, e.g. year-end closing.
#[Object]
impl ChangeFreeze {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    async fn id(&self) -> ID {
        ids::encode("ChangeFreeze", self.0.id)
    }
    /// What the freeze is for.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// When the freeze begins.
    async fn starts_at(&self) -> Instant {
        Instant(self.0.starts_at)
    }
    /// When the freeze ends.
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
