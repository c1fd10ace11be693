//! Mail in: one code path for every way a message arrives (the gateway a mail server
//! pipes to, the IMAP mailbox). Each message is recorded by its Message-ID before
//! anything else, so one seen twice makes one ticket; then processed in a transaction
//! of its own, so one that fails is set aside with the reason and never blocks the next.

use chrono::{DateTime, Utc};
use entity::{mail_message, ticket, user};
use mail_parser::{Message, MessageParser, MimeHeaders};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, Func},
};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{
    classify,
    types::{MessageState, Source},
};
use crate::{
    db::Db,
    domain::{
        attachments, settings,
        tickets::{
            commands::{self, NewTicket, Transition, WithFiles},
            types::{Channel, Kind, Level, Status},
            visibility::Scope,
        },
        users,
    },
    error::{AppError, AppResult},
};

/// The largest message taken, in bytes: larger ones are set aside unread.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// What became of a message.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub state: MessageState,
    /// The ticket it opened or commented on.
    pub ticket_number: Option<String>,
    pub reason: Option<String>,
    /// The message had been received before; this time nothing was done.
    pub duplicate: bool,
}

/// Records and processes one message.
///
/// # Errors
/// Only when the database fails (the message then stays RECEIVED, and is processed
/// when it comes again): whatever is wrong with the message itself sets it aside.
pub async fn receive(
    db: &Db,
    files: &attachments::Files,
    source: Source,
    raw: &[u8],
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let parsed = (raw.len() <= MAX_BYTES)
        .then(|| MessageParser::default().parse(raw))
        .flatten();
    let message_id = parsed
        .as_ref()
        .and_then(|m| m.message_id())
        .map(|id| plain(id, 250))
        .filter(|id| !id.is_empty() && id.len() <= 250)
        .unwrap_or_else(|| format!("sha256:{}", hex::encode(Sha256::digest(raw))));
    let record = match record(db, source, &message_id, parsed.as_ref(), raw, now).await? {
        Recorded::New(row) => row,
        Recorded::Seen(row) => {
            let state = MessageState::stored(&row.state)?;
            if state != MessageState::Received {
                return Ok(Outcome {
                    state,
                    ticket_number: number_of(db, row.ticket_id).await?,
                    reason: row.reason,
                    duplicate: true,
                });
            }
            row
        }
    };
    let decided = match &parsed {
        None if raw.len() > MAX_BYTES => Err(format!(
            "the message is {} bytes; the desk takes at most {MAX_BYTES}",
            raw.len()
        )),
        None => Err("it is not a mail message".to_string()),
        Some(message) => Ok(message),
    };
    let result = match decided {
        Err(reason) => Ok(Done::SetAside(reason)),
        Ok(message) => process(db, files, record.id, message, now).await,
    };
    let done = match result {
        Ok(done) => done,
        Err(AppError::Internal(why)) => return Err(AppError::Internal(why)),
        Err(refusal) => Done::SetAside(refusal.to_string()),
    };
    finish(db, record, done, now).await
}

/// What processing decided, written with the record.
enum Done {
    Ticket(ticket::Model),
    Comment(ticket::Model),
    Ignored(String),
    SetAside(String),
}

enum Recorded {
    New(mail_message::Model),
    Seen(mail_message::Model),
}

