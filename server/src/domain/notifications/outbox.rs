//! From the event log to the mail queue: for every event, in seq order, the people it
//! concerns (`recipients`) who may see it, want it and have an address are each queued
//! one message, rendered here from the kind's template and sent unchanged on every
//! retry. The page of events and the messages it queued commit with the notifications
//! cursor's claim (see `consumers`), so each event is queued once, whichever replica
//! does it, and only what committed is ever told.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{attachment, change, comment, event, mail_delivery, release, ticket, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{
    recipients::{self, Recipient},
    templates::{
        self, ChangeView, CommentView, Context, DeskView, OrderView, PersonView, ReleaseView,
        ReportView, SurveyView, TicketView,
    },
    types::{DeliveryState, NotificationKind as Kind},
};
use crate::{
    db::Db,
    domain::{
        consumers::{self, Consumer},
        events::Topic,
        tickets::visibility::Scope,
        users,
    },
    error::AppResult,
};

/// Events read per claim.
const PAGE: u64 = 200;

/// A notification about something older than this is not sent: a desk whose mail was
/// off for a week is not flooded with last week when it comes back.
fn stale() -> Duration {
    Duration::hours(24)
}

/// How the desk names itself and its messages.
#[derive(Clone, Debug)]
pub struct Addressing {
    /// The right-hand side of every Message-ID: the sender's domain.
    pub domain: String,
    /// What templates call the desk: the sender's display name.
    pub desk_name: String,
    /// Where people reach the desk: the start of the links in its mail.
    pub public_url: String,
}

