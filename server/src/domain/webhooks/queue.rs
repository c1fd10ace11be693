//! Putting a message in an endpoint's queue: one pending delivery, due now, with its
//! body fixed. Fan-out, pings, redelivery and automation all queue this way.

use chrono::{DateTime, Utc};
use entity::{webhook_delivery, webhook_endpoint};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, TryIntoModel};

use super::types::DeliveryState;
use crate::error::AppResult;

/// Inserts a pending delivery, due now.
pub async fn queue(
    conn: &impl ConnectionTrait,
    endpoint: &webhook_endpoint::Model,
    seq: Option<i64>,
    topic: &str,
    message_id: String,
    body: String,
    now: DateTime<Utc>,
) -> AppResult<webhook_delivery::Model> {
    let row = webhook_delivery::ActiveModel {
        endpoint_id: Set(endpoint.id),
        seq: Set(seq),
        topic: Set(topic.to_string()),
        message_id: Set(message_id),
        body: Set(body),
        state: Set(DeliveryState::Pending.as_str().into()),
        attempts: Set(0),
        next_attempt_at: Set(Some(now)),
        last_status: Set(None),
        created_at: Set(now),
        finished_at: Set(None),
        ..Default::default()
    }
    .save(conn)
    .await?;
    Ok(row.try_into_model()?)
}
