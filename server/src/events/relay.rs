//! The relay: numbers committed events in the order it finds them (a gap-free sequence)
//! and publishes them. One replica at a time does it (a PostgreSQL advisory lock held by
//! its transaction); events committed while Redis is down are published when it returns.
//! A commit wakes it (see `wake`); it also looks every few seconds, should a wake be lost.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use entity::{event, relay_state};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, sea_query::Expr,
};
use tokio::sync::watch;

use super::{CHANNEL, Envelope, Hub};
use crate::{
    db::Db,
    error::{AppError, AppResult},
    metrics::Metrics,
};

const BATCH: u64 = 1000;
/// After a commit wakes it, how long the relay lets further commits gather: one round
/// then numbers and publishes them together, instead of taking the write lock once per
/// commit (on SQLite, from the writers themselves).
const GATHER: Duration = Duration::from_millis(5);
/// Any number, the same for every replica: the key of the relay's lock.
const RELAY_LOCK: i64 = 0x5357_4552_4c59;

pub enum Bus {
    /// One process: straight to this replica's hub.
    InProcess,
    Redis {
        client: redis::Client,
        conn: Option<redis::aio::MultiplexedConnection>,
    },
}

impl Bus {
    async fn publish(&mut self, hub: &Hub, events: &[Envelope]) -> Result<(), String> {
        match self {
            Bus::InProcess => {
                for envelope in events {
                    hub.accept(envelope.clone())
                        .await
                        .map_err(|e| e.to_string())?;
                }
                Ok(())
            }
            Bus::Redis { client, conn } => {
                if conn.is_none() {
                    *conn = Some(
                        client
                            .get_multiplexed_async_connection()
                            .await
                            .map_err(|e| e.to_string())?,
                    );
                }
                let connection = conn.as_mut().expect("connected above");
                let mut pipe = redis::pipe();
                for envelope in events {
                    pipe.publish(
                        CHANNEL,
                        serde_json::to_string(envelope).expect("events serialize"),
                    )
                    .ignore();
                }
                let result: redis::RedisResult<()> = pipe.query_async(connection).await;
                result.map_err(|e| {
                    *conn = None;
                    e.to_string()
                })
            }
        }
    }
}

/// What one round of the relay did.
#[derive(Default)]
pub struct Round {
    /// Events published to the bus.
    pub published: usize,
    /// Events found unpublished and left so (the bus is down), at most one batch.
    pub left: usize,
    /// When the oldest event found unpublished was committed.
    pub oldest: Option<DateTime<Utc>>,
}

/// Whether a round has anything to do: events not numbered yet, or numbered and not
/// published yet. Read before taking the write lock, so that a relay woken for nothing
/// (a commit that appended no event, or its own) costs one read.
async fn pending(db: &Db) -> AppResult<bool> {
    let unnumbered: Option<i64> = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .filter(event::Column::Seq.is_null())
        .limit(1)
        .into_tuple()
        .one(db.conn())
        .await?;
    if unnumbered.is_some() {
        return Ok(true);
    }
    let state = relay_state::Entity::find_by_id(1).one(db.conn()).await?;
    Ok(state.is_some_and(|state| state.published_seq < state.last_seq))
}

/// One round: number what is new, publish what is unpublished.
pub async fn relay_once(db: &Db, bus: &mut Bus, hub: &Hub) -> AppResult<Round> {
    if !pending(db).await? {
        return Ok(Round::default());
    }
    let txn = db.begin_write().await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        let row = txn
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!("SELECT pg_try_advisory_xact_lock({RELAY_LOCK}) AS locked"),
            ))
            .await?
            .ok_or_else(|| AppError::Internal("no answer to the relay lock".into()))?;
        if !row.try_get::<bool>("", "locked")? {
            return Ok(Round::default()); // Another replica relays.
        }
    }
    let state = relay_state::Entity::find_by_id(1)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("the relay has no state row".into()))?;
    let fresh: Vec<i64> = event::Entity::find()
        .select_only()
        .column(event::Column::Id)
        .filter(event::Column::Seq.is_null())
        .order_by_asc(event::Column::Id)
        .limit(BATCH)
        .into_tuple()
        .all(&txn)
        .await?;
    let mut last_seq = state.last_seq;
    for id in fresh {
        last_seq += 1;
        event::Entity::update_many()
            .col_expr(event::Column::Seq, Expr::value(last_seq))
            .filter(event::Column::Id.eq(id))
            .exec(&txn)
            .await?;
    }
    let unpublished: Vec<Envelope> = event::Entity::find()
        .filter(event::Column::Seq.gt(state.published_seq))
        .order_by_asc(event::Column::Seq)
        .limit(BATCH)
        .all(&txn)
        .await?
        .iter()
        .filter_map(Envelope::of)
        .collect();
    // Redis is published to inside the transaction, under the relay lock, so that
    // replicas never publish over each other. This process's own hub is handed the
    // events after the commit: it reads the log to fill gaps, and must never wait on a
    // connection while this transaction holds the write lock.
    let in_process = matches!(bus, Bus::InProcess);
    let published = match unpublished.last() {
        None => None,
        Some(newest) if in_process => Some(newest.seq),
        Some(newest) => match bus.publish(hub, &unpublished).await {
            Ok(()) => Some(newest.seq),
            Err(error) => {
                tracing::warn!(%error, waiting = unpublished.len(), "cannot publish events; they stay in the log and go out when the bus returns");
                None
            }
        },
    };
    let mut active: relay_state::ActiveModel = state.clone().into();
    active.last_seq = Set(last_seq);
    active.published_seq = Set(published.unwrap_or(state.published_seq));
    active.update(&txn).await?;
    txn.commit().await?;
    if in_process && !unpublished.is_empty() {
        bus.publish(hub, &unpublished)
            .await
            .map_err(AppError::Internal)?;
    }
    let found = unpublished.len();
    Ok(Round {
        published: if published.is_some() { found } else { 0 },
        left: if published.is_some() { 0 } else { found },
        oldest: unpublished.first().map(|envelope| envelope.at),
    })
}

/// Runs the relay until the server stops: a round whenever a commit wakes it, and
/// every `poll` regardless. A round under way when the server stops is finished.
pub async fn run(
    db: Db,
    mut bus: Bus,
    hub: Arc<Hub>,
    metrics: Arc<Metrics>,
    poll: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let mut commits = db.commits();
    let mut pause = poll;
    loop {
        let woken_by = tokio::select! {
            _ = commits.changed() => "commit",
            _ = tokio::time::sleep(pause) => "poll",
            _ = stopping.wait_for(|s| *s) => return,
        };
        if woken_by == "commit" {
            tokio::time::sleep(GATHER).await;
            // Commits meanwhile are this round's too.
            let _ = commits.borrow_and_update();
        }
        metrics.relay_rounds(woken_by).inc();
        pause = match relay_once(&db, &mut bus, &hub).await {
            Ok(round) => {
                metrics.events_relayed.inc_by(round.published as u64);
                metrics.relay_backlog.set(round.left as i64);
                let waited = round.oldest.map_or(0.0, |at| {
                    (Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
                });
                metrics.relay_lag.set(waited);
                poll
            }
            Err(error) => {
                tracing::warn!(%error, "the event relay failed; retrying");
                (pause * 2).min(Duration::from_secs(5))
            }
        };
    }
}
