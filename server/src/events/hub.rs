//! One hub per replica: it takes published events (from the relay in-process, or from
//! Redis), drops the ones it has seen, fills any gap from the event log, and hands each
//! to this replica's subscribers once, in sequence order.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use tokio::sync::{Mutex, broadcast, watch};

use super::{CHANNEL, Envelope, Shared};
use crate::{db::Db, domain::events, error::AppResult, metrics::Metrics};

/// Events a subscriber may be behind before it is told to resume with `after`.
const SUBSCRIBER_BUFFER: usize = 1024;

pub struct Hub {
    db: Db,
    metrics: Arc<Metrics>,
    sender: broadcast::Sender<Shared>,
    /// The last sequence number passed on.
    last: Mutex<i64>,
}

impl Hub {
    pub async fn start(db: Db, metrics: Arc<Metrics>) -> AppResult<Arc<Hub>> {
        let last = crate::domain::events::last_seq(db.conn()).await?;
        metrics.hub_last_seq.set(last);
        Ok(Arc::new(Hub {
            db,
            metrics,
            sender: broadcast::channel(SUBSCRIBER_BUFFER).0,
            last: Mutex::new(last),
        }))
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Shared> {
        self.sender.subscribe()
    }

    pub async fn last_seq(&self) -> i64 {
        *self.last.lock().await
    }

    /// Takes one published event.
    pub async fn accept(&self, envelope: Envelope) -> AppResult<()> {
        let mut last = self.last.lock().await;
        if envelope.seq <= *last {
            return Ok(());
        }
        if envelope.seq > *last + 1 {
            // Missed some (Redis dropped them while we were away): the log has them.
            self.fill(&mut last, Some(envelope.seq - 1)).await?;
            if envelope.seq != *last + 1 {
                // Not all of the gap is visible yet; the next catch-up delivers it in order.
                return Ok(());
            }
        }
        *last = envelope.seq;
        self.passed_on(&envelope);
        let _ = self.sender.send(Arc::new(envelope));
        Ok(())
    }

    /// Notes, for /metrics, how far the hub has got and how long the event took to come.
    fn passed_on(&self, envelope: &Envelope) {
        self.metrics.hub_last_seq.set(envelope.seq);
        let waited = (Utc::now() - envelope.at).num_milliseconds().max(0) as f64 / 1000.0;
        self.metrics.hub_lag.set(waited);
    }

    /// Passes on whatever the log has beyond what was passed on.
    pub async fn catch_up(&self) -> AppResult<()> {
        let mut last = self.last.lock().await;
        self.fill(&mut last, None).await
    }

    async fn fill(&self, last: &mut i64, up_to: Option<i64>) -> AppResult<()> {
        loop {
            let rows = events::published_after(self.db.conn(), *last, up_to).await?;
            let count = rows.len();
            for row in rows {
                let Some(envelope) = Envelope::of(&row) else {
                    continue;
                };
                if envelope.seq != *last + 1 {
                    return Ok(());
                }
                *last = envelope.seq;
                self.passed_on(&envelope);
                let _ = self.sender.send(Arc::new(envelope));
            }
            if (count as u64) < events::PAGE {
                return Ok(());
            }
        }
    }
}

/// Keeps the hub whole until the server stops: every second it catches up from the
/// log, a safety net for anything a bus dropped.
pub async fn catch_up_every_second(hub: Arc<Hub>, mut stopping: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        if let Err(error) = hub.catch_up().await {
            tracing::warn!(%error, "the event hub could not catch up from the log");
        }
    }
}

/// Listens on the Redis channel until the server stops, re-subscribing with backoff
/// after a disconnect.
pub async fn follow_redis(
    hub: Arc<Hub>,
    client: redis::Client,
    mut stopping: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(100);
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) {
            hub.metrics.redis_reconnects.inc();
        }
        let listen = listen(&hub, &client);
        tokio::select! {
            result = listen => {
                match result {
                    Ok(()) => tracing::warn!("the Redis event subscription ended; re-subscribing"),
                    Err(error) => tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "cannot listen to Redis for events; retrying"),
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

async fn listen(hub: &Hub, client: &redis::Client) -> Result<(), String> {
    use futures::StreamExt;
    let mut pubsub = client.get_async_pubsub().await.map_err(|e| e.to_string())?;
    pubsub.subscribe(CHANNEL).await.map_err(|e| e.to_string())?;
    tracing::info!("listening to Redis for events");
    // Whatever was published while we were away is in the log.
    hub.catch_up().await.map_err(|e| e.to_string())?;
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let payload: String = message.get_payload().map_err(|e| e.to_string())?;
        match serde_json::from_str::<Envelope>(&payload) {
            Ok(envelope) => hub.accept(envelope).await.map_err(|e| e.to_string())?,
            Err(error) => tracing::warn!(%error, "ignored an event that does not parse"),
        }
    }
    Ok(())
}
