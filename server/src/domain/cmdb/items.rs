//! Writing configuration items: a draft checked against its class, its references
//! resolved, its attributes indexed for filtering, and its event.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    ci_attribute_value, ci_class, configuration_item as ci, group, organization, service,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
};
use serde_json::{Map, Value, json};

use crate::domain::cmdb::attributes;
use crate::domain::cmdb::attributes::{check_values, indexed_text};
use crate::domain::cmdb::types::CiStatus;
use crate::domain::events::Topic;
use crate::domain::input::text;
use crate::domain::versioned;
use crate::domain::{
    events::{self, Actor, NewEvent, change},
    lookup::referenced,
};
use crate::{
    auth::Caller,
    db::Db,
    error::{AppError, AppResult},
};

use super::{definitions, require_writer};

/// A configuration item as a writer wants it, its references already resolved to ids.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    pub class_id: i64,
    pub name: String,
    pub status: CiStatus,
    pub environment: String,
    pub owner_group_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub service_id: Option<i64>,
    pub attributes: Map<String, Value>,
    pub external_key: Option<String>,
}

impl Draft {
    /// The item as stored.
    ///
    /// # Errors
    /// INTERNAL when a stored status is not one of `CiStatus`.
    pub fn of(row: &ci::Model) -> AppResult<Draft> {
        Ok(Draft {
            class_id: row.class_id,
            name: row.name.clone(),
            status: CiStatus::stored(&row.status)?,
            environment: row.environment.clone(),
            owner_group_id: row.owner_group_id,
            organization_id: row.organization_id,
            service_id: row.service_id,
            attributes: row.attributes.as_object().cloned().unwrap_or_default(),
            external_key: row.external_key.clone(),
        })
    }

    /// Trims and checks the plain fields, and the attributes against the class.
    /// Returns the references among the attributes, for the caller to resolve.
    pub fn checked(
        mut self,
        class: &ci_class::Model,
    ) -> AppResult<(Draft, Vec<attributes::Reference>)> {
        self.name = text("name", &self.name, 200, true)?;
        self.environment = text("environment", &self.environment, 50, false)?;
        self.external_key = match self.external_key.as_deref() {
            Some(key) => Some(text("externalKey", key, 200, true)?),
            None => None,
        };
        let (values, references) =
            check_values(&class.name, &definitions(class)?, &self.attributes)?;
        self.attributes = values;
        Ok((self, references))
    }

    /// The fields that differ from `old` (all of them for a new item), as history shows.
    pub fn changes(&self, old: Option<&Draft>) -> Vec<Value> {
        let fields: [(&str, Value, Option<Value>); 9] = [
            (
                "classId",
                json!(self.class_id),
                old.map(|o| json!(o.class_id)),
            ),
            ("name", json!(self.name), old.map(|o| json!(o.name))),
            ("status", json!(self.status), old.map(|o| json!(o.status))),
            (
                "environment",
                json!(self.environment),
                old.map(|o| json!(o.environment)),
            ),
            (
                "ownerGroupId",
                json!(self.owner_group_id),
                old.map(|o| json!(o.owner_group_id)),
            ),
            (
                "organizationId",
                json!(self.organization_id),
                old.map(|o| json!(o.organization_id)),
            ),
            (
                "serviceId",
                json!(self.service_id),
                old.map(|o| json!(o.service_id)),
            ),
            (
                "attributes",
                json!(self.attributes),
                old.map(|o| json!(o.attributes)),
            ),
            (
                "externalKey",
                json!(self.external_key),
                old.map(|o| json!(o.external_key)),
            ),
        ];
        fields
            .into_iter()
            .filter(|(_, new, old)| old.as_ref() != Some(new))
            .map(|(field, new, old)| change(field, old.unwrap_or(Value::Null), new))
            .collect()
    }

    pub(super) fn active(&self, now: DateTime<Utc>) -> ci::ActiveModel {
        ci::ActiveModel {
            class_id: Set(self.class_id),
            name: Set(self.name.clone()),
            name_lower: Set(self.name.to_lowercase()),
            status: Set(self.status.into()),
            environment: Set(self.environment.clone()),
            owner_group_id: Set(self.owner_group_id),
            organization_id: Set(self.organization_id),
            service_id: Set(self.service_id),
            attributes: Set(Value::Object(self.attributes.clone())),
            external_key: Set(self.external_key.clone()),
            updated_at: Set(now),
            ..Default::default()
        }
    }
}

