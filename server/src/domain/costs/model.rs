//! The cost model, kept by admins: hourly rates, costs of items and services, charging
//! policies, budgets.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{budget, charging_policy, configuration_item, cost_item, cost_rate, group, service};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder,
    sea_query::OnConflict,
};
use serde_json::json;

use super::{ChargingMethod, CostKind, require_reader, require_writer};
use crate::{
    auth::{Caller, Role},
    db::Db,
    domain::{input::text, lookup::referenced},
    error::{AppError, AppResult},
};

/// A day as the model stores it.
///
/// # Errors
/// BAD_USER_INPUT naming `field` for a day not written YYYY-MM-DD.
pub fn day(field: &str, text: &str) -> AppResult<NaiveDate> {
    text.trim().parse().map_err(|_| {
        AppError::bad_input(field, format!("'{text}' is not a day such as 2026-11-01"))
    })
}

fn amount(field: &str, cents: i64) -> AppResult<i64> {
    if !(0..=1_000_000_000_000).contains(&cents) {
        return Err(AppError::bad_input(
            field,
            "give an amount in cents from 0 to 10,000,000,000.00",
        ));
    }
    Ok(cents)
}

/// Adds an hourly rate for a group, or for a role's work no group rate covers.
///
/// # Errors
/// BAD_USER_INPUT unless exactly one of group and role is given.
pub async fn add_rate(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    group_id: Option<i64>,
    role: Option<Role>,
    hourly_cents: i64,
    valid_from: &str,
) -> AppResult<cost_rate::Model> {
    require_writer(caller)?;
    if group_id.is_some() == role.is_some() {
        return Err(AppError::bad_input(
            "groupId",
            "a rate is for a group or for a role, one of the two",
        ));
    }
    let valid_from = day("validFrom", valid_from)?;
    let hourly_cents = amount("hourlyCents", hourly_cents)?;
    let txn = db.begin_write().await?;
    if let Some(group) = group_id {
        referenced::<group::Entity>(&txn, group, "groupId", "group").await?;
    }
    let row = cost_rate::ActiveModel {
        group_id: Set(group_id),
        role: Set(role.map(|r| r.as_str().to_string())),
        hourly_cents: Set(hourly_cents),
        valid_from: Set(valid_from.to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// What a cost is of and how it recurs.
#[derive(Clone, Debug)]
pub struct NewCost {
    pub configuration_item_id: Option<i64>,
    pub service_id: Option<i64>,
    pub kind: CostKind,
    pub amount_cents: i64,
    pub starts_on: String,
    pub ends_on: Option<String>,
    pub description: String,
}

/// Adds a cost of a configuration item or a service.
///
/// # Errors
/// BAD_USER_INPUT unless exactly one of item and service is given, or for days that do
/// not read or end before they start.
pub async fn add_cost(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    new: NewCost,
) -> AppResult<cost_item::Model> {
    require_writer(caller)?;
    if new.configuration_item_id.is_some() == new.service_id.is_some() {
        return Err(AppError::bad_input(
            "configurationItemId",
            "a cost is of a configuration item or of a service, one of the two",
        ));
    }
    let starts = day("startsOn", &new.starts_on)?;
    let ends = new
        .ends_on
        .as_deref()
        .map(|e| day("endsOn", e))
        .transpose()?;
    if ends.is_some_and(|e| e < starts) {
        return Err(AppError::bad_input(
            "endsOn",
            "a cost ends on or after the day it starts",
        ));
    }
    let description = text("description", &new.description, 2000, false)?;
    let txn = db.begin_write().await?;
    if let Some(item) = new.configuration_item_id {
        referenced::<configuration_item::Entity>(
            &txn,
            item,
            "configurationItemId",
            "configuration item",
        )
        .await?;
    }
    if let Some(service) = new.service_id {
        referenced::<service::Entity>(&txn, service, "serviceId", "service").await?;
    }
    let row = cost_item::ActiveModel {
        configuration_item_id: Set(new.configuration_item_id),
        service_id: Set(new.service_id),
        kind: Set(new.kind.as_str().into()),
        amount_cents: Set(amount("amountCents", new.amount_cents)?),
        starts_on: Set(starts.to_string()),
        ends_on: Set(ends.map(|e| e.to_string())),
        description: Set(description),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// How a service is charged.
#[derive(Clone, Debug)]
pub struct Charging {
    pub method: ChargingMethod,
    pub fixed_cents: i64,
    /// Price by priority, 1 to 4 (and 0, MAJOR).
    pub per_ticket_cents: BTreeMap<i16, i64>,
    pub hourly_cents: i64,
}

/// Sets a service's charging policy.
///
/// # Errors
/// BAD_USER_INPUT for amounts out of range or priorities that do not exist.
pub async fn set_charging(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    service_id: i64,
    charging: Charging,
) -> AppResult<charging_policy::Model> {
    require_writer(caller)?;
    amount("fixedCents", charging.fixed_cents)?;
    amount("hourlyCents", charging.hourly_cents)?;
    for (priority, cents) in &charging.per_ticket_cents {
        if !(0..=4).contains(priority) {
            return Err(AppError::bad_input(
                "perTicketCents",
                "prices are by priority 0 (MAJOR) to 4",
            ));
        }
        amount("perTicketCents", *cents)?;
    }
    let txn = db.begin_write().await?;
    referenced::<service::Entity>(&txn, service_id, "serviceId", "service").await?;
    let prices: BTreeMap<String, i64> = charging
        .per_ticket_cents
        .iter()
        .map(|(p, c)| (p.to_string(), *c))
        .collect();
    charging_policy::Entity::insert(charging_policy::ActiveModel {
        service_id: Set(service_id),
        method: Set(charging.method.as_str().into()),
        fixed_cents: Set(charging.fixed_cents),
        per_ticket_cents: Set(json!(prices)),
        hourly_cents: Set(charging.hourly_cents),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(charging_policy::Column::ServiceId)
            .update_columns([
                charging_policy::Column::Method,
                charging_policy::Column::FixedCents,
                charging_policy::Column::PerTicketCents,
                charging_policy::Column::HourlyCents,
                charging_policy::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let row = charging_policy::Entity::find_by_id(service_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal("the charging policy just written is gone".into()))?;
    txn.commit().await?;
    Ok(row)
}

/// Sets a service's budget for a year (replacing one set before).
///
/// # Errors
/// BAD_USER_INPUT for a year, amount or alert share out of range.
pub async fn set_budget(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    service_id: i64,
    year: i32,
    amount_cents: i64,
    alert_percent: i32,
) -> AppResult<budget::Model> {
    require_writer(caller)?;
    if !(2000..=2200).contains(&year) {
        return Err(AppError::bad_input("year", "give a year such as 2027"));
    }
    amount("amountCents", amount_cents)?;
    if !(1..=100).contains(&alert_percent) {
        return Err(AppError::bad_input("alertPercent", "give 1 to 100 percent"));
    }
    let txn = db.begin_write().await?;
    referenced::<service::Entity>(&txn, service_id, "serviceId", "service").await?;
    budget::Entity::insert(budget::ActiveModel {
        service_id: Set(service_id),
        year: Set(year),
        amount_cents: Set(amount_cents),
        alert_percent: Set(alert_percent),
        alerted_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([budget::Column::ServiceId, budget::Column::Year])
            .update_columns([
                budget::Column::AmountCents,
                budget::Column::AlertPercent,
                budget::Column::AlertedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    let rows = budgets_of(db.conn(), caller, year).await?;
    rows.into_iter()
        .find(|b| b.service_id == service_id)
        .ok_or_else(|| AppError::Internal("the budget just written is gone".into()))
}

/// The budgets of a year.
pub async fn budgets_of(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    year: i32,
) -> AppResult<Vec<budget::Model>> {
    require_reader(caller)?;
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(budget::Entity::find()
        .filter(budget::Column::Year.eq(year))
        .order_by_asc(budget::Column::ServiceId)
        .all(conn)
        .await?)
}
