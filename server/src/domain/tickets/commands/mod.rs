//! Changing tickets. Each command is one write transaction: the change, checked against
//! the version the caller read, and its event in the log.
//!
//! One file per kind of change: raising a ticket (`create`), editing its fields and links
//! (`edit`), moving it along its lifecycle (`status`), assigning and escalating it
//! (`assignment`) and commenting (`comments`). What they share is here: who may do what,
//! loading the ticket at the version read, and the save-record-commit at the end.

mod assignment;
mod comments;
mod create;
mod edit;
mod merge;
mod status;

use chrono::{DateTime, Utc};
use entity::{
    category, configuration_item, group, group_member, ticket, ticket_configuration_item, user,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};
use serde_json::Value;

use crate::domain::events::{TicketSnapshot, Topic};
use crate::domain::tickets::{
    lifecycle,
    types::{Kind, Status},
    visibility::Scope,
};
use crate::domain::versioned;
use crate::{
    auth::{Caller, Role, Scope as TokenScope},
    domain::{
        events::{self, Actor, NewEvent},
        lookup::referenced,
        sla,
    },
    error::{AppError, AppResult},
};

pub use assignment::{Escalation, assign, escalate, hand_to_supplier};
pub use comments::{WithFiles, add_comment};
pub use create::{NewTicket, create, insert};
pub(crate) use edit::set_priority;
pub use edit::{TicketChanges, link_cause, link_configuration_items, update};
pub use merge::{MERGED, Moved, merge, survivor_of, unmerge};
pub use status::{
    Transition, close_resolved, release_held, resolve_by_problem, resolve_with, transition,
};

/// The longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest description, comment or note, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// The longest resolution code, in characters.
pub const MAX_RESOLUTION_CODE_CHARS: usize = 100;

/// What the caller may do to tickets beyond reading them.
pub(crate) enum Standing {
    /// Agents, managers, admins, and partner tokens with `tickets:write`.
    Desk,
    /// A requester, on their own tickets.
    Requester(i64),
}

pub(crate) fn standing_of(caller: &Caller) -> AppResult<Standing> {
    match caller {
        Caller::Partner(partner) => {
            partner.require_scope(TokenScope::TicketsWrite)?;
            Ok(Standing::Desk)
        }
        Caller::Person(person) if person.has_role(Role::Agent) => Ok(Standing::Desk),
        Caller::Person(person) => Ok(Standing::Requester(person.user_id)),
        Caller::Anonymous => Err(crate::auth::not_signed_in()),
    }
}

fn agents_only(field: &str) -> AppError {
    AppError::bad_input(field, format!("only agents may set {field}"))
}

/// The lower-cased text searched by `tickets(filter: { text })`.
fn searchable(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.to_lowercase())
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) async fn record(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &ticket::Model,
    internal: bool,
    mut payload: Value,
) -> AppResult<()> {
    payload["ticket"] = TicketSnapshot::of(row).to_json();
    events::append(
        txn,
        actor,
        now,
        NewEvent {
            topic,
            entity_type: "ticket",
            entity_id: row.id,
            internal,
            payload,
        },
    )
    .await?;
    Ok(())
}

async fn require_member(
    conn: &impl ConnectionTrait,
    group: &group::Model,
    user_id: i64,
) -> AppResult<user::Model> {
    let agent = referenced::<user::Entity>(conn, user_id, "assigneeId", "user").await?;
    let member = group_member::Entity::find_by_id((group.id, user_id))
        .one(conn)
        .await?;
    if member.is_none() {
        return Err(AppError::bad_input(
            "assigneeId",
            format!("{} is not a member of the group {}", agent.name, group.name),
        ));
    }
    Ok(agent)
}

/// The category and its ancestors, for rules on a parent category.
async fn category_line(
    conn: &impl ConnectionTrait,
    category_id: Option<i64>,
) -> AppResult<Vec<i64>> {
    let mut line = Vec::new();
    let mut next = category_id;
    while let Some(id) = next {
        let category = referenced::<category::Entity>(conn, id, "categoryId", "category").await?;
        line.push(category.id);
        next = category.parent_id;
        if line.len() > 32 {
            break;
        }
    }
    Ok(line)
}

