//! Attaching files and removing them: one transaction each, with the event that puts
//! them into the ticket's (or article's) history.

use chrono::{DateTime, Utc};
use entity::{attachment, comment, ticket};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, Func},
};
use serde_json::json;

use super::{Kept, Limits, Spooled, Store, clean_filename, store::human};
use crate::{
    auth::{Caller, Role, Scope as TokenScope},
    db::Db,
    domain::{
        events::{Actor, Topic},
        knowledge,
        tickets::{
            commands::{Standing, load_for_change, record, standing_of},
            types::Status,
        },
    },
    error::{AppError, AppResult},
};

/// What a file is attached to.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    Ticket(i64),
    /// A comment, and so its ticket.
    Comment(i64),
    Article(i64),
}

/// A file read and spooled, with the name it was sent with.
pub struct Incoming {
    pub filename: String,
    pub spooled: Spooled,
}

/// Attaches files to a ticket, a comment the caller wrote (agents: any comment they may
/// see), or an article (authors only), in one transaction.
///
/// # Errors
/// NOT_FOUND for what the caller may not see; FORBIDDEN for another person's comment or a
/// requester on an article; INVALID_TRANSITION on a closed ticket; BAD_USER_INPUT past
/// the ticket's total.
pub async fn attach(
    db: &Db,
    store: &Store,
    limits: Limits,
    caller: &Caller,
    now: DateTime<Utc>,
    target: Target,
    files: Vec<Incoming>,
) -> AppResult<Vec<attachment::Model>> {
    let txn = db.begin_write().await?;
    let mut kept = Vec::new();
    let made = attach_in(&txn, store, limits, caller, now, target, files, &mut kept).await;
    let committed = match made {
        Ok(made) => txn.commit().await.map(|()| made).map_err(AppError::from),
        Err(error) => Err(error),
    };
    if committed.is_err() {
        undo(kept);
    }
    committed
}

#[allow(clippy::too_many_arguments)]
async fn attach_in(
    txn: &DatabaseTransaction,
    store: &Store,
    limits: Limits,
    caller: &Caller,
    now: DateTime<Utc>,
    target: Target,
    files: Vec<Incoming>,
    kept: &mut Vec<Kept>,
) -> AppResult<Vec<attachment::Model>> {
    let actor = Actor::of(caller);
    match target {
        Target::Ticket(id) => {
            let row = load_for_change(txn, caller, id, None).await?;
            insert_on_ticket(txn, store, limits, &actor, now, &row, None, files, kept).await
        }
        Target::Comment(id) => {
            let note = comment::Entity::find_by_id(id).one(txn).await?;
            let row = match &note {
                Some(note) => load_for_change(txn, caller, note.ticket_id, None).await,
                None => Err(missing_comment()),
            };
            let (Some(note), Ok(row)) = (note, row) else {
                return Err(missing_comment());
            };
            let standing = standing_of(caller)?;
            if note.internal && matches!(standing, Standing::Requester(_)) {
                return Err(missing_comment());
            }
            if matches!(standing, Standing::Requester(_)) && note.author_id != actor.user_id {
                return Err(AppError::Forbidden(
                    "you may attach files only to your own comments".into(),
                ));
            }
            insert_on_ticket(
                txn,
                store,
                limits,
                &actor,
                now,
                &row,
                Some(&note),
                files,
                kept,
            )
            .await
        }
        Target::Article(id) => {
            caller.require_role_or_scope(Role::Agent, TokenScope::TicketsWrite)?;
            let article = knowledge::find(txn, id).await?;
            let mut made = Vec::new();
            for file in files {
                let row = insert(txn, store, &actor, now, file, kept, |a| {
                    a.article_id = Set(Some(article.id));
                })
                .await?;
                knowledge::record_attachment(
                    txn,
                    &actor,
                    now,
                    Topic::ArticleAttachmentAdded,
                    &article,
                    &row,
                )
                .await?;
                made.push(row);
            }
            Ok(made)
        }
    }
}

