//! Finding the rows an input refers to.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PrimaryKeyTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::error::{AppError, AppResult};

/// The row with `id`, or BAD_USER_INPUT naming `field` when there is none.
pub async fn referenced<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    id: i64,
    field: &str,
    what: &str,
) -> AppResult<E::Model>
where
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<i64>,
{
    E::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::bad_input(field, format!("there is no {what} with that id")))
}

/// A page of `query`'s rows newest first (by id), optionally in some statuses, after
/// the row `after_id` that ended the previous page.
pub async fn newest_first<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    mut query: Select<E>,
    (id, status): (E::Column, E::Column),
    statuses: &[String],
    after_id: Option<i64>,
    limit: u64,
) -> AppResult<Vec<E::Model>> {
    if !statuses.is_empty() {
        query = query.filter(status.is_in(statuses.iter().cloned()));
    }
    if let Some(after) = after_id {
        query = query.filter(id.lt(after));
    }
    Ok(query.order_by_desc(id).limit(limit).all(conn).await?)
}
