//! A ticket's clocks follow the ticket: started when it is created, paused and resumed
//! with its status, stopped when met, re-matched when its priority changes. Every change
//! closes one segment of the ledger and opens the next, and recomputes the stored
//! instants (`due_at`, `next_alert_at`) the engine and dashboards read.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{calendar, category, sla_clock, sla_clock_segment, sla_policy, ticket};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use serde_json::json;

use crate::domain::events::{TicketSnapshot, Topic};
use crate::{
    domain::{
        calendar::Calendar,
        events::{self, Actor, NewEvent},
        tickets::types::{Kind, Status},
        users::strings,
    },
    error::{AppError, AppResult},
};

pub use super::countdown::{
    ClockState, Display, LIFECYCLE, display, due_alert, elapsed, next_change, refresh,
};
use super::countdown::{settle, state_of};
use super::{Facts, Metric, first_match, pauses_for};
use ClockState::*;

/// The business calendar a clock counts in (24x7 when its policy names none).
pub async fn calendar_of(
    conn: &impl ConnectionTrait,
    calendar_id: Option<i64>,
) -> AppResult<Calendar> {
    let Some(id) = calendar_id else {
        return Ok(Calendar::always());
    };
    let row = calendar::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::Internal(format!("calendar {id} is gone")))?;
    to_calendar(&row)
}

/// A stored calendar row as the calendar arithmetic uses it.
///
/// # Errors
/// INTERNAL when its stored hours or time zone do not read.
pub fn to_calendar(row: &calendar::Model) -> AppResult<Calendar> {
    let week: Vec<Vec<String>> = row
        .week
        .as_array()
        .map(|days| days.iter().map(strings).collect())
        .unwrap_or_default();
    Calendar::parse(&row.time_zone, &week, &strings(&row.holidays))
        .map_err(|e| AppError::Internal(format!("calendar {} is unreadable: {e}", row.id)))
}

