//! Recording problems and working them: linking incidents and items, editing, and
//! moving them along the lifecycle (a known error drafts its article; resolving can
//! resolve the linked incidents the caller may see).

use chrono::{DateTime, Utc};
use entity::{
    configuration_item, group, problem, problem_configuration_item, problem_incident, ticket, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};
use serde_json::json;

use crate::domain::events::Topic;
use crate::domain::input::text;
use crate::domain::problems::types::ProblemStatus::{self, *};
use crate::domain::versioned;
use crate::domain::{
    events::{Actor, change},
    knowledge,
    lookup::referenced,
    numbers,
    tickets::{commands, types::Kind, visibility::Scope as TicketScope},
};
use crate::{
    auth::Caller,
    db::Db,
    error::{AppError, AppResult},
};

use super::{
    LIFECYCLE, find, priority,
    queries::{incident_ids, visible_tickets},
    record, require_worker,
};

/// What a new problem starts with.
pub struct NewProblem {
    pub title: String,
    pub description: String,
    pub priority: i16,
    pub group_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub incident_ids: Vec<i64>,
    pub configuration_item_ids: Vec<i64>,
}

/// Records a problem with the incidents (that the caller may see) and items it starts
/// with.
///
/// # Errors
/// BAD_USER_INPUT for fields that do not fit; NOT_FOUND for an incident that does not
/// exist or is hidden from the caller; FORBIDDEN for callers who do not work problems.
pub async fn create(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    input: NewProblem,
) -> AppResult<problem::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let scope = TicketScope::of(&txn, caller).await?;
    let row = insert(&txn, caller, &scope, now, input).await?;
    txn.commit().await?;
    Ok(row)
}

