//! Writing and reading continuity plans.

use chrono::{DateTime, Utc};
use entity::{
    configuration_item, continuity_plan, service, ticket, ticket_configuration_item, user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{require_reader, require_writer};
use crate::{
    auth::Caller,
    db::Db,
    domain::{
        events::{self, Actor, NewEvent, Topic},
        input::text,
        lookup::referenced,
        suppliers::Contact,
        versioned,
    },
    error::{AppError, AppResult},
};

/// One recovery step.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Step {
    pub action: String,
    pub owner_id: Option<i64>,
}

/// What a manager writes for a plan.
#[derive(Clone, Debug, Default)]
pub struct PlanFields {
    pub service_id: i64,
    pub name: String,
    pub rto_minutes: i32,
    pub rpo_minutes: i32,
    pub strategy: String,
    pub steps: Vec<Step>,
    pub configuration_item_ids: Vec<i64>,
    pub contacts: Vec<Contact>,
    pub exercise_interval_months: i32,
}

/// A plan's steps, in order.
pub fn steps_of(row: &continuity_plan::Model) -> Vec<Step> {
    serde_json::from_value(row.steps.clone()).unwrap_or_default()
}

/// The items a plan restores.
pub fn items_of(row: &continuity_plan::Model) -> Vec<i64> {
    serde_json::from_value(row.configuration_item_ids.clone()).unwrap_or_default()
}

/// Whom to call.
pub fn contacts_of(row: &continuity_plan::Model) -> Vec<Contact> {
    serde_json::from_value(row.contacts.clone()).unwrap_or_default()
}

/// Creates a plan (no id) or replaces one. Managers.
///
/// # Errors
/// BAD_USER_INPUT naming what does not fit; CONFLICT for a stale version.
pub async fn save(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<(i64, i32)>,
    fields: PlanFields,
) -> AppResult<continuity_plan::Model> {
    require_writer(caller)?;
    let name = text("name", &fields.name, 200, true)?;
    let strategy = text("strategy", &fields.strategy, 10_000, false)?;
    for (field, minutes) in [
        ("rtoMinutes", fields.rto_minutes),
        ("rpoMinutes", fields.rpo_minutes),
    ] {
        if !(0..=525_600).contains(&minutes) {
            return Err(AppError::bad_input(field, "give 0 minutes to 365 days"));
        }
    }
    if !(1..=120).contains(&fields.exercise_interval_months) {
        return Err(AppError::bad_input(
            "exerciseIntervalMonths",
            "give 1 to 120 months",
        ));
    }
    if fields.steps.len() > 100
        || fields.configuration_item_ids.len() > 200
        || fields.contacts.len() > 50
    {
        return Err(AppError::bad_input(
            "steps",
            "give at most 100 steps, 200 items and 50 contacts",
        ));
    }
    for (i, step) in fields.steps.iter().enumerate() {
        text(&format!("steps.{i}.action"), &step.action, 2000, true)?;
    }
    for (i, contact) in fields.contacts.iter().enumerate() {
        text(&format!("contacts.{i}.name"), &contact.name, 200, true)?;
    }
    let txn = db.begin_write().await?;
    referenced::<service::Entity>(&txn, fields.service_id, "serviceId", "service").await?;
    for (i, step) in fields.steps.iter().enumerate() {
        if let Some(owner) = step.owner_id {
            referenced::<user::Entity>(&txn, owner, &format!("steps.{i}.ownerId"), "person")
                .await?;
        }
    }
    for id in &fields.configuration_item_ids {
        referenced::<configuration_item::Entity>(
            &txn,
            *id,
            "configurationItemIds",
            "configuration item",
        )
        .await?;
    }
    let mut active = continuity_plan::ActiveModel {
        service_id: Set(fields.service_id),
        name: Set(name),
        rto_minutes: Set(fields.rto_minutes),
        rpo_minutes: Set(fields.rpo_minutes),
        strategy: Set(strategy),
        steps: Set(json!(fields.steps)),
        configuration_item_ids: Set(json!(fields.configuration_item_ids)),
        contacts: Set(json!(fields.contacts)),
        exercise_interval_months: Set(fields.exercise_interval_months),
        ..Default::default()
    };
    let (row, topic) = match id {
        Some((id, version)) => {
            let row = versioned::current::<continuity_plan::Entity>(&txn, id, version).await?;
            (
                versioned::save::<continuity_plan::Entity>(&txn, &row, active, now).await?,
                Topic::ContinuityPlanUpdated,
            )
        }
        None => {
            active.created_at = Set(now);
            active.updated_at = Set(now);
            active.version = Set(1);
            (active.insert(&txn).await?, Topic::ContinuityPlanUpdated)
        }
    };
    events::append(
        &txn,
        &Actor::of(caller),
        now,
        NewEvent {
            topic,
            entity_type: "continuity_plan",
            entity_id: row.id,
            internal: false,
            payload: json!({ "planId": row.id, "serviceId": row.service_id, "name": row.name }),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Plans, by service then name; of one service if given. The desk.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service_id: Option<i64>,
) -> AppResult<Vec<continuity_plan::Model>> {
    require_reader(caller)?;
    let mut query = continuity_plan::Entity::find();
    if let Some(service) = service_id {
        query = query.filter(continuity_plan::Column::ServiceId.eq(service));
    }
    Ok(query
        .order_by_asc(continuity_plan::Column::ServiceId)
        .order_by_asc(continuity_plan::Column::Name)
        .limit(1000)
        .all(conn)
        .await?)
}

/// One plan. The desk.
///
/// # Errors
/// NOT_FOUND when there is none.
pub async fn get(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<continuity_plan::Model> {
    require_reader(caller)?;
    versioned::find::<continuity_plan::Entity>(conn, id).await
}

/// The plans of the services an incident touches: its own service, and those its
/// configuration items deliver. The caller must be of the desk.
pub async fn for_ticket(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    ticket: &ticket::Model,
) -> AppResult<Vec<continuity_plan::Model>> {
    require_reader(caller)?;
    let items: Vec<i64> = ticket_configuration_item::Entity::find()
        .select_only()
        .column(ticket_configuration_item::Column::ConfigurationItemId)
        .filter(ticket_configuration_item::Column::TicketId.eq(ticket.id))
        .into_tuple()
        .all(conn)
        .await?;
    let mut services: Vec<i64> = configuration_item::Entity::find()
        .select_only()
        .column(configuration_item::Column::ServiceId)
        .filter(configuration_item::Column::Id.is_in(items))
        .into_tuple::<Option<i64>>()
        .all(conn)
        .await?
        .into_iter()
        .flatten()
        .collect();
    services.extend(ticket.service_id);
    services.sort_unstable();
    services.dedup();
    if services.is_empty() {
        return Ok(vec![]);
    }
    Ok(continuity_plan::Entity::find()
        .filter(continuity_plan::Column::ServiceId.is_in(services))
        .order_by_asc(continuity_plan::Column::Name)
        .all(conn)
        .await?)
}
