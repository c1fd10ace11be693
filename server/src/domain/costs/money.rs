//! Money in whole cents: monthly amounts prorated by days, hourly rates by minutes,
//! each rounded half away from zero once, where the rule says. Pure.

use chrono::{Datelike, NaiveDate};

/// `numerator / denominator`, rounded half away from zero.
pub fn divide(numerator: i128, denominator: i128) -> i64 {
    if denominator == 0 {
        return 0;
    }
    let half = denominator / 2;
    let rounded = if (numerator >= 0) == (denominator > 0) {
        (numerator.abs() + half.abs()) / denominator.abs()
    } else {
        -((numerator.abs() + half.abs()) / denominator.abs())
    };
    rounded as i64
}

/// The first day of the month after `day`'s.
fn next_month(day: NaiveDate) -> NaiveDate {
    let (y, m) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).expect("a month's first day exists")
}

/// What a monthly amount comes to over `[from, to)`, for a cost running `[starts,
/// ends]` (ends included; open when None): each month's share is the amount times the
/// days it runs in the period over the month's days, rounded per month.
pub fn prorate_monthly(
    amount: i64,
    starts: NaiveDate,
    ends: Option<NaiveDate>,
    from: NaiveDate,
    to: NaiveDate,
) -> i64 {
    let start = starts.max(from);
    let end = ends.map_or(to, |e| e.succ_opt().unwrap_or(e).min(to));
    let mut total = 0;
    let mut month = NaiveDate::from_ymd_opt(start.year(), start.month(), 1)
        .expect("a month's first day exists");
    while month < end {
        let next = next_month(month);
        let days_in_month = (next - month).num_days();
        let overlap = (next.min(end) - month.max(start)).num_days();
        if overlap > 0 {
            total += divide(
                i128::from(amount) * i128::from(overlap),
                i128::from(days_in_month),
            );
        }
        month = next;
    }
    total
}

/// The cost of `minutes` at `hourly_cents`, before rounding, in cent-minutes: sums of
/// these are divided by 60 once.
pub fn cent_minutes(minutes: i64, hourly_cents: i64) -> i128 {
    i128::from(minutes) * i128::from(hourly_cents)
}

/// Cent-minutes as cents.
pub fn cents_of(cent_minutes: i128) -> i64 {
    divide(cent_minutes, 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_month_is_the_amount_and_part_months_are_by_days() {
        let (nov, dec) = (day("2026-11-01"), day("2026-12-01"));
        assert_eq!(
            prorate_monthly(30_000, day("2026-01-01"), None, nov, dec),
            30_000
        );
        // From the 16th of November: 15 of 30 days.
        assert_eq!(
            prorate_monthly(30_000, day("2026-11-16"), None, nov, dec),
            15_000
        );
        // Ended on the 10th (included): 10 days.
        assert_eq!(
            prorate_monthly(30_000, day("2026-01-01"), Some(day("2026-11-10")), nov, dec),
            10_000
        );
        // A quarter: three whole months.
        assert_eq!(
            prorate_monthly(
                100,
                day("2026-01-01"),
                None,
                day("2026-01-01"),
                day("2026-04-01")
            ),
            300
        );
        // 31-day December from the 21st: 11/31 of 10.00 = 3.548… → 3.55.
        assert_eq!(
            prorate_monthly(
                1_000,
                day("2026-12-21"),
                None,
                day("2026-12-01"),
                day("2027-01-01")
            ),
            355
        );
        assert_eq!(prorate_monthly(1_000, day("2027-01-01"), None, nov, dec), 0);
    }

    #[test]
    fn rounding_is_half_away_from_zero_once() {
        assert_eq!(cents_of(cent_minutes(45, 9_000)), 6_750);
        assert_eq!(cents_of(cent_minutes(1, 1)), 0);
        assert_eq!(cents_of(cent_minutes(30, 1)), 1);
        assert_eq!(divide(-5, 2), -3);
    }
}
