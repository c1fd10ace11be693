//! What wakes the relay and the SLA engine: a commit that may have appended events (and
//! with them, SLA clocks). Both used to poll (50 ms, 250 ms); now a commit wakes them at
//! once, and their timers are only a safety net. `Db::commits` is what they wait on.
//!
//! - SQLite (one process): every write transaction runs on the one writer connection,
//!   and giving that connection back to its pool (after the commit) notes a commit.
//! - PostgreSQL (any number of replicas): a trigger notifies `switchboard_events` on
//!   every commit that appends events, and each replica listens here, so that whichever
//!   relay holds the lock publishes at once, wherever the change was made.

use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use tokio::sync::watch;

use crate::db::Db;

pub use migration::m20261122_000009_events_notify::CHANNEL;

/// On PostgreSQL, listens for the database's notifications and notes each as a commit,
/// reconnecting with backoff; after every (re)connection it notes one, for whatever
/// committed meanwhile. On SQLite there is nothing to listen to.
pub async fn listen(db: Db, mut stopping: watch::Receiver<bool>) {
    let Some(pool) = db.postgres_pool() else {
        return;
    };
    let mut backoff = Duration::from_millis(100);
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            db.note_commit();
            loop {
                listener.recv().await?;
                db.note_commit();
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
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
