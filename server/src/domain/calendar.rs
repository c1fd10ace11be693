//! Business time: a calendar's weekly hours in its own time zone, less its holidays.
//! Pure arithmetic, no I/O: adding business time to an instant, measuring the business
//! time between two instants, and the next instant the calendar opens or closes.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{AppError, AppResult};

/// How far ahead the arithmetic looks for business hours before it gives up: a calendar
/// with no open hour in five years never makes anything due.
const HORIZON_DAYS: i64 = 5 * 366;

/// Business hours in a time zone, with holidays: what SLA clocks count in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    pub time_zone: Tz,
    /// Open spans per weekday, Monday first: minutes from local midnight, `[start, end)`,
    /// sorted and not overlapping; 1440 is the next midnight.
    pub week: [Vec<(u32, u32)>; 7],
    /// Local dates with no business hours.
    pub holidays: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// The built-in calendar: every minute of every day counts.
    pub fn always() -> Calendar {
        Calendar {
            time_zone: Tz::UTC,
            week: std::array::from_fn(|_| vec![(0, 1440)]),
            holidays: BTreeSet::new(),
        }
    }

    /// Builds a calendar from what an admin gives: a time zone name, spans as
    /// "HH:MM-HH:MM" per weekday (Monday first), holidays as "YYYY-MM-DD".
    pub fn parse(
        time_zone: &str,
        week: &[Vec<String>],
        holidays: &[String],
    ) -> AppResult<Calendar> {
        let time_zone: Tz = time_zone.parse().map_err(|_| {
            AppError::bad_input(
                "timeZone",
                format!("'{time_zone}' is not an IANA time zone such as Europe/Paris"),
            )
        })?;
        if week.len() != 7 {
            return Err(AppError::bad_input(
                "week",
                "give the hours of all 7 days, Monday first (an empty list for a closed day)",
            ));
        }
        let mut days: [Vec<(u32, u32)>; 7] = Default::default();
        for (day, spans) in week.iter().enumerate() {
            for span in spans {
                days[day].push(parse_span(span)?);
            }
            days[day].sort();
            if days[day].windows(2).any(|w| w[0].1 > w[1].0) {
                return Err(AppError::bad_input(
                    "week",
                    format!("the spans of day {} overlap", day + 1),
                ));
            }
        }
        if days.iter().all(Vec::is_empty) {
            return Err(AppError::bad_input(
                "week",
                "a calendar needs at least one open span in the week",
            ));
        }
        let holidays = holidays
            .iter()
            .map(|d| {
                NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").map_err(|_| {
                    AppError::bad_input(
                        "holidays",
                        format!("'{d}' is not a date such as 2026-12-25"),
                    )
                })
            })
            .collect::<AppResult<_>>()?;
        Ok(Calendar {
            time_zone,
            week: days,
            holidays,
        })
    }

    /// The open intervals, in UTC and in order, of local days from the one before `from`'s.
    fn intervals_from(
        &self,
        from: DateTime<Utc>,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let first_day = from.with_timezone(&self.time_zone).date_naive() - Duration::days(1);
        (0..HORIZON_DAYS).flat_map(move |offset| {
            let date = first_day + Duration::days(offset);
            let spans: &[(u32, u32)] = if self.holidays.contains(&date) {
                &[]
            } else {
                &self.week[date.weekday().num_days_from_monday() as usize]
            };
            spans.iter().filter_map(move |&(start, end)| {
                let start = self.instant(date, start, false);
                let end = self.instant(date, end, true);
                (end > start).then_some((start, end))
            })
        })
    }

    /// The instant of a local wall-clock time. A time the clocks skip (spring forward)
    /// becomes the first instant after the gap; a time that happens twice (fall back)
    /// is its first occurrence for a start and its second for an end, so the repeated
    /// hour counts.
    fn instant(&self, date: NaiveDate, minute: u32, is_end: bool) -> DateTime<Utc> {
        let (date, minute) = if minute >= 1440 {
            (date + Duration::days(1), minute - 1440)
        } else {
            (date, minute)
        };
        let mut local = date.and_time(
            NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).expect("minutes are in range"),
        );
        for _ in 0..=180 {
            match self.time_zone.from_local_datetime(&local) {
                LocalResult::Single(at) => return at.with_timezone(&Utc),
                LocalResult::Ambiguous(early, late) => {
                    return if is_end { late } else { early }.with_timezone(&Utc);
                }
                LocalResult::None => local += Duration::minutes(1),
            }
        }
        Utc.from_utc_datetime(&local)
    }

    /// The instant at which `business` time has passed since `start`; None if the
    /// calendar has no open hours left within its horizon.
    pub fn add(&self, start: DateTime<Utc>, business: Duration) -> Option<DateTime<Utc>> {
        let mut remaining = business.max(Duration::zero());
        for (open, close) in self.intervals_from(start) {
            if close <= start {
                continue;
            }
            let from = open.max(start);
            let available = close - from;
            if remaining <= available {
                return Some(from + remaining);
            }
            remaining -= available;
        }
        None
    }

    /// Business time in `[from, to)`.
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        let mut total = Duration::zero();
        if to <= from {
            return total;
        }
        for (open, close) in self.intervals_from(from) {
            if open >= to {
                break;
            }
            let overlap = close.min(to) - open.max(from);
            if overlap > Duration::zero() {
                total += overlap;
            }
        }
        total
    }

    /// Whether the desk is open at `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.intervals_from(at)
            .take_while(|(open, _)| *open <= at)
            .any(|(open, close)| open <= at && at < close)
    }

    /// The next instant after `at` at which the calendar opens or closes.
    pub fn next_change(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // While open, spans that touch (Monday 00:00-24:00, Tuesday 00:00-…) are one
        // stretch: it changes where the stretch ends, if it ends within the horizon.
        let mut open_until: Option<DateTime<Utc>> = None;
        for (open, close) in self.intervals_from(at) {
            match open_until {
                Some(end) if open == end => open_until = Some(close),
                Some(end) => return Some(end),
                None if close <= at => {}
                None if open > at => return Some(open),
                None => open_until = Some(close),
            }
        }
        None
    }
}

