//! Typed links between tickets: a child and its parent (the child resolves with its
//! parent, by rule), an incident and the ticket that caused it, a duplicate and its
//! original, and tickets that are related.
//!
//! A link is stored once, from `source` to `target`, and read from either end in the
//! role it has there (`PARENT` from the child's side is `CHILD` from the parent's). It is
//! visible only where both tickets are: linking needs both visible to the caller, and a
//! ticket's links leave out those whose other end the caller may not see.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{ticket, ticket_link};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::json;

use super::commands::{Standing, load_for_change, record, resolve_with, standing_of};
use crate::{
    auth::Caller,
    db::Writes,
    domain::{
        events::{Actor, Topic},
        named::named_enum,
        settings::DeskSettings,
    },
    error::{AppError, AppResult},
};

named_enum!(
    /// How the source of a link stands to its target.
    LinkKind {
        ChildOf = "CHILD_OF",
        CausedBy = "CAUSED_BY",
        DuplicateOf = "DUPLICATE_OF",
        RelatedTo = "RELATED_TO",
    }
);

named_enum!(
    /// What the other ticket of a link is to the ticket it is read from.
    LinkRole {
        Parent = "PARENT",
        Child = "CHILD",
        CausedBy = "CAUSED_BY",
        Causes = "CAUSES",
        DuplicateOf = "DUPLICATE_OF",
        DuplicatedBy = "DUPLICATED_BY",
        Related = "RELATED",
    }
);

impl LinkKind {
    /// The role of the other ticket, seen from the source (`true`) or the target.
    pub fn role(self, from_source: bool) -> LinkRole {
        match (self, from_source) {
            (LinkKind::ChildOf, true) => LinkRole::Parent,
            (LinkKind::ChildOf, false) => LinkRole::Child,
            (LinkKind::CausedBy, true) => LinkRole::CausedBy,
            (LinkKind::CausedBy, false) => LinkRole::Causes,
            (LinkKind::DuplicateOf, true) => LinkRole::DuplicateOf,
            (LinkKind::DuplicateOf, false) => LinkRole::DuplicatedBy,
            (LinkKind::RelatedTo, _) => LinkRole::Related,
        }
    }

    /// A ticket has at most one of these: one parent, one original.
    fn only_one(self) -> bool {
        matches!(self, LinkKind::ChildOf | LinkKind::DuplicateOf)
    }
}

/// The deepest chain of parents followed when looking for a cycle.
const MAX_DEPTH: usize = 100;

