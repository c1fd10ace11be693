//! Reading the catalog as the caller may: requesters see LIVE services and their active
//! items, agents see everything (to prepare what is not yet offered).

use entity::{catalog_item, catalog_request, service};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    auth::{Caller, Role},
    error::AppResult,
};

use super::types::ServiceLifecycle;

/// Whether the caller sees what is not (or no longer) on offer.
fn sees_everything(caller: &Caller) -> AppResult<bool> {
    Ok(caller.person()?.has_role(Role::Agent))
}

fn on_offer(service: &service::Model) -> bool {
    service.lifecycle == ServiceLifecycle::Live.as_str()
}

/// The items of a service by name: the active ones only, for requesters.
///
/// # Errors
/// UNAUTHENTICATED for an anonymous caller.
pub async fn items_of_service(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service_id: i64,
) -> AppResult<Vec<catalog_item::Model>> {
    let mut query =
        catalog_item::Entity::find().filter(catalog_item::Column::ServiceId.eq(service_id));
    if !sees_everything(caller)? {
        query = query.filter(catalog_item::Column::Active.eq(true));
    }
    Ok(query
        .order_by_asc(catalog_item::Column::Name)
        .all(conn)
        .await?)
}

/// A service, if the caller may see it.
///
/// # Errors
/// UNAUTHENTICATED for an anonymous caller.
pub async fn service(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<Option<service::Model>> {
    let everything = sees_everything(caller)?;
    Ok(service::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|s| everything || on_offer(s)))
}

/// A catalog item, if the caller may see it: active and under a LIVE service, unless
/// the caller sees everything.
///
/// # Errors
/// UNAUTHENTICATED for an anonymous caller.
pub async fn item(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<Option<catalog_item::Model>> {
    let everything = sees_everything(caller)?;
    let Some(item) = catalog_item::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    if everything {
        return Ok(Some(item));
    }
    let offered = item.active
        && service::Entity::find_by_id(item.service_id)
            .one(conn)
            .await?
            .is_some_and(|s| on_offer(&s));
    Ok(offered.then_some(item))
}

/// The item a request ordered, whatever became of it since: the order's ticket already
/// decided who may see this.
pub async fn ordered_item(
    conn: &impl ConnectionTrait,
    request: &catalog_request::Model,
) -> AppResult<Option<catalog_item::Model>> {
    Ok(catalog_item::Entity::find_by_id(request.item_id)
        .one(conn)
        .await?)
}

/// The order behind a service request, if the ticket came from the catalog.
pub async fn request_of(
    conn: &impl ConnectionTrait,
    ticket_id: i64,
) -> AppResult<Option<catalog_request::Model>> {
    Ok(catalog_request::Entity::find_by_id(ticket_id)
        .one(conn)
        .await?)
}