/// Checks that the ids a draft refers to exist, naming the field that does not.
pub(super) async fn check_references(
    txn: &DatabaseTransaction,
    draft: &Draft,
) -> AppResult<ci_class::Model> {
    if let Some(id) = draft.owner_group_id {
        referenced::<group::Entity>(txn, id, "ownerGroupId", "group").await?;
    }
    if let Some(id) = draft.organization_id {
        referenced::<organization::Entity>(txn, id, "organizationId", "organization").await?;
    }
    if let Some(id) = draft.service_id {
        referenced::<service::Entity>(txn, id, "serviceId", "service").await?;
    }
    referenced::<ci_class::Entity>(txn, draft.class_id, "classId", "class").await
}

/// Resolves reference attributes against the stored items, one lookup for them all.
pub(super) async fn check_attribute_references(
    txn: &DatabaseTransaction,
    references: &[attributes::Reference],
) -> AppResult<()> {
    if references.is_empty() {
        return Ok(());
    }
    let found: HashMap<String, i64> = ci::Entity::find()
        .filter(ci::Column::ExternalKey.is_in(references.iter().map(|r| r.external_key.clone())))
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|row| Some((row.external_key?, row.class_id)))
        .collect();
    for reference in references {
        match found.get(&reference.external_key) {
            None => {
                return Err(AppError::bad_input(
                    &format!("attributes.{}", reference.attribute),
                    format!(
                        "no configuration item has the external key '{}'",
                        reference.external_key
                    ),
                ));
            }
            Some(class) if reference.class_id.is_some_and(|wanted| wanted != *class) => {
                return Err(AppError::bad_input(
                    &format!("attributes.{}", reference.attribute),
                    format!(
                        "'{}' is not of the class this attribute refers to",
                        reference.external_key
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Writes the filter index of the items' attribute values, replacing what was there.
pub(super) async fn index_attributes(
    txn: &DatabaseTransaction,
    items: &[ci::Model],
) -> AppResult<()> {
    let ids: Vec<i64> = items.iter().map(|i| i.id).collect();
    for chunk in ids.chunks(500) {
        ci_attribute_value::Entity::delete_many()
            .filter(ci_attribute_value::Column::ConfigurationItemId.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    let rows: Vec<ci_attribute_value::ActiveModel> = items
        .iter()
        .flat_map(|item| {
            let values = item.attributes.as_object().cloned().unwrap_or_default();
            values
                .into_iter()
                .map(move |(name, value)| ci_attribute_value::ActiveModel {
                    configuration_item_id: Set(item.id),
                    name: Set(name),
                    value: Set(indexed_text(&value).chars().take(200).collect()),
                })
        })
        .collect();
    for chunk in rows.chunks(1000) {
        ci_attribute_value::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Appends one history event per item, in as few statements as the rows allow.
pub(super) async fn record_all(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    events: Vec<(Topic, i64, Value)>,
) -> AppResult<()> {
    let rows: Vec<entity::event::ActiveModel> = events
        .into_iter()
        .map(|(topic, id, payload)| {
            events::active(
                actor,
                now,
                NewEvent {
                    topic,
                    entity_type: "configuration_item",
                    entity_id: id,
                    internal: true,
                    payload,
                },
            )
        })
        .collect();
    for chunk in rows.chunks(1000) {
        entity::event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Records a configuration item.
///
/// # Errors
/// BAD_USER_INPUT for fields or attributes that do not fit its class, references that
/// do not exist, or an external key in use; FORBIDDEN for callers who may not write.
pub async fn create_item(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    draft: Draft,
) -> AppResult<ci::Model> {
    require_writer(caller)?;
    let txn = db.begin_write().await?;
    let class = check_references(&txn, &draft).await?;
    let (draft, references) = draft.checked(&class)?;
    check_attribute_references(&txn, &references).await?;
    let mut active = draft.active(now);
    active.created_at = Set(now);
    active.version = Set(1);
    let row = active.insert(&txn).await?;
    index_attributes(&txn, std::slice::from_ref(&row)).await?;
    let payload = json!({ "name": row.name, "changes": draft.changes(None) });
    record_all(
        &txn,
        &Actor::of(caller),
        now,
        vec![(Topic::CiCreated, row.id, payload)],
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// What an update changes; `None` keeps the stored value.
#[derive(Default)]
pub struct ItemChanges {
    pub class_id: Option<i64>,
    pub name: Option<String>,
    pub status: Option<CiStatus>,
    pub environment: Option<String>,
    pub owner_group_id: Option<Option<i64>>,
    pub organization_id: Option<Option<i64>>,
    pub service_id: Option<Option<i64>>,
    /// Replaces the whole set of attribute values.
    pub attributes: Option<Map<String, Value>>,
    pub external_key: Option<Option<String>>,
}

/// Changes a configuration item read at `version`.
///
/// # Errors
/// As for `create_item`, and CONFLICT when it changed since it was read.
pub async fn update_item(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    input: ItemChanges,
) -> AppResult<ci::Model> {
    require_writer(caller)?;
    let txn = db.begin_write().await?;
    let row = versioned::current::<ci::Entity>(&txn, id, version).await?;
    let old = Draft::of(&row)?;
    let wanted = Draft {
        class_id: input.class_id.unwrap_or(old.class_id),
        name: input.name.unwrap_or_else(|| old.name.clone()),
        status: input.status.unwrap_or(old.status),
        environment: input.environment.unwrap_or_else(|| old.environment.clone()),
        owner_group_id: input.owner_group_id.unwrap_or(old.owner_group_id),
        organization_id: input.organization_id.unwrap_or(old.organization_id),
        service_id: input.service_id.unwrap_or(old.service_id),
        attributes: input.attributes.unwrap_or_else(|| old.attributes.clone()),
        external_key: input
            .external_key
            .unwrap_or_else(|| old.external_key.clone()),
    };
    let class = check_references(&txn, &wanted).await?;
    let (draft, references) = wanted.checked(&class)?;
    check_attribute_references(&txn, &references).await?;
    let changes = draft.changes(Some(&old));
    if changes.is_empty() {
        return Ok(row);
    }
    let saved = save_changed(&txn, &row, &draft, now).await?;
    let payload = json!({ "name": saved.name, "changes": changes });
    record_all(
        &txn,
        &Actor::of(caller),
        now,
        vec![(Topic::CiUpdated, saved.id, payload)],
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Sets one attribute of an item (a deployed version) in the caller's transaction,
/// through the same checks, save and event as `update_item`: what a release's
/// deployment step does, on the release's authority. `because` goes into the event
/// (`payload.cause`), so that the item's history says which release did it.
///
/// # Errors
/// NOT_FOUND for no such item; BAD_USER_INPUT when its class has no such attribute or
/// the value does not fit it.
pub(crate) async fn set_attribute(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
    attribute: &str,
    value: Option<&str>,
    because: Value,
) -> AppResult<ci::Model> {
    let row = versioned::find::<ci::Entity>(txn, id).await?;
    let old = Draft::of(&row)?;
    let mut wanted = old.clone();
    match value {
        Some(value) => {
            wanted
                .attributes
                .insert(attribute.to_string(), Value::String(value.to_string()));
        }
        None => {
            wanted.attributes.remove(attribute);
        }
    }
    let class = check_references(txn, &wanted).await?;
    if !definitions(&class)?.iter().any(|d| d.name == attribute) {
        return Err(AppError::bad_input(
            "configurationItemId",
            format!(
                "'{}' has no {attribute} attribute to record a deployment in",
                row.name
            ),
        ));
    }
    let (draft, _) = wanted.checked(&class)?;
    let changes = draft.changes(Some(&old));
    if changes.is_empty() {
        return Ok(row);
    }
    let saved = save_changed(txn, &row, &draft, now).await?;
    let payload = json!({ "name": saved.name, "changes": changes, "cause": because });
    record_all(txn, actor, now, vec![(Topic::CiUpdated, saved.id, payload)]).await?;
    Ok(saved)
}

/// Saves a changed draft over `row` if nobody else changed it meanwhile.
pub(super) async fn save_changed(
    txn: &DatabaseTransaction,
    row: &ci::Model,
    draft: &Draft,
    now: DateTime<Utc>,
) -> AppResult<ci::Model> {
    let saved = versioned::save::<ci::Entity>(txn, row, draft.active(now), now).await?;
    index_attributes(txn, std::slice::from_ref(&saved)).await?;
    Ok(saved)
}
