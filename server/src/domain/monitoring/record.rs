//! Recording a batch of deliveries: one row per fingerprint (the same alert again is
//! counted, not added), a transition and an event only when an alert starts firing or
//! is resolved, flapping judged from the recent transitions, and the incidents and
//! capacity measures the changes touch. Repeats cost one UPDATE per distinct count in
//! the batch, whatever the number of alerts.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{alert, alert_transition};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use serde_json::{Value, json};

use super::{AlertStatus, IncomingAlert, correlate, incidents};
use crate::{
    domain::{
        capacity,
        events::{self, Actor, NewEvent, Topic},
        settings::{self, DeskSettings},
        versioned,
    },
    error::AppResult,
};

/// What a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Alerts delivered.
    pub received: usize,
    /// Of those, alerts the desk had not seen before.
    pub new: usize,
    /// Changes between firing and resolved.
    pub changed: usize,
    /// Repeats of an alert in the state it was in: counted only.
    pub repeated: usize,
}

/// The alert as its events carry it.
pub fn payload(row: &alert::Model) -> Value {
    json!({
        "alertId": row.id,
        "fingerprint": row.fingerprint,
        "name": row.name,
        "status": row.status,
        "severity": row.severity,
        "summary": row.summary,
        "groupKey": row.group_key,
        "configurationItemId": row.configuration_item_id,
        "ticketId": row.ticket_id,
        "flapping": row.flapping,
        "receivedCount": row.received_count,
    })
}

async fn announce(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &alert::Model,
    extra: Value,
) -> AppResult<()> {
    let mut body = payload(row);
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    events::append(
        txn,
        actor,
        now,
        NewEvent {
            topic,
            entity_type: "alert",
            entity_id: row.id,
            internal: false,
            payload: body,
        },
    )
    .await?;
    Ok(())
}

fn strings(map: &BTreeMap<String, String>) -> Value {
    json!(map)
}

/// Records a batch inside `txn`, in delivery order.
pub async fn apply(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    alerts: Vec<IncomingAlert>,
) -> AppResult<Outcome> {
    let desk = settings::load(txn).await?;
    let mut outcome = Outcome {
        received: alerts.len(),
        ..Outcome::default()
    };
    let mut fingerprints: Vec<String> = alerts.iter().map(|a| a.fingerprint.clone()).collect();
    fingerprints.sort();
    fingerprints.dedup();
    let mut rows: HashMap<String, alert::Model> = HashMap::new();
    for chunk in fingerprints.chunks(500) {
        for row in alert::Entity::find()
            .filter(alert::Column::Fingerprint.is_in(chunk.iter().cloned()))
            .all(txn)
            .await?
        {
            rows.insert(row.fingerprint.clone(), row);
        }
    }

    // The first delivery of each new alert is inserted together; the rest follow in order.
    let mut first_of_new: Vec<usize> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, a) in alerts.iter().enumerate() {
        if !rows.contains_key(&a.fingerprint) && seen.insert(&a.fingerprint) {
            first_of_new.push(i);
        }
    }
    let new_alerts: Vec<&IncomingAlert> = first_of_new.iter().map(|&i| &alerts[i]).collect();
    let items = correlate::items_for(txn, &new_alerts).await?;
    for (a, item) in new_alerts.iter().zip(items) {
        let row = insert(txn, now, a, item).await?;
        transition(txn, row.id, a.status, time_of(a, now)).await?;
        let topic = match a.status {
            AlertStatus::Firing => Topic::AlertFired,
            AlertStatus::Resolved => Topic::AlertResolved,
        };
        announce(txn, actor, now, topic, &row, json!({ "refired": false })).await?;
        rows.insert(row.fingerprint.clone(), row);
    }
    outcome.new = first_of_new.len();

    let mut repeats: HashMap<i64, i64> = HashMap::new();
    let mut resolved_tickets: Vec<i64> = Vec::new();
    let firsts: HashSet<usize> = first_of_new.into_iter().collect();
    for (i, a) in alerts.iter().enumerate() {
        if firsts.contains(&i) {
            continue;
        }
        let row = rows
            .get(&a.fingerprint)
            .expect("every fingerprint was loaded or inserted");
        if row.status == a.status.as_str() {
            *repeats.entry(row.id).or_default() += 1;
            outcome.repeated += 1;
            continue;
        }
        let saved = change_status(txn, actor, now, &desk, row, a).await?;
        outcome.changed += 1;
        if a.status == AlertStatus::Resolved
            && let Some(ticket_id) = saved.ticket_id
            && !resolved_tickets.contains(&ticket_id)
        {
            resolved_tickets.push(ticket_id);
        }
        rows.insert(saved.fingerprint.clone(), saved);
    }

    // Repeats: one UPDATE per distinct count.
    let mut by_count: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (id, n) in repeats {
        by_count.entry(n).or_default().push(id);
    }
    for (n, ids) in by_count {
        for chunk in ids.chunks(500) {
            alert::Entity::update_many()
                .col_expr(
                    alert::Column::ReceivedCount,
                    Expr::col(alert::Column::ReceivedCount).add(n),
                )
                .col_expr(alert::Column::LastReceivedAt, Expr::value(now))
                .filter(alert::Column::Id.is_in(chunk.iter().copied()))
                .exec(txn)
                .await?;
        }
    }

    for ticket_id in resolved_tickets {
        incidents::after_alerts_resolved(txn, now, &desk, ticket_id).await?;
    }

    let values: Vec<capacity::Value> = alerts
        .iter()
        .filter(|a| !a.metrics.is_empty())
        .filter_map(|a| {
            let item = rows.get(&a.fingerprint)?.configuration_item_id?;
            Some(a.metrics.iter().map(move |(measure, value)| {
                capacity::Value {
                    configuration_item_id: item,
                    measure: measure.clone(),
                    value: *value,
                    at: a
                        .starts_at
                        .filter(|_| a.status == AlertStatus::Firing)
                        .unwrap_or(now),
                }
            }))
        })
        .flatten()
        .collect();
    if !values.is_empty() {
        capacity::record_values(txn, actor, now, &desk, values, true).await?;
    }
    Ok(outcome)
}

