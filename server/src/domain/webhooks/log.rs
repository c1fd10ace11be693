//! The delivery log: each endpoint's deliveries, newest first, and each one's attempts.
//! Read by whoever may manage the endpoint.

use entity::{webhook_attempt, webhook_delivery};
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder};

use super::endpoints;
use crate::{auth::Caller, db::Db, domain::page::Window, error::AppResult};

/// A page of an endpoint's deliveries, newest first.
pub async fn deliveries(
    db: &Db,
    caller: &Caller,
    endpoint_id: i64,
    window: &Window,
) -> AppResult<Vec<webhook_delivery::Model>> {
    endpoints::find(db, caller, endpoint_id).await?;
    let query = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint_id));
    Ok(window
        .apply(query, webhook_delivery::Column::Id, Order::Desc)
        .all(db.conn())
        .await?)
}

/// The attempts of deliveries, oldest first, for the deliveries given (already read
/// through `deliveries`, so already the caller's to see).
pub async fn attempts_of(
    db: &Db,
    delivery_ids: Vec<i64>,
) -> AppResult<Vec<webhook_attempt::Model>> {
    Ok(webhook_attempt::Entity::find()
        .filter(webhook_attempt::Column::DeliveryId.is_in(delivery_ids))
        .order_by_asc(webhook_attempt::Column::Id)
        .all(db.conn())
        .await?)
}