pub(crate) async fn insert(
    txn: &DatabaseTransaction,
    caller: &Caller,
    scope: &TicketScope,
    now: DateTime<Utc>,
    input: NewProblem,
) -> AppResult<problem::Model> {
    let title = text("title", &input.title, 200, true)?;
    let description = text("description", &input.description, 20_000, false)?;
    let priority = priority(input.priority)?;
    if let Some(id) = input.group_id {
        referenced::<group::Entity>(txn, id, "groupId", "group").await?;
    }
    if let Some(id) = input.assignee_id {
        referenced::<user::Entity>(txn, id, "assigneeId", "user").await?;
    }
    let actor = Actor::of(caller);
    let row = problem::ActiveModel {
        number: Set(numbers::next(txn, "PROBLEM", "PRB").await?),
        title: Set(title),
        description: Set(description),
        status: Set("NEW".into()),
        priority: Set(priority),
        root_cause: Set(String::new()),
        workaround: Set(String::new()),
        group_id: Set(input.group_id),
        assignee_id: Set(input.assignee_id),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    record(
        txn,
        &actor,
        now,
        Topic::ProblemCreated,
        &row,
        json!({ "title": row.title }),
    )
    .await?;
    link(
        txn,
        &actor,
        scope,
        now,
        &row,
        &input.incident_ids,
        &input.configuration_item_ids,
    )
    .await?;
    Ok(row)
}

/// Links incidents and items to a problem; those linked already are left alone. Only
/// incidents the caller may see can be linked: a hidden one is refused exactly like one
/// that does not exist, so that linking cannot probe for tickets.
pub(super) async fn link(
    txn: &DatabaseTransaction,
    actor: &Actor,
    scope: &TicketScope,
    now: DateTime<Utc>,
    row: &problem::Model,
    incident_ids: &[i64],
    item_ids: &[i64],
) -> AppResult<()> {
    let incidents = visible_tickets(txn, scope, incident_ids).await?;
    if incidents.len() != {
        let mut unique = incident_ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        unique.len()
    } {
        return Err(AppError::NotFound(
            "one of these incidents is not one you can see (or does not exist)".into(),
        ));
    }
    if let Some(other) = incidents.iter().find(|t| t.kind != Kind::Incident.as_str()) {
        return Err(AppError::bad_input(
            "incidentIds",
            format!("{} is not an incident", other.number),
        ));
    }
    let linked: Vec<i64> = problem_incident::Entity::find()
        .filter(problem_incident::Column::ProblemId.eq(row.id))
        .all(txn)
        .await?
        .into_iter()
        .map(|l| l.ticket_id)
        .collect();
    let new: Vec<&ticket::Model> = incidents
        .iter()
        .filter(|t| !linked.contains(&t.id))
        .collect();
    if !new.is_empty() {
        problem_incident::Entity::insert_many(new.iter().map(|t| problem_incident::ActiveModel {
            problem_id: Set(row.id),
            ticket_id: Set(t.id),
        }))
        .exec_without_returning(txn)
        .await?;
        let numbers: Vec<&str> = new.iter().map(|t| t.number.as_str()).collect();
        record(
            txn,
            actor,
            now,
            Topic::ProblemIncidentsLinked,
            row,
            json!({ "incidents": numbers }),
        )
        .await?;
    }
    let found = configuration_item::Entity::find()
        .filter(configuration_item::Column::Id.is_in(item_ids.iter().copied()))
        .all(txn)
        .await?;
    if found.len() != item_ids.len() {
        return Err(AppError::bad_input(
            "configurationItemIds",
            "one of these configuration items does not exist",
        ));
    }
    let have: Vec<i64> = problem_configuration_item::Entity::find()
        .filter(problem_configuration_item::Column::ProblemId.eq(row.id))
        .all(txn)
        .await?
        .into_iter()
        .map(|l| l.configuration_item_id)
        .collect();
    let new_items: Vec<i64> = found
        .iter()
        .map(|c| c.id)
        .filter(|id| !have.contains(id))
        .collect();
    if !new_items.is_empty() {
        problem_configuration_item::Entity::insert_many(new_items.iter().map(|&id| {
            problem_configuration_item::ActiveModel {
                problem_id: Set(row.id),
                configuration_item_id: Set(id),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}

/// Links more incidents and items to a problem; those linked already stay.
///
/// # Errors
/// As for `create`; NOT_FOUND when there is no such problem.
pub async fn link_incidents(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    problem_id: i64,
    incident_ids: &[i64],
    item_ids: &[i64],
) -> AppResult<problem::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let scope = TicketScope::of(&txn, caller).await?;
    let row = find(&txn, problem_id).await?;
    link(
        &txn,
        &Actor::of(caller),
        &scope,
        now,
        &row,
        incident_ids,
        item_ids,
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// What an edit of a problem changes; `None` keeps what is there.
#[derive(Default)]
pub struct ProblemChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub priority: Option<i16>,
    pub root_cause: Option<String>,
    pub workaround: Option<String>,
    pub group_id: Option<Option<i64>>,
    pub assignee_id: Option<Option<i64>>,
}

/// Edits a problem read at `version`.
///
/// # Errors
/// BAD_USER_INPUT for fields that do not fit (a known error keeps its workaround),
/// INVALID_TRANSITION for a closed problem, CONFLICT when it changed since it was read.
pub async fn update(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    input: ProblemChanges,
) -> AppResult<problem::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let row = versioned::current::<problem::Entity>(&txn, id, version).await?;
    if ProblemStatus::stored(&row.status)? == Closed {
        return Err(AppError::InvalidTransition {
            message: format!("{} is closed: it cannot be changed", row.number),
            allowed: vec![],
        });
    }
    let mut changes = Vec::new();
    let mut changed = <problem::ActiveModel as Default>::default();
    macro_rules! text_field {
        ($input:expr, $column:ident, $name:literal, $max:expr, $required:expr) => {
            if let Some(value) = $input {
                let value = text($name, &value, $max, $required)?;
                if value != row.$column {
                    changes.push(change($name, row.$column.clone(), value.clone()));
                    changed.$column = Set(value);
                }
            }
        };
    }
    text_field!(input.title, title, "title", 200, true);
    text_field!(input.description, description, "description", 20_000, false);
    text_field!(input.root_cause, root_cause, "rootCause", 20_000, false);
    text_field!(input.workaround, workaround, "workaround", 20_000, false);
    if let Some(value) = input.priority.map(priority).transpose()?
        && value != row.priority
    {
        changes.push(change("priority", row.priority, value));
        changed.priority = Set(value);
    }
    if let Some(group) = input.group_id
        && group != row.group_id
    {
        if let Some(id) = group {
            referenced::<group::Entity>(&txn, id, "groupId", "group").await?;
        }
        changes.push(change("groupId", row.group_id, group));
        changed.group_id = Set(group);
    }
    if let Some(assignee) = input.assignee_id
        && assignee != row.assignee_id
    {
        if let Some(id) = assignee {
            referenced::<user::Entity>(&txn, id, "assigneeId", "user").await?;
        }
        changes.push(change("assigneeId", row.assignee_id, assignee));
        changed.assignee_id = Set(assignee);
    }
    if changes.is_empty() {
        return Ok(row);
    }
    if ProblemStatus::stored(&row.status)? == KnownError
        && let sea_orm::ActiveValue::Set(workaround) = &changed.workaround
        && workaround.is_empty()
    {
        return Err(AppError::bad_input(
            "workaround",
            "a known error keeps its workaround: move it back to UNDER_INVESTIGATION first",
        ));
    }
    let saved = versioned::save::<problem::Entity>(&txn, &row, changed, now).await?;
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::ProblemUpdated,
        &saved,
        json!({ "changes": changes }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Where a problem is moved to.
pub struct Transition {
    pub to: ProblemStatus,
    /// Resolving: also resolve the open linked incidents, each with a comment.
    pub resolve_incidents: bool,
}

/// A problem moved, with the incidents resolved along with it.
pub struct Transitioned {
    pub problem: problem::Model,
    /// Incidents resolved along with it.
    pub resolved_incidents: Vec<ticket::Model>,
}

/// Moves a problem along its lifecycle. A known error needs its root cause and
/// workaround and drafts its article; resolving needs the root cause and can resolve
/// the linked incidents the caller may see.
///
/// # Errors
/// INVALID_TRANSITION off the table, BAD_USER_INPUT for what the move needs, CONFLICT
/// when it changed since it was read.
pub async fn transition(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    input: Transition,
) -> AppResult<Transitioned> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let row = versioned::current::<problem::Entity>(&txn, id, version).await?;
    let (from, to) = (ProblemStatus::stored(&row.status)?, input.to);
    LIFECYCLE.check(from, to)?;
    let mut changed = problem::ActiveModel {
        status: Set(to.into()),
        ..Default::default()
    };
    match to {
        KnownError => {
            for (field, value) in [
                ("rootCause", &row.root_cause),
                ("workaround", &row.workaround),
            ] {
                if value.trim().is_empty() {
                    return Err(AppError::bad_input(
                        field,
                        format!("record the {field} before declaring a known error"),
                    ));
                }
            }
            changed.known_error_at = Set(Some(now));
        }
        Resolved => {
            if row.root_cause.trim().is_empty() {
                return Err(AppError::bad_input(
                    "rootCause",
                    "record the root cause before resolving the problem",
                ));
            }
            changed.resolved_at = Set(Some(now));
        }
        UnderInvestigation => changed.resolved_at = Set(None),
        Closed => changed.closed_at = Set(Some(now)),
        New => {}
    }
    let saved = versioned::save::<problem::Entity>(&txn, &row, changed, now).await?;
    let actor = Actor::of(caller);
    record(
        &txn,
        &actor,
        now,
        Topic::ProblemStatusChanged,
        &saved,
        json!({ "changes": [change("status", from, to)] }),
    )
    .await?;
    if to == KnownError {
        knowledge::draft_for_known_error(&txn, &actor, now, &saved).await?;
    }
    let mut resolved_incidents = Vec::new();
    if to == Resolved && input.resolve_incidents {
        let note = format!(
            "Resolved with problem {}: {}\n\nRoot cause: {}",
            saved.number, saved.title, saved.root_cause
        );
        // Only the incidents the caller may see: the others stay with their own groups.
        let scope = TicketScope::of(&txn, caller).await?;
        let desk = crate::domain::settings::load(&txn).await?;
        let linked = incident_ids(&txn, saved.id).await?;
        for incident in visible_tickets(&txn, &scope, &linked).await? {
            let incident = incident.id;
            if let Some(ticket) =
                commands::resolve_by_problem(&txn, caller, now, &desk, incident, &note).await?
            {
                resolved_incidents.push(ticket);
            }
        }
    }
    txn.commit().await?;
    Ok(Transitioned {
        problem: saved,
        resolved_incidents,
    })
}
