//! The live pipeline: the relay numbers committed events and publishes them to the bus
//! (in-process, or Redis between replicas); each replica's hub passes them, in order,
//! once, to its subscribers, filling any gap from the event log.

pub mod hub;
pub mod relay;
pub mod wake;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::event;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use hub::Hub;

use crate::domain::events::{TicketSnapshot, Topic};

/// The Redis channel every replica publishes to and listens on.
pub const CHANNEL: &str = "switchboard:events";

/// An event as it travels: a published row of the event log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: i64,
    pub topic: Topic,
    pub entity_type: String,
    pub entity_id: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub internal: bool,
    pub payload: Value,
    /// The ticket as of the event, for events about a ticket: read once, here, for
    /// every subscriber to match on.
    pub ticket: Option<TicketSnapshot>,
    pub at: DateTime<Utc>,
}

impl Envelope {
    pub fn of(row: &event::Model) -> Option<Envelope> {
        Some(Envelope {
            seq: row.seq?,
            topic: Topic::parse(&row.topic),
            entity_type: row.entity_type.clone(),
            entity_id: row.entity_id,
            actor_id: row.actor_id,
            actor_name: row.actor_name.clone(),
            internal: row.internal,
            ticket: TicketSnapshot::in_payload(&row.payload),
            payload: row.payload.clone(),
            at: row.created_at,
        })
    }
}

pub type Shared = Arc<Envelope>;
