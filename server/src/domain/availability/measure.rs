//! The figures of availability from a service's stretches of a period, measured in its
//! agreed service time (a calendar: office hours, 24x7, holidays) with the same
//! arithmetic the SLA clocks use. Pure.
//!
//! The definitions, as ITIL gives them:
//! - agreed service time (AST): the calendar's time in the period, less planned
//!   downtime (agreed in advance, so not promised);
//! - availability = (AST − unplanned downtime) / AST;
//! - an outage (a break) is a maximal stretch of unplanned downtime with some service
//!   time in it; MTRS (mean time to restore service) = unplanned downtime / outages;
//!   MTBF (mean time between failures) = (AST − unplanned downtime) / outages, the
//!   uptime per failure; MTBSI = AST / outages;
//! - the downtime budget of a target: AST × (1 − target), spent by unplanned downtime.

use chrono::{DateTime, Duration, Utc};

use crate::domain::calendar::Calendar;

/// What a service was in a stretch of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Up,
    /// Impaired but available.
    Degraded,
    /// Down in a planned window.
    Planned,
    /// Down, unplanned.
    Unplanned,
}

/// A stretch `[from, to)` in one state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stretch {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub state: State,
}

/// The figures of a period.
#[derive(Clone, Debug, PartialEq)]
pub struct Figures {
    /// The calendar's time in the period.
    pub calendar_time: Duration,
    pub agreed_service_time: Duration,
    pub planned_downtime: Duration,
    pub unplanned_downtime: Duration,
    pub degraded_time: Duration,
    /// Percent, 100 when there was no agreed service time.
    pub availability_percent: f64,
    pub outages: u32,
    pub planned_windows: u32,
    pub mtrs: Option<Duration>,
    pub mtbf: Option<Duration>,
    pub mtbsi: Option<Duration>,
}

/// Measures `stretches` (in order, not overlapping) within `[from, to)`.
pub fn measure(
    calendar: &Calendar,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    stretches: &[Stretch],
) -> Figures {
    let time = |s: &Stretch| calendar.between(s.from.max(from), s.to.min(to));
    let sum = |state: State| -> Duration {
        stretches
            .iter()
            .filter(|s| s.state == state)
            .map(time)
            .fold(Duration::zero(), |a, b| a + b)
    };
    let runs = |state: State| -> u32 {
        let mut count = 0;
        let mut in_run = false;
        let mut run_time = Duration::zero();
        let mut last_end: Option<DateTime<Utc>> = None;
        for s in stretches {
            // A gap between stretches ends a run as another state would.
            if in_run && last_end != Some(s.from) {
                if run_time > Duration::zero() {
                    count += 1;
                }
                in_run = false;
                run_time = Duration::zero();
            }
            last_end = Some(s.to);
            if s.state == state {
                in_run = true;
                run_time += time(s);
            } else {
                if in_run && run_time > Duration::zero() {
                    count += 1;
                }
                in_run = false;
                run_time = Duration::zero();
            }
        }
        if in_run && run_time > Duration::zero() {
            count += 1;
        }
        count
    };
    let calendar_time = calendar.between(from, to);
    let planned = sum(State::Planned);
    let unplanned = sum(State::Unplanned);
    let agreed = calendar_time - planned;
    let outages = runs(State::Unplanned);
    let per = |d: Duration| (outages > 0).then(|| d / outages as i32);
    let availability_percent = if agreed > Duration::zero() {
        (agreed - unplanned).num_milliseconds() as f64 * 100.0 / agreed.num_milliseconds() as f64
    } else {
        100.0
    };
    Figures {
        calendar_time,
        agreed_service_time: agreed,
        planned_downtime: planned,
        unplanned_downtime: unplanned,
        degraded_time: sum(State::Degraded),
        availability_percent,
        outages,
        planned_windows: runs(State::Planned),
        mtrs: per(unplanned),
        mtbf: per(agreed - unplanned),
        mtbsi: per(agreed),
    }
}