/// Links `ticket_id` to `other_id` as `kind` (`ticket_id` is the child, the one caused,
/// the duplicate). The desk only; both tickets must be visible to the caller.
///
/// # Errors
/// FORBIDDEN for requesters; NOT_FOUND for a ticket the caller may not see;
/// BAD_USER_INPUT for a ticket linked to itself or a parent chain that would go round
/// (with the path); CONFLICT when the pair is linked so already, or the ticket has a
/// parent (or original) already.
pub async fn link(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    other_id: i64,
    kind: LinkKind,
) -> AppResult<ticket_link::Model> {
    desk_only(caller)?;
    if ticket_id == other_id {
        return Err(AppError::bad_input(
            "otherTicketId",
            "a ticket cannot be linked to itself",
        ));
    }
    let txn = db.begin_write().await?;
    let source = load_for_change(&txn, caller, ticket_id, None).await?;
    let target = load_for_change(&txn, caller, other_id, None).await?;
    // RELATED_TO reads the same either way; the others have a direction (and the
    // reverse of CHILD_OF is a cycle, refused below with its path).
    let mut pair = Condition::any().add(
        Condition::all()
            .add(ticket_link::Column::SourceId.eq(source.id))
            .add(ticket_link::Column::TargetId.eq(target.id)),
    );
    if kind == LinkKind::RelatedTo {
        pair = pair.add(
            Condition::all()
                .add(ticket_link::Column::SourceId.eq(target.id))
                .add(ticket_link::Column::TargetId.eq(source.id)),
        );
    }
    let existing = ticket_link::Entity::find()
        .filter(pair)
        .filter(ticket_link::Column::Kind.eq(kind.as_str()))
        .one(&txn)
        .await?;
    if existing.is_some() {
        return Err(AppError::Taken {
            field: "otherTicketId".into(),
            message: format!(
                "{} and {} are linked as {kind} already",
                source.number, target.number
            ),
        });
    }
    if kind.only_one()
        && let Some(held) = ticket_link::Entity::find()
            .filter(ticket_link::Column::SourceId.eq(source.id))
            .filter(ticket_link::Column::Kind.eq(kind.as_str()))
            .one(&txn)
            .await?
    {
        let what = match kind {
            LinkKind::ChildOf => "a parent",
            _ => "an original",
        };
        return Err(AppError::Conflict(format!(
            "{} has {what} already (link {}): unlink it first",
            source.number, held.id
        )));
    }
    if kind == LinkKind::ChildOf {
        refuse_cycle(&txn, &source, &target).await?;
    }
    let actor = Actor::of(caller);
    let saved = ticket_link::ActiveModel {
        source_id: Set(source.id),
        target_id: Set(target.id),
        kind: Set(kind.as_str().to_string()),
        created_by: Set(actor.name.clone()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record_both(
        &txn,
        &actor,
        now,
        Topic::TicketLinked,
        &saved,
        &source,
        &target,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Removes a link. The desk only; both tickets must be visible to the caller.
///
/// # Errors
/// NOT_FOUND when there is no such link between tickets the caller may see.
pub async fn unlink(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    link_id: i64,
) -> AppResult<ticket_link::Model> {
    desk_only(caller)?;
    let txn = db.begin_write().await?;
    let not_found = || AppError::NotFound("there is no link with that id that you can see".into());
    let link = ticket_link::Entity::find_by_id(link_id)
        .one(&txn)
        .await?
        .ok_or_else(not_found)?;
    let source = load_for_change(&txn, caller, link.source_id, None)
        .await
        .map_err(|_| not_found())?;
    let target = load_for_change(&txn, caller, link.target_id, None)
        .await
        .map_err(|_| not_found())?;
    ticket_link::Entity::delete_by_id(link.id)
        .exec(&txn)
        .await?;
    let actor = Actor::of(caller);
    record_both(
        &txn,
        &actor,
        now,
        Topic::TicketUnlinked,
        &link,
        &source,
        &target,
    )
    .await?;
    txn.commit().await?;
    Ok(link)
}

/// Each ticket's links, either way, oldest first (the loader behind `Ticket.links`;
/// the other ends are checked against the caller's scope where they are shown).
pub async fn links_of_tickets(
    conn: &impl ConnectionTrait,
    ticket_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<ticket_link::Model>>> {
    let ids = ticket_ids.iter().copied();
    let links = ticket_link::Entity::find()
        .filter(
            Condition::any()
                .add(ticket_link::Column::SourceId.is_in(ids.clone()))
                .add(ticket_link::Column::TargetId.is_in(ids)),
        )
        .order_by_asc(ticket_link::Column::Id)
        .all(conn)
        .await?;
    let wanted: HashSet<i64> = ticket_ids.iter().copied().collect();
    let mut by_ticket: HashMap<i64, Vec<ticket_link::Model>> = HashMap::new();
    for link in links {
        for end in [link.source_id, link.target_id] {
            if wanted.contains(&end) {
                by_ticket.entry(end).or_default().push(link.clone());
            }
        }
    }
    Ok(by_ticket)
}

/// Resolves the open children of a ticket just resolved, inside its transaction, with
/// the parent's resolution code and a public comment quoting its notes. Children the
/// caller may not see resolve too: the rule is the desk's, not the caller's.
pub(crate) async fn resolve_children(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    desk: &DeskSettings,
    parent: &ticket::Model,
) -> AppResult<()> {
    let children = ticket_link::Entity::find()
        .filter(ticket_link::Column::TargetId.eq(parent.id))
        .filter(ticket_link::Column::Kind.eq(LinkKind::ChildOf.as_str()))
        .order_by_asc(ticket_link::Column::SourceId)
        .all(txn)
        .await?;
    let code = parent
        .resolution_code
        .clone()
        .unwrap_or_else(|| "RESOLVED_WITH_PARENT".into());
    let note = match parent
        .resolution_notes
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        Some(notes) => format!("Resolved with {}: {notes}", parent.number),
        None => format!("Resolved with {} ({code}).", parent.number),
    };
    for child in children {
        // A child that is a parent itself takes its own children along.
        if let Some(resolved) =
            resolve_with(txn, caller, now, desk, child.source_id, &code, &note).await?
        {
            Box::pin(resolve_children(txn, caller, now, desk, &resolved)).await?;
        }
    }
    Ok(())
}

/// BAD_USER_INPUT with the path when making `child` a child of `parent` would go round.
async fn refuse_cycle(
    txn: &DatabaseTransaction,
    child: &ticket::Model,
    parent: &ticket::Model,
) -> AppResult<()> {
    // Up the parent chain by ids; the numbers are read only for the message.
    let mut chain = vec![child.id, parent.id];
    let mut at = parent.id;
    for _ in 0..MAX_DEPTH {
        let Some(up) = ticket_link::Entity::find()
            .filter(ticket_link::Column::SourceId.eq(at))
            .filter(ticket_link::Column::Kind.eq(LinkKind::ChildOf.as_str()))
            .one(txn)
            .await?
        else {
            return Ok(());
        };
        chain.push(up.target_id);
        if up.target_id == child.id {
            let numbers: HashMap<i64, String> = ticket::Entity::find()
                .filter(ticket::Column::Id.is_in(chain.iter().copied()))
                .all(txn)
                .await?
                .into_iter()
                .map(|t| (t.id, t.number))
                .collect();
            let path: Vec<&str> = chain
                .iter()
                .map(|id| numbers.get(id).map_or("?", String::as_str))
                .collect();
            return Err(AppError::bad_input(
                "otherTicketId",
                format!("the parents would go round: {}", path.join(" → ")),
            ));
        }
        at = up.target_id;
    }
    Err(AppError::bad_input(
        "otherTicketId",
        format!("parent chains are at most {MAX_DEPTH} tickets deep"),
    ))
}

fn desk_only(caller: &Caller) -> AppResult<()> {
    match standing_of(caller)? {
        Standing::Desk => Ok(()),
        Standing::Requester(_) => Err(AppError::Forbidden("tickets are linked by the desk".into())),
    }
}

/// The event on both tickets' histories, with the link and the role the other ticket
/// has. It does not name the other ticket: whoever sees one end's history may not see
/// the other end, and `Ticket.links` shows it to those who may. Internal, as links are
/// the desk's.
async fn record_both(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    link: &ticket_link::Model,
    source: &ticket::Model,
    target: &ticket::Model,
) -> AppResult<()> {
    let kind = LinkKind::stored(&link.kind)?;
    for (row, from_source) in [(source, true), (target, false)] {
        let payload = json!({
            "linkId": link.id,
            "kind": kind.as_str(),
            "role": kind.role(from_source).as_str(),
        });
        record(txn, actor, now, topic, row, true, payload).await?;
    }
    Ok(())
}
