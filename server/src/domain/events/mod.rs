//! Appending to the event log, inside the transaction of the change it records, and
//! the contract every reader of the log relies on: the [`Topic`] of each event and the
//! [`TicketSnapshot`] ticket events carry.

pub mod snapshot;
pub mod topic;

pub use snapshot::TicketSnapshot;
pub use topic::Topic;

use chrono::{DateTime, Utc};
use entity::event;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use crate::{
    auth::{ByRule, Caller},
    domain::page::Window,
    error::AppResult,
};

/// Who a change is attributed to.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    /// The automation rule that acted with the person's rights, if one did.
    pub by_rule: Option<ByRule>,
}

impl Actor {
    /// Who acted, as the event log records it.
    pub fn of(caller: &Caller) -> Actor {
        match caller {
            Caller::Person(person) => Actor {
                user_id: Some(person.user_id),
                name: person.name.clone(),
                by_rule: person.by_rule.clone(),
            },
            Caller::Partner(partner) => Actor {
                user_id: None,
                name: format!("API token {}", partner.name),
                by_rule: None,
            },
            Caller::Anonymous => Actor::system(),
        }
    }

    /// Switchboard itself: background jobs and rules.
    pub fn system() -> Actor {
        Actor {
            user_id: None,
            name: "Switchboard".into(),
            by_rule: None,
        }
    }
}

/// One field's change, as history shows it.
pub fn change(field: &str, old: impl Into<Value>, new: impl Into<Value>) -> Value {
    json!({ "field": field, "old": old.into(), "new": new.into() })
}

/// An event to append: what happened, to what, and what to say of it.
pub struct NewEvent<'a> {
    pub topic: Topic,
    pub entity_type: &'a str,
    pub entity_id: i64,
    pub internal: bool,
    pub payload: Value,
}

/// Appends an event inside the caller's transaction, so it commits with the change it
/// describes or not at all; the relay publishes it after the commit.
pub async fn append(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    at: DateTime<Utc>,
    event: NewEvent<'_>,
) -> AppResult<event::Model> {
    Ok(active(actor, at, event).insert(conn).await?)
}

/// A page of an entity's history, a list oldest first, in fetch order.
pub async fn history_of(
    conn: &impl ConnectionTrait,
    entity_type: &str,
    entity_id: i64,
    window: &Window,
) -> AppResult<Vec<event::Model>> {
    let query = event::Entity::find()
        .filter(event::Column::EntityType.eq(entity_type))
        .filter(event::Column::EntityId.eq(entity_id));
    Ok(window
        .apply(query, event::Column::Id, Order::Asc)
        .all(conn)
        .await?)
}

/// Events in the log are read back in pages of this many.
pub const PAGE: u64 = 500;

/// The published events after `after` (and up to `up_to`, when given), in sequence
/// order, a page at a time: what a subscriber replays and a hub fills gaps from.
pub async fn published_after(
    conn: &impl ConnectionTrait,
    after: i64,
    up_to: Option<i64>,
) -> AppResult<Vec<event::Model>> {
    let mut query = event::Entity::find()
        .filter(event::Column::Seq.gt(after))
        .order_by_asc(event::Column::Seq)
        .limit(PAGE);
    if let Some(up_to) = up_to {
        query = query.filter(event::Column::Seq.lte(up_to));
    }
    Ok(query.all(conn).await?)
}

/// The last seq the relay has given (0 before the first): where the hub starts, and
/// where a new webhook endpoint or automation rule starts.
pub async fn last_seq(conn: &impl ConnectionTrait) -> AppResult<i64> {
    let last: Option<Option<i64>> = event::Entity::find()
        .select_only()
        .column_as(event::Column::Seq.max(), "max")
        .into_tuple()
        .one(conn)
        .await?;
    Ok(last.flatten().unwrap_or(0))
}

/// The row for an event, for callers that insert many at once.
pub fn active(actor: &Actor, at: DateTime<Utc>, event: NewEvent<'_>) -> event::ActiveModel {
    let mut payload = event.payload;
    if let Some(rule) = &actor.by_rule {
        // Which rule did it, and how deep in a chain of rules: history shows the first,
        // automation reads both so that no rule sets itself off and no chain runs on.
        payload["automation"] =
            json!({ "ruleId": rule.rule_id, "rule": rule.name, "depth": rule.depth });
    }
    event::ActiveModel {
        topic: Set(event.topic.as_str().to_string()),
        entity_type: Set(event.entity_type.to_string()),
        entity_id: Set(event.entity_id),
        actor_id: Set(actor.user_id),
        actor_name: Set(actor.name.clone()),
        internal: Set(event.internal),
        payload: Set(payload),
        created_at: Set(at),
        ..Default::default()
    }
}
