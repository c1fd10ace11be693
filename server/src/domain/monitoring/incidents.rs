//! Alerts become incidents: one per configuration item and alert group. The automation
//! action `RAISE_INCIDENT` asks for it; an alert on an item whose alert-raised incident
//! is open is attached to that incident instead, and a flapping alert reopens the
//! incident it had rather than raising another. When every alert of an incident is
//! resolved, its outages end when the last alert did, and (if the desk says so) the
//! incident resolves itself with the alerts' timeline as its comment.

use chrono::{DateTime, Utc};
use entity::{alert, alert_transition, automation_rule, configuration_item as ci, ticket, user};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::{AlertStatus, record};
use crate::{
    auth::Caller,
    domain::{
        availability,
        events::{Actor, Topic},
        settings::{self, DeskSettings},
        tickets::{
            commands::{self, NewTicket, Transition},
            types::{Channel, Kind, Level, Status},
        },
        users, versioned,
    },
    error::AppResult,
};

/// The priority an alert's severity suggests when the rule does not say.
pub fn priority_of(severity: &str) -> i16 {
    match severity {
        "critical" | "disaster" | "page" => 1,
        "error" | "major" | "high" => 2,
        "warning" | "average" | "minor" => 3,
        _ => 4,
    }
}

/// What `RAISE_INCIDENT` asks for.
#[derive(Clone, Copy, Debug, Default)]
pub struct Raise {
    pub priority: Option<i16>,
    pub group_id: Option<i64>,
    pub rule_id: Option<i64>,
}

/// Raises (or finds, or reopens) the incident for an alert, as `caller`, and attaches
/// the alert to it. None when the alert is over and was not flapping: nothing to do.
pub async fn raise(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    alert_id: i64,
    raise: Raise,
) -> AppResult<Option<i64>> {
    let Some(row) = alert::Entity::find_by_id(alert_id).one(txn).await? else {
        return Ok(None);
    };
    if row.status == AlertStatus::Resolved.as_str() && !row.flapping {
        return Ok(None);
    }
    let desk = settings::load(txn).await?;
    if let Some(ticket_id) = row.ticket_id
        && let Some(ticket) = ticket::Entity::find_by_id(ticket_id).one(txn).await?
    {
        let status = Status::stored(&ticket.status)?;
        if status.is_open() {
            return Ok(Some(ticket_id));
        }
        let recently = ticket
            .resolved_at
            .is_some_and(|at| now - at <= desk.flap_window());
        if status == Status::Resolved && (row.flapping || recently) {
            let reopen = Transition {
                to: Status::InProgress,
                pending_reason: None,
                resolution_code: None,
                resolution_notes: None,
            };
            commands::transition(txn, caller, now, ticket.id, ticket.version, reopen).await?;
            return Ok(Some(ticket_id));
        }
    }
    if let Some(open) = open_incident_for(txn, &row).await? {
        attach(txn, caller, now, &row, open, raise.rule_id).await?;
        return Ok(Some(open));
    }
    let item = match row.configuration_item_id {
        Some(id) => ci::Entity::find_by_id(id).one(txn).await?,
        None => None,
    };
    let priority = raise.priority.unwrap_or_else(|| priority_of(&row.severity));
    let title = match &item {
        Some(item) => format!("{} on {}", row.name, item.name),
        None => row.name.clone(),
    };
    let description = format!(
        "{}\n\nRaised from monitoring: alert '{}' ({}), firing since {}.",
        row.summary,
        row.name,
        row.severity,
        row.starts_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let incident = Incident {
        title,
        description,
        priority,
        group_id: raise.group_id,
        service_id: item.as_ref().and_then(|i| i.service_id),
        item_id: item.as_ref().map(|i| i.id),
    };
    let created = open_incident(txn, caller, now, &desk, incident).await?;
    attach(txn, caller, now, &row, created.id, raise.rule_id).await?;
    Ok(Some(created.id))
}

/// The open incident an alert belongs with: one raised from alerts on the same item,
/// or, for an alert no item was found for, from alerts of the same group.
async fn open_incident_for(
    txn: &DatabaseTransaction,
    row: &alert::Model,
) -> AppResult<Option<i64>> {
    let same = match row.configuration_item_id {
        Some(item) => Condition::all().add(alert::Column::ConfigurationItemId.eq(item)),
        None => Condition::all()
            .add(alert::Column::ConfigurationItemId.is_null())
            .add(alert::Column::GroupKey.eq(row.group_key.clone())),
    };
    let candidates: Vec<i64> = alert::Entity::find()
        .filter(same)
        .filter(alert::Column::TicketId.is_not_null())
        .order_by_desc(alert::Column::Id)
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|a| a.ticket_id)
        .collect();
    if candidates.is_empty() {
        return Ok(None);
    }
    let open: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    Ok(ticket::Entity::find()
        .filter(ticket::Column::Id.is_in(candidates))
        .filter(ticket::Column::Status.is_in(open))
        .order_by_desc(ticket::Column::Id)
        .one(txn)
        .await?
        .map(|t| t.id))
}

async fn attach(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    row: &alert::Model,
    ticket_id: i64,
    rule_id: Option<i64>,
) -> AppResult<()> {
    if row.ticket_id == Some(ticket_id) {
        return Ok(());
    }
    let changed = alert::ActiveModel {
        ticket_id: Set(Some(ticket_id)),
        rule_id: Set(rule_id.or(row.rule_id)),
        ..Default::default()
    };
    let saved = versioned::save::<alert::Entity>(txn, row, changed, now).await?;
    crate::domain::events::append(
        txn,
        &Actor::of(caller),
        now,
        crate::domain::events::NewEvent {
            topic: Topic::AlertAttached,
            entity_type: "alert",
            entity_id: saved.id,
            internal: false,
            payload: record::payload(&saved),
        },
    )
    .await?;
    Ok(())
}

