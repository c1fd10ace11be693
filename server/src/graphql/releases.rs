//! Releases: planning them, their deployment plans, moving them along, recording each
//! deployment step, and `releaseChanged`, live. Thin over `domain::releases`.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use entity::{release, release_item};
use futures::Stream;

use crate::{
    domain::releases::{self, PlannedStep, ReleaseFields, StepOutcome},
    error::AppResult,
    events::Shared,
    graphql::{
        caller,
        changes::{Change, ChangeFreeze},
        command::{acting, versioned},
        ids,
        instant::Instant,
        live::follow,
        loaders, state,
        users::User,
    },
};

/// A release by its row id, for `node(id:)`: the desk's.
pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<Release> {
    Ok(Release(
        releases::find(state(ctx).db.conn(), caller(ctx), id).await?,
    ))
}

/// Where a release stands; `transitionRelease` moves it.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::releases::ReleaseStatus")]
pub enum ReleaseStatus {
    /// Scope, schedule and resources being decided.
    Planning,
    /// What ships is being built.
    Building,
    /// What ships is being tested.
    Testing,
    /// Approved: every change in it is authorized.
    Approved,
    /// Its steps are being deployed, inside its changes' windows.
    Deploying,
    /// Every step deployed.
    Deployed,
    /// Its business owner (or verifier) confirmed it.
    Verified,
    /// Done.
    Closed,
    /// Given up before deploying.
    Cancelled,
    /// A step failed (or verification did) and what was deployed was put back.
    RolledBack,
}

/// How big a release is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::releases::ReleaseType")]
pub enum ReleaseType {
    /// A major release.
    Major,
    /// A minor release.
    Minor,
    /// An emergency release: it may deploy inside a change freeze.
    Emergency,
}

/// Where one deployment step stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::releases::StepState")]
pub enum DeploymentStepState {
    /// Not yet begun.
    Pending,
    /// Under way.
    Started,
    /// Deployed: the item's version in the CMDB moved.
    Succeeded,
    /// Failed: the plan stopped and was rolled back.
    Failed,
    /// Left out.
    Skipped,
    /// Deployed, then put back to the version it had.
    RolledBack,
}

/// What a step's recording says.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentStepOutcome {
    /// It began.
    Started,
    /// It worked: the item's version moves in the CMDB.
    Succeeded,
    /// It failed: the plan stops and what was deployed rolls back, in reverse order.
    Failed,
    /// It was left out.
    Skipped,
}

/// Changes that ship together, the items they move, and how their deployment went.
pub struct Release(pub release::Model);

