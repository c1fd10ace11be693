//! When a measure will cross its threshold: an ordinary least-squares line through its
//! latest values (value against time), followed forward to the threshold. Enough for
//! growth that is roughly steady (disks filling, seats taken); a measure that is not
//! rising has no crossing. Pure.

use chrono::{DateTime, Duration, Utc};

/// The fitted line: the value at the last point and the change per day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    pub per_day: f64,
    /// When the line reaches the threshold; the last point's time if it is there
    /// already; None if it never will (flat or falling, below the threshold).
    pub crosses_at: Option<DateTime<Utc>>,
}

/// Fits `points` (oldest first); None with fewer than two distinct instants.
pub fn fit(points: &[(DateTime<Utc>, f64)], threshold: f64) -> Option<Trend> {
    let (first, _) = *points.first()?;
    let (last_at, last_value) = *points.last()?;
    let xs: Vec<f64> = points
        .iter()
        .map(|(at, _)| (*at - first).num_milliseconds() as f64 / 86_400_000.0)
        .collect();
    let n = points.len() as f64;
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = points.iter().map(|(_, v)| v).sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = xs
        .iter()
        .zip(points)
        .map(|(x, (_, y))| (x - mean_x) * (y - mean_y))
        .sum();
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let crosses_at = if last_value >= threshold {
        Some(last_at)
    } else if slope > 0.0 {
        let days = (threshold - intercept) / slope;
        let at = first + Duration::milliseconds((days * 86_400_000.0).round() as i64);
        Some(at.max(last_at))
    } else {
        None
    };
    Some(Trend {
        per_day: slope,
        crosses_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> DateTime<Utc> {
        "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::days(n)
    }

    #[test]
    fn a_steady_rise_crosses_on_the_day_the_line_says() {
        // 50% on 1 November, 2 points a day: 90% is reached 20 days later.
        let points: Vec<_> = (0..10).map(|d| (day(d), 50.0 + 2.0 * d as f64)).collect();
        let trend = fit(&points, 90.0).unwrap();
        assert!((trend.per_day - 2.0).abs() < 1e-9);
        assert_eq!(trend.crosses_at, Some(day(20)));
    }

    #[test]
    fn noise_around_a_line_is_averaged_out() {
        let wobble = [0.5, -0.5, 0.3, -0.3, 0.0, 0.2, -0.2, 0.4, -0.4, 0.0];
        let points: Vec<_> = (0..10)
            .map(|d| (day(d), 50.0 + 2.0 * d as f64 + wobble[d as usize]))
            .collect();
        let at = fit(&points, 90.0).unwrap().crosses_at.unwrap();
        assert!((at - day(20)).num_hours().abs() < 12, "{at}");
    }

    #[test]
    fn falling_flat_and_already_over() {
        let falling: Vec<_> = (0..5).map(|d| (day(d), 80.0 - d as f64)).collect();
        assert_eq!(fit(&falling, 90.0).unwrap().crosses_at, None);
        let over: Vec<_> = (0..5).map(|d| (day(d), 95.0)).collect();
        assert_eq!(fit(&over, 90.0).unwrap().crosses_at, Some(day(4)));
        assert_eq!(fit(&[(day(0), 1.0)], 90.0), None);
    }
}
