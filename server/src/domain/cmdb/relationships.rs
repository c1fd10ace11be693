//! Relationships between configuration items: what impact analysis walks.

use chrono::{DateTime, Utc};
use entity::{ci_relationship, configuration_item as ci, relationship_type};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use crate::domain::events::Topic;
use crate::domain::{events::Actor, lookup::referenced};
use crate::{
    auth::Caller,
    db::Db,
    error::{AppError, AppResult},
};

use super::{items::record_all, require_writer};

/// The relationship type called `name` (as stored, upper case).
///
/// # Errors
/// BAD_USER_INPUT naming `field` when there is none.
pub async fn relationship_type_named(
    conn: &impl ConnectionTrait,
    field: &str,
    name: &str,
) -> AppResult<relationship_type::Model> {
    relationship_type::Entity::find()
        .filter(relationship_type::Column::Name.eq(name.trim().to_uppercase()))
        .one(conn)
        .await?
        .ok_or_else(|| {
            AppError::bad_input(
                field,
                format!("there is no relationship type named '{name}'"),
            )
        })
}

pub(super) fn relationship_event(
    topic: Topic,
    relationship: &ci_relationship::Model,
    kind: &relationship_type::Model,
) -> Vec<(Topic, i64, Value)> {
    let payload = json!({
        "relationshipId": relationship.id,
        "type": kind.name,
        "sourceId": relationship.source_id,
        "targetId": relationship.target_id,
    });
    // Both ends show it in their history.
    vec![
        (topic, relationship.source_id, payload.clone()),
        (topic, relationship.target_id, payload),
    ]
}

/// Relates two items by a relationship type.
///
/// # Errors
/// BAD_USER_INPUT for an item related to itself or a type or item that does not exist;
/// CONFLICT for items already related by that type; FORBIDDEN for callers who may not write.
pub async fn relate(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    source_id: i64,
    target_id: i64,
    type_name: &str,
) -> AppResult<ci_relationship::Model> {
    require_writer(caller)?;
    if source_id == target_id {
        return Err(AppError::bad_input(
            "targetId",
            "an item cannot be related to itself",
        ));
    }
    let txn = db.begin_write().await?;
    let kind = relationship_type_named(&txn, "type", type_name).await?;
    referenced::<ci::Entity>(&txn, source_id, "sourceId", "configuration item").await?;
    referenced::<ci::Entity>(&txn, target_id, "targetId", "configuration item").await?;
    // The unique index is on the type's id; the client named the type.
    let taken = AppError::Taken {
        field: "targetId".into(),
        message: format!(
            "this relationship exists already: these items are related by {}",
            kind.name
        ),
    };
    let row = ci_relationship::ActiveModel {
        source_id: Set(source_id),
        target_id: Set(target_id),
        type_id: Set(kind.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Taken { .. } => taken,
        other => other,
    })?;
    let events = relationship_event(Topic::CiRelated, &row, &kind);
    record_all(&txn, &Actor::of(caller), now, events).await?;
    txn.commit().await?;
    Ok(row)
}

/// Removes a relationship.
///
/// # Errors
/// NOT_FOUND when there is no such relationship; FORBIDDEN for callers who may not write.
pub async fn unrelate(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    relationship_id: i64,
) -> AppResult<ci_relationship::Model> {
    require_writer(caller)?;
    let txn = db.begin_write().await?;
    let row = ci_relationship::Entity::find_by_id(relationship_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("there is no relationship with that id".into()))?;
    let kind = referenced::<relationship_type::Entity>(&txn, row.type_id, "type", "type").await?;
    ci_relationship::Entity::delete_by_id(row.id)
        .exec(&txn)
        .await?;
    let events = relationship_event(Topic::CiUnrelated, &row, &kind);
    record_all(&txn, &Actor::of(caller), now, events).await?;
    txn.commit().await?;
    Ok(row)
}

/// Every relationship with one of `ids` at either end.
pub async fn relationships_of(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<ci_relationship::Model>> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(500) {
        rows.extend(
            ci_relationship::Entity::find()
                .filter(
                    Condition::any()
                        .add(ci_relationship::Column::SourceId.is_in(chunk.iter().copied()))
                        .add(ci_relationship::Column::TargetId.is_in(chunk.iter().copied())),
                )
                .order_by_asc(ci_relationship::Column::Id)
                .all(conn)
                .await?,
        );
    }
    rows.sort_by_key(|r| r.id);
    rows.dedup_by_key(|r| r.id);
    Ok(rows)
}
