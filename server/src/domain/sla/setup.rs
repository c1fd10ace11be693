//! Admins define calendars and SLA policies.

use crate::auth::Caller;
use crate::domain::desk::require_admin;
use chrono::{DateTime, Utc};
use entity::{calendar, category, organization, sla_policy};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, TryIntoModel};
use serde_json::json;

use super::Agreement;
use crate::domain::input::text;
use crate::{
    db::Db,
    domain::{
        calendar::Calendar,
        lookup::referenced,
        tickets::types::{Kind, PendingReason},
    },
    error::{AppError, AppResult},
};

/// What an admin writes for a business calendar.
pub struct CalendarFields {
    pub name: String,
    pub time_zone: String,
    pub week: Vec<Vec<String>>,
    pub holidays: Vec<String>,
}

/// Creates a calendar (no id) or replaces one.
///
/// # Errors
/// BAD_USER_INPUT for hours, holidays or a time zone that do not fit.
pub async fn save_calendar(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: CalendarFields,
) -> AppResult<calendar::Model> {
    require_admin(caller)?;
    let name = fields.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_input(
            "name",
            "give a name of 1 to 100 characters",
        ));
    }
    // Parsing checks the time zone, the spans and the dates.
    Calendar::parse(&fields.time_zone, &fields.week, &fields.holidays)?;
    let txn = db.begin_write().await?;
    let mut active: calendar::ActiveModel = match id {
        Some(id) => referenced::<calendar::Entity>(&txn, id, "id", "calendar")
            .await?
            .into(),
        None => calendar::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.name = Set(name);
    active.time_zone = Set(fields.time_zone.trim().to_string());
    active.week = Set(json!(fields.week));
    active.holidays = Set(json!(
        fields.holidays.iter().map(|d| d.trim()).collect::<Vec<_>>()
    ));
    let row = active.save(&txn).await?.try_into_model()?;
    txn.commit().await?;
    Ok(row)
}

/// What an admin writes for an SLA policy.
pub struct PolicyFields {
    pub name: String,
    pub position: i32,
    pub active: bool,
    pub kind: Option<Kind>,
    pub priority: Option<i16>,
    pub category_id: Option<i64>,
    pub service_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub calendar_id: Option<i64>,
    pub response_minutes: Option<i32>,
    pub resolution_minutes: Option<i32>,
    pub warn_percents: Vec<i32>,
    pub pause_reasons: Vec<PendingReason>,
    /// SLA, OLA (with `group_id`) or UNDERPINNING_CONTRACT (with `supplier_id`).
    pub agreement: Agreement,
    pub group_id: Option<i64>,
    pub supplier_id: Option<i64>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub review_at: Option<DateTime<Utc>>,
    pub document_url: Option<String>,
}