/// Queues the next page of events' notifications; how many it queued, and whether more
/// events wait.
pub async fn queue_next(
    db: &Db,
    addressing: &Addressing,
    now: DateTime<Utc>,
) -> AppResult<(usize, bool)> {
    let from = consumers::position(db.conn(), Consumer::Notifications).await?;
    let events = consumers::next_events(db.conn(), from, PAGE).await?;
    let Some(to) = events.last().and_then(|e| e.seq) else {
        return Ok((0, false));
    };
    let more = events.len() as u64 == PAGE;
    // Monthly reports are worked out before the write transaction, so that a month of
    // figures is never read while the writers wait.
    let reports = reports_of(db, &events, addressing).await;
    let txn = db.begin_write().await?;
    if !consumers::claim(&txn, Consumer::Notifications, from, to).await? {
        return Ok((0, more));
    }
    let mut templates = HashMap::new();
    let mut queued = 0;
    for event in events.iter().filter(|e| now - e.created_at < stale()) {
        for message in messages_for(&txn, event, addressing, &reports).await? {
            let template = match templates.get(&message.recipient.kind) {
                Some(template) => template,
                None => {
                    let template = templates::effective(&txn, message.recipient.kind).await?;
                    templates.entry(message.recipient.kind).or_insert(template)
                }
            };
            let rendered = templates::render(template, &message.context).or_else(|(part, why)| {
                // An admin's template that fails on this event (a field this kind
                // lacks) must not cost the person their notification.
                tracing::warn!(kind = %message.recipient.kind, part, why, "a notification template failed; the built-in one is used");
                templates::render(&templates::built_in(message.recipient.kind), &message.context)
            });
            let Ok(rendered) = rendered else { continue };
            mail_delivery::ActiveModel {
                seq: Set(event.seq.unwrap_or_default()),
                kind: Set(message.recipient.kind.as_str().into()),
                user_id: Set(message.recipient.user_id),
                to_address: Set(message.address),
                ticket_id: Set(message.ticket_id),
                subject: Set(rendered.subject),
                text_body: Set(rendered.text),
                html_body: Set(rendered.html),
                message_id: Set(format!(
                    "{}.{}.{}@{}",
                    message.thread,
                    event.seq.unwrap_or_default(),
                    message.recipient.user_id,
                    addressing.domain
                )),
                references: Set(Some(format!("{}@{}", message.thread, addressing.domain))),
                state: Set(DeliveryState::Pending.as_str().into()),
                attempts: Set(0),
                next_attempt_at: Set(Some(now)),
                last_error: Set(None),
                created_at: Set(now),
                sent_at: Set(None),
                attachment_ids: Set((template.include_attachments && !message.files.is_empty())
                    .then(|| serde_json::json!(message.files).to_string())),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            queued += 1;
        }
    }
    txn.commit().await?;
    Ok((queued, more))
}

/// The reports the page's `service_report.ready` events announce, by event seq, each
/// computed once for everyone it goes to. One that cannot be made (its service deleted
/// since) is left out, and its mail is not sent: it must not hold up the rest.
async fn reports_of(
    db: &Db,
    events: &[event::Model],
    addressing: &Addressing,
) -> HashMap<i64, ReportView> {
    let mut out = HashMap::new();
    for event in events {
        let month = event.payload.get("month").and_then(|m| m.as_str());
        let (Topic::ServiceReportReady, Some(month), Some(seq)) =
            (Topic::parse(&event.topic), month, event.seq)
        else {
            continue;
        };
        match crate::domain::service_report::mailing::for_mail(
            db.conn(),
            event.entity_id,
            month,
            event.created_at,
            &addressing.desk_name,
        )
        .await
        {
            Ok((service, summary, page)) => {
                out.insert(
                    seq,
                    ReportView {
                        service,
                        month: month.to_string(),
                        summary,
                        page,
                    },
                );
            }
            Err(error) => {
                tracing::warn!(%error, seq, "a monthly service report could not be made; it is not mailed");
            }
        }
    }
    out
}

/// One message to queue.
struct Message {
    recipient: Recipient,
    address: String,
    ticket_id: Option<i64>,
    /// The ticket's or change's number: what the Message-ID begins with, so that a
    /// reply names it.
    thread: String,
    context: Context,
    /// The files of the comment it tells of, for a template that carries them.
    files: Vec<i64>,
}

/// The messages one event leads to: for each person it concerns, if they have an
/// address, want this kind, and may see what they would be told.
async fn messages_for(
    conn: &impl ConnectionTrait,
    event: &event::Model,
    addressing: &Addressing,
    reports: &HashMap<i64, ReportView>,
) -> AppResult<Vec<Message>> {
    let wanted = recipients::of(conn, event).await?;
    if wanted.is_empty() {
        return Ok(vec![]);
    }
    let topic = Topic::parse(&event.topic);
    let ticket = match event.entity_type.as_str() {
        "ticket" => {
            ticket::Entity::find_by_id(event.entity_id)
                .one(conn)
                .await?
        }
        _ => None,
    };
    let change = match event.entity_type.as_str() {
        "change" => {
            change::Entity::find_by_id(event.entity_id)
                .one(conn)
                .await?
        }
        _ => None,
    };
    let release = match event.entity_type.as_str() {
        "release" => {
            release::Entity::find_by_id(event.entity_id)
                .one(conn)
                .await?
        }
        _ => None,
    };
    let comment = match topic {
        Topic::TicketCommented => recipients::comment_of(conn, event).await?,
        _ => None,
    };
    // The comment's files: whether they go with a mail is its template's to say.
    let files: Vec<i64> = match &comment {
        Some(c) => {
            attachment::Entity::find()
                .select_only()
                .column(attachment::Column::Id)
                .filter(attachment::Column::CommentId.eq(c.id))
                .order_by_asc(attachment::Column::Id)
                .into_tuple()
                .all(conn)
                .await?
        }
        None => vec![],
    };
    let mut ids: Vec<i64> = wanted.iter().map(|r| r.user_id).collect();
    ids.extend(
        ticket
            .iter()
            .flat_map(|t| [t.requester_id, t.assignee_id])
            .flatten(),
    );
    let people: HashMap<i64, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let off =
        super::preferences::turned_off(conn, &wanted.iter().map(|r| r.user_id).collect::<Vec<_>>())
            .await?;
    let name = |id: Option<i64>| id.and_then(|id| people.get(&id)).map(|u| u.name.clone());
    let mut out = Vec::new();
    for recipient in wanted {
        let Some(person) = people.get(&recipient.user_id) else {
            continue;
        };
        let Some(address) = person.email.clone().filter(|a| a.contains('@')) else {
            continue;
        };
        if off.contains(&(recipient.user_id, recipient.kind)) {
            continue;
        }
        if !may_see(
            conn,
            person,
            recipient.kind,
            event,
            ticket.as_ref(),
            comment.as_ref(),
        )
        .await?
        {
            continue;
        }
        let context = Context {
            recipient: PersonView {
                name: person.name.clone(),
                email: Some(address.clone()),
            },
            desk: DeskView {
                name: addressing.desk_name.clone(),
            },
            actor: event.actor_name.clone(),
            ticket: ticket.as_ref().map(|t| TicketView {
                number: t.number.clone(),
                title: t.title.clone(),
                description: t.description.clone(),
                kind: t.kind.clone(),
                status: t.status.clone(),
                priority: format!("P{}", t.priority),
                requester: name(t.requester_id),
                assignee: name(t.assignee_id),
                resolution_code: t.resolution_code.clone(),
                resolution_notes: t.resolution_notes.clone(),
            }),
            comment: comment.as_ref().map(|c| CommentView {
                author: c.author_name.clone(),
                body: c.body.clone(),
            }),
            change: change.as_ref().map(|c| ChangeView {
                number: c.number.clone(),
                title: c.title.clone(),
                risk: c.risk.clone(),
                planned_start: c.planned_start.map(|t| t.to_rfc3339()),
            }),
            order: (topic == Topic::CatalogOrdered).then(|| OrderView {
                item: event
                    .payload
                    .get("itemName")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
            }),
            survey: match (recipient.kind, &ticket) {
                // The token is made now, as the one mail that carries it is queued.
                (Kind::SurveyRequested, Some(t)) => {
                    match crate::domain::satisfaction::link_token(conn, t.id).await? {
                        Some((token, expires)) => Some(SurveyView {
                            url: format!("{}/survey/{token}", addressing.public_url),
                            expires: expires.format("%Y-%m-%d").to_string(),
                        }),
                        None => continue,
                    }
                }
                _ => None,
            },
            release: release.as_ref().map(|r| ReleaseView {
                number: r.number.clone(),
                name: r.name.clone(),
                version: r.version_label.clone(),
                status: r.status.clone(),
            }),
            update: (recipient.kind == Kind::MajorIncidentUpdate)
                .then(|| event.payload.get("body").and_then(|b| b.as_str()))
                .flatten()
                .map(str::to_string),
            report: (recipient.kind == Kind::ServiceReport)
                .then(|| reports.get(&event.seq.unwrap_or_default()).cloned())
                .flatten(),
            notice: (recipient.kind == Kind::ServiceNotice)
                .then(|| event.payload.get("message").and_then(|m| m.as_str()))
                .flatten()
                .map(str::to_string),
            merged_into: (recipient.kind == Kind::TicketMerged)
                .then(|| event.payload.get("survivorNumber").and_then(|n| n.as_str()))
                .flatten()
                .map(str::to_string),
            reason: (recipient.kind == Kind::TicketFlagged).then(|| {
                if topic == Topic::SlaBreached {
                    match event.payload.get("agreement").and_then(|a| a.as_str()) {
                        Some("OLA") => "breached its OLA".to_string(),
                        Some("UNDERPINNING_CONTRACT") => {
                            "breached its underpinning contract".to_string()
                        }
                        _ => "breached its SLA".to_string(),
                    }
                } else {
                    "was escalated".to_string()
                }
            }),
        };
        let thread = ticket
            .as_ref()
            .map(|t| t.number.clone())
            .or_else(|| change.as_ref().map(|c| c.number.clone()))
            .or_else(|| release.as_ref().map(|r| r.number.clone()))
            .unwrap_or_else(|| format!("event{}", event.seq.unwrap_or_default()));
        out.push(Message {
            recipient,
            address,
            ticket_id: ticket.as_ref().map(|t| t.id),
            thread,
            context,
            files: files.clone(),
        });
    }
    Ok(out)
}

/// Whether the person may see what they would be told: a ticket's notification as the
/// ticket rule says for them today (internal comments only for who reads internal
/// notes); an approval request because the approval rule names them.
async fn may_see(
    conn: &impl ConnectionTrait,
    person: &user::Model,
    kind: Kind,
    event: &event::Model,
    ticket: Option<&ticket::Model>,
    comment: Option<&comment::Model>,
) -> AppResult<bool> {
    // Approvers are asked about what they may decide on; a major incident's audience
    // was chosen by its coordinator, who published the update for them to read.
    if matches!(kind, Kind::ApprovalRequested | Kind::MajorIncidentUpdate) {
        return Ok(true);
    }
    // Releases, services' availability and items' capacity are the desk's: told to its
    // people only.
    if matches!(
        kind,
        Kind::ReleaseChanged | Kind::ServiceNotice | Kind::ServiceReport
    ) {
        use crate::auth::Role;
        return Ok(users::roles_of(person)
            .iter()
            .any(|r| matches!(r, Role::Agent | Role::Manager | Role::Admin)));
    }
    let Some(ticket) = ticket else {
        return Ok(false);
    };
    let caller = users::acting_as(person, None);
    let Ok(scope) = Scope::of(conn, &caller).await else {
        return Ok(false);
    };
    let internal = event.internal || comment.is_some_and(|c| c.internal);
    Ok(scope.allows(ticket) && (!internal || scope.sees_internal()))
}
