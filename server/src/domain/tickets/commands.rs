//! Changing tickets. Each command is one write transaction: the change, checked against
//! the version the caller read, and its event in the log.

use chrono::{DateTime, Utc};
use entity::{
    category, comment, configuration_item, group, group_member, organization, ticket,
    ticket_configuration_item, user,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::{BinOper, Expr, ExprTrait},
};
use serde_json::{Value, json};

use super::{
    lifecycle::{self, TransitionFacts},
    types::{AgentStrategy, Channel, Kind, Level, PendingReason, Status},
    visibility::Scope,
};
use crate::domain::events::{TicketSnapshot, Topic};
use crate::domain::versioned;
use crate::{
    auth::{Caller, Role, Scope as TokenScope},
    db::Db,
    domain::{
        events::{self, Actor, NewEvent, change},
        input::text,
        lookup::referenced,
        routing, settings, sla,
        users::roles_of,
    },
    error::{AppError, AppResult},
};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 20_000;
pub const MAX_RESOLUTION_CODE_CHARS: usize = 100;

/// What the caller may do to tickets beyond reading them.
enum Standing {
    /// Agents, managers, admins, and partner tokens with `tickets:write`.
    Desk,
    /// A requester, on their own tickets.
    Requester(i64),
}

fn standing_of(caller: &Caller) -> AppResult<Standing> {
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

async fn record(
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

pub struct NewTicket {
    pub kind: Kind,
    pub title: String,
    pub description: String,
    pub impact: Level,
    pub urgency: Level,
    pub category_id: Option<i64>,
    pub channel: Option<Channel>,
    pub requester_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub group_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// The catalog service, for orders.
    pub service_id: Option<i64>,
    /// Born pending: a catalog order held for approval.
    pub pending_reason: Option<PendingReason>,
    /// The configuration items it is about (agents only).
    pub configuration_item_ids: Vec<i64>,
}

pub async fn create(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    input: NewTicket,
) -> AppResult<ticket::Model> {
    let role = standing_of(caller)?;
    let requester_id = match role {
        Standing::Requester(me) => {
            for (field, set) in [
                ("requesterId", input.requester_id.is_some_and(|r| r != me)),
                ("organizationId", input.organization_id.is_some()),
                ("groupId", input.group_id.is_some()),
                ("assigneeId", input.assignee_id.is_some()),
                (
                    "configurationItemIds",
                    !input.configuration_item_ids.is_empty(),
                ),
            ] {
                if set {
                    return Err(agents_only(field));
                }
            }
            Some(me)
        }
        Standing::Desk => match (input.requester_id, caller) {
            (Some(id), _) => Some(id),
            (None, Caller::Person(person)) => Some(person.user_id),
            (None, _) => None,
        },
    };
    let txn = db.begin_write().await?;
    let row = insert(&txn, caller, now, requester_id, input).await?;
    txn.commit().await?;
    Ok(row)
}

/// Records a ticket inside `txn`, after the caller's right to set its fields was
/// checked: numbers it, routes it (unless a group is given), starts its SLA clocks and
/// appends its events. Catalog orders come in here too, with their fulfillment group.
pub async fn insert(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    requester_id: Option<i64>,
    input: NewTicket,
) -> AppResult<ticket::Model> {
    let title = text("title", &input.title, MAX_TITLE_CHARS, true)?;
    let description = text("description", &input.description, MAX_TEXT_CHARS, false)?;
    let channel = input.channel.unwrap_or(match caller {
        Caller::Partner(_) => Channel::Api,
        _ => Channel::Portal,
    });
    let actor = Actor::of(caller);
    let desk = settings::load(txn).await?;
    let requester = match requester_id {
        Some(id) => Some(referenced::<user::Entity>(txn, id, "requesterId", "user").await?),
        None => None,
    };
    let organization_id = match input.organization_id {
        Some(id) => Some(
            referenced::<organization::Entity>(txn, id, "organizationId", "organization")
                .await?
                .id,
        ),
        None => requester.as_ref().and_then(|r| r.organization_id),
    };
    let categories = category_line(txn, input.category_id).await?;
    if let Some(service) = input.service_id {
        referenced::<entity::service::Entity>(txn, service, "serviceId", "service").await?;
    }
    let priority = desk.priority(input.impact, input.urgency);
    let configuration_item_ids = checked_items(txn, &input.configuration_item_ids).await?;

    // Routing: the caller's choice, else the first matching rule, else the default queue.
    let mut routed_by = None;
    let (group, assignee_id) = match input.group_id {
        Some(group_id) => {
            let group = referenced::<group::Entity>(txn, group_id, "groupId", "group").await?;
            if let Some(assignee) = input.assignee_id {
                require_member(txn, &group, assignee).await?;
            }
            (Some(group), input.assignee_id)
        }
        None if input.assignee_id.is_some() => {
            return Err(AppError::bad_input(
                "assigneeId",
                "give the assignee's groupId too",
            ));
        }
        None => {
            let facts = routing::Facts {
                kind: Some(input.kind),
                category_ids: categories.clone(),
                service_id: input.service_id,
                configuration_item_ids: configuration_item_ids.clone(),
                priority,
                organization_id,
                title: title.clone(),
            };
            let rules = routing::active_rules(txn).await?;
            match routing::first_match(&rules, &facts) {
                Some(rule) => {
                    let group =
                        referenced::<group::Entity>(txn, rule.group_id, "groupId", "group").await?;
                    let strategy = AgentStrategy::parse(&rule.agent_strategy, "agentStrategy")?;
                    let agent = routing::pick_agent(txn, &group, strategy).await?;
                    routed_by = Some(rule.clone());
                    (Some(group), agent)
                }
                None => match desk.default_group_id {
                    Some(id) => (group::Entity::find_by_id(id).one(txn).await?, None),
                    None => (None, None),
                },
            }
        }
    };
    let flag_manager = routed_by.as_ref().is_some_and(|r| r.flag_manager)
        && group.as_ref().is_some_and(|g| g.manager_id.is_some());
    let status = if input.pending_reason.is_some() {
        Status::Pending
    } else if assignee_id.is_some() {
        Status::Assigned
    } else {
        Status::New
    };
    let row = ticket::ActiveModel {
        number: Set(next_number(txn, input.kind).await?),
        kind: Set(input.kind.as_str().into()),
        status: Set(status.as_str().into()),
        search_text: Set(searchable(&[&title, &description])),
        internal_search_text: Set(String::new()),
        title: Set(title),
        description: Set(description),
        impact: Set(input.impact.as_str().into()),
        urgency: Set(input.urgency.as_str().into()),
        priority: Set(priority),
        category_id: Set(input.category_id),
        requester_id: Set(requester_id),
        organization_id: Set(organization_id),
        group_id: Set(group.as_ref().map(|g| g.id)),
        assignee_id: Set(assignee_id),
        channel: Set(channel.as_str().into()),
        service_id: Set(input.service_id),
        pending_reason: Set(input.pending_reason.map(|r| r.as_str().to_string())),
        resolution_code: Set(None),
        resolution_notes: Set(None),
        escalation_level: Set(0),
        manager_flagged_at: Set(flag_manager.then_some(now)),
        routed_by_rule_id: Set(routed_by.as_ref().map(|r| r.id)),
        created_at: Set(now),
        updated_at: Set(now),
        first_response_at: Set(None),
        resolved_at: Set(None),
        closed_at: Set(None),
        version: Set(1),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    write_links(txn, row.id, &configuration_item_ids).await?;
    crate::domain::problems::incident_recorded(txn, now, &row, &configuration_item_ids).await?;

    let created: Vec<Value> = [
        ("title", json!(row.title)),
        ("kind", json!(row.kind)),
        ("status", json!(row.status)),
        ("impact", json!(row.impact)),
        ("urgency", json!(row.urgency)),
        ("priority", json!(row.priority)),
        ("categoryId", json!(row.category_id)),
        ("channel", json!(row.channel)),
        ("groupId", json!(row.group_id)),
        ("assigneeId", json!(row.assignee_id)),
        ("configurationItemIds", json!(configuration_item_ids)),
    ]
    .into_iter()
    .map(|(field, value)| change(field, Value::Null, value))
    .collect();
    record(
        txn,
        &actor,
        now,
        Topic::TicketCreated,
        &row,
        false,
        json!({ "changes": created }),
    )
    .await?;
    sla::clocks::ticket_created(txn, &row, now).await?;
    if let (Some(rule), Some(group)) = (&routed_by, &group) {
        let payload = json!({
            "ruleId": rule.id,
            "ruleName": rule.name,
            "groupId": group.id,
            "groupName": group.name,
            "assigneeId": row.assignee_id,
            "strategy": rule.agent_strategy,
        });
        record(
            txn,
            &Actor::system(),
            now,
            Topic::TicketRouted,
            &row,
            false,
            payload,
        )
        .await?;
    }
    if flag_manager {
        let group = group.as_ref().expect("flagged tickets have a group");
        let payload = json!({
            "level": "HIERARCHICAL",
            "managerId": group.manager_id,
            "reason": format!("assignment rule '{}'", routed_by.as_ref().map(|r| r.name.as_str()).unwrap_or("")),
        });
        record(
            txn,
            &Actor::system(),
            now,
            Topic::TicketEscalated,
            &row,
            false,
            payload,
        )
        .await?;
    }
    Ok(row)
}

/// Loads a ticket for a change: visible to the caller, and at the version they read.
async fn load_for_change(
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
    let saved = versioned::save::<ticket::Entity>(&txn, row, changed, now).await?;
    let actor = Actor::of(caller);
    record(&txn, &actor, now, topic, &saved, false, payload).await?;
    sla::clocks::ticket_changed(&txn, &actor, row, &saved, now).await?;
    txn.commit().await?;
    Ok(saved)
}

#[derive(Default)]
pub struct TicketChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub impact: Option<Level>,
    pub urgency: Option<Level>,
    /// `Some(None)` clears the category.
    pub category_id: Option<Option<i64>>,
    pub channel: Option<Channel>,
}

pub async fn update(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    version: i32,
    input: TicketChanges,
) -> AppResult<ticket::Model> {
    let role = standing_of(caller)?;
    if let Standing::Requester(_) = role {
        for (field, set) in [
            ("impact", input.impact.is_some()),
            ("urgency", input.urgency.is_some()),
            ("categoryId", input.category_id.is_some()),
            ("channel", input.channel.is_some()),
        ] {
            if set {
                return Err(agents_only(field));
            }
        }
    }
    let title = input
        .title
        .as_deref()
        .map(|t| text("title", t, MAX_TITLE_CHARS, true))
        .transpose()?;
    let description = input
        .description
        .as_deref()
        .map(|d| text("description", d, MAX_TEXT_CHARS, false))
        .transpose()?;
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, Some(version)).await?;
    require_open(&row, "reopen it before changing it")?;
    let mut changes = Vec::new();
    let mut changed = <ticket::ActiveModel as Default>::default();
    if let Some(title) = title.filter(|t| *t != row.title) {
        changes.push(change("title", row.title.clone(), title.clone()));
        changed.title = Set(title);
    }
    if let Some(description) = description.filter(|d| *d != row.description) {
        changes.push(change(
            "description",
            row.description.clone(),
            description.clone(),
        ));
        changed.description = Set(description);
    }
    let impact = input.impact.unwrap_or(Level::parse(&row.impact, "impact")?);
    let urgency = input
        .urgency
        .unwrap_or(Level::parse(&row.urgency, "urgency")?);
    if impact.as_str() != row.impact {
        changes.push(change("impact", row.impact.clone(), impact.as_str()));
        changed.impact = Set(impact.as_str().into());
    }
    if urgency.as_str() != row.urgency {
        changes.push(change("urgency", row.urgency.clone(), urgency.as_str()));
        changed.urgency = Set(urgency.as_str().into());
    }
    let priority = settings::load(&txn).await?.priority(impact, urgency);
    if priority != row.priority {
        changes.push(change("priority", row.priority, priority));
        changed.priority = Set(priority);
    }
    if let Some(category_id) = input.category_id.filter(|c| *c != row.category_id) {
        category_line(&txn, category_id).await?;
        changes.push(change("categoryId", row.category_id, category_id));
        changed.category_id = Set(category_id);
    }
    if let Some(channel) = input.channel.filter(|c| c.as_str() != row.channel) {
        changes.push(change("channel", row.channel.clone(), channel.as_str()));
        changed.channel = Set(channel.as_str().into());
    }
    if changes.is_empty() {
        return Ok(row);
    }
    let new_title = match &changed.title {
        sea_orm::ActiveValue::Set(t) => t.clone(),
        _ => row.title.clone(),
    };
    let new_description = match &changed.description {
        sea_orm::ActiveValue::Set(d) => d.clone(),
        _ => row.description.clone(),
    };
    if new_title != row.title || new_description != row.description {
        let public_comments = comment::Entity::find()
            .filter(comment::Column::TicketId.eq(row.id))
            .filter(comment::Column::Internal.eq(false))
            .all(&txn)
            .await?;
        let mut parts = vec![new_title.as_str(), new_description.as_str()];
        parts.extend(public_comments.iter().map(|c| c.body.as_str()));
        changed.search_text = Set(searchable(&parts));
    }
    commit_change(
        txn,
        caller,
        now,
        Topic::TicketUpdated,
        &row,
        changed,
        json!({ "changes": changes }),
    )
    .await
}

/// The distinct ids of existing configuration items, sorted; BAD_USER_INPUT when one
/// does not exist.
async fn checked_items(txn: &DatabaseTransaction, ids: &[i64]) -> AppResult<Vec<i64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
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

async fn write_links(txn: &DatabaseTransaction, ticket_id: i64, ids: &[i64]) -> AppResult<()> {
    ticket_configuration_item::Entity::delete_many()
        .filter(ticket_configuration_item::Column::TicketId.eq(ticket_id))
        .exec(txn)
        .await?;
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

/// Sets which configuration items a ticket is about: what impact analysis starts from.
pub async fn link_configuration_items(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    version: i32,
    configuration_item_ids: &[i64],
) -> AppResult<ticket::Model> {
    if let Standing::Requester(_) = standing_of(caller)? {
        return Err(agents_only("configurationItemIds"));
    }
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, Some(version)).await?;
    let wanted = checked_items(&txn, configuration_item_ids).await?;
    let mut current: Vec<i64> = ticket_configuration_item::Entity::find()
        .filter(ticket_configuration_item::Column::TicketId.eq(row.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|link| link.configuration_item_id)
        .collect();
    current.sort_unstable();
    if current == wanted {
        return Ok(row);
    }
    write_links(&txn, row.id, &wanted).await?;
    crate::domain::problems::incident_recorded(&txn, now, &row, &wanted).await?;
    let changes = json!([change(
        "configurationItemIds",
        json!(current),
        json!(wanted)
    )]);
    commit_change(
        txn,
        caller,
        now,
        Topic::TicketUpdated,
        &row,
        Default::default(),
        json!({ "changes": changes }),
    )
    .await
}

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

pub struct Transition {
    pub to: Status,
    pub pending_reason: Option<PendingReason>,
    pub resolution_code: Option<String>,
    pub resolution_notes: Option<String>,
}

pub async fn transition(
    db: &Db,
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
    commit_change(
        txn,
        caller,
        now,
        topic,
        &row,
        changed,
        json!({ "changes": changes }),
    )
    .await
}

pub async fn assign(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    version: i32,
    group_id: Option<i64>,
    assignee_id: Option<i64>,
) -> AppResult<ticket::Model> {
    if let Standing::Requester(_) = standing_of(caller)? {
        return Err(AppError::Forbidden("only agents assign tickets".into()));
    }
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, Some(version)).await?;
    let status = require_open(&row, "only open tickets are assigned")?;
    let group_id = group_id
        .or(row.group_id)
        .ok_or_else(|| AppError::bad_input("groupId", "give the group to assign to"))?;
    let group = referenced::<group::Entity>(&txn, group_id, "groupId", "group").await?;
    if let Some(assignee) = assignee_id {
        let agent = require_member(&txn, &group, assignee).await?;
        if !roles_of(&agent).iter().any(|r| *r != Role::Requester) {
            return Err(AppError::bad_input(
                "assigneeId",
                format!("{} is not an agent", agent.name),
            ));
        }
    }
    let mut changes = Vec::new();
    let mut changed = <ticket::ActiveModel as Default>::default();
    if row.group_id != Some(group.id) {
        changes.push(change("groupId", row.group_id, group.id));
        changed.group_id = Set(Some(group.id));
    }
    if row.assignee_id != assignee_id {
        changes.push(change("assigneeId", row.assignee_id, assignee_id));
        changed.assignee_id = Set(assignee_id);
    }
    let new_status = match (status, assignee_id) {
        (Status::New, Some(_)) => Status::Assigned,
        (Status::Assigned, None) => Status::New,
        (status, _) => status,
    };
    if new_status != status {
        changes.push(change("status", status.as_str(), new_status.as_str()));
        changed.status = Set(new_status.as_str().into());
    }
    if changes.is_empty() {
        return Ok(row);
    }
    commit_change(
        txn,
        caller,
        now,
        Topic::TicketAssigned,
        &row,
        changed,
        json!({ "changes": changes }),
    )
    .await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escalation {
    /// To the group's higher-tier escalation group.
    Functional,
    /// Flag the group's manager.
    Hierarchical,
}

pub async fn escalate(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    version: i32,
    level: Escalation,
    reason: &str,
) -> AppResult<ticket::Model> {
    if let Standing::Requester(_) = standing_of(caller)? {
        return Err(AppError::Forbidden("only agents escalate tickets".into()));
    }
    let reason = text("reason", reason, MAX_TEXT_CHARS, true)?;
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, Some(version)).await?;
    let status = require_open(&row, "only open tickets are escalated")?;
    let group = match row.group_id {
        Some(id) => referenced::<group::Entity>(&txn, id, "groupId", "group").await?,
        None => {
            return Err(AppError::bad_input(
                "level",
                "the ticket has no group yet: assign it first",
            ));
        }
    };
    let mut changes = Vec::new();
    let mut changed = <ticket::ActiveModel as Default>::default();
    let payload = match level {
        Escalation::Functional => {
            let target_id = group.escalation_group_id.ok_or_else(|| {
                AppError::bad_input(
                    "level",
                    format!(
                        "the group {} has no escalation group; assign the ticket by hand",
                        group.name
                    ),
                )
            })?;
            let target = referenced::<group::Entity>(&txn, target_id, "level", "group").await?;
            changes.push(change("groupId", group.id, target.id));
            changes.push(change("assigneeId", row.assignee_id, Value::Null));
            changes.push(change(
                "escalationLevel",
                row.escalation_level,
                row.escalation_level + 1,
            ));
            changed.group_id = Set(Some(target.id));
            changed.assignee_id = Set(None);
            changed.escalation_level = Set(row.escalation_level + 1);
            if status == Status::Assigned {
                changes.push(change("status", status.as_str(), Status::New.as_str()));
                changed.status = Set(Status::New.as_str().into());
            }
            json!({ "level": "FUNCTIONAL", "fromGroupId": group.id, "toGroupId": target.id, "reason": reason })
        }
        Escalation::Hierarchical => {
            let manager_id = group.manager_id.ok_or_else(|| {
                AppError::bad_input(
                    "level",
                    format!("the group {} has no manager to flag", group.name),
                )
            })?;
            changes.push(change(
                "managerFlaggedAt",
                row.manager_flagged_at.map(|t| t.to_rfc3339()),
                now.to_rfc3339(),
            ));
            changed.manager_flagged_at = Set(Some(now));
            json!({ "level": "HIERARCHICAL", "managerId": manager_id, "reason": reason })
        }
    };
    let mut payload = payload;
    payload["changes"] = json!(changes);
    commit_change(
        txn,
        caller,
        now,
        Topic::TicketEscalated,
        &row,
        changed,
        payload,
    )
    .await
}

pub async fn add_comment(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    body: &str,
    internal: bool,
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
    txn.commit().await?;
    Ok((saved, saved_comment))
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
    ticket_id: i64,
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
    let code = "SOLVED_BY_PROBLEM";
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
    Ok(Some(saved))
}

/// Links an incident to the change that caused it (None unlinks): what the change
/// report counts as changes causing incidents.
pub async fn link_cause(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    change_id: Option<i64>,
) -> AppResult<ticket::Model> {
    if let Standing::Requester(_) = standing_of(caller)? {
        return Err(agents_only("changeId"));
    }
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, None).await?;
    if row.kind != Kind::Incident.as_str() {
        return Err(AppError::bad_input(
            "ticketId",
            format!("{} is not an incident", row.number),
        ));
    }
    if let Some(id) = change_id {
        referenced::<entity::change::Entity>(&txn, id, "changeId", "change").await?;
    }
    if change_id == row.caused_by_change_id {
        return Ok(row);
    }
    let changed = ticket::ActiveModel {
        caused_by_change_id: Set(change_id),
        ..Default::default()
    };
    let changes = json!([change(
        "causedByChangeId",
        row.caused_by_change_id,
        change_id
    )]);
    commit_change(
        txn,
        caller,
        now,
        Topic::TicketUpdated,
        &row,
        changed,
        json!({ "changes": changes }),
    )
    .await
}
