//! Moving a ticket along its lifecycle: by hand, when a held order is decided, when
//! the desk's auto-close period passes, and when the problem behind it is resolved.

use chrono::{DateTime, Utc};
use entity::{comment, ticket};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};
use serde_json::{Value, json};

use crate::domain::events::Topic;
use crate::domain::tickets::{
    lifecycle::{self, TransitionFacts},
    types::{PendingReason, Status},
};
use crate::domain::versioned;
use crate::{
    auth::{Caller, Role},
    db::{Db, Writes},
    domain::{
        events::{Actor, change},
        input::text,
        settings::{self, DeskSettings},
        sla,
    },
    error::{AppError, AppResult},
};

use super::{
    MAX_RESOLUTION_CODE_CHARS, MAX_TEXT_CHARS, Standing, load_for_change, record, save_change,
    standing_of,
};

/// Lets a held catalog order go: to NEW in its group's queue (approved) or CANCELLED
/// (rejected). Its SLA clocks follow, as for any change of status.
pub async fn release_held(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    row: &ticket::Model,
    to: Status,
) -> AppResult<ticket::Model> {
    let changed = ticket::ActiveModel {
        status: Set(to.as_str().into()),
        pending_reason: Set(None),
        closed_at: Set((to == Status::Cancelled).then_some(now)),
        ..Default::default()
    };
    let changes = json!([
        change("status", row.status.clone(), to.as_str()),
        change("pendingReason", row.pending_reason.clone(), Value::Null),
    ]);
    let saved = versioned::save::<ticket::Entity>(txn, row, changed, now).await?;
    let actor = Actor::of(caller);
    record(
        txn,
        &actor,
        now,
        Topic::TicketStatusChanged,
        &saved,
        false,
        json!({ "changes": changes }),
    )
    .await?;
    sla::clocks::ticket_changed(txn, &actor, row, &saved, now).await?;
    Ok(saved)
}

/// Where a ticket is moved to, with what that move needs.
pub struct Transition {
    pub to: Status,
    pub pending_reason: Option<PendingReason>,
    pub resolution_code: Option<String>,
    pub resolution_notes: Option<String>,
}

