//! The SLA engine: sends each clock's warnings and breach when their stored instant
//! comes. It reads only the clocks whose next alert is due (an indexed column), so its
//! cost follows the number due, not the number open. Any number of replicas may run
//! it: each alert is claimed with a conditional update on `alerts_sent`, so exactly one
//! of them sends it, and one that was down catches up on whatever fell due meanwhile.
//!
//! Between looks it sleeps until the next stored alert instant, and a commit (which may
//! have written an earlier one) wakes it to read that instant again.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{sla_clock, ticket};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};
use serde_json::json;
use tokio::sync::watch;

use super::clocks::{self, calendar_of, due_alert};
use crate::domain::events::{TicketSnapshot, Topic};
use crate::{
    clock::SharedClock,
    db::Db,
    domain::events::{self, Actor, NewEvent},
    error::AppResult,
    metrics::Seconds,
};

/// The longest the engine sleeps without looking: a safety net for a lost wake, and for
/// a clock that jumps without saying so (an operator setting the system time).
const LONGEST_SLEEP: Duration = Duration::from_secs(1);

/// After a commit wakes it, how long the engine lets further commits gather before it
/// looks: under a busy desk it reads the next instant a few dozen times a second, not
/// once per commit.
const GATHER: Duration = Duration::from_millis(20);

/// Clocks handled per look; more are handled by the next look, at once.
const BATCH: u64 = 500;

/// What one look of the engine found and did.
pub struct Sweep {
    /// Alerts this replica sent.
    pub sent: usize,
    /// The instant of the oldest alert that was due: how late the engine is running.
    pub oldest_due: Option<DateTime<Utc>>,
    /// When the next alert falls due, as far as the clocks stored now say.
    pub next: Option<DateTime<Utc>>,
}

/// Sends every alert due at `now`.
pub async fn send_due(db: &Db, now: DateTime<Utc>) -> AppResult<Sweep> {
    let due: Vec<(i64, Option<DateTime<Utc>>)> = sla_clock::Entity::find()
        .select_only()
        .column(sla_clock::Column::Id)
        .column(sla_clock::Column::NextAlertAt)
        .filter(sla_clock::Column::NextAlertAt.lte(now))
        .order_by_asc(sla_clock::Column::NextAlertAt)
        .limit(BATCH)
        .into_tuple()
        .all(db.conn())
        .await?;
    let oldest_due = due.first().and_then(|(_, at)| *at);
    let full = due.len() as u64 == BATCH;
    let mut sent = 0;
    for (clock_id, _) in due {
        sent += send_for_clock(db, clock_id, now).await?;
    }
    let next = if full {
        Some(now)
    } else {
        next_alert(db).await?
    };
    Ok(Sweep {
        sent,
        oldest_due,
        next,
    })
}

/// The earliest alert instant stored: one read of the index.
async fn next_alert(db: &Db) -> AppResult<Option<DateTime<Utc>>> {
    Ok(sla_clock::Entity::find()
        .select_only()
        .column(sla_clock::Column::NextAlertAt)
        .filter(sla_clock::Column::NextAlertAt.is_not_null())
        .order_by_asc(sla_clock::Column::NextAlertAt)
        .limit(1)
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db.conn())
        .await?
        .flatten())
}

async fn send_for_clock(db: &Db, clock_id: i64, now: DateTime<Utc>) -> AppResult<usize> {
    let txn = db.begin_write().await?;
    let Some(clock) = sla_clock::Entity::find_by_id(clock_id).one(&txn).await? else {
        return Ok(0);
    };
    let cal = calendar_of(&txn, clock.calendar_id).await?;
    // Every threshold already passed goes out now, in order: a replica back from an
    // outage catches up at once.
    let mut next = clock.clone();
    let mut alerts = Vec::new();
    while let Some((percent, at)) = due_alert(&next, &cal, now) {
        alerts.push((percent, at));
        next.alerts_sent += 1;
        if percent == 100 {
            next.breached_at = next.breached_at.or(Some(at));
        }
    }
    clocks::refresh(&mut next, &cal);
    let next_alert_at = next.next_alert_at;
    // The claim: only the replica that moves `alerts_sent` on from what it read sends.
    let claimed = sla_clock::Entity::update_many()
        .col_expr(sla_clock::Column::AlertsSent, Expr::value(next.alerts_sent))
        .col_expr(sla_clock::Column::NextAlertAt, Expr::value(next_alert_at))
        .col_expr(sla_clock::Column::BreachedAt, Expr::value(next.breached_at))
        .filter(sla_clock::Column::Id.eq(clock.id))
        .filter(sla_clock::Column::AlertsSent.eq(clock.alerts_sent))
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 || alerts.is_empty() {
        // Another replica sent them, or the clock changed since it was due: nothing to do.
        txn.commit().await?;
        return Ok(0);
    }
    let Some(ticket) = ticket::Entity::find_by_id(clock.ticket_id)
        .one(&txn)
        .await?
    else {
        return Ok(0);
    };
    let elapsed = clocks::elapsed(&next, &cal, now);
    for (percent, at) in &alerts {
        let topic = if *percent == 100 {
            Topic::SlaBreached
        } else {
            Topic::SlaWarning
        };
        let payload = json!({
            "clockId": clock.id,
            "metric": clock.metric,
            "agreement": clock.agreement,
            "groupId": clock.group_id,
            "supplierId": clock.supplier_id,
            "percent": percent,
            "instant": at,
            "dueAt": next.due_at.or(clock.due_at),
            "elapsedSeconds": elapsed.num_seconds(),
            "remainingSeconds": next.target_seconds - elapsed.num_seconds(),
            "ticket": TicketSnapshot::of(&ticket).to_json(),
        });
        let event = NewEvent {
            topic,
            entity_type: "ticket",
            entity_id: ticket.id,
            internal: false,
            payload,
        };
        events::append(&txn, &Actor::system(), now, event).await?;
    }
    txn.commit().await?;
    Ok(alerts.len())
}

/// Runs the engine until the server shuts down, noting in `lag` how late the oldest
/// due alert was at each look (for /metrics). A look under way when the server stops
/// is finished.
pub async fn run(db: Db, clock: SharedClock, lag: Seconds, mut stopping: watch::Receiver<bool>) {
    let mut commits = db.commits();
    let mut jumps = clock.jumps();
    loop {
        let now = clock.now();
        let sleep = match send_due(&db, now).await {
            Ok(sweep) => {
                lag.set(sweep.oldest_due.map_or(0.0, |at| {
                    (now - at).num_milliseconds().max(0) as f64 / 1000.0
                }));
                sweep.next.map_or(LONGEST_SLEEP, |next| {
                    (next - clock.now()).to_std().unwrap_or(Duration::ZERO)
                })
            }
            Err(error) => {
                tracing::warn!(%error, "the SLA engine could not send due alerts; trying again");
                LONGEST_SLEEP
            }
        };
        let woken_by_commit = tokio::select! {
            _ = tokio::time::sleep(sleep.min(LONGEST_SLEEP)) => false,
            Ok(()) = commits.changed() => true,
            Ok(()) = jumps.changed() => false,
            _ = stopping.wait_for(|s| *s) => return,
        };
        if woken_by_commit {
            tokio::time::sleep(GATHER).await;
        }
    }
}