/// Changes that ship together, the items they move, and how their deployment went.
#[Object]
impl Release {
    /// The globally unique id (Relay `Node`): pass it to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("Release", self.0.id)
    }
    /// REL0000001.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Its own version, e.g. "2026.12".
    async fn version_label(&self) -> &str {
        &self.0.version_label
    }
    /// Its version for changes (optimistic concurrency).
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// How big it is.
    async fn release_type(&self) -> AppResult<ReleaseType> {
        Ok(releases::ReleaseType::stored(&self.0.release_type)?.into())
    }
    /// Where it stands.
    async fn status(&self) -> AppResult<ReleaseStatus> {
        Ok(releases::ReleaseStatus::stored(&self.0.status)?.into())
    }
    /// Its owner.
    async fn owner(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        loaders::user(ctx, self.0.owner_id).await
    }
    /// Who verifies it after deployment (the owner when none).
    async fn verifier(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        loaders::user(ctx, self.0.verifier_id.or(self.0.owner_id)).await
    }
    /// When it is planned to start deploying.
    async fn planned_start(&self) -> Option<Instant> {
        self.0.planned_start.map(Instant)
    }
    /// When it is planned to be deployed.
    async fn planned_end(&self) -> Option<Instant> {
        self.0.planned_end.map(Instant)
    }
    /// When it started deploying.
    async fn actual_start(&self) -> Option<Instant> {
        self.0.actual_start.map(Instant)
    }
    /// When it finished deploying (or was rolled back).
    async fn actual_end(&self) -> Option<Instant> {
        self.0.actual_end.map(Instant)
    }
    /// For how many days after deployment incidents on its services are linked to it.
    async fn early_life_days(&self) -> i32 {
        self.0.early_life_days
    }
    /// When it was verified, and by whom.
    async fn verified_at(&self) -> Option<Instant> {
        self.0.verified_at.map(Instant)
    }
    /// Who verified it, by name.
    async fn verified_by(&self) -> Option<&str> {
        self.0.verified_by.as_deref()
    }
    /// The changes that ship in it.
    async fn changes(&self, ctx: &Context<'_>) -> AppResult<Vec<Change>> {
        let rows = releases::changes_of(state(ctx).db.conn(), self.0.id).await?;
        Ok(rows.into_iter().map(Change).collect())
    }
    /// The business services it touches.
    async fn services(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::catalog::Service>> {
        let ids = releases::service_ids_of(state(ctx).db.conn(), self.0.id).await?;
        let found = ctx
            .data_unchecked::<loaders::Services>()
            .load_many(ids)
            .await?;
        Ok(found
            .into_values()
            .map(crate::graphql::catalog::Service)
            .collect())
    }
    /// Its deployment plan, in the order it deploys.
    async fn steps(&self, ctx: &Context<'_>) -> AppResult<Vec<DeploymentStep>> {
        let rows = releases::steps_of(state(ctx).db.conn(), self.0.id).await?;
        Ok(rows.into_iter().map(DeploymentStep).collect())
    }
    /// The incidents raised in its early life: on its services or items within
    /// `earlyLifeDays` of its deployment.
    async fn early_life_incidents(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Vec<crate::graphql::tickets::Ticket>> {
        let ids = releases::incidents_of(state(ctx).db.conn(), self.0.id).await?;
        let found = ctx
            .data_unchecked::<loaders::Tickets>()
            .load_many(ids.clone())
            .await?;
        Ok(ids
            .into_iter()
            .filter_map(|id| found.get(&id).cloned())
            .map(crate::graphql::tickets::Ticket)
            .collect())
    }
}

/// One step of a deployment plan: an item moved to a version in one environment.
pub struct DeploymentStep(pub release_item::Model);

/// One step of a deployment plan: an item moved to a version in one environment.
#[Object]
impl DeploymentStep {
    /// The step's id, for `recordDeploymentStep`.
    async fn id(&self) -> ID {
        ids::encode("DeploymentStep", self.0.id)
    }
    /// Its place in the plan, from 1.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// The item it deploys.
    async fn configuration_item(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::cmdb::ConfigurationItem>> {
        Ok(ctx
            .data_unchecked::<loaders::ConfigurationItems>()
            .load_one(self.0.configuration_item_id)
            .await?
            .map(crate::graphql::cmdb::ConfigurationItem))
    }
    /// The item's version when the plan was made.
    async fn from_version(&self) -> Option<&str> {
        self.0.from_version.as_deref()
    }
    /// The version it deploys.
    async fn to_version(&self) -> &str {
        &self.0.to_version
    }
    /// The packages or artefacts it deploys.
    async fn artefacts(&self) -> &str {
        &self.0.artefacts
    }
    /// Where: production, staging…
    async fn environment(&self) -> &str {
        &self.0.environment
    }
    /// Who deploys it.
    async fn assignee(&self, ctx: &Context<'_>) -> AppResult<Option<User>> {
        loaders::user(ctx, self.0.assignee_id).await
    }
    /// How long it should take.
    async fn expected_minutes(&self) -> i32 {
        self.0.expected_minutes
    }
    /// Where it stands.
    async fn state(&self) -> AppResult<DeploymentStepState> {
        Ok(releases::StepState::stored(&self.0.state)?.into())
    }
    /// When it began.
    async fn started_at(&self) -> Option<Instant> {
        self.0.started_at.map(Instant)
    }
    /// When it ended.
    async fn finished_at(&self) -> Option<Instant> {
        self.0.finished_at.map(Instant)
    }
    /// Who recorded how it went, by name.
    async fn done_by(&self) -> Option<&str> {
        self.0.done_by.as_deref()
    }
    /// What they noted.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// A release's fields, to create or rewrite it.
#[derive(InputObject)]
pub struct ReleaseFieldsInput {
    /// 1 to 200 characters.
    pub name: String,
    /// Its own version, e.g. "2026.12".
    pub version_label: String,
    /// How big it is.
    pub release_type: ReleaseType,
    /// Its owner.
    pub owner_id: Option<ID>,
    /// Who verifies it after deployment; the owner when none.
    pub verifier_id: Option<ID>,
    /// When it is planned to start deploying.
    pub planned_start: Option<DateTime<Utc>>,
    /// When it is planned to be deployed.
    pub planned_end: Option<DateTime<Utc>>,
    /// For how many days after deployment incidents on its services are linked to it:
    /// 0 to 365, 14 unless given.
    #[graphql(default = 14)]
    pub early_life_days: i32,
    /// The business services it touches.
    #[graphql(default)]
    pub service_ids: Vec<ID>,
    /// The changes that ship in it (a change ships in one release).
    #[graphql(default)]
    pub change_ids: Vec<ID>,
}

impl ReleaseFieldsInput {
    fn into_domain(self) -> AppResult<ReleaseFields> {
        Ok(ReleaseFields {
            name: self.name,
            version_label: self.version_label,
            release_type: self.release_type.into(),
            owner_id: ids::decode_opt(self.owner_id, "User", "ownerId")?,
            verifier_id: ids::decode_opt(self.verifier_id, "User", "verifierId")?,
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            early_life_days: self.early_life_days,
            service_ids: ids::decode_all(&self.service_ids, "Service", "serviceIds")?,
            change_ids: ids::decode_all(&self.change_ids, "Change", "changeIds")?,
        })
    }
}

/// What `updateRelease` takes.
#[derive(InputObject)]
pub struct UpdateReleaseInput {
    /// The release.
    pub id: ID,
    /// Its version, as read.
    pub version: i32,
    /// What it is to be.
    pub fields: ReleaseFieldsInput,
}

/// One step as planned.
#[derive(InputObject)]
pub struct DeploymentStepInput {
    /// The item it deploys.
    pub configuration_item_id: ID,
    /// The version it deploys.
    pub to_version: String,
    /// The packages or artefacts it deploys.
    #[graphql(default)]
    pub artefacts: String,
    /// Where: production, staging…
    pub environment: String,
    /// Who deploys it.
    pub assignee_id: Option<ID>,
    /// How long it should take.
    #[graphql(default)]
    pub expected_minutes: i32,
}

/// What `planRelease` takes.
#[derive(InputObject)]
pub struct PlanReleaseInput {
    /// The release.
    pub id: ID,
    /// Its version, as read.
    pub version: i32,
    /// The steps, in the order to deploy them.
    pub steps: Vec<DeploymentStepInput>,
    /// Put the steps in the order the CMDB's dependencies need (what an item depends on
    /// first); otherwise the order given must respect them, or the plan is refused.
    #[graphql(default)]
    pub arrange: bool,
}

/// What `transitionRelease` takes.
#[derive(InputObject)]
pub struct TransitionReleaseInput {
    /// The release.
    pub id: ID,
    /// Its version, as read.
    pub version: i32,
    /// Where to move it.
    pub to: ReleaseStatus,
}

/// What `recordDeploymentStep` takes.
#[derive(InputObject)]
pub struct RecordDeploymentStepInput {
    /// The step.
    pub step_id: ID,
    /// How it went.
    pub outcome: DeploymentStepOutcome,
    /// A note.
    pub note: Option<String>,
}

/// What the release mutations return.
#[derive(SimpleObject)]
pub struct ReleasePayload {
    /// The release as it is after the change.
    pub release: Release,
}

/// What `recordDeploymentStep` returns.
#[derive(SimpleObject)]
pub struct RecordDeploymentStepPayload {
    /// The release after it (DEPLOYED after the last step, ROLLED_BACK after a failure).
    pub release: Release,
    /// The step as recorded.
    pub step: DeploymentStep,
}

/// Releases and changes in a period, with the freezes, for a calendar.
#[derive(SimpleObject)]
pub struct ReleaseCalendar {
    /// The releases planned in it, by planned start.
    pub releases: Vec<Release>,
    /// The changes scheduled in it (their windows), each with what it conflicts with.
    pub changes: Vec<CalendarChange>,
    /// The change freezes overlapping it.
    pub freezes: Vec<ChangeFreeze>,
}

/// A change in the calendar, and the changes it conflicts with (same items or items
/// that depend on each other, in an overlapping window).
#[derive(SimpleObject)]
pub struct CalendarChange {
    /// The change, with its window.
    pub change: Change,
    /// The numbers of the changes it conflicts with; empty when none.
    pub conflicts_with: Vec<String>,
}

/// One month of releases.
#[derive(SimpleObject)]
pub struct ReleaseMonth {
    /// `YYYY-MM`, the month they finished deploying (or were cancelled).
    pub month: String,
    /// Releases deployed (and verified or closed since).
    pub deployed: i32,
    /// Releases rolled back.
    pub rolled_back: i32,
    /// Releases cancelled.
    pub cancelled: i32,
    /// Mean minutes from the first step to the last, of those deployed.
    pub mean_deployment_minutes: Option<f64>,
    /// Changes shipped in the releases deployed.
    pub changes: i32,
    /// Those without an incident they caused or one in their release's early life.
    pub successful_changes: i32,
    /// `successfulChanges / changes`; null without changes.
    pub change_success_rate: Option<f64>,
}

#[derive(Default)]
pub struct ReleaseQuery;

#[Object]
impl ReleaseQuery {
    /// The releases planned to overlap `[from, to)` (all when not given), by planned
    /// start; at most 200. The desk.
    async fn releases(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "From this instant.")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "Up to this instant.")] to: Option<DateTime<Utc>>,
    ) -> AppResult<Vec<Release>> {
        let rows = releases::list(state(ctx).db.conn(), caller(ctx), from, to).await?;
        Ok(rows.into_iter().map(Release).collect())
    }

    /// How releases went in `[from, to)`, month by month: deployed, rolled back,
    /// cancelled, mean deployment time, and the change success rate. The desk.
    async fn release_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "From this instant.")] from: DateTime<Utc>,
        #[graphql(desc = "Up to this instant.")] to: DateTime<Utc>,
    ) -> AppResult<Vec<ReleaseMonth>> {
        let months = releases::report(state(ctx).db.conn(), caller(ctx), from, to).await?;
        let count = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        Ok(months
            .into_iter()
            .map(|m| ReleaseMonth {
                change_success_rate: (m.changes > 0)
                    .then(|| f64::from(m.successful_changes) / f64::from(m.changes)),
                month: m.month,
                deployed: count(m.deployed),
                rolled_back: count(m.rolled_back),
                cancelled: count(m.cancelled),
                mean_deployment_minutes: m.mean_deployment_minutes,
                changes: count(m.changes),
                successful_changes: count(m.successful_changes),
            })
            .collect())
    }

    /// One release. The desk.
    async fn release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The release's id.")] id: ID,
    ) -> AppResult<Release> {
        let id = ids::decode_as(&id, "Release", "id")?;
        Ok(Release(
            releases::find(state(ctx).db.conn(), caller(ctx), id).await?,
        ))
    }

    /// What happens in `[from, to)`: releases, changes with their windows, and freezes,
    /// for a frontend's calendar. The desk.
    async fn release_calendar(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "From this instant.")] from: DateTime<Utc>,
        #[graphql(desc = "Up to this instant.")] to: DateTime<Utc>,
    ) -> AppResult<ReleaseCalendar> {
        let period = releases::calendar(state(ctx).db.conn(), caller(ctx), from, to).await?;
        Ok(ReleaseCalendar {
            releases: period.releases.into_iter().map(Release).collect(),
            changes: period
                .changes
                .into_iter()
                .map(|(row, conflicts)| CalendarChange {
                    change: Change(row),
                    conflicts_with: conflicts,
                })
                .collect(),
            freezes: period.freezes.into_iter().map(ChangeFreeze).collect(),
        })
    }
}

