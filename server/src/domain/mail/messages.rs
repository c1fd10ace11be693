//! The record of mail received, for admins: what became of each message, and why the
//! ones set aside were.

use entity::mail_message;
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter};

use super::types::MessageState;
use crate::{
    auth::{Caller, Role},
    db::Db,
    domain::page::Window,
    error::{AppError, AppResult},
};

/// A page of the messages received, newest first, in one state or all. Admins only.
pub async fn list(
    db: &Db,
    caller: &Caller,
    state: Option<MessageState>,
    window: &Window,
) -> AppResult<Vec<mail_message::Model>> {
    caller.require_role(Role::Admin)?;
    let mut query = mail_message::Entity::find();
    if let Some(state) = state {
        query = query.filter(mail_message::Column::State.eq(state.as_str()));
    }
    Ok(window
        .apply(query, mail_message::Column::Id, Order::Desc)
        .all(db.conn())
        .await?)
}

/// One message received. Admins only.
pub async fn find(db: &Db, caller: &Caller, id: i64) -> AppResult<mail_message::Model> {
    caller.require_role(Role::Admin)?;
    mail_message::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or_else(|| AppError::NotFound("there is no mail message with that id".into()))
}
