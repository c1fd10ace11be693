//! From the event log to each endpoint's queue: every event, in seq order, becomes a
//! delivery for each enabled endpoint that asked for its topic, passes its filter, and
//! whose owner may see it. The body is rendered once, here, as the owner sees the desk,
//! and sent unchanged on every retry. The page of events and the deliveries it queued
//! commit with the webhooks cursor's claim (see `consumers`), so each event is queued
//! once, whichever replica does it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{api_token, event, ticket, user, webhook_endpoint};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::queue::queue;
use super::types::EndpointFilter;
use crate::{
    auth::{Caller, Partner, Role, Scope as TokenScope},
    db::Db,
    domain::{
        api_tokens::scopes_of,
        consumers::{self, Consumer},
        events::{TicketSnapshot, Topic},
        global_id,
        tickets::visibility::Scope,
        users,
    },
    error::AppResult,
};

/// Events queued per claim.
const PAGE: u64 = 200;

/// An endpoint as the fan-out uses it: what it wants, and its owner's view.
struct Subscriber {
    endpoint: webhook_endpoint::Model,
    topics: Vec<Topic>,
    filter: EndpointFilter,
    view: Option<View>,
}

/// What the owner may see.
struct View {
    caller: Caller,
    /// None: no tickets at all.
    tickets: Option<Scope>,
}

/// The owner as a caller with today's rights: a person with their current roles, a
/// token with its scopes; none when the person is gone or the token revoked or expired.
async fn owner_view(
    conn: &impl ConnectionTrait,
    endpoint: &webhook_endpoint::Model,
    now: DateTime<Utc>,
) -> AppResult<Option<View>> {
    let caller = if let Some(user_id) = endpoint.owner_user_id {
        let Some(row) = user::Entity::find_by_id(user_id).one(conn).await? else {
            return Ok(None);
        };
        users::acting_as(&row, None)
    } else if let Some(token_id) = endpoint.owner_token_id {
        let Some(row) = api_token::Entity::find_by_id(token_id).one(conn).await? else {
            return Ok(None);
        };
        if row.revoked_at.is_some() || row.expires_at.is_some_and(|at| at <= now) {
            return Ok(None);
        }
        Caller::Partner(Partner {
            token_id: row.id,
            name: row.name.clone(),
            scopes: scopes_of(&row),
            expires_at: row.expires_at,
        })
    } else {
        return Ok(None);
    };
    // A token without tickets:read sees no tickets, but may see the CMDB's events.
    let tickets = Scope::of(conn, &caller).await.ok();
    Ok(Some(View { caller, tickets }))
}

impl View {
    /// Whether the owner may see this event: a ticket's as the ticket rule says (the
    /// ticket as it was then, and as it is now); the desk's other records as the areas'
    /// read rights say.
    fn sees(&self, event: &event::Model, ticket_now: Option<&ticket::Model>) -> bool {
        if event.internal && !self.tickets.as_ref().is_some_and(Scope::sees_internal) {
            return false;
        }
        let may = |role: Role, scope: TokenScope| match &self.caller {
            Caller::Partner(partner) => partner.require_scope(scope).is_ok(),
            caller => caller.require_role(role).is_ok(),
        };
        match event.entity_type.as_str() {
            "ticket" => {
                let Some(scope) = &self.tickets else {
                    return false;
                };
                let then = TicketSnapshot::in_payload(&event.payload);
                then.is_none_or(|t| scope.allows_snapshot(event.entity_id, &t))
                    && ticket_now.is_some_and(|t| scope.allows(t))
            }
            "configuration_item" => may(Role::Agent, TokenScope::CmdbRead),
            // Problems, changes, articles, tokens: the desk's own work, for its people.
            _ => matches!(&self.caller, Caller::Person(p) if p.has_role(Role::Agent)),
        }
    }
}

/// The GraphQL type an entity is known by.
fn type_name(entity_type: &str) -> &'static str {
    match entity_type {
        "ticket" => "Ticket",
        "problem" => "Problem",
        "problem_candidate" => "ProblemCandidate",
        "change" => "Change",
        "article" => "Article",
        "configuration_item" => "ConfigurationItem",
        "api_token" => "ApiToken",
        "webhook_endpoint" => "WebhookEndpoint",
        "release" => "Release",
        "alert" => "Alert",
        "outage" => "Outage",
        "service" => "Service",
        "sla_policy" => "SlaPolicy",
        "continuity_plan" => "ContinuityPlan",
        _ => "Unknown",
    }
}

/// The ticket as a webhook body shows it.
fn ticket_json(row: &ticket::Model) -> Value {
    let id = |type_name: &str, id: Option<i64>| id.map(|id| global_id::of(type_name, id));
    json!({
        "id": global_id::of("Ticket", row.id),
        "number": row.number,
        "kind": row.kind,
        "status": row.status,
        "title": row.title,
        "priority": format!("P{}", row.priority),
        "impact": row.impact,
        "urgency": row.urgency,
        "groupId": id("Group", row.group_id),
        "assigneeId": id("User", row.assignee_id),
        "requesterId": id("User", row.requester_id),
        "organizationId": id("Organization", row.organization_id),
        "serviceId": id("Service", row.service_id),
        "categoryId": id("Category", row.category_id),
        "escalationLevel": row.escalation_level,
        "version": row.version,
        "createdAt": row.created_at,
        "updatedAt": row.updated_at,
        "resolvedAt": row.resolved_at,
    })
}

