//! When a failed delivery is tried again: the Standard Webhooks schedule, about three
//! days in all, each wait stretched by up to a tenth at random so that an endpoint that
//! comes back is not hit by every replica's retries in the same second. A receiver that
//! says when to come back (`Retry-After` on 429 or 503) is believed, within a day.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

/// The wait after each failed attempt; after the last, the delivery has failed.
const WAITS: [i64; 9] = [
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
];

/// How many attempts a delivery gets in all.
pub const ATTEMPTS: i32 = WAITS.len() as i32 + 1;

/// When to try again after `attempts` failed attempts; none when it has had them all.
pub fn next_attempt(
    attempts: i32,
    now: DateTime<Utc>,
    retry_after: Option<Duration>,
) -> Option<DateTime<Utc>> {
    let wait = *WAITS.get(usize::try_from(attempts - 1).ok()?)?;
    if let Some(asked) = retry_after {
        return Some(now + asked.clamp(Duration::seconds(1), Duration::hours(24)));
    }
    let jitter = rand::rng().random_range(0..=wait * 100);
    Some(now + Duration::seconds(wait) + Duration::milliseconds(jitter))
}

/// A `Retry-After` header: seconds, or an HTTP date.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(Duration::seconds(seconds.max(0)));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.with_timezone(&Utc) - now).max(Duration::zero()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_about_three_days_then_stop() {
        let now = Utc::now();
        let first = next_attempt(1, now, None).unwrap() - now;
        assert!(first >= Duration::seconds(5) && first <= Duration::milliseconds(5500));
        let total: i64 = WAITS.iter().sum();
        assert!((3 * 86400..4 * 86400).contains(&total));
        assert!(next_attempt(ATTEMPTS, now, None).is_none());
        assert_eq!(
            next_attempt(2, now, Some(Duration::seconds(90))).unwrap() - now,
            Duration::seconds(90)
        );
    }

    #[test]
    fn reads_retry_after_in_both_forms() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(retry_after("120", now), Some(Duration::seconds(120)));
        assert_eq!(
            retry_after("Sun, 22 Nov 2026 10:01:00 GMT", now),
            Some(Duration::seconds(60))
        );
        assert_eq!(retry_after("soon", now), None);
    }
}
