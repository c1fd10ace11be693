//! Writing a release: its name, version, type, owner, verifier, dates, the business
//! services it touches and the changes it ships (a change belongs to one release).

use chrono::{DateTime, Utc};
use entity::{change, release, release_service, service, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use serde_json::json;

use super::{ReleaseStatus, ReleaseType, record, require_manager};
use crate::{
    auth::Caller,
    db::Db,
    domain::{
        events::{Actor, Topic},
        input::text,
        lookup::referenced,
        numbers, versioned,
    },
    error::{AppError, AppResult},
};

/// What a release is made of.
pub struct ReleaseFields {
    pub name: String,
    pub version_label: String,
    pub release_type: ReleaseType,
    pub owner_id: Option<i64>,
    pub verifier_id: Option<i64>,
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
    pub early_life_days: i32,
    pub service_ids: Vec<i64>,
    pub change_ids: Vec<i64>,
}

/// Records a release in PLANNING. Release managers.
///
/// # Errors
/// FORBIDDEN below manager; BAD_USER_INPUT for fields that do not fit, or a change that
/// ships in another release already.
pub async fn create(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    fields: ReleaseFields,
) -> AppResult<release::Model> {
    require_manager(caller)?;
    let txn = db.begin_write().await?;
    check(&txn, &fields).await?;
    let number = numbers::next(&txn, "RELEASE", "REL").await?;
    let row = release::ActiveModel {
        number: Set(number),
        name: Set(fields.name.clone()),
        version_label: Set(fields.version_label.clone()),
        release_type: Set(fields.release_type.as_str().into()),
        status: Set(ReleaseStatus::Planning.as_str().into()),
        owner_id: Set(fields.owner_id),
        verifier_id: Set(fields.verifier_id),
        planned_start: Set(fields.planned_start),
        planned_end: Set(fields.planned_end),
        early_life_days: Set(fields.early_life_days),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    attach(&txn, &row, &fields).await?;
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::ReleaseCreated,
        &row,
        json!({ "name": row.name, "changeIds": fields.change_ids, "serviceIds": fields.service_ids }),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Rewrites a release read at `version` while it is still being planned, built or
/// tested. Release managers.
///
/// # Errors
/// As `create`; INVALID_TRANSITION once it is approved; CONFLICT for a stale version.
pub async fn update(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    fields: ReleaseFields,
) -> AppResult<release::Model> {
    require_manager(caller)?;
    let txn = db.begin_write().await?;
    let row = versioned::current::<release::Entity>(&txn, id, version).await?;
    let status = ReleaseStatus::stored(&row.status)?;
    if !matches!(
        status,
        ReleaseStatus::Planning | ReleaseStatus::Building | ReleaseStatus::Testing
    ) {
        return Err(AppError::InvalidTransition {
            message: format!(
                "{} is {status}: only a release not yet approved is rewritten",
                row.number
            ),
            allowed: vec![],
        });
    }
    check(&txn, &fields).await?;
    let changed = release::ActiveModel {
        name: Set(fields.name.clone()),
        version_label: Set(fields.version_label.clone()),
        release_type: Set(fields.release_type.as_str().into()),
        owner_id: Set(fields.owner_id),
        verifier_id: Set(fields.verifier_id),
        planned_start: Set(fields.planned_start),
        planned_end: Set(fields.planned_end),
        early_life_days: Set(fields.early_life_days),
        ..Default::default()
    };
    let saved = versioned::save::<release::Entity>(&txn, &row, changed, now).await?;
    attach(&txn, &saved, &fields).await?;
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::ReleaseUpdated,
        &saved,
        json!({ "changeIds": fields.change_ids, "serviceIds": fields.service_ids }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

async fn check(txn: &DatabaseTransaction, fields: &ReleaseFields) -> AppResult<()> {
    text("name", &fields.name, 200, true)?;
    text("version", &fields.version_label, 100, true)?;
    if !(0..=365).contains(&fields.early_life_days) {
        return Err(AppError::bad_input(
            "earlyLifeDays",
            "give 0 to 365 days of early life",
        ));
    }
    if let (Some(start), Some(end)) = (fields.planned_start, fields.planned_end)
        && end <= start
    {
        return Err(AppError::bad_input(
            "plannedEnd",
            "a release must end after it starts",
        ));
    }
    for id in [fields.owner_id, fields.verifier_id].into_iter().flatten() {
        referenced::<user::Entity>(txn, id, "ownerId", "person").await?;
    }
    for id in &fields.service_ids {
        referenced::<service::Entity>(txn, *id, "serviceIds", "service").await?;
    }
    for id in &fields.change_ids {
        referenced::<change::Entity>(txn, *id, "changeIds", "change").await?;
    }
    Ok(())
}

/// Puts the release's services and changes in place of what it had. A change that
/// ships in another release is refused.
async fn attach(
    txn: &DatabaseTransaction,
    row: &release::Model,
    fields: &ReleaseFields,
) -> AppResult<()> {
    release_service::Entity::delete_many()
        .filter(release_service::Column::ReleaseId.eq(row.id))
        .exec(txn)
        .await?;
    let mut services = fields.service_ids.clone();
    services.sort_unstable();
    services.dedup();
    for service_id in services {
        release_service::ActiveModel {
            release_id: Set(row.id),
            service_id: Set(service_id),
        }
        .insert(txn)
        .await?;
    }
    let taken = change::Entity::find()
        .filter(change::Column::Id.is_in(fields.change_ids.clone()))
        .filter(change::Column::ReleaseId.is_not_null())
        .filter(change::Column::ReleaseId.ne(row.id))
        .one(txn)
        .await?;
    if let Some(taken) = taken {
        return Err(AppError::bad_input(
            "changeIds",
            format!(
                "{} ships in another release already: a change belongs to one release",
                taken.number
            ),
        ));
    }
    change::Entity::update_many()
        .col_expr(change::Column::ReleaseId, Expr::value(Option::<i64>::None))
        .filter(change::Column::ReleaseId.eq(row.id))
        .exec(txn)
        .await?;
    change::Entity::update_many()
        .col_expr(change::Column::ReleaseId, Expr::value(row.id))
        .filter(change::Column::Id.is_in(fields.change_ids.clone()))
        .exec(txn)
        .await?;
    Ok(())
}
