//! Resolving a major incident (with its ticket, and so its children) and closing it
//! with a review that opens a problem.

use chrono::{DateTime, Utc};
use entity::{major_incident, ticket};
use sea_orm::{ActiveValue::Set, EntityTrait};
use serde_json::json;

use super::{LIFECYCLE, MAX_TEXT_CHARS, MajorIncidentStatus, affected, record, require_manager};
use crate::{
    auth::Caller,
    db::Db,
    domain::{
        events::{Actor, Topic},
        input::text,
        problems::{self, NewProblem},
        settings,
        tickets::{commands, links, types::MAJOR_PRIORITY, visibility::Scope as TicketScope},
        versioned,
    },
    error::{AppError, AppResult},
};

/// Resolves a major incident: its ticket is resolved with `code` and `notes` (its
/// children with it, by the links' rule), and everyone it affects is told. Managers and
/// the coordinator.
///
/// # Errors
/// FORBIDDEN for anyone else; INVALID_TRANSITION off the lifecycle; CONFLICT for a
/// stale version.
pub async fn resolve(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    code: &str,
    notes: &str,
) -> AppResult<major_incident::Model> {
    let person = caller.person()?;
    let actor = Actor::of(caller);
    let txn = db.begin_write().await?;
    let incident = versioned::current::<major_incident::Entity>(&txn, id, version).await?;
    if incident.coordinator_id != Some(person.user_id) {
        require_manager(caller)?;
    }
    let from = MajorIncidentStatus::stored(&incident.status)?;
    LIFECYCLE.check(from, MajorIncidentStatus::Resolved)?;
    let desk = settings::load(&txn).await?;
    let code = text("resolutionCode", code, 100, true)?;
    let notes = text("resolutionNotes", notes, MAX_TEXT_CHARS, true)?;
    let Some(row) =
        commands::resolve_with(&txn, caller, now, &desk, incident.ticket_id, &code, &notes).await?
    else {
        return Err(AppError::InvalidTransition {
            message: "the major incident's ticket is not open: reopen it first".into(),
            allowed: vec![],
        });
    };
    // Its children resolve with it, as every parent's do.
    links::resolve_children(&txn, caller, now, &desk, &row).await?;
    let changed = major_incident::ActiveModel {
        status: Set(MajorIncidentStatus::Resolved.as_str().into()),
        resolved_at: Set(Some(now)),
        ..Default::default()
    };
    let saved = versioned::save::<major_incident::Entity>(&txn, &incident, changed, now).await?;
    let audience = affected(&txn, &row).await?;
    record(
        &txn,
        &actor,
        now,
        Topic::MajorIncidentResolved,
        &row,
        &saved,
        &audience,
        json!({ "resolutionCode": code }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// What the review says.
pub struct Review {
    pub cause: String,
    pub actions: String,
}

/// Closes a resolved major incident with its review, and opens the problem that
/// investigates its cause, linked to the incident. Managers.
///
/// # Errors
/// FORBIDDEN below manager; BAD_USER_INPUT for an empty cause or actions;
/// INVALID_TRANSITION unless it is resolved; CONFLICT for a stale version.
pub async fn close(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    review: Review,
) -> AppResult<major_incident::Model> {
    require_manager(caller)?;
    let cause = text("cause", &review.cause, MAX_TEXT_CHARS, true)?;
    let actions = text("actions", &review.actions, MAX_TEXT_CHARS, true)?;
    let actor = Actor::of(caller);
    let txn = db.begin_write().await?;
    let incident = versioned::current::<major_incident::Entity>(&txn, id, version).await?;
    LIFECYCLE.check(
        MajorIncidentStatus::stored(&incident.status)?,
        MajorIncidentStatus::Closed,
    )?;
    let row = ticket::Entity::find_by_id(incident.ticket_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("a major incident without its ticket".into()))?;
    let scope = TicketScope::of(&txn, caller).await?;
    let problem = problems::insert(
        &txn,
        caller,
        &scope,
        now,
        NewProblem {
            title: format!("Cause of major incident {}: {}", row.number, row.title)
                .chars()
                .take(200)
                .collect(),
            description: format!("Cause, as the review found it:\n{cause}\n\nActions:\n{actions}"),
            // The problem behind a major incident is worked first.
            priority: MAJOR_PRIORITY + 1,
            group_id: row.group_id,
            assignee_id: None,
            incident_ids: vec![row.id],
            configuration_item_ids: vec![],
        },
    )
    .await?;
    let changed = major_incident::ActiveModel {
        status: Set(MajorIncidentStatus::Closed.as_str().into()),
        closed_at: Set(Some(now)),
        cause: Set(Some(cause)),
        actions: Set(Some(actions)),
        problem_id: Set(Some(problem.id)),
        ..Default::default()
    };
    let saved = versioned::save::<major_incident::Entity>(&txn, &incident, changed, now).await?;
    let audience = affected(&txn, &row).await?;
    record(
        &txn,
        &actor,
        now,
        Topic::MajorIncidentClosed,
        &row,
        &saved,
        &audience,
        json!({ "problemId": problem.id, "problemNumber": problem.number }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}