#[derive(Default)]
pub struct ReleaseMutation;

#[Object]
impl ReleaseMutation {
    /// Plans a release: its changes, services, dates, owner. Release managers (managers).
    async fn create_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: ReleaseFieldsInput,
    ) -> AppResult<ReleasePayload> {
        let fields = input.into_domain()?;
        let on = acting(ctx);
        let row = releases::create(on.db, on.caller, on.now, fields).await?;
        Ok(ReleasePayload {
            release: Release(row),
        })
    }

    /// Rewrites a release not yet approved. Release managers.
    async fn update_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: UpdateReleaseInput,
    ) -> AppResult<ReleasePayload> {
        let target = versioned(&input.id, input.version, "Release")?;
        let fields = input.fields.into_domain()?;
        let on = acting(ctx);
        let row =
            releases::update(on.db, on.caller, on.now, target.id, target.version, fields).await?;
        Ok(ReleasePayload {
            release: Release(row),
        })
    }

    /// Replaces a release's deployment plan, in an order that respects the CMDB's
    /// dependencies (refused otherwise, or arranged so with `arrange`). Release managers.
    async fn plan_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: PlanReleaseInput,
    ) -> AppResult<ReleasePayload> {
        let target = versioned(&input.id, input.version, "Release")?;
        let mut steps = Vec::with_capacity(input.steps.len());
        for (n, step) in input.steps.into_iter().enumerate() {
            steps.push(PlannedStep {
                configuration_item_id: ids::decode_as(
                    &step.configuration_item_id,
                    "ConfigurationItem",
                    &format!("steps.{n}.configurationItemId"),
                )?,
                to_version: step.to_version,
                artefacts: step.artefacts,
                environment: step.environment,
                assignee_id: ids::decode_opt(step.assignee_id, "User", "assigneeId")?,
                expected_minutes: step.expected_minutes,
            });
        }
        let on = acting(ctx);
        let (row, _) = releases::plan(
            on.db,
            on.caller,
            on.now,
            target.id,
            target.version,
            steps,
            input.arrange,
        )
        .await?;
        Ok(ReleasePayload {
            release: Release(row),
        })
    }

    /// Moves a release along its lifecycle: APPROVED once its changes are authorized,
    /// DEPLOYING inside their windows and outside freezes, VERIFIED by its owner or
    /// verifier, ROLLED_BACK to put back what it deployed. Release managers.
    async fn transition_release(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: TransitionReleaseInput,
    ) -> AppResult<ReleasePayload> {
        let target = versioned(&input.id, input.version, "Release")?;
        let on = acting(ctx);
        let row = releases::transition(
            on.db,
            on.caller,
            on.now,
            target.id,
            target.version,
            input.to.into(),
        )
        .await?;
        Ok(ReleasePayload {
            release: Release(row),
        })
    }

    /// Records how the next step of a deploying release went. A success moves the
    /// item's version in the CMDB; a failure stops the plan and rolls back, in reverse.
    /// The release manager, or the step's assignee.
    async fn record_deployment_step(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: RecordDeploymentStepInput,
    ) -> AppResult<RecordDeploymentStepPayload> {
        let step = ids::decode_as(&input.step_id, "DeploymentStep", "stepId")?;
        let outcome = match input.outcome {
            DeploymentStepOutcome::Started => StepOutcome::Started,
            DeploymentStepOutcome::Succeeded => StepOutcome::Succeeded,
            DeploymentStepOutcome::Failed => StepOutcome::Failed,
            DeploymentStepOutcome::Skipped => StepOutcome::Skipped,
        };
        let on = acting(ctx);
        let (row, step) = releases::record_step(
            on.db,
            on.caller,
            on.now,
            step,
            outcome,
            input.note.as_deref(),
        )
        .await?;
        Ok(RecordDeploymentStepPayload {
            release: Release(row),
            step: DeploymentStep(step),
        })
    }
}

