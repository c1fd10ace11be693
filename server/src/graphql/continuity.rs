//! IT service continuity: recovery plans per service, their exercises, and what is
//! overdue; a plan's RTO against an outage of its service, live.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{continuity_exercise, continuity_plan, outage};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    domain::{
        availability::OutageKind,
        continuity::{
            self,
            exercises::{self, NewExercise},
            plans::{self, PlanFields, Step},
        },
        suppliers::Contact,
    },
    error::{AppError, AppResult},
    graphql::{
        caller, catalog::Service, cmdb::ConfigurationItem, command::acting, ids, instant::Instant,
        loaders, now, state, suppliers::SupplierContact, users::User,
    },
};

/// How an exercise went.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::continuity::ExerciseOutcome")]
pub enum ExerciseOutcome {
    /// Recovered as the plan says, within its objectives.
    Success,
    /// Recovered, with steps that failed or objectives missed.
    Partial,
    /// Not recovered.
    Failed,
}

/// One recovery step.
#[derive(SimpleObject)]
pub struct RecoveryStep {
    /// Its place in the order, from 1.
    pub position: i32,
    /// What to do.
    pub action: String,
    /// Who does it.
    pub owner: Option<User>,
}

/// One recovery step, as a manager writes it.
#[derive(InputObject)]
pub struct RecoveryStepInput {
    /// What to do.
    pub action: String,
    /// Who does it.
    pub owner_id: Option<ID>,
}

/// A test of a continuity plan.
#[derive(SimpleObject)]
pub struct ContinuityExercise {
    /// When it took place.
    pub exercised_at: Instant,
    /// What was tested.
    pub scope: String,
    /// How it went.
    pub outcome: ExerciseOutcome,
    /// The recovery time measured.
    pub recovery_minutes: Option<i32>,
    /// Whether that was within the plan's RTO.
    pub within_rto: Option<bool>,
    /// What was learnt.
    pub findings: String,
    /// Who recorded it.
    pub recorded_by: String,
}

fn exercise(row: continuity_exercise::Model, rto: i32) -> AppResult<ContinuityExercise> {
    Ok(ContinuityExercise {
        exercised_at: Instant(row.exercised_at),
        scope: row.scope,
        outcome: continuity::ExerciseOutcome::stored(&row.outcome)?.into(),
        within_rto: row.recovery_minutes.map(|m| m <= rto),
        recovery_minutes: row.recovery_minutes,
        findings: row.findings,
        recorded_by: row.recorded_by,
    })
}

/// An outage of a plan's service going on now, against the plan's RTO.
#[derive(SimpleObject)]
pub struct RecoveryClock {
    /// When the outage started.
    pub started_at: Instant,
    /// How long it has lasted, in seconds.
    pub running_seconds: i64,
    /// The plan's recovery time objective, in seconds.
    pub rto_seconds: i64,
    /// What is left of it (negative once exceeded).
    pub remaining_seconds: i64,
    /// The outage has lasted longer than the RTO.
    pub rto_exceeded: bool,
}

/// How a business service is recovered from a disaster, and how often that is tested.
pub struct ContinuityPlan(pub continuity_plan::Model);

