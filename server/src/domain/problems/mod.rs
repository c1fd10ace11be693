//! Problem management: the causes behind incidents. A problem gathers its incidents and
//! the configuration items they touch; a known error publishes its workaround to every
//! linked incident (and drafts a knowledge article); fixing the problem can resolve its
//! open incidents. Trend detection proposes problems when incidents pile up on one item
//! or category.

pub mod types;

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{
    configuration_item, group, problem, problem_candidate, problem_configuration_item,
    problem_incident, ticket, ticket_configuration_item, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use self::types::{
    CandidateState,
    ProblemStatus::{self, *},
    TrendBasis,
};
use super::{
    events::{self, Actor, NewEvent, change},
    knowledge,
    lookup::{newest_first, referenced},
    numbers,
    page::Window,
    settings,
    tickets::{commands, types::Kind, visibility::Scope as TicketScope},
    workflow::Machine,
};
use crate::domain::events::Topic;
use crate::domain::input::text;
use crate::domain::versioned;
use crate::{
    auth::{Caller, Role, Scope},
    db::Db,
    error::{AppError, AppResult},
};

/// The problem's table of moves.
pub const LIFECYCLE: Machine<ProblemStatus> = Machine {
    subject: "problem",
    moves: &[
        (New, &[UnderInvestigation, Closed]),
        (UnderInvestigation, &[KnownError, Resolved, Closed]),
        (KnownError, &[UnderInvestigation, Resolved]),
        // Back to investigation when the fix did not hold.
        (Resolved, &[Closed, UnderInvestigation]),
        (Closed, &[]),
    ],
};

/// Agents work problems, and partner tokens with `tickets:write`.
fn require_worker(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsWrite)
}

pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsRead)
}

fn priority(value: i16) -> AppResult<i16> {
    if (1..=4).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            "priority",
            "give a priority from 1 (highest) to 4",
        ))
    }
}

async fn record(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &problem::Model,
    payload: Value,
) -> AppResult<()> {
    let mut payload = payload;
    payload["number"] = json!(row.number);
    events::append(
        txn,
        actor,
        now,
        NewEvent {
            topic,
            entity_type: "problem",
            entity_id: row.id,
            internal: true,
            payload,
        },
    )
    .await?;
    Ok(())
}

pub struct NewProblem {
    pub title: String,
    pub description: String,
    pub priority: i16,
    pub group_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub incident_ids: Vec<i64>,
    pub configuration_item_ids: Vec<i64>,
}

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