async fn next_number(txn: &DatabaseTransaction, kind: Kind) -> AppResult<String> {
    crate::domain::numbers::next(txn, kind.as_str(), kind.prefix()).await
}

/// Loads a ticket for a change: visible to the caller, and at the version they read.
pub(crate) async fn load_for_change(
    txn: &DatabaseTransaction,
    caller: &Caller,
    ticket_id: i64,
    version: Option<i32>,
) -> AppResult<ticket::Model> {
    let scope = Scope::of(txn, caller).await?;
    let row = scope.check(
        ticket::Entity::find_by_id(ticket_id).one(txn).await?,
        "with that id",
    )?;
    if let Some(version) = version {
        versioned::check::<ticket::Entity>(&row, version)?;
    }
    Ok(row)
}

/// The ticket's status, if it is still being worked; otherwise INVALID_TRANSITION
/// saying what `doing` needs.
fn require_open(row: &ticket::Model, doing: &str) -> AppResult<Status> {
    let status = Status::parse(&row.status, "status")?;
    if status.is_open() {
        return Ok(status);
    }
    Err(AppError::InvalidTransition {
        message: format!("{} is {status}: {doing}", row.number),
        allowed: lifecycle::allowed_from(status)
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
    })
}

/// Saves the change, appends its event and commits: the end of every edit.
async fn commit_change(
    txn: DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    topic: Topic,
    row: &ticket::Model,
    changed: ticket::ActiveModel,
    payload: Value,
) -> AppResult<ticket::Model> {
    let saved = save_change(&txn, caller, now, topic, row, changed, payload).await?;
    txn.commit().await?;
    Ok(saved)
}

/// `commit_change` for a command that does more in the same transaction afterwards.
async fn save_change(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    topic: Topic,
    row: &ticket::Model,
    changed: ticket::ActiveModel,
    payload: Value,
) -> AppResult<ticket::Model> {
    let saved = versioned::save::<ticket::Entity>(txn, row, changed, now).await?;
    let actor = Actor::of(caller);
    record(txn, &actor, now, topic, &saved, false, payload).await?;
    sla::clocks::ticket_changed(txn, &actor, row, &saved, now).await?;
    Ok(saved)
}

/// The distinct ids of existing configuration items, sorted; BAD_USER_INPUT when one
/// does not exist.
async fn checked_items(txn: &DatabaseTransaction, ids: &[i64]) -> AppResult<Vec<i64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(ids);
    }
    if ids.len() > 100 {
        return Err(AppError::bad_input(
            "configurationItemIds",
            "link at most 100 configuration items to a ticket",
        ));
    }
    let found = configuration_item::Entity::find()
        .filter(configuration_item::Column::Id.is_in(ids.iter().copied()))
        .all(txn)
        .await?;
    if found.len() != ids.len() {
        return Err(AppError::bad_input(
            "configurationItemIds",
            "one of these configuration items does not exist",
        ));
    }
    Ok(ids)
}

/// Replaces a ticket's links to configuration items with `ids`.
async fn write_links(txn: &DatabaseTransaction, ticket_id: i64, ids: &[i64]) -> AppResult<()> {
    ticket_configuration_item::Entity::delete_many()
        .filter(ticket_configuration_item::Column::TicketId.eq(ticket_id))
        .exec(txn)
        .await?;
    add_links(txn, ticket_id, ids).await
}

/// Links a ticket to configuration items it is not linked to yet (a new ticket's).
async fn add_links(txn: &DatabaseTransaction, ticket_id: i64, ids: &[i64]) -> AppResult<()> {
    if !ids.is_empty() {
        ticket_configuration_item::Entity::insert_many(ids.iter().map(|&ci| {
            ticket_configuration_item::ActiveModel {
                ticket_id: Set(ticket_id),
                configuration_item_id: Set(ci),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(())
}
