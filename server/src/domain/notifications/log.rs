//! The record of notifications, for admins: to whom, what, and how sending went.

use entity::mail_delivery;
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter};

use super::types::DeliveryState;
use crate::{
    auth::{Caller, Role},
    db::Db,
    domain::page::Window,
    error::{AppError, AppResult},
};

/// A page of the notifications queued, newest first, in one state or all, for one
/// ticket or all. Admins only.
pub async fn list(
    db: &Db,
    caller: &Caller,
    state: Option<DeliveryState>,
    ticket_id: Option<i64>,
    window: &Window,
) -> AppResult<Vec<mail_delivery::Model>> {
    caller.require_role(Role::Admin)?;
    let mut query = mail_delivery::Entity::find();
    if let Some(state) = state {
        query = query.filter(mail_delivery::Column::State.eq(state.as_str()));
    }
    if let Some(ticket_id) = ticket_id {
        query = query.filter(mail_delivery::Column::TicketId.eq(ticket_id));
    }
    Ok(window
        .apply(query, mail_delivery::Column::Id, Order::Desc)
        .all(db.conn())
        .await?)
}

/// One notification. Admins only.
pub async fn find(db: &Db, caller: &Caller, id: i64) -> AppResult<mail_delivery::Model> {
    caller.require_role(Role::Admin)?;
    mail_delivery::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or_else(|| AppError::NotFound("there is no notification with that id".into()))
}
