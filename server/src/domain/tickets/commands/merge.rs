//! Merging a duplicate into the ticket that survives it, and undoing that.
//!
//! The duplicate's comments and attachments move to the survivor (each remembers where
//! it came from), its followers and its requester follow the survivor (so they keep
//! reading and hearing of it), and it closes as merged, naming the survivor: its number
//! still finds the survivor, and mail replies to it thread there. Nothing is sent for
//! what moved; the duplicate's requester is told once, by the `ticket.merged` event.
//! A manager can undo it: what moved goes back, the followers the merge made go, and
//! the duplicate takes the status it had.

use chrono::{DateTime, Utc};
use entity::{attachment, comment, ticket, ticket_follower};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::{BinOper, Expr, ExprTrait, Func, OnConflict},
};
use serde_json::json;

use crate::domain::events::{Topic, change};
use crate::domain::tickets::types::Status;
use crate::domain::versioned;
use crate::{
    auth::{Caller, Role},
    db::Db,
    domain::events::Actor,
    error::{AppError, AppResult},
};

use super::{Standing, load_for_change, record, save_change, standing_of};

/// The resolution code a merged duplicate closes with.
pub const MERGED: &str = "MERGED";
/// How many merges a number is followed through to its survivor.
const MAX_HOPS: usize = 10;

/// What a merge moved.
#[derive(Clone, Copy, Debug, Default)]
pub struct Moved {
    pub comments: u64,
    pub attachments: u64,
    pub followers: u64,
}

/// Merges `duplicate` (at the version the caller read) into `survivor`. The desk only,
/// on two open tickets of the same kind that the caller may both see.
///
/// # Errors
/// NOT_FOUND for a ticket the caller may not see; FORBIDDEN for a requester;
/// BAD_USER_INPUT for a ticket merged into itself, into another kind, or into one that
/// was itself merged; INVALID_TRANSITION for a closed ticket; CONFLICT for a stale version.
pub async fn merge(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    duplicate_id: i64,
    version: i32,
    survivor_id: i64,
) -> AppResult<(ticket::Model, ticket::Model, Moved)> {
    if matches!(standing_of(caller)?, Standing::Requester(_)) {
        return Err(AppError::Forbidden("only the desk merges tickets".into()));
    }
    if duplicate_id == survivor_id {
        return Err(AppError::bad_input(
            "survivorId",
            "a ticket cannot be merged into itself",
        ));
    }
    let txn = db.begin_write().await?;
    let duplicate = load_for_change(&txn, caller, duplicate_id, Some(version)).await?;
    let survivor = load_for_change(&txn, caller, survivor_id, None).await?;
    if let Some(which) = [&duplicate, &survivor]
        .into_iter()
        .find(|t| t.merged_into_id.is_some())
    {
        return Err(AppError::bad_input(
            "survivorId",
            format!(
                "{} was merged already: unmerge it first, or merge into the ticket it was merged into",
                which.number
            ),
        ));
    }
    for row in [&duplicate, &survivor] {
        if Status::parse(&row.status, "status")? == Status::Closed {
            return Err(AppError::InvalidTransition {
                message: format!(
                    "{} is closed: only open or resolved tickets are merged",
                    row.number
                ),
                allowed: vec![],
            });
        }
    }
    if duplicate.kind != survivor.kind {
        return Err(AppError::bad_input(
            "survivorId",
            format!(
                "{} is a {} and {} a {}: merge tickets of one kind",
                duplicate.number, duplicate.kind, survivor.number, survivor.kind
            ),
        ));
    }
    let moved = move_over(&txn, &duplicate, &survivor, now).await?;
    let closed = ticket::ActiveModel {
        status: Set(Status::Closed.as_str().into()),
        pending_reason: Set(None),
        closed_at: Set(Some(now)),
        resolved_at: Set(duplicate.resolved_at.or(Some(now))),
        resolution_code: Set(Some(MERGED.into())),
        resolution_notes: Set(Some(format!("Merged into {}.", survivor.number))),
        merged_into_id: Set(Some(survivor.id)),
        status_before_merge: Set(Some(duplicate.status.clone())),
        ..Default::default()
    };
    let payload = json!({
        "role": "duplicate",
        "survivorId": survivor.id,
        "survivorNumber": survivor.number,
        "moved": { "comments": moved.comments, "attachments": moved.attachments, "followers": moved.followers },
        "changes": [change("status", duplicate.status.clone(), Status::Closed.as_str())],
    });
    let merged = save_change(
        &txn,
        caller,
        now,
        Topic::TicketMerged,
        &duplicate,
        closed,
        payload,
    )
    .await?;
    let survivor = touched(&txn, survivor.id, now).await?;
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::TicketMerged,
        &survivor,
        false,
        json!({
            "role": "survivor",
            "duplicateId": duplicate.id,
            "duplicateNumber": duplicate.number,
            "moved": { "comments": moved.comments, "attachments": moved.attachments, "followers": moved.followers },
        }),
    )
    .await?;
    txn.commit().await?;
    Ok((survivor, merged, moved))
}