/// What a delivery of an event carries.
pub struct Rendered {
    pub topic: String,
    pub message_id: String,
    pub body: String,
}

/// The `webhook-id` of an event's delivery to an endpoint: the same on every retry and
/// redelivery, so the receiver can drop what it already has.
fn message_id(endpoint_id: i64, seq: i64) -> String {
    format!("msg_{endpoint_id}_{seq}")
}

/// The body: Standard Webhooks' `type`, `timestamp` and `data`, the data being the
/// event (seq, topic, time, actor, the changed fields, what else it says) and the
/// ticket as the owner sees it.
fn render(endpoint_id: i64, event: &event::Model, ticket: Option<&ticket::Model>) -> Rendered {
    let seq = event.seq.unwrap_or_default();
    let mut details = event.payload.clone();
    let changes = details
        .as_object_mut()
        .and_then(|d| {
            d.remove("ticket");
            d.remove("changes")
        })
        .unwrap_or_else(|| json!([]));
    let body = json!({
        "type": event.topic,
        "timestamp": event.created_at,
        "data": {
            "seq": seq,
            "topic": event.topic,
            "time": event.created_at,
            "entity": { "type": type_name(&event.entity_type), "id": global_id::of(type_name(&event.entity_type), event.entity_id) },
            "actor": { "name": event.actor_name, "id": event.actor_id.map(|id| global_id::of("User", id)) },
            "changes": changes,
            "details": details,
            "ticket": ticket.map(ticket_json),
        },
    });
    Rendered {
        topic: event.topic.clone(),
        message_id: message_id(endpoint_id, seq),
        body: body.to_string(),
    }
}

/// The tickets the events are about, as they are now.
async fn tickets_of(
    conn: &impl ConnectionTrait,
    events: &[event::Model],
) -> AppResult<HashMap<i64, ticket::Model>> {
    let ids: Vec<i64> = events
        .iter()
        .filter(|e| e.entity_type == "ticket")
        .map(|e| e.entity_id)
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(ticket::Entity::find()
        .filter(ticket::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect())
}

/// One event rendered for one endpoint, if its owner may see it (for redelivery).
pub async fn render_one(
    conn: &impl ConnectionTrait,
    endpoint: &webhook_endpoint::Model,
    seq: i64,
    now: DateTime<Utc>,
) -> AppResult<Option<Rendered>> {
    let Some(event) = event::Entity::find()
        .filter(event::Column::Seq.eq(seq))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let Some(view) = owner_view(conn, endpoint, now).await? else {
        return Ok(None);
    };
    let tickets = tickets_of(conn, std::slice::from_ref(&event)).await?;
    let ticket = tickets
        .get(&event.entity_id)
        .filter(|_| event.entity_type == "ticket");
    if !view.sees(&event, ticket) {
        return Ok(None);
    }
    Ok(Some(render(endpoint.id, &event, ticket)))
}

/// Queues the next page of events for the endpoints that want them; how many
/// deliveries it queued, and whether more events wait.
pub async fn fan_out(db: &Db, now: DateTime<Utc>) -> AppResult<(usize, bool)> {
    let any_enabled = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .one(db.conn())
        .await?
        .is_some();
    if !any_enabled {
        consumers::skip_idle(db, Consumer::Webhooks).await?;
        return Ok((0, false));
    }
    let from = consumers::position(db.conn(), Consumer::Webhooks).await?;
    let events = consumers::next_events(db.conn(), from, PAGE).await?;
    let Some(to) = events.last().and_then(|e| e.seq) else {
        return Ok((0, false));
    };
    let more = events.len() as u64 == PAGE;
    let txn = db.begin_write().await?;
    if !consumers::claim(&txn, Consumer::Webhooks, from, to).await? {
        return Ok((0, more));
    }
    let endpoints = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .all(&txn)
        .await?;
    let mut subscribers = Vec::with_capacity(endpoints.len());
    for endpoint in endpoints {
        let topics = serde_json::from_value::<Vec<String>>(endpoint.topics.clone())
            .unwrap_or_default()
            .iter()
            .map(|t| Topic::parse(t))
            .collect();
        let filter = serde_json::from_value(endpoint.filter.clone()).unwrap_or_default();
        let view = owner_view(&txn, &endpoint, now).await?;
        subscribers.push(Subscriber {
            endpoint,
            topics,
            filter,
            view,
        });
    }
    let tickets = if subscribers.is_empty() {
        HashMap::new()
    } else {
        tickets_of(&txn, &events).await?
    };
    let mut queued = 0;
    for event in &events {
        let seq = event.seq.unwrap_or_default();
        let topic = Topic::parse(&event.topic);
        let snapshot = TicketSnapshot::in_payload(&event.payload);
        let ticket = tickets
            .get(&event.entity_id)
            .filter(|_| event.entity_type == "ticket");
        for s in &subscribers {
            let wanted = seq > s.endpoint.start_seq
                && (s.topics.is_empty() || s.topics.contains(&topic))
                && s.filter.admits(snapshot.as_ref())
                && s.view.as_ref().is_some_and(|v| v.sees(event, ticket));
            if wanted {
                let rendered = render(s.endpoint.id, event, ticket);
                queue(
                    &txn,
                    &s.endpoint,
                    Some(seq),
                    &rendered.topic,
                    rendered.message_id,
                    rendered.body,
                    now,
                )
                .await?;
                queued += 1;
            }
        }
    }
    txn.commit().await?;
    Ok((queued, more))
}