/// Moves a ticket along its lifecycle; its clocks pause, resume or stop as the
/// policy says.
///
/// # Errors
/// INVALID_TRANSITION off the table (or a reopen past the window), BAD_USER_INPUT for
/// what the move needs (a pending reason, resolution notes), CONFLICT when it changed
/// since it was read.
pub async fn transition(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    version: i32,
    input: Transition,
) -> AppResult<ticket::Model> {
    let role = standing_of(caller)?;
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, Some(version)).await?;
    let from = Status::parse(&row.status, "status")?;
    let to = input.to;
    if let Standing::Requester(_) = role {
        // A requester may withdraw a ticket, confirm a resolution, or reopen.
        let allowed = matches!(
            (from, to),
            (_, Status::Cancelled) | (Status::Resolved, Status::Closed | Status::InProgress)
        );
        if !allowed {
            return Err(AppError::Forbidden(format!(
                "requesters may cancel a ticket, close or reopen a resolved one; {to} is for agents"
            )));
        }
    }
    let desk = settings::load(&txn).await?;
    let mut assignee_id = row.assignee_id;
    if to == Status::InProgress
        && assignee_id.is_none()
        && let Caller::Person(person) = caller
        && person.has_role(Role::Agent)
    {
        // Starting work on an unassigned ticket takes it.
        assignee_id = Some(person.user_id);
    }
    lifecycle::check(
        from,
        to,
        &TransitionFacts {
            has_assignee: assignee_id.is_some(),
            resolved_at: row.resolved_at,
            reopen_window: desk.reopen_window(),
            now,
        },
    )?;
    let mut changes = vec![change("status", from.as_str(), to.as_str())];
    let mut changed = ticket::ActiveModel {
        status: Set(to.as_str().into()),
        ..Default::default()
    };
    if assignee_id != row.assignee_id {
        changes.push(change("assigneeId", row.assignee_id, assignee_id));
        changed.assignee_id = Set(assignee_id);
    }
    let pending_reason = match to {
        Status::Pending => Some(input.pending_reason.ok_or_else(|| {
            AppError::bad_input("pendingReason", "say what the ticket is waiting for: AWAITING_CUSTOMER, AWAITING_VENDOR or AWAITING_CHANGE")
        })?),
        _ => None,
    };
    let new_reason = pending_reason.map(|r| r.as_str().to_string());
    if new_reason != row.pending_reason {
        changes.push(change(
            "pendingReason",
            row.pending_reason.clone(),
            new_reason.clone(),
        ));
        changed.pending_reason = Set(new_reason);
    }
    match to {
        Status::Resolved => {
            let code = input
                .resolution_code
                .as_deref()
                .map(str::trim)
                .unwrap_or_default();
            if code.is_empty() || code.chars().count() > MAX_RESOLUTION_CODE_CHARS {
                return Err(AppError::bad_input(
                    "resolutionCode",
                    format!(
                        "resolving needs a resolution code of 1 to {MAX_RESOLUTION_CODE_CHARS} characters"
                    ),
                ));
            }
            let notes = input
                .resolution_notes
                .as_deref()
                .map(|n| text("resolutionNotes", n, MAX_TEXT_CHARS, false))
                .transpose()?;
            // Agents account for their work before they close it off; a requester, a
            // token or a rule resolving is not working the ticket.
            if desk.require_time_to_resolve
                && matches!(caller, Caller::Person(p) if p.has_role(Role::Agent))
                && crate::domain::time_worked::spent_on(&txn, row.id).await? == 0
            {
                return Err(AppError::bad_input(
                    "status",
                    format!(
                        "the desk records time worked before resolving: record the time spent on {} first (recordTime, or addComment with time)",
                        row.number
                    ),
                ));
            }
            changes.push(change("resolutionCode", row.resolution_code.clone(), code));
            changes.push(change(
                "resolutionNotes",
                row.resolution_notes.clone(),
                notes.clone(),
            ));
            changed.resolution_code = Set(Some(code.to_string()));
            changed.resolution_notes = Set(notes);
            changed.resolved_at = Set(Some(now));
        }
        Status::InProgress if from == Status::Resolved => {
            changes.push(change(
                "resolvedAt",
                row.resolved_at.map(|t| t.to_rfc3339()),
                Value::Null,
            ));
            changed.resolved_at = Set(None);
        }
        Status::Closed | Status::Cancelled => changed.closed_at = Set(Some(now)),
        _ => {}
    }
    let topic = if from == Status::Resolved && to == Status::InProgress {
        Topic::TicketReopened
    } else {
        Topic::TicketStatusChanged
    };
    let saved = save_change(
        &txn,
        caller,
        now,
        topic,
        &row,
        changed,
        json!({ "changes": changes }),
    )
    .await?;
    if to == Status::Resolved {
        // Its requester may be asked how it went, and its children resolve with it,
        // by rule, in the same transaction.
        crate::domain::satisfaction::offer(&txn, &desk, caller, now, &saved).await?;
        crate::domain::tickets::links::resolve_children(&txn, caller, now, &desk, &saved).await?;
    }
    txn.commit().await?;
    Ok(saved)
}