/// Something that happened to a release, as `releaseChanged` pushes it.
pub struct ReleaseEvent(pub Shared);

/// Something that happened to a release.
#[Object]
impl ReleaseEvent {
    /// The event's place in the log: resume from it with `after`.
    async fn seq(&self) -> i64 {
        self.0.seq
    }
    /// `release.created`, `release.status_changed`, `release.step_recorded`, …
    async fn action(&self) -> &str {
        self.0.topic.as_str()
    }
    /// When it happened.
    async fn at(&self) -> Instant {
        Instant(self.0.at)
    }
    /// Who did it, by name.
    async fn actor_name(&self) -> &str {
        &self.0.actor_name
    }
    /// The release's id.
    async fn release_id(&self) -> ID {
        ids::encode("Release", self.0.entity_id)
    }
    /// Its number.
    async fn number(&self) -> Option<&str> {
        self.0.payload["number"].as_str()
    }
    /// Where it stands after this.
    async fn status(&self) -> Option<ReleaseStatus> {
        self.0.payload["status"]
            .as_str()
            .and_then(|s| releases::ReleaseStatus::stored(s).ok())
            .map(Into::into)
    }
}

#[derive(Default)]
pub struct ReleaseSubscription;

#[Subscription]
impl ReleaseSubscription {
    /// Releases as they are planned, moved, deployed step by step and linked to
    /// incidents. The desk. With `after`, first what was missed.
    async fn release_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Take items after this cursor: the `seq` of the last event seen.")]
        after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = AppResult<ReleaseEvent>> + use<>> {
        releases::require_reader(caller(ctx))?;
        let stream = follow(ctx, after, |e| e.entity_type == "release");
        Ok(futures::StreamExt::map(stream, |e| e.map(ReleaseEvent)))
    }
}
