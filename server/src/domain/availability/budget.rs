//! Availability targets and the breach of one: a service's month is announced
//! (`availability.target_breached`, to webhooks, mail and automation) at the instant
//! its downtime budget is spent, once, whichever replica sees it first (a unique row
//! per service and month).
//!
//! The watcher looks at the services with a target that have not breached this month;
//! between looks it sleeps until the earliest instant an outage going on would spend a
//! budget, at most a second (an outage recorded meanwhile is seen within it), woken at
//! once by a clock jump.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use entity::{availability_breach, availability_target, service};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict,
};
use serde_json::json;
use tokio::sync::watch;

use super::report;
use crate::{
    auth::{Caller, Role},
    clock::SharedClock,
    db::Db,
    domain::{
        events::{self, Actor, NewEvent, Topic},
        lookup::referenced,
    },
    error::{AppError, AppResult},
};

/// The longest the watcher sleeps without looking.
const LONGEST_SLEEP: StdDuration = StdDuration::from_secs(1);

/// Sets (or, with None, removes) a service's monthly availability target. Managers.
///
/// # Errors
/// BAD_USER_INPUT for a target outside (0, 100]; NOT_FOUND-like BAD_USER_INPUT for a
/// service that does not exist.
pub async fn set_target(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    service_id: i64,
    target_percent: Option<f64>,
) -> AppResult<service::Model> {
    caller.require_role(Role::Manager)?;
    let txn = db.begin_write().await?;
    let row = referenced::<service::Entity>(&txn, service_id, "serviceId", "service").await?;
    match target_percent {
        Some(t) if !(t.is_finite() && t > 0.0 && t <= 100.0) => {
            return Err(AppError::bad_input(
                "targetPercent",
                "give a percentage above 0 and at most 100, such as 99.9",
            ));
        }
        Some(t) => {
            availability_target::Entity::insert(availability_target::ActiveModel {
                service_id: Set(service_id),
                target_percent: Set(t),
                updated_at: Set(now),
            })
            .on_conflict(
                OnConflict::column(availability_target::Column::ServiceId)
                    .update_columns([
                        availability_target::Column::TargetPercent,
                        availability_target::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec(&txn)
            .await?;
        }
        None => {
            availability_target::Entity::delete_by_id(service_id)
                .exec(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    Ok(row)
}

/// Announces every breach due at `now`; the next instant one could be due.
pub async fn check(db: &Db, now: DateTime<Utc>) -> AppResult<Option<DateTime<Utc>>> {
    let targets = availability_target::Entity::find().all(db.conn()).await?;
    let mut next: Option<DateTime<Utc>> = None;
    for target in targets {
        let Some(row) = service::Entity::find_by_id(target.service_id)
            .one(db.conn())
            .await?
        else {
            continue;
        };
        let calendar = report::calendar_of(db.conn(), &row).await?;
        let (from, to, period) = report::month_containing(&calendar, now);
        if announced(db.conn(), row.id, &period).await? {
            continue;
        }
        let report = report::compute(db.conn(), row.id, from, to, now).await?;
        if let Some(spent_at) = report.spent_at {
            announce(db, now, &report, &period, spent_at).await?;
        } else if let Some(at) = report.projected_spent_at {
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        // The month ends: the next one starts with a new budget.
        next = Some(next.map_or(to, |n| n.min(to)));
    }
    Ok(next)
}

async fn announced(conn: &impl ConnectionTrait, service_id: i64, period: &str) -> AppResult<bool> {
    Ok(availability_breach::Entity::find()
        .filter(availability_breach::Column::ServiceId.eq(service_id))
        .filter(availability_breach::Column::Period.eq(period))
        .one(conn)
        .await?
        .is_some())
}

async fn announce(
    db: &Db,
    now: DateTime<Utc>,
    report: &report::Report,
    period: &str,
    spent_at: DateTime<Utc>,
) -> AppResult<()> {
    let txn = db.begin_write().await?;
    let inserted = availability_breach::Entity::insert(availability_breach::ActiveModel {
        service_id: Set(report.service.id),
        period: Set(period.to_string()),
        spent_at: Set(spent_at),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            availability_breach::Column::ServiceId,
            availability_breach::Column::Period,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted == 0 {
        return Ok(());
    }
    events::append(
        &txn,
        &Actor::system(),
        now,
        NewEvent {
            topic: Topic::AvailabilityTargetBreached,
            entity_type: "service",
            entity_id: report.service.id,
            internal: false,
            payload: json!({
                "serviceId": report.service.id,
                "service": report.service.name,
                "period": period,
                "spentAt": spent_at,
                "targetPercent": report.target_percent,
                "budgetSeconds": report.budget.map(|b| b.num_milliseconds() as f64 / 1000.0),
                "message": format!(
                    "{} spent its downtime budget for {period} at {}: it is below its {}% target",
                    report.service.name,
                    spent_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    report.target_percent.unwrap_or_default()
                ),
            }),
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(service = report.service.id, period, %spent_at, "an availability target was breached");
    Ok(())
}

/// Runs the watcher until the server stops.
pub async fn run(db: Db, clock: SharedClock, mut stopping: watch::Receiver<bool>) {
    let mut jumps = clock.jumps();
    loop {
        let now = clock.now();
        let next = match check(&db, now).await {
            Ok(next) => next,
            Err(error) => {
                tracing::warn!(%error, "availability: could not check the targets; trying again");
                None
            }
        };
        let sleep = next
            .and_then(|at| (at - now).to_std().ok())
            .unwrap_or(LONGEST_SLEEP)
            .min(LONGEST_SLEEP);
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            Ok(()) = jumps.changed() => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}
