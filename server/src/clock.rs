//! The current time, injected: the desk's rules and background jobs ask the clock, so
//! tests can move time forward instead of sleeping.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use chrono::{DateTime, Duration, DurationRound, Utc};
use tokio::sync::watch;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;

    /// Changes each time the clock jumps rather than runs: a task sleeping until an
    /// instant (the SLA engine) looks again at once instead of oversleeping the jump.
    /// Real time never jumps, so by default this never changes.
    fn jumps(&self) -> watch::Receiver<()> {
        watch::channel(()).1
    }
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
pub struct OffsetClock {
    offset_micros: AtomicI64,
    jumped: watch::Sender<()>,
}

impl Default for OffsetClock {
    fn default() -> Self {
        OffsetClock {
            offset_micros: AtomicI64::new(0),
            jumped: watch::channel(()).0,
        }
    }
}

impl OffsetClock {
    /// How far ahead of real time this clock runs.
    pub fn now_offset(&self) -> Duration {
        Duration::microseconds(self.offset_micros.load(Ordering::SeqCst))
    }

    pub fn advance(&self, by: Duration) {
        self.offset_micros
            .fetch_add(by.num_microseconds().unwrap_or(i64::MAX), Ordering::SeqCst);
        self.jumped.send_replace(());
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        truncate(Utc::now() + Duration::microseconds(self.offset_micros.load(Ordering::SeqCst)))
    }

    fn jumps(&self) -> watch::Receiver<()> {
        self.jumped.subscribe()
    }
}