/// Records the message as received, or finds its record from an earlier time.
async fn record(
    db: &Db,
    source: Source,
    message_id: &str,
    parsed: Option<&Message<'_>>,
    raw: &[u8],
    now: DateTime<Utc>,
) -> AppResult<Recorded> {
    let find = || {
        mail_message::Entity::find()
            .filter(mail_message::Column::MessageId.eq(message_id))
            .one(db.conn())
    };
    if let Some(row) = find().await? {
        return Ok(Recorded::Seen(row));
    }
    let kept = &raw[..raw.len().min(MAX_BYTES)];
    let txn = db.begin_write().await?;
    let inserted = mail_message::ActiveModel {
        message_id: Set(message_id.to_string()),
        source: Set(source.as_str().into()),
        sender: Set(plain(
            &parsed.and_then(classify::sender).unwrap_or_default(),
            250,
        )),
        subject: Set(plain(
            parsed.and_then(|m| m.subject()).unwrap_or_default(),
            250,
        )),
        state: Set(MessageState::Received.as_str().into()),
        reason: Set(None),
        ticket_id: Set(None),
        size: Set(raw.len().min(i32::MAX as usize) as i32),
        raw: Set(String::from_utf8_lossy(kept).replace('\0', "")),
        received_at: Set(now),
        processed_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let inserted = match inserted {
        Ok(row) => txn.commit().await.map(|()| row),
        Err(error) => Err(error),
    };
    match inserted {
        Ok(row) => Ok(Recorded::New(row)),
        // Another replica (or the same message piped twice at once) recorded it first.
        Err(_) => match find().await? {
            Some(row) => Ok(Recorded::Seen(row)),
            None => Err(AppError::Internal(
                "a mail message could not be recorded".into(),
            )),
        },
    }
}

/// Decides what the message is and does it, in one transaction, with its attachments.
async fn process(
    db: &Db,
    files: &attachments::Files,
    record_id: i64,
    message: &Message<'_>,
    now: DateTime<Utc>,
) -> AppResult<Done> {
    if let Some(reason) = classify::automatic(message) {
        return Ok(Done::Ignored(reason));
    }
    let Some(address) = classify::sender(message) else {
        return Ok(Done::SetAside("it has no sender (From) address".into()));
    };
    let incoming = spool_attachments(files, message).await?;
    let txn = db.begin_write().await?;
    let Some(author) = author(&txn, &address, classify::sender_name(message), now).await? else {
        return Ok(Done::SetAside(format!(
            "{address} is not known to the desk, and the desk takes mail only from people it knows (mailFromStrangers)"
        )));
    };
    let caller = users::acting_as(&author, None);
    let text = body(message);
    // A number the author may not see is no reply of theirs: the message is new, and
    // says nothing of that ticket, as a query of theirs would not.
    let scope = Scope::of(&txn, &caller).await?;
    // A reply to a merged duplicate's number threads into the ticket that survived it.
    let replied_to = match classify::ticket_number(message) {
        Some(number) => match ticket::Entity::find()
            .filter(ticket::Column::Number.eq(&number))
            .one(&txn)
            .await?
        {
            Some(row) => Some(commands::survivor_of(&txn, row).await?).filter(|t| scope.allows(t)),
            None => None,
        },
        None => None,
    };
    if let Some(ticket) = replied_to {
        let number = ticket.number.clone();
        let open = reopened(&txn, &caller, &ticket, now).await?;
        if open {
            let with_files = WithFiles { files, incoming };
            let (saved, _) = commands::add_comment(
                &txn,
                &caller,
                now,
                ticket.id,
                &text,
                false,
                None,
                Some(with_files),
            )
            .await?;
            mark(
                &txn,
                record_id,
                MessageState::Commented,
                Some(&saved),
                None,
                now,
            )
            .await?;
            txn.commit().await?;
            return Ok(Done::Comment(saved));
        }
        // Closed, or resolved too long ago: a new ticket that says what it follows.
        let description = format!("Follows {number}, which is closed.\n\n{text}");
        let created =
            commands::create(&txn, &caller, now, new_ticket(message, description)).await?;
        keep_on(&txn, files, &caller, now, &created, incoming).await?;
        mark(
            &txn,
            record_id,
            MessageState::TicketCreated,
            Some(&created),
            None,
            now,
        )
        .await?;
        txn.commit().await?;
        return Ok(Done::Ticket(created));
    }
    let created = commands::create(&txn, &caller, now, new_ticket(message, text)).await?;
    keep_on(&txn, files, &caller, now, &created, incoming).await?;
    // The record says so in the same transaction: a crash leaves either both or neither.
    mark(
        &txn,
        record_id,
        MessageState::TicketCreated,
        Some(&created),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(Done::Ticket(created))
}

/// The message's attachments (inline images too), each spooled to a temporary file:
/// read before the transaction begins, so that it is held no longer than the writes.
async fn spool_attachments(
    files: &attachments::Files,
    message: &Message<'_>,
) -> AppResult<Vec<attachments::Incoming>> {
    let mut incoming = Vec::new();
    for (n, part) in message.attachments().enumerate() {
        let contents = part.contents();
        if contents.is_empty() {
            continue;
        }
        let filename = part
            .attachment_name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("attachment-{}", n + 1));
        let spooled = files
            .store
            .spool(contents, files.limits.per_file, "attachments")
            .await
            .map_err(|refusal| match refusal {
                AppError::BadUserInput { message, .. } => {
                    AppError::bad_input("attachments", format!("{filename}: {message}"))
                }
                other => other,
            })?;
        incoming.push(attachments::Incoming { filename, spooled });
    }
    Ok(incoming)
}

/// Keeps a new ticket's attachments on it, in the message's transaction.
async fn keep_on(
    txn: &DatabaseTransaction,
    files: &attachments::Files,
    caller: &crate::auth::Caller,
    now: DateTime<Utc>,
    ticket: &ticket::Model,
    incoming: Vec<attachments::Incoming>,
) -> AppResult<()> {
    let mut kept = Vec::new();
    let actor = crate::domain::events::Actor::of(caller);
    let stored = attachments::insert_on_ticket(
        txn,
        &files.store,
        files.limits,
        &actor,
        now,
        ticket,
        None,
        incoming,
        &mut kept,
    )
    .await;
    if stored.is_err() {
        attachments::undo(kept);
    }
    stored.map(|_| ())
}

/// Whether the ticket takes comments now: open, or resolved and reopened by this reply
/// within the reopen window, as the lifecycle says.
async fn reopened(
    txn: &DatabaseTransaction,
    caller: &crate::auth::Caller,
    ticket: &ticket::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let status = Status::stored(&ticket.status)?;
    if status.is_open() {
        return Ok(true);
    }
    if status != Status::Resolved {
        return Ok(false);
    }
    let reopen = Transition {
        to: Status::InProgress,
        pending_reason: None,
        resolution_code: None,
        resolution_notes: None,
    };
    match commands::transition(txn, caller, now, ticket.id, ticket.version, reopen).await {
        Ok(_) => Ok(true),
        Err(AppError::InvalidTransition { .. }) => Ok(false),
        Err(other) => Err(other),
    }
}

/// The person who wrote: a known user by email, or (when the desk takes mail from
/// strangers) a new requester.
async fn author(
    txn: &DatabaseTransaction,
    address: &str,
    name: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<Option<user::Model>> {
    let lower = address.to_lowercase();
    let known = user::Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(user::Column::Email))).eq(lower.clone()))
        .one(txn)
        .await?;
    if known.is_some() {
        return Ok(known);
    }
    if !settings::load(txn).await?.mail_from_strangers {
        return Ok(None);
    }
    let created = user::ActiveModel {
        subject: Set(format!("mailto:{lower}")),
        name: Set(name.unwrap_or_else(|| address.to_string())),
        email: Set(Some(address.to_string())),
        roles: Set(json!(["requester"])),
        groups: Set(json!([])),
        created_at: Set(now),
        updated_at: Set(now),
        organization_id: Set(None),
        available: Set(true),
        manager_id: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(Some(created))
}