/// Moves the duplicate's comments and attachments to the survivor, and makes its
/// followers and requester the survivor's followers.
async fn move_over(
    txn: &DatabaseTransaction,
    duplicate: &ticket::Model,
    survivor: &ticket::Model,
    now: DateTime<Utc>,
) -> AppResult<Moved> {
    // Where a comment or file came from first is kept: unmerging a ticket that had
    // absorbed others gives back only its own.
    let comments = carry::<comment::Entity>(
        txn,
        (
            comment::Column::TicketId,
            comment::Column::MovedFromTicketId,
        ),
        duplicate.id,
        survivor.id,
    )
    .await?;
    let attachments = carry::<attachment::Entity>(
        txn,
        (
            attachment::Column::TicketId,
            attachment::Column::MovedFromTicketId,
        ),
        duplicate.id,
        survivor.id,
    )
    .await?;
    let mut people: Vec<i64> = ticket_follower::Entity::find()
        .filter(ticket_follower::Column::TicketId.eq(duplicate.id))
        .all(txn)
        .await?
        .into_iter()
        .map(|f| f.user_id)
        .collect();
    people.extend(duplicate.requester_id);
    people.retain(|p| Some(*p) != survivor.requester_id);
    people.sort_unstable();
    people.dedup();
    let mut followers = 0;
    for user_id in people {
        followers += ticket_follower::Entity::insert(ticket_follower::ActiveModel {
            ticket_id: Set(survivor.id),
            user_id: Set(user_id),
            from_ticket_id: Set(Some(duplicate.id)),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::columns([
                ticket_follower::Column::TicketId,
                ticket_follower::Column::UserId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    }
    // The survivor is found by what the duplicate said, too.
    let append = |column: ticket::Column, text: &str| {
        Expr::col(column).binary(BinOper::Custom("||"), Expr::value(format!("\n{text}")))
    };
    ticket::Entity::update_many()
        .col_expr(
            ticket::Column::SearchText,
            append(ticket::Column::SearchText, &duplicate.search_text),
        )
        .col_expr(
            ticket::Column::InternalSearchText,
            append(
                ticket::Column::InternalSearchText,
                &duplicate.internal_search_text,
            ),
        )
        .filter(ticket::Column::Id.eq(survivor.id))
        .exec(txn)
        .await?;
    Ok(Moved {
        comments,
        attachments,
        followers,
    })
}

/// Undoes a merge: a manager's. What moved goes back to the duplicate, the followers
/// the merge made go, and the duplicate takes the status it had.
///
/// # Errors
/// FORBIDDEN below manager; BAD_USER_INPUT for a ticket that was not merged; CONFLICT
/// for a stale version.
pub async fn unmerge(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    duplicate_id: i64,
    version: i32,
) -> AppResult<(ticket::Model, ticket::Model)> {
    caller.require_role(Role::Manager)?;
    let txn = db.begin_write().await?;
    let duplicate = load_for_change(&txn, caller, duplicate_id, Some(version)).await?;
    let Some(survivor_id) = duplicate.merged_into_id else {
        return Err(AppError::bad_input(
            "id",
            format!("{} was not merged into another ticket", duplicate.number),
        ));
    };
    let survivor = load_for_change(&txn, caller, survivor_id, None).await?;
    let comments = carry_back::<comment::Entity>(
        &txn,
        (
            comment::Column::TicketId,
            comment::Column::MovedFromTicketId,
        ),
        duplicate.id,
        survivor.id,
    )
    .await?;
    let attachments = carry_back::<attachment::Entity>(
        &txn,
        (
            attachment::Column::TicketId,
            attachment::Column::MovedFromTicketId,
        ),
        duplicate.id,
        survivor.id,
    )
    .await?;
    ticket_follower::Entity::delete_many()
        .filter(ticket_follower::Column::TicketId.eq(survivor.id))
        .filter(ticket_follower::Column::FromTicketId.eq(duplicate.id))
        .exec(&txn)
        .await?;
    let before = duplicate
        .status_before_merge
        .clone()
        .unwrap_or_else(|| Status::InProgress.as_str().into());
    let was_resolved = before == Status::Resolved.as_str();
    let reopened = ticket::ActiveModel {
        status: Set(before.clone()),
        closed_at: Set(None),
        resolved_at: Set(if was_resolved {
            duplicate.resolved_at
        } else {
            None
        }),
        resolution_code: Set(None),
        resolution_notes: Set(None),
        merged_into_id: Set(None),
        status_before_merge: Set(None),
        ..Default::default()
    };
    let payload = json!({
        "role": "duplicate",
        "survivorId": survivor.id,
        "survivorNumber": survivor.number,
        "returned": { "comments": comments, "attachments": attachments },
        "changes": [change("status", duplicate.status.clone(), before)],
    });
    let restored = save_change(
        &txn,
        caller,
        now,
        Topic::TicketUnmerged,
        &duplicate,
        reopened,
        payload,
    )
    .await?;
    let survivor = touched(&txn, survivor.id, now).await?;
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::TicketUnmerged,
        &survivor,
        false,
        json!({ "role": "survivor", "duplicateId": duplicate.id, "duplicateNumber": duplicate.number }),
    )
    .await?;
    txn.commit().await?;
    Ok((restored, survivor))
}

/// Moves the rows of `E` (comments, attachments) on `from` to `to`, each remembering
/// the ticket it first came from; how many moved.
async fn carry<E: EntityTrait>(
    txn: &DatabaseTransaction,
    (ticket, moved_from): (E::Column, E::Column),
    from: i64,
    to: i64,
) -> AppResult<u64> {
    Ok(E::update_many()
        .col_expr(ticket, Expr::value(to))
        .col_expr(
            moved_from,
            Func::coalesce([Expr::col(moved_from), Expr::value(from)]).into(),
        )
        .filter(ticket.eq(from))
        .exec(txn)
        .await?
        .rows_affected)
}

/// Moves back to `duplicate` the rows of `E` a merge moved from it to `survivor`.
async fn carry_back<E: EntityTrait>(
    txn: &DatabaseTransaction,
    (ticket, moved_from): (E::Column, E::Column),
    duplicate: i64,
    survivor: i64,
) -> AppResult<u64> {
    Ok(E::update_many()
        .col_expr(ticket, Expr::value(duplicate))
        .col_expr(moved_from, Expr::value(Option::<i64>::None))
        .filter(ticket.eq(survivor))
        .filter(moved_from.eq(duplicate))
        .exec(txn)
        .await?
        .rows_affected)
}

/// The survivor's row after what the merge did to it (its time of change).
async fn touched(
    txn: &DatabaseTransaction,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<ticket::Model> {
    ticket::Entity::update_many()
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(id))
        .exec(txn)
        .await?;
    versioned::find::<ticket::Entity>(txn, id).await
}

/// The ticket a merged one's number stands for now: followed through merges to the
/// ticket that survived them all (at most ten), or the row itself.
///
/// # Errors
/// INTERNAL when the database fails.
pub async fn survivor_of(
    conn: &impl ConnectionTrait,
    row: ticket::Model,
) -> AppResult<ticket::Model> {
    let mut current = row;
    for _ in 0..MAX_HOPS {
        let Some(next) = current.merged_into_id else {
            break;
        };
        match ticket::Entity::find_by_id(next).one(conn).await? {
            Some(found) => current = found,
            None => break,
        }
    }
    Ok(current)
}
