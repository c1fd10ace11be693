//! The loop every outbound sender runs (webhook deliveries, notification mail): queue
//! what the event log's next events call for, start the attempts that are due, and
//! sleep until the next one falls due, a commit may have queued more, an attempt ends,
//! the clock moves, or the server stops. The senders differ only in what they queue and
//! how they send; this is where they agree.

use std::{future::Future, time::Duration as StdDuration};

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use crate::{clock::SharedClock, db::Db, error::AppResult};

/// After a commit wakes a sender, how long it lets further commits gather before it
/// looks: under a busy desk it reads the log a few dozen times a second, not once per
/// commit.
const GATHER: StdDuration = StdDuration::from_millis(20);
/// The longest a sender sleeps without looking, whatever it expects.
const LONGEST_SLEEP: StdDuration = StdDuration::from_secs(1);

/// One kind of outbound sender.
pub trait Outbound: Send + Sync + 'static {
    /// How its log lines name it.
    const NAME: &'static str;
    /// Attempts in flight at once.
    const IN_FLIGHT: usize;

    fn db(&self) -> &Db;
    fn clock(&self) -> &SharedClock;
    /// Queues what the next events call for; whether more events are waiting.
    fn queue(&self) -> impl Future<Output = AppResult<bool>> + Send;
    /// Claims what is due, up to `room`, and starts each attempt in `sending`; returns
    /// when the next pending one falls due.
    fn round(
        &self,
        sending: &mut JoinSet<()>,
        room: usize,
    ) -> impl Future<Output = AppResult<Option<DateTime<Utc>>>> + Send;
}

/// Runs `sender` until the server stops, then lets the attempts under way finish (each
/// within its timeout) and be recorded.
pub async fn run<O: Outbound>(sender: O, mut stopping: tokio::sync::watch::Receiver<bool>) {
    let mut commits = sender.db().commits();
    let mut jumps = sender.clock().jumps();
    let mut sending = JoinSet::new();
    loop {
        let more = sender.queue().await.unwrap_or_else(|error| {
            tracing::warn!(%error, "{}: could not queue events; trying again", O::NAME);
            false
        });
        let room = O::IN_FLIGHT.saturating_sub(sending.len());
        let sleep = match sender.round(&mut sending, room).await {
            Ok(next) => next.map_or(LONGEST_SLEEP, |at| {
                (at - sender.clock().now())
                    .to_std()
                    .unwrap_or(StdDuration::ZERO)
            }),
            Err(error) => {
                tracing::warn!(%error, "{}: could not send; trying again", O::NAME);
                LONGEST_SLEEP
            }
        };
        if more {
            continue;
        }
        // An attempt in flight leases its row past now: the next look is when one ends
        // (the next message for the same receiver may be waiting), a commit or the
        // clock moves, or the next attempt is due.
        let woken_by_commit = tokio::select! {
            _ = tokio::time::sleep(sleep.min(LONGEST_SLEEP)) => false,
            Some(_) = sending.join_next(), if !sending.is_empty() => false,
            Ok(()) = commits.changed() => true,
            Ok(()) = jumps.changed() => false,
            _ = stopping.wait_for(|s| *s) => break,
        };
        if woken_by_commit {
            tokio::time::sleep(GATHER).await;
        }
    }
    while sending.join_next().await.is_some() {}
}

/// Appends each cause of `error` to `text`, as ": cause", for the record of a failed
/// attempt: the transport errors name what failed, their causes say why.
pub fn with_causes(mut text: String, error: &dyn std::error::Error) -> String {
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