/// Creates a policy, or replaces policy `id`'s definition. Clocks already running keep
/// the terms they started with (target, calendar, warnings): a changed agreement applies
/// to the clocks that start after it.
pub async fn save_policy(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: PolicyFields,
) -> AppResult<sla_policy::Model> {
    require_admin(caller)?;
    let name = fields.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_input(
            "name",
            "give a name of 1 to 100 characters",
        ));
    }
    for (field, minutes) in [
        ("responseMinutes", fields.response_minutes),
        ("resolutionMinutes", fields.resolution_minutes),
    ] {
        if minutes.is_some_and(|m| !(1..=525_600).contains(&m)) {
            return Err(AppError::bad_input(field, "give 1 minute to 365 days"));
        }
    }
    if fields.response_minutes.is_none() && fields.resolution_minutes.is_none() {
        return Err(AppError::bad_input(
            "resolutionMinutes",
            "a policy needs a response or a resolution target",
        ));
    }
    if fields.warn_percents.iter().any(|p| !(1..100).contains(p)) {
        return Err(AppError::bad_input(
            "warnPercents",
            "warnings are at 1 to 99 percent of the target",
        ));
    }
    if fields.priority.is_some_and(|p| !(1..=4).contains(&p)) {
        return Err(AppError::bad_input("priority", "priorities are 1 to 4"));
    }
    match fields.agreement {
        Agreement::Ola if fields.group_id.is_none() || fields.supplier_id.is_some() => {
            return Err(AppError::bad_input(
                "groupId",
                "an OLA is agreed with one internal group: give its groupId (and no supplier)",
            ));
        }
        Agreement::UnderpinningContract
            if fields.supplier_id.is_none() || fields.group_id.is_some() =>
        {
            return Err(AppError::bad_input(
                "supplierId",
                "an underpinning contract is agreed with one supplier: give its supplierId (and no group)",
            ));
        }
        Agreement::Sla if fields.group_id.is_some() || fields.supplier_id.is_some() => {
            return Err(AppError::bad_input(
                "agreement",
                "an SLA is with a customer: a group makes it an OLA, a supplier an UNDERPINNING_CONTRACT",
            ));
        }
        _ => {}
    }
    if let (Some(from), Some(until)) = (fields.valid_from, fields.valid_until)
        && until <= from
    {
        return Err(AppError::bad_input(
            "validUntil",
            "an agreement ends after it begins",
        ));
    }
    if let Some(url) = &fields.document_url
        && (text("documentUrl", url, 2000, true).is_err()
            || url.len() > 2000
            || !(url.starts_with("https://") || url.starts_with("http://")))
    {
        return Err(AppError::bad_input(
            "documentUrl",
            "give the document's http(s) address, up to 2,000 characters",
        ));
    }
    let txn = db.begin_write().await?;
    if let Some(calendar) = fields.calendar_id {
        referenced::<calendar::Entity>(&txn, calendar, "calendarId", "calendar").await?;
    }
    if let Some(category) = fields.category_id {
        referenced::<category::Entity>(&txn, category, "categoryId", "category").await?;
    }
    if let Some(org) = fields.organization_id {
        referenced::<organization::Entity>(&txn, org, "organizationId", "organization").await?;
    }
    if let Some(service) = fields.service_id {
        referenced::<entity::service::Entity>(&txn, service, "serviceId", "service").await?;
    }
    if let Some(group) = fields.group_id {
        referenced::<entity::group::Entity>(&txn, group, "groupId", "group").await?;
    }
    if let Some(supplier) = fields.supplier_id {
        referenced::<entity::supplier::Entity>(&txn, supplier, "supplierId", "supplier").await?;
    }
    let mut active: sla_policy::ActiveModel = match id {
        Some(id) => referenced::<sla_policy::Entity>(&txn, id, "id", "SLA policy")
            .await?
            .into(),
        None => sla_policy::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.name = Set(name);
    active.position = Set(fields.position);
    active.active = Set(fields.active);
    active.match_kind = Set(fields.kind.map(|k| k.as_str().to_string()));
    active.match_priority = Set(fields.priority);
    active.match_service_id = Set(fields.service_id);
    active.match_category_id = Set(fields.category_id);
    active.match_organization_id = Set(fields.organization_id);
    active.calendar_id = Set(fields.calendar_id);
    active.response_minutes = Set(fields.response_minutes);
    active.resolution_minutes = Set(fields.resolution_minutes);
    active.warn_percents = Set(json!(fields.warn_percents));
    active.pause_reasons = Set(json!(
        fields
            .pause_reasons
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
    ));
    active.agreement = Set(fields.agreement.as_str().into());
    active.match_group_id = Set(fields.group_id);
    active.supplier_id = Set(fields.supplier_id);
    active.valid_from = Set(fields.valid_from);
    active.valid_until = Set(fields.valid_until);
    // A new review date is announced again.
    let old_review = match &active.review_at {
        sea_orm::ActiveValue::Set(at) | sea_orm::ActiveValue::Unchanged(at) => *at,
        sea_orm::ActiveValue::NotSet => None,
    };
    if old_review != fields.review_at {
        active.review_announced = Set(false);
    }
    active.review_at = Set(fields.review_at);
    active.document_url = Set(fields.document_url);
    let row = active.save(&txn).await?.try_into_model()?;
    txn.commit().await?;
    Ok(row)
}