/// A target's downtime budget in an agreed service time.
pub fn budget(agreed: Duration, target_percent: f64) -> Duration {
    let share = ((100.0 - target_percent) / 100.0).clamp(0.0, 1.0);
    Duration::milliseconds((agreed.num_milliseconds() as f64 * share).round() as i64)
}

/// The instant the unplanned stretches, in order, spend `budget` of service time; None
/// if they never do.
pub fn spent_at(
    calendar: &Calendar,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    stretches: &[Stretch],
    budget: Duration,
) -> Option<DateTime<Utc>> {
    let mut spent = Duration::zero();
    for s in stretches.iter().filter(|s| s.state == State::Unplanned) {
        let (a, b) = (s.from.max(from), s.to.min(to));
        let here = calendar.between(a, b);
        if spent + here > budget || (spent + here == budget && here > Duration::zero()) {
            return calendar.add(a, budget - spent).filter(|at| *at <= b);
        }
        spent += here;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn office() -> Calendar {
        let day = vec!["09:00-17:00".to_string()];
        let week = vec![
            day.clone(),
            day.clone(),
            day.clone(),
            day.clone(),
            day,
            vec![],
            vec![],
        ];
        Calendar::parse("UTC", &week, &["2026-11-26".to_string()]).unwrap()
    }

    #[test]
    fn a_month_by_hand() {
        // November 2026 in office hours (09-17 UTC, Mon-Fri; the 26th a holiday):
        // 21 weekdays less the holiday = 20 days x 8 h = 160 h of calendar time.
        let cal = office();
        let (from, to) = (at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"));
        let stretch = |a: &str, b: &str, state| Stretch {
            from: at(a),
            to: at(b),
            state,
        };
        let stretches = vec![
            // Tue 3rd 16:00-18:30: 1 h in service time.
            stretch(
                "2026-11-03T16:00:00Z",
                "2026-11-03T18:30:00Z",
                State::Unplanned,
            ),
            // Sat 7th: outside service time, not an outage.
            stretch(
                "2026-11-07T10:00:00Z",
                "2026-11-07T12:00:00Z",
                State::Unplanned,
            ),
            // Wed 11th 10:00-12:00 planned: 2 h out of the agreed time.
            stretch(
                "2026-11-11T10:00:00Z",
                "2026-11-11T12:00:00Z",
                State::Planned,
            ),
            // ... directly followed by 30 min unplanned.
            stretch(
                "2026-11-11T12:00:00Z",
                "2026-11-11T12:30:00Z",
                State::Unplanned,
            ),
            // Fri 20th 08:00-09:20: 20 min.
            stretch(
                "2026-11-20T08:00:00Z",
                "2026-11-20T09:20:00Z",
                State::Unplanned,
            ),
        ];
        let f = measure(&cal, from, to, &stretches);
        assert_eq!(f.calendar_time, Duration::hours(160));
        assert_eq!(f.planned_downtime, Duration::hours(2));
        assert_eq!(f.agreed_service_time, Duration::hours(158));
        assert_eq!(f.unplanned_downtime, Duration::minutes(110));
        assert_eq!(f.outages, 3);
        assert_eq!(f.planned_windows, 1);
        assert_eq!(f.mtrs, Some(Duration::seconds(110 * 60 / 3)));
        assert_eq!(f.mtbf, Some(Duration::seconds((158 * 3600 - 110 * 60) / 3)));
        let expected = (158.0 * 60.0 - 110.0) / (158.0 * 60.0) * 100.0;
        assert!((f.availability_percent - expected).abs() < 1e-9);
        // A 99% target allows 1% of 158 h = 94.8 min: 60 min spent on the 3rd, 30 on the
        // 11th, and the last 4.8 min at 09:00 on the 20th, when service time starts.
        let budget = budget(f.agreed_service_time, 99.0);
        assert_eq!(budget, Duration::milliseconds(5_688_000));
        assert_eq!(
            spent_at(&cal, from, to, &stretches, budget),
            Some(at("2026-11-20T09:04:48Z"))
        );
    }
}