/// Closes tickets resolved longer ago than the desk's auto-close period, oldest first,
/// a batch at a time. Returns how many it closed.
pub async fn close_resolved(db: &Db, now: DateTime<Utc>) -> AppResult<usize> {
    use sea_orm::{QueryOrder, QuerySelect};
    let desk = settings::load(db.conn()).await?;
    let cutoff = now - desk.auto_close_after();
    let mut closed = 0;
    loop {
        let txn = db.begin_write().await?;
        let due = ticket::Entity::find()
            .filter(ticket::Column::Status.eq(Status::Resolved.as_str()))
            .filter(ticket::Column::ResolvedAt.lte(cutoff))
            .order_by_asc(ticket::Column::ResolvedAt)
            .limit(100)
            .all(&txn)
            .await?;
        let batch = due.len();
        for row in due {
            let changed = ticket::ActiveModel {
                status: Set(Status::Closed.as_str().into()),
                closed_at: Set(Some(now)),
                ..Default::default()
            };
            let saved = versioned::save::<ticket::Entity>(&txn, &row, changed, now).await?;
            let payload = json!({
                "changes": [change("status", Status::Resolved.as_str(), Status::Closed.as_str())],
                "reason": format!("closed automatically {} days after resolution", desk.auto_close_days),
            });
            record(
                &txn,
                &Actor::system(),
                now,
                Topic::TicketStatusChanged,
                &saved,
                false,
                payload,
            )
            .await?;
        }
        txn.commit().await?;
        closed += batch;
        if batch < 100 {
            return Ok(closed);
        }
    }
}

/// Resolves an open ticket because the problem behind it was fixed, inside the
/// problem's transaction: a public comment says why, and its clocks stop as for any
/// resolution. Returns None when the ticket was no longer open.
pub async fn resolve_by_problem(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    desk: &DeskSettings,
    ticket_id: i64,
    note: &str,
) -> AppResult<Option<ticket::Model>> {
    resolve_with(txn, caller, now, desk, ticket_id, "SOLVED_BY_PROBLEM", note).await
}

/// Resolves an open ticket because something else was (its problem, its parent),
/// inside that one's transaction: a public comment says why, its resolution code is
/// `code`, and its clocks stop as for any resolution. Returns None when the ticket was
/// no longer open. `desk` is the settings the caller read once for all it resolves.
pub async fn resolve_with(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    desk: &DeskSettings,
    ticket_id: i64,
    code: &str,
    note: &str,
) -> AppResult<Option<ticket::Model>> {
    let Some(row) = ticket::Entity::find_by_id(ticket_id).one(txn).await? else {
        return Ok(None);
    };
    let from = Status::parse(&row.status, "status")?;
    if !from.is_open() {
        return Ok(None);
    }
    let actor = Actor::of(caller);
    let comment = comment::ActiveModel {
        ticket_id: Set(row.id),
        author_id: Set(actor.user_id),
        author_name: Set(actor.name.clone()),
        body: Set(note.to_string()),
        internal: Set(false),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let changed = ticket::ActiveModel {
        status: Set(Status::Resolved.as_str().into()),
        pending_reason: Set(None),
        resolution_code: Set(Some(code.into())),
        resolution_notes: Set(Some(note.to_string())),
        resolved_at: Set(Some(now)),
        first_response_at: Set(row.first_response_at.or(Some(now))),
        search_text: Set(format!("{}\n{}", row.search_text, note.to_lowercase())),
        ..Default::default()
    };
    let saved = versioned::save::<ticket::Entity>(txn, &row, changed, now).await?;
    let comment_payload = json!({ "commentId": comment.id, "internal": false, "firstResponse": row.first_response_at.is_none() });
    record(
        txn,
        &actor,
        now,
        Topic::TicketCommented,
        &saved,
        false,
        comment_payload,
    )
    .await?;
    let changes = json!([
        change("status", row.status.clone(), Status::Resolved.as_str()),
        change("resolutionCode", row.resolution_code.clone(), code),
    ]);
    record(
        txn,
        &actor,
        now,
        Topic::TicketStatusChanged,
        &saved,
        false,
        json!({ "changes": changes }),
    )
    .await?;
    sla::clocks::ticket_changed(txn, &actor, &row, &saved, now).await?;
    crate::domain::satisfaction::offer(txn, desk, caller, now, &saved).await?;
    Ok(Some(saved))
}
