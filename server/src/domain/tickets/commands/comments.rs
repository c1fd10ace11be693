//! The ticket's conversation: public replies and internal notes.

use chrono::{DateTime, Utc};
use entity::{comment, ticket};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, EntityTrait, QueryFilter,
    sea_query::{BinOper, Expr, ExprTrait},
};
use serde_json::json;

use crate::domain::events::Topic;
use crate::{
    auth::Caller,
    db::Writes,
    domain::{attachments, events::Actor, input::text, sla, time_worked},
    error::{AppError, AppResult},
};

use super::{MAX_TEXT_CHARS, Standing, load_for_change, record, standing_of};

/// Files that come with a comment: spooled already, kept in the comment's transaction.
pub struct WithFiles<'a> {
    pub files: &'a attachments::Files,
    pub incoming: Vec<attachments::Incoming>,
}

/// Adds a public reply or (agents only) an internal note to a ticket the caller may see,
/// with the time worked on it when the desk records some, and the files that came with
/// it, in one transaction.
///
/// # Errors
/// BAD_USER_INPUT for an empty or too long body, or a requester's internal note;
/// NOT_FOUND for a ticket the caller may not see; as `time_worked::record` for the time
/// and `attachments::insert_on_ticket` for the files.
#[allow(clippy::too_many_arguments)]
pub async fn add_comment(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    body: &str,
    internal: bool,
    time: Option<&time_worked::NewEntry>,
    files: Option<WithFiles<'_>>,
) -> AppResult<(ticket::Model, comment::Model)> {
    let role = standing_of(caller)?;
    if internal && matches!(role, Standing::Requester(_)) {
        return Err(AppError::bad_input(
            "internal",
            "only agents may write internal work notes",
        ));
    }
    let body = text("body", body, MAX_TEXT_CHARS, true)?;
    let actor = Actor::of(caller);
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, None).await?;
    let saved_comment = comment::ActiveModel {
        ticket_id: Set(row.id),
        author_id: Set(actor.user_id),
        author_name: Set(actor.name.clone()),
        body: Set(body.clone()),
        internal: Set(internal),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // A comment is not an edit of the ticket: it does not bump the version, so that
    // someone editing the ticket meanwhile does not get a conflict.
    let mut update = ticket::Entity::update_many()
        .col_expr(ticket::Column::UpdatedAt, Expr::value(now))
        .filter(ticket::Column::Id.eq(row.id));
    let text = Expr::value(format!("\n{}", body.to_lowercase()));
    update = if internal {
        update.col_expr(
            ticket::Column::InternalSearchText,
            Expr::col(ticket::Column::InternalSearchText).binary(BinOper::Custom("||"), text),
        )
    } else {
        update.col_expr(
            ticket::Column::SearchText,
            Expr::col(ticket::Column::SearchText).binary(BinOper::Custom("||"), text),
        )
    };
    let is_response = !internal
        && matches!(role, Standing::Desk)
        && row.first_response_at.is_none()
        && (actor.user_id.is_none() || actor.user_id != row.requester_id);
    if is_response {
        update = update.col_expr(ticket::Column::FirstResponseAt, Expr::value(now));
    }
    update.exec(&txn).await?;
    let saved = ticket::Entity::find_by_id(row.id)
        .one(&txn)
        .await?
        .unwrap_or_else(|| row.clone());
    let payload = json!({
        "commentId": saved_comment.id,
        "internal": internal,
        "firstResponse": is_response,
    });
    record(
        &txn,
        &actor,
        now,
        Topic::TicketCommented,
        &saved,
        internal,
        payload,
    )
    .await?;
    sla::clocks::ticket_changed(&txn, &actor, &row, &saved, now).await?;
    if let Some(time) = time {
        time_worked::insert(&txn, caller, now, &saved, time, Some(saved_comment.id)).await?;
    }
    let mut kept = Vec::new();
    if let Some(WithFiles { files, incoming }) = files {
        let stored = attachments::insert_on_ticket(
            &txn,
            &files.store,
            files.limits,
            &actor,
            now,
            &saved,
            Some(&saved_comment),
            incoming,
            &mut kept,
        )
        .await;
        if let Err(error) = stored {
            attachments::undo(kept);
            return Err(error);
        }
    }
    if let Err(error) = txn.commit().await {
        attachments::undo(kept);
        return Err(error.into());
    }
    Ok((saved, saved_comment))
}
