//! Exercises of continuity plans, and when the next successful one is due.

use chrono::{DateTime, Months, Utc};
use entity::{continuity_exercise, continuity_plan};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use serde_json::json;

use super::{ExerciseOutcome, require_writer};
use crate::{
    auth::Caller,
    db::Db,
    domain::{
        events::{self, Actor, NewEvent, Topic},
        input::text,
        versioned,
    },
    error::{AppError, AppResult},
};

/// What a manager records of an exercise.
#[derive(Clone, Debug)]
pub struct NewExercise {
    pub plan_id: i64,
    pub exercised_at: DateTime<Utc>,
    pub scope: String,
    pub outcome: ExerciseOutcome,
    pub recovery_minutes: Option<i32>,
    pub findings: String,
}

/// Records an exercise of a plan. Managers.
///
/// # Errors
/// BAD_USER_INPUT for an exercise in the future or text that does not fit; NOT_FOUND for
/// a plan that does not exist.
pub async fn record(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    new: NewExercise,
) -> AppResult<continuity_exercise::Model> {
    require_writer(caller)?;
    if new.exercised_at > now {
        return Err(AppError::bad_input(
            "exercisedAt",
            "record an exercise once it has taken place",
        ));
    }
    if new
        .recovery_minutes
        .is_some_and(|m| !(0..=525_600).contains(&m))
    {
        return Err(AppError::bad_input(
            "recoveryMinutes",
            "give 0 minutes to 365 days",
        ));
    }
    let scope = text("scope", &new.scope, 5000, true)?;
    let findings = text("findings", &new.findings, 20_000, false)?;
    let txn = db.begin_write().await?;
    let plan = versioned::find::<continuity_plan::Entity>(&txn, new.plan_id).await?;
    let actor = Actor::of(caller);
    let row = continuity_exercise::ActiveModel {
        plan_id: Set(plan.id),
        exercised_at: Set(new.exercised_at),
        scope: Set(scope),
        outcome: Set(new.outcome.as_str().into()),
        recovery_minutes: Set(new.recovery_minutes),
        findings: Set(findings),
        recorded_by: Set(actor.name.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    events::append(
        &txn,
        &actor,
        now,
        NewEvent {
            topic: Topic::ContinuityExerciseRecorded,
            entity_type: "continuity_plan",
            entity_id: plan.id,
            internal: false,
            payload: json!({
                "planId": plan.id, "exerciseId": row.id, "outcome": row.outcome,
                "recoveryMinutes": row.recovery_minutes, "rtoMinutes": plan.rto_minutes,
            }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// A plan's exercises, newest first.
pub async fn of_plan(
    conn: &impl ConnectionTrait,
    plan_id: i64,
) -> AppResult<Vec<continuity_exercise::Model>> {
    Ok(continuity_exercise::Entity::find()
        .filter(continuity_exercise::Column::PlanId.eq(plan_id))
        .order_by_desc(continuity_exercise::Column::ExercisedAt)
        .order_by_desc(continuity_exercise::Column::Id)
        .all(conn)
        .await?)
}

/// When a plan's next successful exercise is due: its interval after the last
/// successful one, or after the plan was written if it was never tested successfully.
pub fn due_at(
    plan: &continuity_plan::Model,
    exercises: &[continuity_exercise::Model],
) -> DateTime<Utc> {
    let last_success = exercises
        .iter()
        .filter(|e| e.outcome == ExerciseOutcome::Success.as_str())
        .map(|e| e.exercised_at)
        .max()
        .unwrap_or(plan.created_at);
    last_success
        .checked_add_months(Months::new(plan.exercise_interval_months.max(0) as u32))
        .unwrap_or(last_success)
}

/// Announces every plan that became overdue by `now`, once per due date; how many.
pub async fn announce_overdue(db: &Db, now: DateTime<Utc>) -> AppResult<usize> {
    let plans = continuity_plan::Entity::find().all(db.conn()).await?;
    let mut announced = 0;
    for plan in plans {
        let exercises = of_plan(db.conn(), plan.id).await?;
        let due = due_at(&plan, &exercises);
        if due > now || plan.overdue_announced_at == Some(due) {
            continue;
        }
        let txn = db.begin_write().await?;
        let claimed = continuity_plan::Entity::update_many()
            .col_expr(
                continuity_plan::Column::OverdueAnnouncedAt,
                Expr::value(Some(due)),
            )
            .filter(continuity_plan::Column::Id.eq(plan.id))
            .filter(continuity_plan::Column::Version.eq(plan.version))
            .filter(match plan.overdue_announced_at {
                Some(at) => continuity_plan::Column::OverdueAnnouncedAt.eq(at),
                None => continuity_plan::Column::OverdueAnnouncedAt.is_null(),
            })
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            events::append(
                &txn,
                &Actor::system(),
                now,
                NewEvent {
                    topic: Topic::ContinuityExerciseOverdue,
                    entity_type: "continuity_plan",
                    entity_id: plan.id,
                    internal: false,
                    payload: json!({
                        "planId": plan.id, "serviceId": plan.service_id, "name": plan.name, "dueAt": due,
                        "message": format!("the continuity plan '{}' has not been exercised successfully since {}: it was due on {}",
                            plan.name,
                            exercises.iter().filter(|e| e.outcome == ExerciseOutcome::Success.as_str()).map(|e| e.exercised_at.format("%Y-%m-%d").to_string()).next().unwrap_or_else(|| "it was written".into()),
                            due.format("%Y-%m-%d")),
                    }),
                },
            )
            .await?;
            announced += 1;
        }
        txn.commit().await?;
    }
    Ok(announced)
}