/// How a business service is recovered from a disaster, and how often that is tested.
#[Object]
impl ContinuityPlan {
    /// The globally unique id.
    pub async fn id(&self) -> ID {
        ids::encode("ContinuityPlan", self.0.id)
    }
    /// Its version, for `saveContinuityPlan`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The service it recovers.
    async fn service(&self, ctx: &Context<'_>) -> AppResult<Option<Service>> {
        Ok(entity::service::Entity::find_by_id(self.0.service_id)
            .one(state(ctx).db.conn())
            .await?
            .map(Service))
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Recovery time objective, in minutes: how long the service may be down.
    async fn rto_minutes(&self) -> i32 {
        self.0.rto_minutes
    }
    /// Recovery point objective, in minutes: how much data may be lost.
    async fn rpo_minutes(&self) -> i32 {
        self.0.rpo_minutes
    }
    /// The strategy: standby site, restore from backup, manual workaround…
    async fn strategy(&self) -> &str {
        &self.0.strategy
    }
    /// The recovery steps, in order.
    async fn steps(&self, ctx: &Context<'_>) -> AppResult<Vec<RecoveryStep>> {
        let mut out = Vec::new();
        for (i, step) in plans::steps_of(&self.0).into_iter().enumerate() {
            out.push(RecoveryStep {
                position: i as i32 + 1,
                action: step.action,
                owner: loaders::user(ctx, step.owner_id).await?,
            });
        }
        Ok(out)
    }
    /// The configuration items it restores.
    async fn configuration_items(&self, ctx: &Context<'_>) -> AppResult<Vec<ConfigurationItem>> {
        let found = ctx
            .data_unchecked::<loaders::ConfigurationItems>()
            .load_many(plans::items_of(&self.0))
            .await?;
        let mut items: Vec<_> = found.into_values().map(ConfigurationItem).collect();
        items.sort_by_key(|i| i.0.id);
        Ok(items)
    }
    /// Whom to call.
    async fn contacts(&self) -> Vec<SupplierContact> {
        plans::contacts_of(&self.0)
            .into_iter()
            .map(|c| SupplierContact {
                name: c.name,
                email: c.email,
                phone: c.phone,
                role: c.role,
            })
            .collect()
    }
    /// A successful exercise is due this many months after the last.
    async fn exercise_interval_months(&self) -> i32 {
        self.0.exercise_interval_months
    }
    /// Its exercises, newest first.
    async fn exercises(&self, ctx: &Context<'_>) -> AppResult<Vec<ContinuityExercise>> {
        exercises::of_plan(state(ctx).db.conn(), self.0.id)
            .await?
            .into_iter()
            .map(|e| exercise(e, self.0.rto_minutes))
            .collect()
    }
    /// When the next successful exercise is due.
    async fn exercise_due_at(&self, ctx: &Context<'_>) -> AppResult<Instant> {
        let done = exercises::of_plan(state(ctx).db.conn(), self.0.id).await?;
        Ok(Instant(exercises::due_at(&self.0, &done)))
    }
    /// Its last successful exercise is older than its interval (or it never had one
    /// within the interval of being written).
    async fn overdue(&self, ctx: &Context<'_>) -> AppResult<bool> {
        let done = exercises::of_plan(state(ctx).db.conn(), self.0.id).await?;
        Ok(exercises::due_at(&self.0, &done) <= now(ctx))
    }
    /// An unplanned outage of one of the items it restores going on now, against its
    /// RTO: what a major incident's coordinator watches.
    async fn recovery_clock(&self, ctx: &Context<'_>) -> AppResult<Option<RecoveryClock>> {
        let items = plans::items_of(&self.0);
        if items.is_empty() {
            return Ok(None);
        }
        let ongoing = outage::Entity::find()
            .filter(outage::Column::ConfigurationItemId.is_in(items))
            .filter(outage::Column::EndedAt.is_null())
            .filter(outage::Column::Kind.eq(OutageKind::Unplanned.as_str()))
            .order_by_asc(outage::Column::StartedAt)
            .one(state(ctx).db.conn())
            .await?;
        Ok(ongoing.map(|o| {
            let running = (now(ctx) - o.started_at).num_seconds().max(0);
            let rto = i64::from(self.0.rto_minutes) * 60;
            RecoveryClock {
                started_at: Instant(o.started_at),
                running_seconds: running,
                rto_seconds: rto,
                remaining_seconds: rto - running,
                rto_exceeded: running > rto,
            }
        }))
    }
}

/// A continuity plan for `node(id:)`.
pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<ContinuityPlan> {
    plans::get(state(ctx).db.conn(), caller(ctx), id)
        .await
        .map(ContinuityPlan)
}

/// What `saveContinuityPlan` takes.
#[derive(InputObject)]
pub struct SaveContinuityPlanInput {
    /// Absent to create one.
    pub id: Option<ID>,
    /// With `id`: the version read.
    pub version: Option<i32>,
    /// The service it recovers.
    pub service_id: ID,
    /// Its name.
    pub name: String,
    /// Recovery time objective, in minutes.
    pub rto_minutes: i32,
    /// Recovery point objective, in minutes.
    pub rpo_minutes: i32,
    /// The strategy.
    #[graphql(default)]
    pub strategy: String,
    /// The recovery steps, in order.
    #[graphql(default)]
    pub steps: Vec<RecoveryStepInput>,
    /// The configuration items it restores.
    #[graphql(default)]
    pub configuration_item_ids: Vec<ID>,
    /// Whom to call.
    #[graphql(default)]
    pub contacts: Vec<SupplierContact>,
    /// A successful exercise is due this many months after the last.
    #[graphql(default = 12)]
    pub exercise_interval_months: i32,
}

/// What `recordContinuityExercise` takes.
#[derive(InputObject)]
pub struct RecordContinuityExerciseInput {
    /// The plan exercised.
    pub plan_id: ID,
    /// When it took place.
    pub exercised_at: DateTime<Utc>,
    /// What was tested.
    pub scope: String,
    /// How it went.
    pub outcome: ExerciseOutcome,
    /// The recovery time measured, in minutes.
    pub recovery_minutes: Option<i32>,
    /// What was learnt.
    #[graphql(default)]
    pub findings: String,
}

#[derive(Default)]
pub struct ContinuityQuery;

#[Object]
impl ContinuityQuery {
    /// Continuity plans, of one service if given; only the overdue ones with
    /// `overdue: true`. The desk, and tokens reading the CMDB.
    async fn continuity_plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this service's plans.")] service_id: Option<ID>,
        #[graphql(desc = "Only plans overdue (true) or not (false) for an exercise.")]
        overdue: Option<bool>,
    ) -> AppResult<Vec<ContinuityPlan>> {
        let service_id = ids::decode_opt(service_id, "Service", "serviceId")?;
        let conn = state(ctx).db.conn();
        let rows = plans::list(conn, caller(ctx), service_id).await?;
        let mut out = Vec::new();
        for row in rows {
            if let Some(wanted) = overdue {
                let done = exercises::of_plan(conn, row.id).await?;
                if (exercises::due_at(&row, &done) <= now(ctx)) != wanted {
                    continue;
                }
            }
            out.push(ContinuityPlan(row));
        }
        Ok(out)
    }
}

