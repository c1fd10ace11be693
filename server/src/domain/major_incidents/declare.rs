//! Declaring a major incident: from an incident the desk has, or a new one.

use chrono::{DateTime, Utc};
use entity::{major_incident, ticket, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::{MajorIncidentStatus, affected, record, require_manager};
use crate::{
    auth::{Caller, Role},
    db::Db,
    domain::{
        events::{Actor, Topic},
        lookup::referenced,
        tickets::{
            commands::{self, NewTicket, load_for_change, set_priority},
            types::{Kind, MAJOR_PRIORITY, Status},
        },
        users::roles_of,
    },
    error::{AppError, AppResult},
};

/// What a major incident is declared on, and who coordinates it.
pub struct Declare {
    /// An incident the desk has; or
    pub ticket_id: Option<i64>,
    /// a new one, raised as it is declared.
    pub new: Option<NewTicket>,
    /// An agent; the declaring manager when none is named.
    pub coordinator_id: Option<i64>,
}

/// Declares a major incident. Managers only; the incident must be open and not major
/// already. Its ticket takes the priority above P1 (its SLA clocks re-target).
///
/// # Errors
/// FORBIDDEN below manager; BAD_USER_INPUT for neither or both of a ticket and a new
/// one, a service request, or a coordinator who is not an agent; INVALID_TRANSITION for
/// a closed ticket; CONFLICT for one that is major already.
pub async fn declare(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    input: Declare,
) -> AppResult<(major_incident::Model, ticket::Model)> {
    require_manager(caller)?;
    let actor = Actor::of(caller);
    let txn = db.begin_write().await?;
    let row = match (input.ticket_id, input.new) {
        (Some(id), None) => load_for_change(&txn, caller, id, None).await?,
        (None, Some(new)) => commands::create(&txn, caller, now, new).await?,
        _ => {
            return Err(AppError::bad_input(
                "ticketId",
                "give either the incident's ticketId or a new incident, not both",
            ));
        }
    };
    if Kind::parse(&row.kind, "kind")? != Kind::Incident {
        return Err(AppError::bad_input(
            "ticketId",
            format!(
                "{} is a service request: only incidents are declared major",
                row.number
            ),
        ));
    }
    if !Status::parse(&row.status, "status")?.is_open() {
        return Err(AppError::InvalidTransition {
            message: format!(
                "{} is {}: declare an open incident major",
                row.number, row.status
            ),
            allowed: vec![],
        });
    }
    if major_incident::Entity::find()
        .filter(major_incident::Column::TicketId.eq(row.id))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "{} is a major incident already",
            row.number
        )));
    }
    let coordinator = match input.coordinator_id.or(actor.user_id) {
        Some(id) => {
            let person = referenced::<user::Entity>(&txn, id, "coordinatorId", "person").await?;
            if !roles_of(&person).contains(&Role::Agent) {
                return Err(AppError::bad_input(
                    "coordinatorId",
                    format!(
                        "{} is not an agent: a major incident is coordinated by the desk",
                        person.name
                    ),
                ));
            }
            Some(person.id)
        }
        None => None,
    };
    let row = set_priority(&txn, caller, now, &row, MAJOR_PRIORITY).await?;
    let incident = major_incident::ActiveModel {
        ticket_id: Set(row.id),
        status: Set(MajorIncidentStatus::Active.as_str().into()),
        coordinator_id: Set(coordinator),
        declared_by: Set(actor.name.clone()),
        declared_at: Set(now),
        version: Set(1),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let audience = affected(&txn, &row).await?;
    record(
        &txn,
        &actor,
        now,
        Topic::MajorIncidentDeclared,
        &row,
        &incident,
        &audience,
        json!({ "coordinatorId": coordinator }),
    )
    .await?;
    txn.commit().await?;
    Ok((incident, row))
}