/// Text from a message as the desk keeps it: no control characters but line breaks and
/// tabs (a NUL, which mail may carry and the desk refuses, least of all), trimmed, at
/// most `chars` characters. Mail is not refused for what its sender's program put in it.
fn plain(text: &str, chars: usize) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .trim()
        .chars()
        .take(chars)
        .collect()
}

/// The text of the message: its plain text part, or its HTML converted to text.
fn body(message: &Message<'_>) -> String {
    let text = plain(
        &message.body_text(0).unwrap_or_default(),
        commands::MAX_TEXT_CHARS,
    );
    if text.is_empty() {
        "(the message had no text)".to_string()
    } else {
        text
    }
}

fn new_ticket(message: &Message<'_>, description: String) -> NewTicket {
    let subject = plain(
        message.subject().unwrap_or_default(),
        commands::MAX_TITLE_CHARS,
    );
    let title = if subject.is_empty() {
        "(no subject)".to_string()
    } else {
        subject
    };
    NewTicket {
        kind: Kind::Incident,
        title,
        description: description.chars().take(commands::MAX_TEXT_CHARS).collect(),
        impact: Level::Medium,
        urgency: Level::Medium,
        category_id: None,
        channel: Some(Channel::Email),
        requester_id: None,
        organization_id: None,
        group_id: None,
        assignee_id: None,
        service_id: None,
        pending_reason: None,
        configuration_item_ids: vec![],
    }
}

/// Writes what became of the message onto its record.
async fn mark(
    conn: &impl ConnectionTrait,
    record_id: i64,
    state: MessageState,
    ticket: Option<&ticket::Model>,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    mail_message::ActiveModel {
        id: Set(record_id),
        state: Set(state.as_str().into()),
        reason: Set(reason),
        ticket_id: Set(ticket.map(|t| t.id)),
        processed_at: Set(Some(now)),
        ..Default::default()
    }
    .update(conn)
    .await?;
    Ok(())
}

/// The outcome; for a message ignored or set aside, written onto its record now
/// (a ticket or comment wrote it with the change).
async fn finish(
    db: &Db,
    record: mail_message::Model,
    done: Done,
    now: DateTime<Utc>,
) -> AppResult<Outcome> {
    let (state, ticket, reason) = match done {
        Done::Ticket(t) => (MessageState::TicketCreated, Some(t), None),
        Done::Comment(t) => (MessageState::Commented, Some(t), None),
        Done::Ignored(why) => (MessageState::Ignored, None, Some(why)),
        Done::SetAside(why) => (MessageState::SetAside, None, Some(why)),
    };
    if ticket.is_none() {
        if state == MessageState::SetAside {
            tracing::warn!(message_id = %record.message_id, sender = %record.sender, reason = reason.as_deref().unwrap_or_default(), "a mail message was set aside");
        }
        let txn = db.begin_write().await?;
        mark(&txn, record.id, state, None, reason.clone(), now).await?;
        txn.commit().await?;
    }
    Ok(Outcome {
        state,
        ticket_number: ticket.map(|t| t.number),
        reason,
        duplicate: false,
    })
}

async fn number_of(db: &Db, ticket_id: Option<i64>) -> AppResult<Option<String>> {
    let Some(id) = ticket_id else { return Ok(None) };
    Ok(ticket::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .map(|t| t.number))
}
