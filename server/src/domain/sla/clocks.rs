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
use super::{Agreement, Facts, Metric, first_match, in_force, pauses_for};
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

/// The first agreement of a kind, in force at `now`, that matches the ticket: for an OLA
/// one with `party` as its group, for a contract one with `party` as its supplier.
async fn agreement_for(
    conn: &impl ConnectionTrait,
    ticket: &ticket::Model,
    agreement: Agreement,
    party: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<Option<sla_policy::Model>> {
    let policies = in_force_now(conn, agreement, party, now).await?;
    // Most desks have no OLA for most groups: no facts to read then.
    if policies.is_empty() {
        return Ok(None);
    }
    Ok(first_match(&policies, &facts(conn, ticket).await?).cloned())
}

/// The active agreements of a kind (for `party`, of an OLA or a contract) in force at
/// `now`, in the order they are tried.
async fn in_force_now(
    conn: &impl ConnectionTrait,
    agreement: Agreement,
    party: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<Vec<sla_policy::Model>> {
    let mut query = sla_policy::Entity::find()
        .filter(sla_policy::Column::Active.eq(true))
        .filter(sla_policy::Column::Agreement.eq(agreement.as_str()));
    match agreement {
        Agreement::Ola => query = query.filter(sla_policy::Column::MatchGroupId.eq(party)),
        Agreement::UnderpinningContract => {
            query = query.filter(sla_policy::Column::SupplierId.eq(party))
        }
        Agreement::Sla => {}
    }
    Ok(query
        .order_by_asc(sla_policy::Column::Position)
        .order_by_asc(sla_policy::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .filter(|p| in_force(p, now))
        .collect())
}

/// The customer's SLA for a ticket about to be raised, chosen from what it will be
/// (`facts`) before it is numbered: the number's counter stays held from numbering to
/// commit (on PostgreSQL, a row lock every other new ticket waits for), and what is read
/// here need not be read under it. `ticket_created` then starts its clocks.
pub async fn sla_for_new_ticket(
    conn: &impl ConnectionTrait,
    facts: &Facts,
    now: DateTime<Utc>,
) -> AppResult<Option<sla_policy::Model>> {
    let policies = in_force_now(conn, Agreement::Sla, None, now).await?;
    Ok(first_match(&policies, facts).cloned())
}

/// The customer's SLA for the ticket.
async fn policy_for(
    conn: &impl ConnectionTrait,
    ticket: &ticket::Model,
    now: DateTime<Utc>,
) -> AppResult<Option<sla_policy::Model>> {
    agreement_for(conn, ticket, Agreement::Sla, None, now).await
}

/// Whom a clock counts for: the customer, a group (OLA) or a supplier (contract).
#[derive(Clone, Copy, Debug)]
struct Owner {
    agreement: Agreement,
    group_id: Option<i64>,
    supplier_id: Option<i64>,
}

impl Owner {
    const CUSTOMER: Owner = Owner {
        agreement: Agreement::Sla,
        group_id: None,
        supplier_id: None,
    };

    fn of(agreement: Agreement, party: i64) -> Owner {
        match agreement {
            Agreement::Sla => Owner::CUSTOMER,
            Agreement::Ola => Owner {
                agreement,
                group_id: Some(party),
                supplier_id: None,
            },
            Agreement::UnderpinningContract => Owner {
                agreement,
                group_id: None,
                supplier_id: Some(party),
            },
        }
    }

    fn of_clock(clock: &sla_clock::Model) -> Owner {
        Owner {
            agreement: Agreement::stored(&clock.agreement).unwrap_or(Agreement::Sla),
            group_id: clock.group_id,
            supplier_id: clock.supplier_id,
        }
    }

    /// The party the ticket is with now, for this kind of agreement.
    fn party_of(agreement: Agreement, ticket: &ticket::Model) -> Option<i64> {
        match agreement {
            Agreement::Sla => None,
            Agreement::Ola => ticket.group_id,
            Agreement::UnderpinningContract => ticket.supplier_id,
        }
    }

    /// The ticket is not with this clock's group or supplier: its clock does not run.
    fn away_from(self, ticket: &ticket::Model) -> bool {
        match self.agreement {
            Agreement::Sla => false,
            Agreement::Ola => ticket.group_id != self.group_id,
            Agreement::UnderpinningContract => ticket.supplier_id != self.supplier_id,
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn start(
    conn: &impl ConnectionTrait,
    ticket: &ticket::Model,
    policy: &sla_policy::Model,
    owner: Owner,
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
        agreement: Set(owner.agreement.as_str().into()),
        group_id: Set(owner.group_id),
        supplier_id: Set(owner.supplier_id),
        party_id: Set(owner.group_id.or(owner.supplier_id).unwrap_or(0)),
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

/// Starts the clocks of a new ticket: the customer's under `sla`, the policy
/// `sla_for_new_ticket` chose for it, and those of its group's OLA.
pub async fn ticket_created(
    conn: &impl ConnectionTrait,
    ticket: &ticket::Model,
    sla: Option<&sla_policy::Model>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if let Some(policy) = sla {
        for metric in Metric::ALL {
            if let Some(minutes) = metric.target_minutes(policy) {
                start(
                    conn,
                    ticket,
                    policy,
                    Owner::CUSTOMER,
                    metric,
                    minutes,
                    "ticket created",
                    now,
                )
                .await?;
            }
        }
    }
    follow_agreements(conn, None, ticket, now).await
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
        .filter(sla_clock::Column::Agreement.eq(Agreement::Sla.as_str()))
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
    follow_status(conn, before, after, now).await?;
    follow_agreements(conn, Some(before), after, now).await
}

/// The clocks of OLAs and contracts follow the ticket's group and supplier: those of a
/// group or supplier it left pause, those of the one it reached resume (or start, under
/// the agreement in force now), and an OLA's response clock stops when someone of the
/// group takes the ticket.
async fn follow_agreements(
    conn: &impl ConnectionTrait,
    before: Option<&ticket::Model>,
    after: &ticket::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    // A ticket being created has no clocks of groups or suppliers yet.
    let clocks = match before {
        None => vec![],
        Some(_) => {
            sla_clock::Entity::find()
                .filter(sla_clock::Column::TicketId.eq(after.id))
                .filter(sla_clock::Column::Agreement.ne(Agreement::Sla.as_str()))
                .all(conn)
                .await?
        }
    };
    let status = Status::parse(&after.status, "status")?;
    for clock in &clocks {
        let owner = Owner::of_clock(clock);
        if state_of(clock) == Some(Running) && owner.away_from(after) {
            let reason = match owner.agreement {
                Agreement::UnderpinningContract => "handed back by the supplier",
                _ => "ticket left the group",
            };
            let cal = calendar_of(conn, clock.calendar_id).await?;
            change(conn, clock.clone(), &cal, Paused, reason, now).await?;
        }
    }
    if !status.is_open() {
        return Ok(());
    }
    for agreement in [Agreement::Ola, Agreement::UnderpinningContract] {
        let Some(party) = Owner::party_of(agreement, after) else {
            continue;
        };
        let arrived = before.is_none_or(|b| Owner::party_of(agreement, b) != Some(party));
        let mine = |metric: Metric| {
            clocks.iter().find(|c| {
                c.metric == metric.as_str()
                    && c.agreement == agreement.as_str()
                    && c.party_id == party
            })
        };
        // A contract's clock counts the supplier's hold of the ticket: resolution only.
        let metrics: &[Metric] = match agreement {
            Agreement::Ola => &Metric::ALL,
            _ => &[Metric::Resolution],
        };
        let mut policy: Option<Option<sla_policy::Model>> = None;
        for &metric in metrics {
            match mine(metric) {
                Some(clock) => {
                    let picked_up = metric == Metric::Response && after.assignee_id.is_some();
                    let cal = calendar_of(conn, clock.calendar_id).await?;
                    if picked_up && matches!(state_of(clock), Some(Running | Paused)) {
                        change(
                            conn,
                            clock.clone(),
                            &cal,
                            Stopped,
                            "taken by the group",
                            now,
                        )
                        .await?;
                    } else if arrived && state_of(clock) == Some(Paused) {
                        let waiting = status == Status::Pending
                            && sla_policy::Entity::find_by_id(clock.policy_id)
                                .one(conn)
                                .await?
                                .is_some_and(|p| pauses_for(&p, after.pending_reason.as_deref()));
                        if !waiting {
                            let reason = match agreement {
                                Agreement::Ola => "ticket back with the group",
                                _ => "handed to the supplier again",
                            };
                            change(conn, clock.clone(), &cal, Running, reason, now).await?;
                        }
                    }
                }
                None if arrived => {
                    if policy.is_none() {
                        policy =
                            Some(agreement_for(conn, after, agreement, Some(party), now).await?);
                    }
                    let Some(Some(policy)) = &policy else {
                        continue;
                    };
                    let Some(minutes) = metric.target_minutes(policy) else {
                        continue;
                    };
                    // Taken on arrival: nothing for the response clock to count.
                    if metric == Metric::Response && after.assignee_id.is_some() {
                        continue;
                    }
                    let reason = match agreement {
                        Agreement::Ola => "ticket reached the group",
                        _ => "handed to the supplier",
                    };
                    start(
                        conn,
                        after,
                        policy,
                        Owner::of(agreement, party),
                        metric,
                        minutes,
                        reason,
                        now,
                    )
                    .await?;
                }
                None => {}
            }
        }
    }
    Ok(())
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
        // An OLA's or contract's clock runs only while the ticket is with its party.
        if state == Running && Owner::of_clock(&clock).away_from(after) {
            continue;
        }
        // An OLA's response is the group taking the ticket, not the customer's answer.
        if is_response
            && clock.agreement != Agreement::Sla.as_str()
            && state == Stopped
            && !matches!(to, Status::Resolved | Status::Closed)
        {
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
    let policy = policy_for(conn, after, now).await?;
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
                start(
                    conn,
                    after,
                    policy,
                    Owner::CUSTOMER,
                    metric,
                    minutes,
                    &reason,
                    now,
                )
                .await?;
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
