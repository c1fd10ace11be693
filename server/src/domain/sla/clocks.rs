//! A ticket's clocks follow the ticket: started when it is created, paused and resumed
//! with its status, stopped when met, re-matched when its priority changes. Every change
//! closes one segment of the ledger and opens the next, and recomputes the stored
//! instants (`due_at`, `next_alert_at`) the engine and dashboards read.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
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

use super::{Facts, Metric, first_match, pauses_for, thresholds};
use crate::domain::{named::named_enum, workflow::Machine};
use ClockState::*;

named_enum!(
    /// Where an SLA clock stands; `LIFECYCLE` says how it moves.
    ClockState {
        /// Counting business time.
        Running = "RUNNING",
        /// Held for a pending reason that pauses it.
        Paused = "PAUSED",
        /// Done: the ticket responded, resolved or closed (breached or not).
        Stopped = "STOPPED",
        /// No longer applies: its ticket was cancelled, or its policy sets no such target.
        Cancelled = "CANCELLED",
    }
);

/// The clock's table of moves.
pub const LIFECYCLE: Machine<ClockState> = Machine {
    subject: "SLA clock",
    moves: &[
        (Running, &[Paused, Stopped, Cancelled]),
        (Paused, &[Running, Stopped, Cancelled]),
        // Running again: its ticket was reopened. Cancelled: a new policy sets no target.
        (Stopped, &[Running, Cancelled]),
        // Running again: a reopened ticket whose policy sets the target once more.
        (Cancelled, &[Running]),
    ],
};

/// The state a stored clock is in.
fn state_of(clock: &sla_clock::Model) -> Option<ClockState> {
    ClockState::stored(&clock.state).ok()
}

/// What a dashboard shows for a clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    Running,
    Paused,
    OutsideBusinessHours,
    Met,
    Breached,
    Cancelled,
}

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

/// Business time the clock has run, up to `now`.
pub fn elapsed(clock: &sla_clock::Model, cal: &Calendar, now: DateTime<Utc>) -> Duration {
    let closed = Duration::milliseconds(clock.elapsed_ms);
    match (state_of(clock), clock.running_since) {
        (Some(Running), Some(since)) => closed + cal.between(since, now),
        _ => closed,
    }
}

/// When a running clock reaches `percent` of its target.
fn instant_of(clock: &sla_clock::Model, cal: &Calendar, percent: i64) -> Option<DateTime<Utc>> {
    let since = clock
        .running_since
        .filter(|_| state_of(clock) == Some(Running))?;
    let needed =
        Duration::milliseconds(clock.target_seconds * 1000 * percent / 100 - clock.elapsed_ms);
    if needed <= Duration::zero() {
        Some(since)
    } else {
        cal.add(since, needed)
    }
}

/// The stored instants that follow from the clock's state.
pub fn refresh(clock: &mut sla_clock::Model, cal: &Calendar) {
    let steps = thresholds(&clock.warn_percents);
    clock.due_at = instant_of(clock, cal, 100);
    clock.next_alert_at = steps
        .get(clock.alerts_sent as usize)
        .and_then(|&percent| instant_of(clock, cal, percent));
}