fn parse_span(span: &str) -> AppResult<(u32, u32)> {
    let bad = || {
        AppError::bad_input(
            "week",
            format!("'{span}' is not a span such as 09:00-17:30"),
        )
    };
    let (start, end) = span.split_once('-').ok_or_else(bad)?;
    let minutes = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
    };
    let (start, end) = (
        minutes(start).ok_or_else(bad)?,
        minutes(end).ok_or_else(bad)?,
    );
    if start >= end {
        return Err(bad());
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn office() -> Calendar {
        let day = vec!["09:00-12:00".to_string(), "13:00-17:00".to_string()];
        let week = vec![
            day.clone(),
            day.clone(),
            day.clone(),
            day.clone(),
            day,
            vec![],
            vec![],
        ];
        Calendar::parse("Europe/Paris", &week, &["2026-10-26".to_string()]).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn weekend_holiday_and_daylight_saving_hand_computed() {
        // Friday 23 October 2026, 16:00 in Paris (CEST, UTC+2), plus 16 business hours.
        // Friday: 16:00-17:00 (1 h, 15 left). Weekend closed; clocks go back on Sunday
        // 25th. Monday 26th is a holiday. Tuesday: 7 h (8 left). Wednesday 28th:
        // 09:00-12:00 (5 left), 13:00-17:00 (1 left) ... Thursday 29th 09:00 + 1 h =
        // 10:00 CET = 09:00 UTC.
        let cal = office();
        assert_eq!(
            cal.add(utc("2026-10-23T14:00:00Z"), Duration::hours(16)),
            Some(utc("2026-10-29T09:00:00Z"))
        );
        assert_eq!(
            cal.between(utc("2026-10-23T14:00:00Z"), utc("2026-10-29T09:00:00Z")),
            Duration::hours(16)
        );
        // Spring forward: Sunday 29 March 2026 at 02:00 Paris time; 24x7 in Paris counts
        // the 23 real hours of that day.
        let paris_always = Calendar {
            time_zone: chrono_tz::Europe::Paris,
            ..Calendar::always()
        };
        assert_eq!(
            paris_always.between(utc("2026-03-28T23:00:00Z"), utc("2026-03-29T22:00:00Z")),
            Duration::hours(23)
        );
    }

    #[test]
    fn next_change_and_open() {
        let cal = office();
        // Friday 11:00 Paris (09:00 UTC): open, closes at 12:00 (10:00 UTC).
        assert!(cal.is_open(utc("2026-10-23T09:00:00Z")));
        assert_eq!(
            cal.next_change(utc("2026-10-23T09:00:00Z")),
            Some(utc("2026-10-23T10:00:00Z"))
        );
        // Saturday: closed until Tuesday 09:00 CET (Monday is a holiday).
        assert!(!cal.is_open(utc("2026-10-24T10:00:00Z")));
        assert_eq!(
            cal.next_change(utc("2026-10-24T10:00:00Z")),
            Some(utc("2026-10-27T08:00:00Z"))
        );
        assert_eq!(
            Calendar::always().next_change(utc("2026-10-24T10:00:00Z")),
            None
        );
    }

    #[test]
    fn bad_calendars_name_their_field() {
        let err = |r: AppResult<Calendar>| match r.unwrap_err() {
            AppError::BadUserInput { field, .. } => field,
            other => panic!("{other:?}"),
        };
        let week = |s: &str| {
            vec![
                vec![s.to_string()],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
            ]
        };
        assert_eq!(
            err(Calendar::parse("Mars/Olympus", &week("09:00-17:00"), &[])),
            "timeZone"
        );
        assert_eq!(
            err(Calendar::parse("UTC", &week("17:00-09:00"), &[])),
            "week"
        );
        assert_eq!(
            err(Calendar::parse("UTC", &week("09:00-25:00"), &[])),
            "week"
        );
        assert_eq!(err(Calendar::parse("UTC", &vec![vec![]; 7], &[])), "week");
        assert_eq!(
            err(Calendar::parse(
                "UTC",
                &week("09:00-17:00"),
                &["25/12".into()]
            )),
            "holidays"
        );
    }

    fn calendars() -> impl Strategy<Value = Calendar> {
        let zones = prop_oneof![
            Just("UTC"),
            Just("Europe/Paris"),
            Just("America/New_York"),
            Just("Australia/Sydney")
        ];
        let day = proptest::collection::vec((0u32..24, 1u32..10), 0..3).prop_map(|spans| {
            let mut minute = 0;
            let mut out = vec![];
            for (gap, hours) in spans {
                let start = minute + gap * 30;
                let end = (start + hours * 60).min(1440);
                if start < end && start < 1440 {
                    out.push(format!(
                        "{:02}:{:02}-{:02}:{:02}",
                        start / 60,
                        start % 60,
                        end / 60,
                        end % 60
                    ));
                    minute = end;
                }
            }
            out
        });
        (
            zones,
            proptest::collection::vec(day, 7),
            proptest::collection::vec(0i64..60, 0..4),
        )
            .prop_filter_map("needs open hours", |(zone, week, holidays)| {
                let holidays: Vec<String> = holidays
                    .iter()
                    .map(|d| {
                        (NaiveDate::from_ymd_opt(2026, 3, 1).unwrap() + Duration::days(*d))
                            .to_string()
                    })
                    .collect();
                Calendar::parse(zone, &week, &holidays).ok()
            })
    }

    fn instants() -> impl Strategy<Value = DateTime<Utc>> {
        // March to May 2026: across both daylight-saving changes of both hemispheres.
        (0i64..90 * 24 * 60).prop_map(|m| utc("2026-03-01T00:00:00Z") + Duration::minutes(m))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn adding_more_business_time_never_ends_earlier(cal in calendars(), start in instants(), a in 0i64..5000, b in 0i64..5000) {
            let (short, long) = (a.min(b), a.max(b));
            let short = cal.add(start, Duration::minutes(short)).unwrap();
            let long = cal.add(start, Duration::minutes(long)).unwrap();
            prop_assert!(short <= long);
        }

        #[test]
        fn a_later_start_never_ends_earlier(cal in calendars(), s1 in instants(), s2 in instants(), d in 0i64..5000) {
            let (early, late) = (s1.min(s2), s1.max(s2));
            prop_assert!(cal.add(early, Duration::minutes(d)).unwrap() <= cal.add(late, Duration::minutes(d)).unwrap());
        }

        #[test]
        fn between_undoes_add(cal in calendars(), start in instants(), d in 0i64..5000) {
            let due = cal.add(start, Duration::minutes(d)).unwrap();
            prop_assert_eq!(cal.between(start, due), Duration::minutes(d));
        }

        #[test]
        fn results_fall_inside_business_hours(cal in calendars(), start in instants(), d in 1i64..5000) {
            let due = cal.add(start, Duration::minutes(d)).unwrap();
            // Business time runs right up to the due instant.
            prop_assert!(cal.between(due - Duration::seconds(1), due) == Duration::seconds(1));
        }

        #[test]
        fn a_pause_never_makes_the_deadline_earlier(
            cal in calendars(), start in instants(), d in 1i64..5000, pause_at in 0i64..3000, pause_for in 0i64..3000,
        ) {
            let target = Duration::minutes(d);
            let unpaused = cal.add(start, target).unwrap();
            let paused_at = start + Duration::minutes(pause_at);
            let elapsed = cal.between(start, paused_at).min(target);
            let resumed_at = paused_at + Duration::minutes(pause_for);
            let paused = cal.add(resumed_at, target - elapsed).unwrap();
            prop_assert!(paused >= unpaused);
        }
    }
}
