//! What wakes the relay: a commit that may have appended events. The relay used to poll
//! every 50 ms; now a commit wakes it at once, and the poll is only a safety net.
//!
//! - SQLite (one process): every write transaction runs on the one writer connection,
//!   and giving that connection back to its pool (after the commit) wakes the relay.
//! - PostgreSQL (any number of replicas): a trigger notifies `switchboard_events` on
//!   every commit that appends events, and each replica listens, so that whichever
//!   relay holds the lock publishes at once, wherever the change was made.

use std::{sync::Arc, time::Duration};

use sea_orm::sqlx::postgres::{PgListener, PgPool};
use tokio::sync::{Notify, watch};

pub use migration::m20261122_000009_events_notify::CHANNEL;

/// Listens for PostgreSQL's notifications and wakes `wake` with each, reconnecting with
/// backoff; after every (re)connection it wakes once, for whatever committed meanwhile.
pub fn listen(pool: PgPool, wake: Arc<Notify>, mut stopping: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(100);
        loop {
            let listening = async {
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen(CHANNEL).await?;
                wake.notify_one();
                loop {
                    listener.recv().await?;
                    wake.notify_one();
                }
                #[allow(unreachable_code)]
                Ok::<(), sea_orm::sqlx::Error>(())
            };
            tokio::select! {
                result = listening => {
                    if let Err(error) = result {
                        tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "cannot listen for commits on PostgreSQL; the relay polls until it can");
                    }
                }
                _ = stopping.wait_for(|s| *s) => return,
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    });
}