#[derive(Default)]
pub struct ContinuityMutation;

#[Object]
impl ContinuityMutation {
    /// Writes a continuity plan (no id) or replaces one. Managers.
    async fn save_continuity_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SaveContinuityPlanInput,
    ) -> AppResult<ContinuityPlan> {
        let id = match ids::decode_opt(input.id, "ContinuityPlan", "id")? {
            Some(id) => Some((
                id,
                input.version.ok_or_else(|| {
                    AppError::bad_input("version", "give the version you read to change a plan")
                })?,
            )),
            None => None,
        };
        let steps = input
            .steps
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(Step {
                    action: s.action,
                    owner_id: ids::decode_opt(s.owner_id, "User", &format!("steps.{i}.ownerId"))?,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        let fields = PlanFields {
            service_id: ids::decode_as(&input.service_id, "Service", "serviceId")?,
            name: input.name,
            rto_minutes: input.rto_minutes,
            rpo_minutes: input.rpo_minutes,
            strategy: input.strategy,
            steps,
            configuration_item_ids: ids::decode_all(
                &input.configuration_item_ids,
                "ConfigurationItem",
                "configurationItemIds",
            )?,
            contacts: input
                .contacts
                .into_iter()
                .map(|c| Contact {
                    name: c.name,
                    email: c.email,
                    phone: c.phone,
                    role: c.role,
                })
                .collect(),
            exercise_interval_months: input.exercise_interval_months,
        };
        let on = acting(ctx);
        Ok(ContinuityPlan(
            plans::save(on.db, on.caller, on.now, id, fields).await?,
        ))
    }

    /// Records an exercise of a plan. Managers.
    async fn record_continuity_exercise(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record; see the fields of the input type.")]
        input: RecordContinuityExerciseInput,
    ) -> AppResult<ContinuityPlan> {
        let on = acting(ctx);
        let plan_id = ids::decode_as(&input.plan_id, "ContinuityPlan", "planId")?;
        exercises::record(
            on.db,
            on.caller,
            on.now,
            NewExercise {
                plan_id,
                exercised_at: input.exercised_at,
                scope: input.scope,
                outcome: input.outcome.into(),
                recovery_minutes: input.recovery_minutes,
                findings: input.findings,
            },
        )
        .await?;
        Ok(ContinuityPlan(
            plans::get(on.db.conn(), on.caller, plan_id).await?,
        ))
    }
}