/// Attaches files to a ticket (with the comment they came with, if any) in the caller's
/// transaction: what `attach`, adding a comment and mail in share. What it places in
/// the store is added to `kept`, for `undo` should the transaction not commit.
///
/// # Errors
/// INVALID_TRANSITION on a closed ticket; BAD_USER_INPUT past the ticket's total.
#[allow(clippy::too_many_arguments)]
pub async fn insert_on_ticket(
    txn: &DatabaseTransaction,
    store: &Store,
    limits: Limits,
    actor: &Actor,
    now: DateTime<Utc>,
    row: &ticket::Model,
    note: Option<&comment::Model>,
    files: Vec<Incoming>,
    kept: &mut Vec<Kept>,
) -> AppResult<Vec<attachment::Model>> {
    if files.is_empty() {
        return Ok(vec![]);
    }
    if Status::parse(&row.status, "status")? == Status::Closed {
        return Err(AppError::InvalidTransition {
            message: format!("{} is closed: files cannot be added to it", row.number),
            allowed: vec![],
        });
    }
    let held: Option<i64> = attachment::Entity::find()
        .select_only()
        // PostgreSQL sums BIGINTs as NUMERIC: back to BIGINT, as SQLite gives it.
        .expr(Func::cast_as(
            Func::sum(Expr::col(attachment::Column::Size)),
            Alias::new("BIGINT"),
        ))
        .filter(attachment::Column::TicketId.eq(row.id))
        .into_tuple::<Option<i64>>()
        .one(txn)
        .await?
        .flatten();
    let adding: u64 = files.iter().map(|f| f.spooled.size).sum();
    if held.unwrap_or(0) as u64 + adding > limits.per_ticket {
        return Err(AppError::bad_input(
            "files",
            format!(
                "{} holds {} of files, and these would take it past {}, the most one ticket keeps (SWITCHBOARD_MAX_TICKET_ATTACHMENT_BYTES)",
                row.number,
                human(held.unwrap_or(0) as u64),
                human(limits.per_ticket)
            ),
        ));
    }
    let internal = note.is_some_and(|n| n.internal);
    let mut made = Vec::new();
    for file in files {
        let saved = insert(txn, store, actor, now, file, kept, |a| {
            a.ticket_id = Set(Some(row.id));
            a.comment_id = Set(note.map(|n| n.id));
            a.internal = Set(internal);
        })
        .await?;
        record(
            txn,
            actor,
            now,
            Topic::TicketAttachmentAdded,
            row,
            internal,
            json!({
                "attachmentId": saved.id,
                "filename": saved.filename,
                "size": saved.size,
                "commentId": saved.comment_id,
            }),
        )
        .await?;
        made.push(saved);
    }
    Ok(made)
}

async fn insert(
    txn: &DatabaseTransaction,
    store: &Store,
    actor: &Actor,
    now: DateTime<Utc>,
    file: Incoming,
    kept: &mut Vec<Kept>,
    on: impl FnOnce(&mut attachment::ActiveModel),
) -> AppResult<attachment::Model> {
    let filename = clean_filename(&file.filename);
    let placed = store.keep(txn, file.spooled, now).await?;
    let blob = placed.blob.clone();
    kept.push(placed);
    let mut row = attachment::ActiveModel {
        sha256: Set(blob.sha256),
        filename: Set(filename),
        size: Set(blob.size),
        media_type: Set(blob.media_type),
        uploaded_by_id: Set(actor.user_id),
        uploaded_by_name: Set(actor.name.clone()),
        created_at: Set(now),
        internal: Set(false),
        ..Default::default()
    };
    on(&mut row);
    Ok(row.insert(txn).await?)
}

/// Removes an attachment: its uploader, or the desk (authors, for an article's). The
/// bytes go when nothing else refers to them.
///
/// # Errors
/// NOT_FOUND for a file the caller may not see; FORBIDDEN for a requester removing
/// another person's file.
pub async fn remove(
    db: &Db,
    store: &Store,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
) -> AppResult<attachment::Model> {
    let actor = Actor::of(caller);
    let txn = db.begin_write().await?;
    let row = attachment::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(missing)?;
    if let Some(ticket_id) = row.ticket_id {
        let ticket = load_for_change(&txn, caller, ticket_id, None).await?;
        let standing = standing_of(caller)?;
        if let Standing::Requester(user) = standing {
            if row.internal {
                return Err(missing());
            }
            if row.uploaded_by_id != Some(user) {
                return Err(AppError::Forbidden(
                    "you may remove only files you attached".into(),
                ));
            }
        }
        record(
            &txn,
            &actor,
            now,
            Topic::TicketAttachmentRemoved,
            &ticket,
            row.internal,
            json!({ "attachmentId": row.id, "filename": row.filename, "commentId": row.comment_id }),
        )
        .await?;
    } else if let Some(article_id) = row.article_id {
        caller.require_role_or_scope(Role::Agent, TokenScope::TicketsWrite)?;
        let article = knowledge::find(&txn, article_id).await?;
        knowledge::record_attachment(
            &txn,
            &actor,
            now,
            Topic::ArticleAttachmentRemoved,
            &article,
            &row,
        )
        .await?;
    }
    attachment::Entity::delete_by_id(row.id).exec(&txn).await?;
    let unused = store.forget_unused(&txn, &row.sha256).await?;
    txn.commit().await?;
    if let Some(path) = unused {
        // After the commit: a crash before this leaves a file nothing names, never a
        // name without its file.
        let _ = tokio::fs::remove_file(path).await;
    }
    Ok(row)
}

/// Takes away what `insert_on_ticket` placed, when its transaction did not commit.
pub fn undo(kept: Vec<Kept>) {
    for k in kept {
        k.undo();
    }
}

fn missing() -> AppError {
    AppError::NotFound("there is no attachment with that id that you can see".into())
}

fn missing_comment() -> AppError {
    AppError::NotFound("there is no comment with that id that you can see".into())
}
