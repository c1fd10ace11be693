//! Raising a ticket: numbered, routed, put under SLA, with its events.

use chrono::{DateTime, Utc};
use entity::{group, organization, ticket, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, EntityTrait};
use serde_json::{Value, json};

use crate::domain::events::Topic;
use crate::domain::tickets::types::{AgentStrategy, Channel, Kind, Level, PendingReason, Status};
use crate::{
    auth::Caller,
    db::Writes,
    domain::{
        events::{Actor, change},
        input::text,
        lookup::referenced,
        routing, settings, sla,
    },
    error::{AppError, AppResult},
};

use super::{
    MAX_TEXT_CHARS, MAX_TITLE_CHARS, Standing, add_links, agents_only, category_line,
    checked_items, next_number, record, require_member, searchable, standing_of,
};

/// What a new ticket starts with; `None` leaves it to routing and the defaults.
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

/// Raises a ticket for the caller: routed, under SLA, with its events.
///
/// # Errors
/// BAD_USER_INPUT for fields that do not fit or that only agents may set;
/// UNAUTHENTICATED for an anonymous caller.
pub async fn create(
    db: &impl Writes,
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
    // Chosen before the ticket is numbered, so that the number's lock is held for less.
    let sla_policy = sla::clocks::sla_for_new_ticket(
        txn,
        &sla::Facts {
            kind: Some(input.kind),
            priority,
            service_id: input.service_id,
            category_ids: categories,
            organization_id,
        },
        now,
    )
    .await?;
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
    add_links(txn, row.id, &configuration_item_ids).await?;
    crate::domain::problems::trends::incident_recorded(txn, now, &row, &configuration_item_ids)
        .await?;
    // An incident in a release's early life is counted against it.
    crate::domain::releases::incident_raised(txn, now, &row, &configuration_item_ids).await?;

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
    sla::clocks::ticket_created(txn, &row, sla_policy.as_ref(), now).await?;
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
