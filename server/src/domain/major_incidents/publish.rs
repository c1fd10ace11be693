//! The coordinator's updates: published to everyone the major incident affects, by
//! mail and live, and kept for the review.

use chrono::{DateTime, Utc};
use entity::{major_incident, major_incident_update, ticket};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::json;

use super::{MAX_TEXT_CHARS, MajorIncidentStatus, affected, record};
use crate::{
    auth::{Caller, Role},
    db::Db,
    domain::{
        events::{Actor, Topic},
        input::text,
    },
    error::{AppError, AppResult},
};

/// Publishes an update on an active major incident: its coordinator or a manager.
///
/// # Errors
/// FORBIDDEN for anyone else; NOT_FOUND for no such major incident; BAD_USER_INPUT for
/// an empty or too long text; INVALID_TRANSITION once it is closed.
pub async fn publish(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    body: &str,
) -> AppResult<(major_incident_update::Model, major_incident::Model)> {
    let person = caller.person()?;
    let body = text("body", body, MAX_TEXT_CHARS, true)?;
    let actor = Actor::of(caller);
    let txn = db.begin_write().await?;
    let incident = super::find(&txn, caller, id).await?;
    if incident.coordinator_id != Some(person.user_id) && !person.has_role(Role::Manager) {
        return Err(AppError::Forbidden(
            "only the major incident's coordinator or a manager publishes its updates".into(),
        ));
    }
    if MajorIncidentStatus::stored(&incident.status)? == MajorIncidentStatus::Closed {
        return Err(AppError::InvalidTransition {
            message: "the major incident is closed: its review says what happened".into(),
            allowed: vec![],
        });
    }
    let row = ticket::Entity::find_by_id(incident.ticket_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("a major incident without its ticket".into()))?;
    let audience = affected(&txn, &row).await?;
    let update = major_incident_update::ActiveModel {
        major_incident_id: Set(incident.id),
        body: Set(body.clone()),
        published_by_id: Set(actor.user_id),
        published_by: Set(actor.name.clone()),
        published_at: Set(now),
        recipients: Set(i32::try_from(audience.len()).unwrap_or(i32::MAX)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(
        &txn,
        &actor,
        now,
        Topic::MajorIncidentUpdated,
        &row,
        &incident,
        &audience,
        json!({ "updateId": update.id, "body": body }),
    )
    .await?;
    txn.commit().await?;
    Ok((update, incident))
}