async fn insert(
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
async fn link(
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

pub async fn find(conn: &impl ConnectionTrait, id: i64) -> AppResult<problem::Model> {
    versioned::find::<problem::Entity>(conn, id).await
}

pub async fn find_many(conn: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<problem::Model>> {
    Ok(problem::Entity::find()
        .filter(problem::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(problem::Column::Id)
        .all(conn)
        .await?)
}

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

pub struct Transition {
    pub to: ProblemStatus,
    /// Resolving: also resolve the open linked incidents, each with a comment.
    pub resolve_incidents: bool,
}

pub struct Transitioned {
    pub problem: problem::Model,
    /// Incidents resolved along with it.
    pub resolved_incidents: Vec<ticket::Model>,
}

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
        let linked = incident_ids(&txn, saved.id).await?;
        for incident in visible_tickets(&txn, &scope, &linked).await? {
            let incident = incident.id;
            if let Some(ticket) =
                commands::resolve_by_problem(&txn, caller, now, incident, &note).await?
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

async fn incident_ids(conn: &impl ConnectionTrait, problem_id: i64) -> AppResult<Vec<i64>> {
    Ok(problem_incident::Entity::find()
        .filter(problem_incident::Column::ProblemId.eq(problem_id))
        .order_by_asc(problem_incident::Column::TicketId)
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.ticket_id)
        .collect())
}

/// The tickets among `ids` that `scope` may see, in id order.
pub async fn visible_tickets(
    conn: &impl ConnectionTrait,
    scope: &TicketScope,
    ids: &[i64],
) -> AppResult<Vec<ticket::Model>> {
    Ok(ticket::Entity::find()
        .filter(ticket::Column::Id.is_in(ids.iter().copied()))
        .filter(scope.condition())
        .order_by_asc(ticket::Column::Id)
        .all(conn)
        .await?)
}

/// Tickets by id, in id order, whoever asks: for batches whose rows are checked
/// against the caller's scope afterwards (a DataLoader shared by a page).
async fn tickets_by_ids(conn: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<ticket::Model>> {
    visible_tickets(conn, &TicketScope::Everything, ids).await
}

pub async fn items_of(
    conn: &impl ConnectionTrait,
    problem_id: i64,
) -> AppResult<Vec<configuration_item::Model>> {
    let ids: Vec<i64> = problem_configuration_item::Entity::find()
        .filter(problem_configuration_item::Column::ProblemId.eq(problem_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|l| l.configuration_item_id)
        .collect();
    Ok(configuration_item::Entity::find()
        .filter(configuration_item::Column::Id.is_in(ids))
        .order_by_asc(configuration_item::Column::NameLower)
        .all(conn)
        .await?)
}

/// Each problem's incidents, for a page of problems.
pub async fn incidents_by_problem(
    conn: &impl ConnectionTrait,
    problem_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<ticket::Model>>> {
    let links = problem_incident::Entity::find()
        .filter(problem_incident::Column::ProblemId.is_in(problem_ids.iter().copied()))
        .all(conn)
        .await?;
    let ids: Vec<i64> = links.iter().map(|l| l.ticket_id).collect();
    let tickets: HashMap<i64, ticket::Model> = tickets_by_ids(conn, &ids)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut by_problem: HashMap<i64, Vec<ticket::Model>> = HashMap::new();
    for link in links {
        if let Some(ticket) = tickets.get(&link.ticket_id) {
            by_problem
                .entry(link.problem_id)
                .or_default()
                .push(ticket.clone());
        }
    }
    for list in by_problem.values_mut() {
        list.sort_by_key(|t| t.id);
    }
    Ok(by_problem)
}

/// The problems each ticket is linked to, in one query.
pub async fn problems_of_tickets(
    conn: &impl ConnectionTrait,
    ticket_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<problem::Model>>> {
    let links = problem_incident::Entity::find()
        .filter(problem_incident::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .all(conn)
        .await?;
    let problems: HashMap<i64, problem::Model> = problem::Entity::find()
        .filter(problem::Column::Id.is_in(links.iter().map(|l| l.problem_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut by_ticket: HashMap<i64, Vec<problem::Model>> = HashMap::new();
    for link in links {
        if let Some(problem) = problems.get(&link.problem_id) {
            by_ticket
                .entry(link.ticket_id)
                .or_default()
                .push(problem.clone());
        }
    }
    Ok(by_ticket)
}

/// Problems, newest first, optionally in some statuses.
pub async fn list(
    conn: &impl ConnectionTrait,
    statuses: &[ProblemStatus],
    window: &Window,
) -> AppResult<Vec<problem::Model>> {
    let columns = (problem::Column::Id, problem::Column::Status);
    newest_first(conn, problem::Entity::find(), columns, statuses, window).await
}

// ---- trend detection ------------------------------------------------------------

/// Called when an incident is recorded: if it makes `N` incidents on one of its items,
/// or in its category, within the desk's window, propose a problem (once per item or
/// category while the proposal is open; later incidents join it).
pub async fn incident_recorded(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    incident: &ticket::Model,
    item_ids: &[i64],
) -> AppResult<()> {
    if incident.kind != Kind::Incident.as_str() {
        return Ok(());
    }
    let desk = settings::load(txn).await?;
    let since = now - Duration::hours(desk.problem_trend_window_hours);
    let mut subjects: Vec<(TrendBasis, i64)> = item_ids
        .iter()
        .map(|&id| (TrendBasis::ConfigurationItem, id))
        .collect();
    if let Some(category) = incident.category_id {
        subjects.push((TrendBasis::Category, category));
    }
    for (basis, subject) in subjects {
        let mut recent = ticket::Entity::find()
            .filter(ticket::Column::Kind.eq(Kind::Incident.as_str()))
            .filter(ticket::Column::CreatedAt.gte(since));
        recent = match basis {
            TrendBasis::Category => recent.filter(ticket::Column::CategoryId.eq(subject)),
            TrendBasis::ConfigurationItem => recent.filter(
                ticket::Column::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(ticket_configuration_item::Column::TicketId)
                        .from(ticket_configuration_item::Entity)
                        .and_where(
                            ticket_configuration_item::Column::ConfigurationItemId.eq(subject),
                        )
                        .to_owned(),
                ),
            ),
        };
        let incidents: Vec<i64> = recent
            .order_by_asc(ticket::Column::Id)
            .all(txn)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect();
        let open = problem_candidate::Entity::find()
            .filter(problem_candidate::Column::Basis.eq(basis))
            .filter(problem_candidate::Column::SubjectId.eq(subject))
            .filter(problem_candidate::Column::State.eq(CandidateState::Open))
            .one(txn)
            .await?;
        if let Some(open) = open {
            let mut known: Vec<i64> =
                serde_json::from_value(open.incident_ids.clone()).unwrap_or_default();
            if !known.contains(&incident.id) {
                known.push(incident.id);
                problem_candidate::ActiveModel {
                    id: Set(open.id),
                    incident_ids: Set(json!(known)),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(txn)
                .await?;
            }
            continue;
        }
        if (incidents.len() as i64) < desk.problem_trend_incidents {
            continue;
        }
        let candidate = problem_candidate::ActiveModel {
            basis: Set(basis.into()),
            subject_id: Set(subject),
            incident_ids: Set(json!(incidents)),
            state: Set(CandidateState::Open.into()),
            detected_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        events::append(
            txn,
            &Actor::system(),
            now,
            NewEvent {
                topic: Topic::ProblemProposed,
                entity_type: "problem_candidate",
                entity_id: candidate.id,
                internal: true,
                payload: json!({
                    "basis": basis,
                    "subjectId": subject,
                    "incidentIds": incidents,
                    "windowHours": desk.problem_trend_window_hours,
                }),
            },
        )
        .await?;
    }
    Ok(())
}

pub async fn candidates(conn: &impl ConnectionTrait) -> AppResult<Vec<problem_candidate::Model>> {
    Ok(problem_candidate::Entity::find()
        .filter(problem_candidate::Column::State.eq(CandidateState::Open))
        .order_by_desc(problem_candidate::Column::Id)
        .all(conn)
        .await?)
}

pub fn candidate_incident_ids(candidate: &problem_candidate::Model) -> Vec<i64> {
    serde_json::from_value(candidate.incident_ids.clone()).unwrap_or_default()
}

/// Accepts a proposal: a problem with its incidents (and the item, when it was one).
pub async fn accept_candidate(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    candidate_id: i64,
    title: Option<String>,
) -> AppResult<problem::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let candidate = open_candidate(&txn, candidate_id).await?;
    let title = match title {
        Some(title) => title,
        None => format!(
            "Recurring incidents on {} {}",
            if TrendBasis::stored(&candidate.basis)? == TrendBasis::Category {
                "category"
            } else {
                "configuration item"
            },
            candidate.subject_id
        ),
    };
    // The proposal may span groups: the problem gets the incidents the caller may see.
    let scope = TicketScope::of(&txn, caller).await?;
    let incidents = visible_tickets(&txn, &scope, &candidate_incident_ids(&candidate))
        .await?
        .into_iter()
        .map(|t| t.id)
        .collect();
    let problem = insert(
        &txn,
        caller,
        &scope,
        now,
        NewProblem {
            title,
            description: String::new(),
            priority: 3,
            group_id: None,
            assignee_id: None,
            incident_ids: incidents,
            configuration_item_ids: if TrendBasis::stored(&candidate.basis)?
                == TrendBasis::ConfigurationItem
            {
                vec![candidate.subject_id]
            } else {
                vec![]
            },
        },
    )
    .await?;
    problem_candidate::ActiveModel {
        id: Set(candidate.id),
        state: Set(CandidateState::Accepted.into()),
        problem_id: Set(Some(problem.id)),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok(problem)
}

pub async fn dismiss_candidate(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    candidate_id: i64,
) -> AppResult<problem_candidate::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let candidate = open_candidate(&txn, candidate_id).await?;
    let row = problem_candidate::ActiveModel {
        id: Set(candidate.id),
        state: Set(CandidateState::Dismissed.into()),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

async fn open_candidate(txn: &DatabaseTransaction, id: i64) -> AppResult<problem_candidate::Model> {
    let candidate = problem_candidate::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("there is no proposed problem with that id".into()))?;
    if CandidateState::stored(&candidate.state)? != CandidateState::Open {
        return Err(AppError::Conflict(format!(
            "this proposal was {} already",
            candidate.state.to_lowercase()
        )));
    }
    Ok(candidate)
}

pub fn is_open(row: &problem::Model) -> bool {
    ProblemStatus::stored(&row.status).is_ok_and(|s| ProblemStatus::OPEN.contains(&s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::assert_table;

    #[test]
    fn the_problem_lifecycle_allows_exactly_its_moves() {
        assert_table(
            &LIFECYCLE,
            &[
                (New, &[UnderInvestigation, Closed]),
                (UnderInvestigation, &[KnownError, Resolved, Closed]),
                (KnownError, &[UnderInvestigation, Resolved]),
                (Resolved, &[Closed, UnderInvestigation]),
            ],
        );
    }

    #[test]
    fn a_refused_move_names_the_allowed_ones() {
        match LIFECYCLE.check(New, Resolved) {
            Err(AppError::InvalidTransition { allowed, message }) => {
                assert_eq!(allowed, ["UNDER_INVESTIGATION", "CLOSED"]);
                assert!(message.contains("UNDER_INVESTIGATION, CLOSED"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
