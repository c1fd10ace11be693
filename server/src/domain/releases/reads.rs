//! Reading releases: the desk's (agents and `tickets:read` tokens); requesters see none.

use chrono::{DateTime, Utc};
use entity::{change, release, release_incident, release_item, release_service};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::require_reader;
use crate::{
    auth::Caller,
    error::{AppError, AppResult},
};

/// One release.
///
/// # Errors
/// FORBIDDEN for requesters; NOT_FOUND for no such release.
pub async fn find(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<release::Model> {
    require_reader(caller)?;
    release::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFound("there is no release with that id".into()))
}

/// The releases planned to start in `[from, to)` (or with no date, when none is given),
/// by planned start; at most 200.
///
/// # Errors
/// FORBIDDEN for requesters.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> AppResult<Vec<release::Model>> {
    require_reader(caller)?;
    let mut query = release::Entity::find()
        .order_by_asc(release::Column::PlannedStart)
        .order_by_asc(release::Column::Id)
        .limit(200);
    if let Some(from) = from {
        query = query.filter(release::Column::PlannedEnd.gt(from));
    }
    if let Some(to) = to {
        query = query.filter(release::Column::PlannedStart.lt(to));
    }
    Ok(query.all(conn).await?)
}

/// A release's deployment plan, in order.
pub async fn steps_of(
    conn: &impl ConnectionTrait,
    release_id: i64,
) -> AppResult<Vec<release_item::Model>> {
    Ok(release_item::Entity::find()
        .filter(release_item::Column::ReleaseId.eq(release_id))
        .order_by_asc(release_item::Column::Position)
        .all(conn)
        .await?)
}

/// The changes that ship in a release, by number.
pub async fn changes_of(
    conn: &impl ConnectionTrait,
    release_id: i64,
) -> AppResult<Vec<change::Model>> {
    Ok(change::Entity::find()
        .filter(change::Column::ReleaseId.eq(release_id))
        .order_by_asc(change::Column::Number)
        .all(conn)
        .await?)
}

/// The business services a release touches.
pub async fn service_ids_of(conn: &impl ConnectionTrait, release_id: i64) -> AppResult<Vec<i64>> {
    Ok(release_service::Entity::find()
        .select_only()
        .column(release_service::Column::ServiceId)
        .filter(release_service::Column::ReleaseId.eq(release_id))
        .into_tuple()
        .all(conn)
        .await?)
}

/// The incidents linked to a release in its early life, oldest first.
pub async fn incidents_of(conn: &impl ConnectionTrait, release_id: i64) -> AppResult<Vec<i64>> {
    Ok(release_incident::Entity::find()
        .select_only()
        .column(release_incident::Column::TicketId)
        .filter(release_incident::Column::ReleaseId.eq(release_id))
        .order_by_asc(release_incident::Column::LinkedAt)
        .into_tuple()
        .all(conn)
        .await?)
}
