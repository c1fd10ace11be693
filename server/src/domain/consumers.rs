//! Where each consumer of the event log stands (webhooks, automation, notifications), and how a replica
//! claims the next events: it moves the consumer's cursor on from the position it read,
//! first thing in its transaction. On PostgreSQL a second replica's claim waits on the
//! row until the first commits, then finds the cursor moved and gives up; on SQLite
//! write transactions run one at a time. Whatever the claim's transaction writes (the
//! deliveries queued, a rule's actions) commits with the claim or not at all, so every
//! event is handled exactly once, whichever replica does it, and a crash handles it
//! again from the start.

use entity::{consumer_cursor, event};

use crate::domain::events;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};

use crate::{
    db::Db,
    error::{AppError, AppResult},
};

/// The consumers of the log, by the name of their cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consumer {
    Webhooks,
    Automation,
    /// Mail to people (`notifications`).
    Notifications,
}

impl Consumer {
    fn name(self) -> &'static str {
        match self {
            Consumer::Webhooks => "webhooks",
            Consumer::Automation => "automation",
            Consumer::Notifications => "notifications",
        }
    }
}

/// The last event the consumer has handled.
pub async fn position(conn: &impl ConnectionTrait, consumer: Consumer) -> AppResult<i64> {
    consumer_cursor::Entity::find_by_id(consumer.name())
        .one(conn)
        .await?
        .map(|row| row.seq)
        .ok_or_else(|| {
            AppError::Internal(format!("no cursor for the {} consumer", consumer.name()))
        })
}

/// The next published events after `after`, at most `limit`, in seq order.
pub async fn next_events(
    conn: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> AppResult<Vec<event::Model>> {
    Ok(event::Entity::find()
        .filter(event::Column::Seq.gt(after))
        .order_by_asc(event::Column::Seq)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Claims the events from `from` (exclusive) to `to` (inclusive) for this transaction:
/// false when another replica moved the cursor first, and this one must give up.
pub async fn claim(
    txn: &DatabaseTransaction,
    consumer: Consumer,
    from: i64,
    to: i64,
) -> AppResult<bool> {
    let moved = consumer_cursor::Entity::update_many()
        .col_expr(consumer_cursor::Column::Seq, Expr::value(to))
        .filter(consumer_cursor::Column::Name.eq(consumer.name()))
        .filter(consumer_cursor::Column::Seq.eq(from))
        .exec(txn)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// How far a consumer with nothing to do (no endpoint, no rule) lets its cursor lag
/// before moving it on: one write per this many events instead of one per commit.
const IDLE_LAG: i64 = 1000;

/// For a consumer with nothing to do: moves its cursor to the end of the log once it
/// lags by `IDLE_LAG`, so that the day an endpoint or rule appears there is little to
/// read past (whatever is read past is before its `start_seq` anyway).
pub async fn skip_idle(db: &Db, consumer: Consumer) -> AppResult<()> {
    let from = position(db.conn(), consumer).await?;
    let last = events::last_seq(db.conn()).await?;
    if last - from < IDLE_LAG {
        return Ok(());
    }
    let txn = db.begin_write().await?;
    if claim(&txn, consumer, from, last).await? {
        txn.commit().await?;
    }
    Ok(())
}
