//! Finding the rows an input refers to.

use sea_orm::{ConnectionTrait, EntityTrait, PrimaryKeyTrait};

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
