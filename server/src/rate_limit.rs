//! Request rate limits per person and per API token, so that one partner's runaway
//! script cannot take the desk from everyone.
//!
//! The generic cell rate algorithm, a token bucket kept as one instant per caller: the
//! "theoretical arrival time" (TAT) of their next request. Each request moves it on by
//! one emission interval (a second divided by the rate); a request is refused while the
//! TAT is more than the burst's worth of intervals ahead of now, and told when to retry.
//! One number per caller, so it is cheap to keep in memory and to share: with Redis
//! configured every replica checks and moves the same number, in one Lua script (atomic
//! on the Redis server), and a caller's limit is the desk's, not each replica's. When
//! Redis cannot be reached the replica counts on its own rather than refuse everyone.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use redis::aio::MultiplexedConnection;
use tokio::sync::OnceCell;

use crate::{auth::Caller, config::Rate};

/// The Redis side of the algorithm: KEYS[1] the caller's TAT; ARGV now, interval and
/// tolerance in milliseconds. Answers 0 when allowed, else the milliseconds to wait.
const SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
if tat - tolerance > now then return tat - tolerance - now end
local next = tat + interval
redis.call('SET', KEYS[1], next, 'PX', math.ceil(next - now) + 1000)
return 0
";

impl Rate {
    fn interval_ms(self) -> f64 {
        1000.0 / self.per_second
    }

    fn tolerance_ms(self) -> f64 {
        self.interval_ms() * f64::from(self.burst.saturating_sub(1))
    }
}

/// The limiter of one replica.
pub struct RateLimiter {
    rate: Option<Rate>,
    local: Mutex<HashMap<String, f64>>,
    redis: Option<redis::Client>,
    connection: OnceCell<Option<MultiplexedConnection>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("rate", &self.rate)
            .field("shared", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

/// Callers whose TATs are kept in memory before the stale ones are swept.
const SWEEP_AT: usize = 10_000;

impl RateLimiter {
    /// A limiter at `rate` (none: no limit), shared through Redis when there is one.
    pub fn new(rate: Option<Rate>, redis: Option<redis::Client>) -> RateLimiter {
        RateLimiter {
            rate,
            local: Mutex::new(HashMap::new()),
            redis,
            connection: OnceCell::new(),
        }
    }

    /// Whose budget a request spends: a person's or a token's; none for anonymous
    /// requests, which can do nothing but be refused.
    pub fn key(caller: &Caller) -> Option<String> {
        match caller {
            Caller::Anonymous => None,
            Caller::Person(person) => Some(format!("user:{}", person.user_id)),
            Caller::Partner(partner) => Some(format!("token:{}", partner.token_id)),
        }
    }

    /// Spends one request of the caller's budget at `now_ms`, or says how long to wait.
    pub async fn check(&self, caller: &Caller, now_ms: i64) -> Result<(), Duration> {
        let (Some(rate), Some(key)) = (self.rate, Self::key(caller)) else {
            return Ok(());
        };
        if let Some(connection) = self.shared().await {
            let mut connection = connection.clone();
            let waited: Result<i64, _> = redis::Script::new(SCRIPT)
                .key(format!("switchboard:rate:{key}"))
                .arg(now_ms)
                .arg(rate.interval_ms())
                .arg(rate.tolerance_ms())
                .invoke_async(&mut connection)
                .await;
            match waited {
                Ok(0) => return Ok(()),
                Ok(ms) => return Err(Duration::from_millis(ms.max(1) as u64)),
                Err(error) => {
                    tracing::warn!(%error, "the shared rate limit is out of reach; counting on this replica");
                }
            }
        }
        self.check_here(rate, &key, now_ms as f64)
    }

    /// The same algorithm in this replica's memory.
    fn check_here(&self, rate: Rate, key: &str, now: f64) -> Result<(), Duration> {
        let mut tats = self.local.lock().expect("not poisoned");
        if tats.len() >= SWEEP_AT {
            // Anyone whose TAT has passed is back to a full burst: forget them.
            tats.retain(|_, tat| *tat > now);
        }
        let tat = tats.get(key).copied().unwrap_or(now).max(now);
        let allowed_at = tat - rate.tolerance_ms();
        if allowed_at > now {
            return Err(Duration::from_millis(
                (allowed_at - now).ceil().max(1.0) as u64
            ));
        }
        tats.insert(key.to_string(), tat + rate.interval_ms());
        Ok(())
    }

    async fn shared(&self) -> Option<&MultiplexedConnection> {
        let client = self.redis.as_ref()?;
        self.connection
            .get_or_init(|| async {
                client
                    .get_multiplexed_async_connection()
                    .await
                    .inspect_err(|error| {
                        tracing::warn!(%error, "the shared rate limit is out of reach; counting on this replica");
                    })
                    .ok()
            })
            .await
            .as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let limiter = RateLimiter::new(None, None);
        let rate = Rate {
            per_second: 10.0,
            burst: 3,
        };
        let at = 1_000_000.0;
        // Three at once, the fourth waits one interval (100 ms) less what has passed.
        for _ in 0..3 {
            assert!(limiter.check_here(rate, "k", at).is_ok());
        }
        assert_eq!(
            limiter.check_here(rate, "k", at),
            Err(Duration::from_millis(100))
        );
        assert!(
            limiter.check_here(rate, "other", at).is_ok(),
            "each caller has their own"
        );
        assert!(limiter.check_here(rate, "k", at + 100.0).is_ok());
        assert!(limiter.check_here(rate, "k", at + 100.0).is_err());
    }
}
