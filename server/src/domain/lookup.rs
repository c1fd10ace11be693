//! Finding the rows an input refers to.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, Order, PrimaryKeyTrait, QueryFilter, Select,
};

use crate::{
    domain::{named::Named, page::Window},
    error::{AppError, AppResult},
};

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

/// A page of `query`'s rows in a list newest first (by id), optionally in some
/// statuses, in fetch order (see `Window::settle`).
pub async fn newest_first<E: EntityTrait, S: Named>(
    conn: &impl ConnectionTrait,
    mut query: Select<E>,
    (id, status): (E::Column, E::Column),
    statuses: &[S],
    window: &Window,
) -> AppResult<Vec<E::Model>> {
    if !statuses.is_empty() {
        query = query.filter(status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    Ok(window.apply(query, id, Order::Desc).all(conn).await?)
}

/// The rows of `E` whose `i64` primary key is among `ids`, by id: what a DataLoader
/// fetches for a page in one statement. Missing ids are simply absent.
pub async fn by_ids<E: EntityTrait>(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, E::Model>> {
    use sea_orm::{Iterable, PrimaryKeyToColumn};
    let key = E::PrimaryKey::iter()
        .next()
        .expect("every table has a primary key")
        .into_column();
    let rows = E::find()
        .filter(key.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match sea_orm::ModelTrait::get(&row, key) {
            sea_orm::Value::BigInt(Some(id)) => Some((id, row)),
            _ => None,
        })
        .collect())
}