/// The next threshold not yet alerted, with its percent, if it falls at or before `now`.
pub fn due_alert(
    clock: &sla_clock::Model,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Option<(i64, DateTime<Utc>)> {
    let percent = *thresholds(&clock.warn_percents).get(clock.alerts_sent as usize)?;
    instant_of(clock, cal, percent)
        .filter(|at| *at <= now)
        .map(|at| (percent, at))
}

/// What a client shows of a clock now: remaining time, percent used, whether it runs,
/// and when that will next change, so that it can count down without polling.
pub fn display(clock: &sla_clock::Model, cal: &Calendar, now: DateTime<Utc>) -> Display {
    match state_of(clock) {
        Some(Stopped) if clock.breached_at.is_some() => Display::Breached,
        Some(Stopped) => Display::Met,
        Some(Cancelled) => Display::Cancelled,
        Some(Paused) => Display::Paused,
        _ if clock.breached_at.is_some() || clock.due_at.is_some_and(|due| due <= now) => {
            Display::Breached
        }
        _ if !cal.is_open(now) => Display::OutsideBusinessHours,
        _ => Display::Running,
    }
}

/// The next instant the displayed state or the countdown's meaning changes: the next
/// alert, or the calendar opening or closing. None while paused or stopped.
pub fn next_change(
    clock: &sla_clock::Model,
    cal: &Calendar,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if state_of(clock) != Some(Running) {
        return None;
    }
    let alert = clock.next_alert_at.filter(|at| *at > now);
    match (alert, cal.next_change(now)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
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

/// Ends the running segment's time into the total; a clock past its target is breached
/// from the instant it passed it.
fn settle(clock: &mut sla_clock::Model, cal: &Calendar, now: DateTime<Utc>) {
    if state_of(clock) == Some(Running) {
        if clock.breached_at.is_none() {
            clock.breached_at = instant_of(clock, cal, 100).filter(|due| *due < now);
        }
        clock.elapsed_ms = elapsed(clock, cal, now).num_milliseconds();
        clock.running_since = None;
    }
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    /// Weekdays 09:00 to 17:00 UTC, no holidays.
    fn office() -> Calendar {
        let day = vec!["09:00-17:00".to_string()];
        let mut week = vec![day; 5];
        week.extend([vec![], vec![]]);
        Calendar::parse("UTC", &week, &[]).unwrap()
    }

    /// Monday 2026-11-23 at `h:m` UTC, plus `days`.
    fn monday(days: i64, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, h, m, 0).unwrap() + Duration::days(days)
    }

    /// A resolution clock of `hours` business hours, warning at 50 and 75 percent,
    /// started at `since`.
    fn clock(hours: i64, since: DateTime<Utc>) -> sla_clock::Model {
        sla_clock::Model {
            id: 1,
            ticket_id: 1,
            metric: "RESOLUTION".into(),
            policy_id: 1,
            calendar_id: None,
            target_seconds: hours * 3600,
            warn_percents: json!([75, 50]),
            state: Running.into(),
            elapsed_ms: 0,
            running_since: Some(since),
            due_at: None,
            next_alert_at: None,
            alerts_sent: 0,
            breached_at: None,
            stopped_at: None,
            created_at: since,
        }
    }

    #[test]
    fn the_clock_lifecycle_allows_exactly_its_moves() {
        crate::domain::workflow::assert_table(
            &LIFECYCLE,
            &[
                (Running, &[Paused, Stopped, Cancelled]),
                (Paused, &[Running, Stopped, Cancelled]),
                (Stopped, &[Running, Cancelled]),
                (Cancelled, &[Running]),
            ],
        );
    }

    #[test]
    fn business_time_runs_only_while_the_desk_is_open() {
        let c = clock(8, monday(0, 16, 0));
        // 16:00 to 17:00 on Monday, then 09:00 to 10:00 on Tuesday.
        assert_eq!(elapsed(&c, &office(), monday(1, 10, 0)), Duration::hours(2));
        let mut paused = c.clone();
        paused.state = Paused.into();
        paused.elapsed_ms = 3_600_000;
        assert_eq!(
            elapsed(&paused, &office(), monday(3, 12, 0)),
            Duration::hours(1),
            "a paused clock keeps what it had"
        );
    }

    #[test]
    fn refresh_sets_the_due_instant_and_the_first_warning_in_business_hours() {
        let mut c = clock(8, monday(0, 13, 0));
        refresh(&mut c, &office());
        // Four hours on Monday, four on Tuesday.
        assert_eq!(c.due_at, Some(monday(1, 13, 0)));
        // 50 percent is the first threshold, whatever order the policy lists them in.
        assert_eq!(c.next_alert_at, Some(monday(0, 17, 0)));
        c.alerts_sent = 2;
        refresh(&mut c, &office());
        assert_eq!(
            c.next_alert_at, c.due_at,
            "after the warnings comes the breach"
        );
    }

    #[test]
    fn a_due_alert_is_the_next_threshold_once_its_instant_has_passed() {
        let mut c = clock(8, monday(0, 9, 0));
        refresh(&mut c, &office());
        assert_eq!(due_alert(&c, &office(), monday(0, 12, 59)), None);
        assert_eq!(
            due_alert(&c, &office(), monday(0, 13, 0)),
            Some((50, monday(0, 13, 0)))
        );
        c.alerts_sent = 1;
        assert_eq!(
            due_alert(&c, &office(), monday(0, 16, 0)),
            Some((75, monday(0, 15, 0)))
        );
    }

    #[test]
    fn what_a_client_is_shown_follows_the_state_and_the_calendar() {
        // Due on Tuesday at 17:00.
        let mut c = clock(16, monday(0, 9, 0));
        refresh(&mut c, &office());
        assert!(matches!(
            display(&c, &office(), monday(0, 10, 0)),
            Display::Running
        ));
        assert!(matches!(
            display(&c, &office(), monday(0, 20, 0)),
            Display::OutsideBusinessHours
        ));
        assert!(matches!(
            display(&c, &office(), monday(2, 9, 0)),
            Display::Breached
        ));
        let mut stopped = c.clone();
        stopped.state = Stopped.into();
        assert!(matches!(
            display(&stopped, &office(), monday(0, 10, 0)),
            Display::Met
        ));
        stopped.breached_at = Some(monday(0, 17, 0));
        assert!(matches!(
            display(&stopped, &office(), monday(1, 10, 0)),
            Display::Breached
        ));
        stopped.state = Cancelled.into();
        assert!(matches!(
            display(&stopped, &office(), monday(1, 10, 0)),
            Display::Cancelled
        ));
    }

    #[test]
    fn the_next_change_is_the_next_alert_or_the_desk_opening_or_closing() {
        let mut c = clock(8, monday(0, 9, 0));
        refresh(&mut c, &office());
        assert_eq!(
            next_change(&c, &office(), monday(0, 10, 0)),
            Some(monday(0, 13, 0))
        );
        // After the first warning, the desk closing at 17:00 comes first.
        assert_eq!(
            next_change(&c, &office(), monday(0, 14, 0)),
            Some(monday(0, 17, 0))
        );
        c.state = Paused.into();
        assert_eq!(next_change(&c, &office(), monday(0, 10, 0)), None);
    }

    #[test]
    fn settling_a_late_clock_dates_the_breach_at_its_due_instant() {
        let mut c = clock(1, monday(0, 16, 0));
        settle(&mut c, &office(), monday(1, 11, 0));
        assert_eq!(c.breached_at, Some(monday(0, 17, 0)));
        assert_eq!(c.elapsed_ms, Duration::hours(3).num_milliseconds());
        assert_eq!(c.running_since, None);
    }
}
