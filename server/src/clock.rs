//! The current time, injected: the desk's rules and background jobs ask the clock, so
//! tests can move time forward instead of sleeping.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use chrono::{DateTime, Duration, DurationRound, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub type SharedClock = Arc<dyn Clock>;

/// Microseconds: what PostgreSQL keeps, so a time read back equals the time written.
fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::microseconds(1)).unwrap_or(at)
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        truncate(Utc::now())
    }
}

/// Real time plus an offset that tests advance.
#[derive(Default)]
pub struct OffsetClock {
    offset_micros: AtomicI64,
}

impl OffsetClock {
    /// How far ahead of real time this clock runs.
    pub fn now_offset(&self) -> Duration {
        Duration::microseconds(self.offset_micros.load(Ordering::SeqCst))
    }

    pub fn advance(&self, by: Duration) {
        self.offset_micros
            .fetch_add(by.num_microseconds().unwrap_or(i64::MAX), Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        truncate(Utc::now() + Duration::microseconds(self.offset_micros.load(Ordering::SeqCst)))
    }
}
