//! The arithmetic of an SLA clock, pure: its states and their table, the business time
//! it has run, the instants its warnings and breach fall at, and what a client is shown
//! so that it can count down without polling. `clocks` keeps the ledger and writes.

use chrono::{DateTime, Duration, Utc};
use entity::sla_clock;

use crate::domain::{calendar::Calendar, named::named_enum, workflow::Machine};
use ClockState::*;

use super::thresholds;

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
pub(super) fn state_of(clock: &sla_clock::Model) -> Option<ClockState> {
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

/// Ends the running segment's time into the total; a clock past its target is breached
/// from the instant it passed it.
pub(super) fn settle(clock: &mut sla_clock::Model, cal: &Calendar, now: DateTime<Utc>) {
    if state_of(clock) == Some(Running) {
        if clock.breached_at.is_none() {
            clock.breached_at = instant_of(clock, cal, 100).filter(|due| *due < now);
        }
        clock.elapsed_ms = elapsed(clock, cal, now).num_milliseconds();
        clock.running_since = None;
    }
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
            agreement: "SLA".into(),
            group_id: None,
            supplier_id: None,
            party_id: 0,
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