async fn open_segment(
    conn: &impl ConnectionTrait,
    clock_id: i64,
    state: ClockState,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sla_clock_segment::ActiveModel {
        clock_id: Set(clock_id),
        state: Set(state.into()),
        reason: Set(reason.to_string()),
        started_at: Set(now),
        ended_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

async fn close_segment(
    conn: &impl ConnectionTrait,
    clock_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    sla_clock_segment::Entity::update_many()
        .col_expr(sla_clock_segment::Column::EndedAt, Expr::value(now))
        .filter(sla_clock_segment::Column::ClockId.eq(clock_id))
        .filter(sla_clock_segment::Column::EndedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

async fn save(conn: &impl ConnectionTrait, clock: sla_clock::Model) -> AppResult<()> {
    let mut active: sla_clock::ActiveModel = clock.into();
    for column in [
        sla_clock::Column::PolicyId,
        sla_clock::Column::CalendarId,
        sla_clock::Column::TargetSeconds,
        sla_clock::Column::WarnPercents,
        sla_clock::Column::State,
        sla_clock::Column::ElapsedMs,
        sla_clock::Column::RunningSince,
        sla_clock::Column::DueAt,
        sla_clock::Column::NextAlertAt,
        sla_clock::Column::AlertsSent,
        sla_clock::Column::BreachedAt,
        sla_clock::Column::StoppedAt,
    ] {
        active.reset(column);
    }
    active.update(conn).await?;
    Ok(())
}

/// Moves a clock to `state` for `reason`, keeping its ledger.
async fn change(
    conn: &impl ConnectionTrait,
    mut clock: sla_clock::Model,
    cal: &Calendar,
    state: ClockState,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let from = ClockState::stored(&clock.state)?;
    if from == state {
        return Ok(());
    }
    // The ticket's lifecycle decides the moves; one off the clock's table is our bug.
    LIFECYCLE
        .check(from, state)
        .map_err(|e| AppError::Internal(format!("SLA clock {}: {e}", clock.id)))?;
    settle(&mut clock, cal, now);
    close_segment(conn, clock.id, now).await?;
    clock.state = state.into();
    match state {
        Running => {
            clock.running_since = Some(now);
            clock.stopped_at = None;
            open_segment(conn, clock.id, Running, reason, now).await?;
        }
        Paused => open_segment(conn, clock.id, Paused, reason, now).await?,
        Stopped | Cancelled => clock.stopped_at = Some(now),
    }
    refresh(&mut clock, cal);
    save(conn, clock).await
}

async fn facts(conn: &impl ConnectionTrait, ticket: &ticket::Model) -> AppResult<Facts> {
    let mut category_ids = Vec::new();
    let mut next = ticket.category_id;
    while let Some(id) = next.filter(|_| category_ids.len() < 32) {
        category_ids.push(id);
        next = category::Entity::find_by_id(id)
            .one(conn)
            .await?
            .and_then(|c| c.parent_id);
    }
    Ok(Facts {
        kind: Kind::parse(&ticket.kind, "kind").ok(),
        priority: ticket.priority,
        service_id: ticket.service_id,
        category_ids,
        organization_id: ticket.organization_id,
    })
}

async fn policy_for(
    conn: &impl ConnectionTrait,
    ticket: &ticket::Model,
) -> AppResult<Option<sla_policy::Model>> {
    let policies = sla_policy::Entity::find()
        .filter(sla_policy::Column::Active.eq(true))
        .order_by_asc(sla_policy::Column::Position)
        .order_by_asc(sla_policy::Column::Id)
        .all(conn)
        .await?;
    Ok(first_match(&policies, &facts(conn, ticket).await?).cloned())
}

async fn start(
    conn: &impl ConnectionTrait,
    ticket: &ticket::Model,
    policy: &sla_policy::Model,
    metric: Metric,
    minutes: i32,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let cal = calendar_of(conn, policy.calendar_id).await?;
    // A ticket born pending (an order awaiting approval) starts with its clocks paused.
    let paused = ticket.status == Status::Pending.as_str()
        && pauses_for(policy, ticket.pending_reason.as_deref());
    let (state, running_since) = if paused {
        (Paused, None)
    } else {
        (Running, Some(now))
    };
    let mut clock = sla_clock::ActiveModel {
        ticket_id: Set(ticket.id),
        metric: Set(metric.as_str().to_string()),
        policy_id: Set(policy.id),
        calendar_id: Set(policy.calendar_id),
        target_seconds: Set(i64::from(minutes) * 60),
        warn_percents: Set(policy.warn_percents.clone()),
        state: Set(state.into()),
        elapsed_ms: Set(0),
        running_since: Set(running_since),
        due_at: Set(None),
        next_alert_at: Set(None),
        alerts_sent: Set(0),
        breached_at: Set(None),
        stopped_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    refresh(&mut clock, &cal);
    let reason = if paused {
        format!("{reason}, pending: awaiting approval")
    } else {
        reason.to_string()
    };
    open_segment(conn, clock.id, state, &reason, now).await?;
    save(conn, clock).await
}

/// Starts the clocks of a new ticket under the first policy that matches it.
pub async fn ticket_created(
    conn: &impl ConnectionTrait,
    ticket: &ticket::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(policy) = policy_for(conn, ticket).await? else {
        return Ok(());
    };
    for metric in Metric::ALL {
        if let Some(minutes) = metric.target_minutes(&policy) {
            start(
                conn,
                ticket,
                &policy,
                metric,
                minutes,
                "ticket created",
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// Brings the ticket's clocks in line with a change to the ticket.
pub async fn ticket_changed(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    before: &ticket::Model,
    after: &ticket::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let clocks = sla_clock::Entity::find()
        .filter(sla_clock::Column::TicketId.eq(after.id))
        .all(conn)
        .await?;
    let rematch = before.priority != after.priority
        || before.service_id != after.service_id
        || before.category_id != after.category_id
        || before.organization_id != after.organization_id;
    if rematch {
        rematch_policy(conn, actor, before, after, &clocks, now).await?;
    }
    // Reads the clocks again: a re-match may have changed them.
    follow_status(conn, before, after, now).await
}

async fn follow_status(
    conn: &impl ConnectionTrait,
    before: &ticket::Model,
    after: &ticket::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let from = Status::parse(&before.status, "status")?;
    let to = Status::parse(&after.status, "status")?;
    let responded = before.first_response_at.is_none() && after.first_response_at.is_some();
    if from == to && before.pending_reason == after.pending_reason && !responded {
        return Ok(());
    }
    let clocks = sla_clock::Entity::find()
        .filter(sla_clock::Column::TicketId.eq(after.id))
        .all(conn)
        .await?;
    let mut policies: HashMap<i64, sla_policy::Model> = HashMap::new();
    for clock in clocks {
        if !policies.contains_key(&clock.policy_id)
            && let Some(policy) = sla_policy::Entity::find_by_id(clock.policy_id)
                .one(conn)
                .await?
        {
            policies.insert(policy.id, policy);
        }
        let Some(policy) = policies.get(&clock.policy_id) else {
            continue;
        };
        let cal = calendar_of(conn, clock.calendar_id).await?;
        let is_response = clock.metric == Metric::Response.as_str();
        let (state, reason) = match to {
            Status::Cancelled => (Cancelled, "ticket cancelled".to_string()),
            // Resolving answers the requester too: it meets a response clock still running.
            Status::Resolved | Status::Closed => {
                (Stopped, format!("ticket {}", to.as_str().to_lowercase()))
            }
            _ if is_response && after.first_response_at.is_some() => {
                (Stopped, "first response".to_string())
            }
            _ if from == Status::Resolved && !is_response => {
                (Running, "ticket reopened".to_string())
            }
            Status::Pending if pauses_for(policy, after.pending_reason.as_deref()) => {
                let why = after
                    .pending_reason
                    .as_deref()
                    .unwrap_or_default()
                    .to_lowercase()
                    .replace('_', " ");
                (Paused, format!("ticket pending: {why}"))
            }
            _ => (
                Running,
                format!("ticket {}", to.as_str().to_lowercase().replace('_', " ")),
            ),
        };
        let stopped = matches!(state_of(&clock), Some(Stopped | Cancelled));
        // A stopped clock runs again only when its ticket is reopened.
        if stopped && !(state == Running && from == Status::Resolved) {
            continue;
        }
        change(conn, clock, &cal, state, &reason, now).await?;
    }
    Ok(())
}

/// A change of priority (or service, category, organization) may put the ticket under
/// another policy: the clocks keep the time already elapsed and paused, take the new
/// targets, and the ledger says why.
async fn rematch_policy(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    before: &ticket::Model,
    after: &ticket::Model,
    clocks: &[sla_clock::Model],
    now: DateTime<Utc>,
) -> AppResult<()> {
    let policy = policy_for(conn, after).await?;
    let old_policy_id = clocks.first().map(|c| c.policy_id);
    if policy.as_ref().map(|p| p.id) == old_policy_id {
        return Ok(());
    }
    let reason = format!(
        "policy changed to {} (priority P{} → P{})",
        policy.as_ref().map(|p| p.name.as_str()).unwrap_or("none"),
        before.priority,
        after.priority
    );
    for metric in Metric::ALL {
        let clock = clocks.iter().find(|c| c.metric == metric.as_str()).cloned();
        let target = policy
            .as_ref()
            .and_then(|p| metric.target_minutes(p).map(|m| (p, m)));
        match (clock, target) {
            (Some(mut clock), Some((policy, minutes))) => {
                let old_cal = calendar_of(conn, clock.calendar_id).await?;
                let was_running = state_of(&clock) == Some(Running);
                settle(&mut clock, &old_cal, now);
                clock.policy_id = policy.id;
                clock.calendar_id = policy.calendar_id;
                clock.target_seconds = i64::from(minutes) * 60;
                clock.warn_percents = policy.warn_percents.clone();
                // Thresholds already passed under the new target go out at once; those
                // sent stay sent.
                if was_running {
                    clock.running_since = Some(now);
                    close_segment(conn, clock.id, now).await?;
                    open_segment(conn, clock.id, Running, &reason, now).await?;
                }
                let cal = calendar_of(conn, clock.calendar_id).await?;
                if state_of(&clock) != Some(Stopped)
                    && clock.elapsed_ms < clock.target_seconds * 1000
                {
                    clock.breached_at = None;
                }
                refresh(&mut clock, &cal);
                save(conn, clock).await?;
            }
            (Some(clock), None) => {
                let cal = calendar_of(conn, clock.calendar_id).await?;
                change(conn, clock, &cal, Cancelled, &reason, now).await?;
            }
            (None, Some((policy, minutes)))
                if Status::parse(&after.status, "status")?.is_open() =>
            {
                start(conn, after, policy, metric, minutes, &reason, now).await?;
            }
            (None, _) => {}
        }
    }
    let payload = json!({
        "fromPolicyId": old_policy_id,
        "toPolicyId": policy.as_ref().map(|p| p.id),
        "reason": reason,
        "ticket": TicketSnapshot::of(after).to_json(),
    });
    events::append(
        conn,
        actor,
        now,
        NewEvent {
            topic: Topic::SlaPolicyChanged,
            entity_type: "ticket",
            entity_id: after.id,
            internal: false,
            payload,
        },
    )
    .await?;
    Ok(())
}