/// Some of an incident's alerts were resolved: if all are, and none is flapping, its
/// outages end when the last alert did and, if the desk says so, it resolves itself.
pub async fn after_alerts_resolved(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    desk: &DeskSettings,
    ticket_id: i64,
) -> AppResult<()> {
    let alerts = alert::Entity::find()
        .filter(alert::Column::TicketId.eq(ticket_id))
        .order_by_asc(alert::Column::Id)
        .all(txn)
        .await?;
    if alerts
        .iter()
        .any(|a| a.status == AlertStatus::Firing.as_str() || a.flapping)
    {
        return Ok(());
    }
    let ended = alerts.iter().filter_map(|a| a.ends_at).max().unwrap_or(now);
    availability::outages::end_for_ticket(txn, now, ticket_id, ended).await?;
    if !desk.alert_auto_resolve {
        return Ok(());
    }
    // The person of the rule that raised it resolves it, with that rule's rights.
    let Some(rule_id) = alerts.iter().find_map(|a| a.rule_id) else {
        return Ok(());
    };
    let Some(rule) = automation_rule::Entity::find_by_id(rule_id)
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let Some(person) = user::Entity::find_by_id(rule.run_as_id).one(txn).await? else {
        return Ok(());
    };
    let caller = users::acting_as(&person, None);
    let note = timeline(txn, &alerts).await?;
    commands::resolve_with(
        txn,
        &caller,
        now,
        desk,
        ticket_id,
        "RESOLVED_BY_MONITORING",
        &note,
    )
    .await?;
    Ok(())
}

/// The alerts' firing and resolving, oldest first, as the incident's closing comment.
async fn timeline(txn: &DatabaseTransaction, alerts: &[alert::Model]) -> AppResult<String> {
    let ids: Vec<i64> = alerts.iter().map(|a| a.id).collect();
    let transitions = alert_transition::Entity::find()
        .filter(alert_transition::Column::AlertId.is_in(ids))
        .order_by_asc(alert_transition::Column::At)
        .order_by_asc(alert_transition::Column::Id)
        .all(txn)
        .await?;
    let mut lines = vec!["Every alert of this incident is resolved. Timeline:".to_string()];
    for t in transitions.iter().take(200) {
        let name = alerts
            .iter()
            .find(|a| a.id == t.alert_id)
            .map_or("", |a| a.name.as_str());
        lines.push(format!(
            "{}  {:<8}  {}",
            t.at.format("%Y-%m-%d %H:%M:%S UTC"),
            t.status,
            name
        ));
    }
    if transitions.len() > 200 {
        lines.push(format!("… and {} more", transitions.len() - 200));
    }
    Ok(lines.join("\n"))
}

/// `RAISE_INCIDENT` for an event: an alert's incident (see `raise`), or an incident on
/// the item whose capacity, or the service whose availability, the event is about,
/// titled with the event's message. None when there is nothing to raise.
pub async fn raise_for_event(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    event: &entity::event::Model,
    raise_with: Raise,
) -> AppResult<Option<i64>> {
    let (item, service) = match event.entity_type.as_str() {
        "alert" => return raise(txn, caller, now, event.entity_id, raise_with).await,
        "configuration_item" => {
            // Back under the threshold is good news: nothing to raise.
            if event.payload["over"].as_bool() == Some(false) {
                return Ok(None);
            }
            (Some(event.entity_id), None)
        }
        "service" => (None, Some(event.entity_id)),
        _ => return Ok(None),
    };
    let message = event.payload["message"]
        .as_str()
        .unwrap_or("Raised by monitoring");
    let desk = settings::load(txn).await?;
    let incident = Incident {
        title: message.to_string(),
        description: format!(
            "{message}\n\nRaised by the desk's automation from `{}`.",
            event.topic
        ),
        priority: raise_with.priority.unwrap_or(3),
        group_id: raise_with.group_id,
        service_id: service,
        item_id: item,
    };
    let created = open_incident(txn, caller, now, &desk, incident).await?;
    Ok(Some(created.id))
}

/// What an incident raised from monitoring says and where it goes.
struct Incident {
    title: String,
    description: String,
    priority: i16,
    group_id: Option<i64>,
    service_id: Option<i64>,
    item_id: Option<i64>,
}

/// Raises an incident from monitoring, channel MONITORING, at `priority` through the
/// desk's matrix, as `caller` (routing, SLA and events as for any ticket).
async fn open_incident(
    txn: &DatabaseTransaction,
    caller: &Caller,
    now: DateTime<Utc>,
    desk: &DeskSettings,
    incident: Incident,
) -> AppResult<ticket::Model> {
    let (impact, urgency) = desk
        .levels_for(incident.priority)
        .unwrap_or((Level::Medium, Level::Medium));
    commands::create(
        txn,
        caller,
        now,
        NewTicket {
            kind: Kind::Incident,
            title: incident.title.chars().take(200).collect(),
            description: incident.description,
            impact,
            urgency,
            category_id: None,
            channel: Some(Channel::Monitoring),
            requester_id: None,
            organization_id: None,
            group_id: incident.group_id,
            assignee_id: None,
            service_id: incident.service_id,
            pending_reason: None,
            configuration_item_ids: incident.item_id.into_iter().collect(),
        },
    )
    .await
}