/// When the monitoring system says the change happened, else now.
fn time_of(a: &IncomingAlert, now: DateTime<Utc>) -> DateTime<Utc> {
    match a.status {
        AlertStatus::Firing => a.starts_at,
        AlertStatus::Resolved => a.ends_at,
    }
    .filter(|at| *at <= now)
    .unwrap_or(now)
}

async fn insert(
    txn: &DatabaseTransaction,
    now: DateTime<Utc>,
    a: &IncomingAlert,
    item: Option<i64>,
) -> AppResult<alert::Model> {
    let row = alert::ActiveModel {
        fingerprint: Set(a.fingerprint.clone()),
        source: Set(a.source.as_str().into()),
        name: Set(a.name.clone()),
        status: Set(a.status.as_str().into()),
        severity: Set(a.severity.clone()),
        summary: Set(a.summary.clone()),
        labels: Set(strings(&a.labels)),
        annotations: Set(strings(&a.annotations)),
        group_key: Set(a.group_key.clone()),
        configuration_item_id: Set(item),
        ticket_id: Set(None),
        rule_id: Set(None),
        starts_at: Set(a.starts_at.filter(|at| *at <= now).unwrap_or(now)),
        ends_at: Set(match a.status {
            AlertStatus::Firing => None,
            AlertStatus::Resolved => Some(time_of(a, now)),
        }),
        last_received_at: Set(now),
        received_count: Set(1),
        flapping: Set(false),
        generator_url: Set(a.generator_url.clone()),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(sea_orm::ActiveModelTrait::insert(row, txn).await?)
}

async fn transition(
    txn: &DatabaseTransaction,
    alert_id: i64,
    status: AlertStatus,
    at: DateTime<Utc>,
) -> AppResult<()> {
    alert_transition::Entity::insert(alert_transition::ActiveModel {
        alert_id: Set(alert_id),
        status: Set(status.as_str().into()),
        at: Set(at),
        ..Default::default()
    })
    .exec(txn)
    .await?;
    Ok(())
}

/// An alert starts firing again or is resolved: its new state, its transition, whether
/// it is flapping now, and the events that say so.
async fn change_status(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    desk: &DeskSettings,
    row: &alert::Model,
    a: &IncomingAlert,
) -> AppResult<alert::Model> {
    let at = time_of(a, now);
    transition(txn, row.id, a.status, at).await?;
    let recent = alert_transition::Entity::find()
        .filter(alert_transition::Column::AlertId.eq(row.id))
        .filter(alert_transition::Column::At.gte(now - desk.flap_window()))
        .count(txn)
        .await? as i64;
    let flapping = recent >= desk.alert_flap_changes;
    let mut changed = alert::ActiveModel {
        status: Set(a.status.as_str().into()),
        received_count: Set(row.received_count + 1),
        last_received_at: Set(now),
        flapping: Set(flapping),
        summary: Set(a.summary.clone()),
        ..Default::default()
    };
    match a.status {
        AlertStatus::Firing => {
            changed.starts_at = Set(at);
            changed.ends_at = Set(None);
        }
        AlertStatus::Resolved => changed.ends_at = Set(Some(at)),
    }
    let saved = versioned::save::<alert::Entity>(txn, row, changed, now).await?;
    let topic = match a.status {
        AlertStatus::Firing => Topic::AlertFired,
        AlertStatus::Resolved => Topic::AlertResolved,
    };
    announce(
        txn,
        actor,
        now,
        topic,
        &saved,
        json!({ "refired": a.status == AlertStatus::Firing }),
    )
    .await?;
    if flapping != row.flapping {
        announce(
            txn,
            actor,
            now,
            Topic::AlertFlapping,
            &saved,
            json!({ "changesInWindow": recent }),
        )
        .await?;
    }
    Ok(saved)
}
