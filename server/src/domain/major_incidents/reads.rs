//! Reading major incidents: the desk sees them all; anyone else those that affect them.

use entity::{event, major_incident, major_incident_update, ticket};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{MajorIncidentStatus, affected};
use crate::{
    auth::{Caller, Role, Scope as TokenScope},
    error::{AppError, AppResult},
};

/// The desk reads every major incident; a person those that affect them.
async fn may_read(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    incident: &major_incident::Model,
) -> AppResult<bool> {
    if caller
        .require_role_or_scope(Role::Agent, TokenScope::TicketsRead)
        .is_ok()
    {
        return Ok(true);
    }
    let person = caller.person()?;
    let Some(row) = ticket::Entity::find_by_id(incident.ticket_id)
        .one(conn)
        .await?
    else {
        return Ok(false);
    };
    Ok(affected(conn, &row).await?.contains(&person.user_id))
}

/// One major incident, if the caller may read it.
///
/// # Errors
/// NOT_FOUND otherwise, the same as for one that does not exist.
pub async fn find(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<major_incident::Model> {
    let missing =
        || AppError::NotFound("there is no major incident with that id that you can see".into());
    let row = major_incident::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(missing)?;
    if may_read(conn, caller, &row).await? {
        Ok(row)
    } else {
        Err(missing())
    }
}

/// The major incidents the caller may read, newest first: those under way (active or
/// resolved and not yet reviewed) unless `all`. At most 100.
///
/// # Errors
/// UNAUTHENTICATED for an anonymous caller.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    all: bool,
) -> AppResult<Vec<major_incident::Model>> {
    if matches!(caller, Caller::Anonymous) {
        return Err(crate::auth::not_signed_in());
    }
    let mut query = major_incident::Entity::find()
        .order_by_desc(major_incident::Column::Id)
        .limit(100);
    if !all {
        query =
            query.filter(major_incident::Column::Status.ne(MajorIncidentStatus::Closed.as_str()));
    }
    let mut out = Vec::new();
    for row in query.all(conn).await? {
        if may_read(conn, caller, &row).await? {
            out.push(row);
        }
    }
    Ok(out)
}

/// The updates published on a major incident, oldest first.
///
/// # Errors
/// INTERNAL when the database fails.
pub async fn updates_of(
    conn: &impl ConnectionTrait,
    incident_id: i64,
) -> AppResult<Vec<major_incident_update::Model>> {
    Ok(major_incident_update::Entity::find()
        .filter(major_incident_update::Column::MajorIncidentId.eq(incident_id))
        .order_by_asc(major_incident_update::Column::Id)
        .all(conn)
        .await?)
}

/// The review's timeline: everything the event log recorded of the incident's ticket,
/// oldest first (at most 1,000 entries). The desk only.
///
/// # Errors
/// FORBIDDEN for anyone else.
pub async fn timeline(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    incident: &major_incident::Model,
) -> AppResult<Vec<event::Model>> {
    caller.require_role_or_scope(Role::Agent, TokenScope::TicketsRead)?;
    Ok(event::Entity::find()
        .filter(event::Column::EntityType.eq("ticket"))
        .filter(event::Column::EntityId.eq(incident.ticket_id))
        .order_by_asc(event::Column::Id)
        .limit(1000)
        .all(conn)
        .await?)
}
