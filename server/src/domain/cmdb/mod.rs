//! The CMDB: classes with typed attributes, configuration items, their relationships,
//! what depends on what (`impact`), and bulk loading from discovery tools (`import`).

pub mod attributes;
pub mod impact;
pub mod import;
pub mod types;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{
    ci_attribute_value, ci_class, ci_relationship, configuration_item as ci, group, organization,
    relationship_type, service, ticket, ticket_configuration_item,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LikeExpr},
};
use serde_json::{Map, Value, json};

use self::attributes::{AttributeDefinition, check_definitions, check_values, indexed_text};
use self::types::{CiStatus, ImpactDirection};
use super::{
    events::{self, Actor, NewEvent, change},
    lookup::referenced,
    page::Window,
    tickets::types::Status,
};
use crate::domain::events::Topic;
use crate::domain::input::text;
use crate::domain::versioned;
use crate::{
    auth::{Caller, Role, Scope},
    db::Db,
    error::{AppError, AppResult},
};

/// Agents read the CMDB, and partner tokens with `cmdb:read`.
pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::CmdbRead)
}

/// Admins write it, and discovery tools with `cmdb:write`.
pub fn require_writer(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Admin, Scope::CmdbWrite)
}

// ---- classes and relationship types ------------------------------------------------

pub fn definitions(class: &ci_class::Model) -> AppResult<Vec<AttributeDefinition>> {
    serde_json::from_value(class.attributes.clone()).map_err(|e| {
        AppError::Internal(format!("class {} has unreadable attributes: {e}", class.id))
    })
}

pub struct ClassFields {
    pub name: String,
    pub description: String,
    pub business_service: bool,
    pub attributes: Vec<AttributeDefinition>,
}

/// Adds a class, or redefines one. Items already stored keep their values; the new
/// definitions apply from their next write.
pub async fn save_class(
    db: &Db,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: ClassFields,
) -> AppResult<ci_class::Model> {
    let name = text("name", &fields.name, 100, true)?;
    check_definitions(&fields.attributes)?;
    let txn = db.begin_write().await?;
    for (i, definition) in fields.attributes.iter().enumerate() {
        if let Some(class) = definition.reference_class_id {
            let field = format!("attributes.{i}.referenceClassId");
            referenced::<ci_class::Entity>(&txn, class, &field, "class").await?;
        }
    }
    let taken = ci_class::Entity::find()
        .filter(ci_class::Column::Name.eq(&name))
        .one(&txn)
        .await?;
    if taken.is_some_and(|c| Some(c.id) != id) {
        return Err(AppError::bad_input(
            "name",
            format!("there is already a class named '{name}'"),
        ));
    }
    let mut active: ci_class::ActiveModel = match id {
        Some(id) => referenced::<ci_class::Entity>(&txn, id, "id", "class")
            .await?
            .into(),
        None => ci_class::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.name = Set(name);
    active.description = Set(fields.description.trim().to_string());
    active.business_service = Set(fields.business_service);
    active.attributes =
        Set(serde_json::to_value(&fields.attributes)
            .map_err(|e| AppError::Internal(e.to_string()))?);
    let row = match id {
        Some(_) => active.update(&txn).await?,
        None => active.insert(&txn).await?,
    };
    txn.commit().await?;
    Ok(row)
}

pub struct RelationshipTypeFields {
    pub name: String,
    pub forward_label: String,
    pub reverse_label: String,
    pub impact: ImpactDirection,
}

pub async fn save_relationship_type(
    db: &Db,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: RelationshipTypeFields,
) -> AppResult<relationship_type::Model> {
    let name = text("name", &fields.name, 50, true)?
        .to_uppercase()
        .replace(' ', "_");
    let forward = text("forwardLabel", &fields.forward_label, 50, true)?;
    let reverse = text("reverseLabel", &fields.reverse_label, 50, true)?;
    let txn = db.begin_write().await?;
    let taken = relationship_type::Entity::find()
        .filter(relationship_type::Column::Name.eq(&name))
        .one(&txn)
        .await?;
    if taken.is_some_and(|t| Some(t.id) != id) {
        return Err(AppError::bad_input(
            "name",
            format!("there is already a relationship type named '{name}'"),
        ));
    }
    let mut active: relationship_type::ActiveModel = match id {
        Some(id) => referenced::<relationship_type::Entity>(&txn, id, "id", "relationship type")
            .await?
            .into(),
        None => relationship_type::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.name = Set(name);
    active.forward_label = Set(forward);
    active.reverse_label = Set(reverse);
    active.impact = Set(fields.impact.into());
    let row = match id {
        Some(_) => active.update(&txn).await?,
        None => active.insert(&txn).await?,
    };
    txn.commit().await?;
    Ok(row)
}

// ---- configuration items -------------------------------------------------------------

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

    fn active(&self, now: DateTime<Utc>) -> ci::ActiveModel {
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
async fn check_references(txn: &DatabaseTransaction, draft: &Draft) -> AppResult<ci_class::Model> {
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
async fn check_attribute_references(
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

async fn check_external_key_free(
    txn: &DatabaseTransaction,
    key: Option<&str>,
    own_id: Option<i64>,
) -> AppResult<()> {
    let Some(key) = key else { return Ok(()) };
    let holder = ci::Entity::find()
        .filter(ci::Column::ExternalKey.eq(key))
        .one(txn)
        .await?;
    match holder {
        Some(holder) if Some(holder.id) != own_id => Err(AppError::bad_input(
            "externalKey",
            format!("'{key}' is already the key of '{}'", holder.name),
        )),
        _ => Ok(()),
    }
}

/// Writes the filter index of the items' attribute values, replacing what was there.
async fn index_attributes(txn: &DatabaseTransaction, items: &[ci::Model]) -> AppResult<()> {
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
async fn record_all(
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
    check_external_key_free(&txn, draft.external_key.as_deref(), None).await?;
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
    check_external_key_free(&txn, draft.external_key.as_deref(), Some(id)).await?;
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

/// Saves a changed draft over `row` if nobody else changed it meanwhile.
async fn save_changed(
    txn: &DatabaseTransaction,
    row: &ci::Model,
    draft: &Draft,
    now: DateTime<Utc>,
) -> AppResult<ci::Model> {
    let saved = versioned::save::<ci::Entity>(txn, row, draft.active(now), now).await?;
    index_attributes(txn, std::slice::from_ref(&saved)).await?;
    Ok(saved)
}

pub async fn find(conn: &impl ConnectionTrait, id: i64) -> AppResult<ci::Model> {
    versioned::find::<ci::Entity>(conn, id).await
}

// ---- relationships ----------------------------------------------------------------

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

fn relationship_event(
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
    let existing = ci_relationship::Entity::find()
        .filter(ci_relationship::Column::SourceId.eq(source_id))
        .filter(ci_relationship::Column::TargetId.eq(target_id))
        .filter(ci_relationship::Column::TypeId.eq(kind.id))
        .one(&txn)
        .await?;
    if existing.is_some() {
        return Err(AppError::bad_input(
            "targetId",
            format!("these items are already related by {}", kind.name),
        ));
    }
    let row = ci_relationship::ActiveModel {
        source_id: Set(source_id),
        target_id: Set(target_id),
        type_id: Set(kind.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let events = relationship_event(Topic::CiRelated, &row, &kind);
    record_all(&txn, &Actor::of(caller), now, events).await?;
    txn.commit().await?;
    Ok(row)
}

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

// ---- lists ---------------------------------------------------------------------------

#[derive(Default)]
pub struct ItemFilter {
    pub class_id: Option<i64>,
    pub status: Option<CiStatus>,
    pub organization_id: Option<i64>,
    pub service_id: Option<i64>,
    /// Every word must appear in the name.
    pub search: Option<String>,
    /// An attribute's value, compared as `attributes::filter_text` says.
    pub attribute: Option<(String, String)>,
}

/// A page of the items, a list by name, in fetch order.
pub async fn list(
    conn: &impl ConnectionTrait,
    filter: &ItemFilter,
    window: &Window,
) -> AppResult<Vec<ci::Model>> {
    let mut query = ci::Entity::find();
    if let Some(class) = filter.class_id {
        query = query.filter(ci::Column::ClassId.eq(class));
    }
    if let Some(status) = filter.status {
        query = query.filter(ci::Column::Status.eq(status));
    }
    if let Some(organization) = filter.organization_id {
        query = query.filter(ci::Column::OrganizationId.eq(organization));
    }
    if let Some(service) = filter.service_id {
        query = query.filter(ci::Column::ServiceId.eq(service));
    }
    if let Some(words) = filter.search.as_deref() {
        for word in words.split_whitespace().take(10) {
            let escaped = word
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            query = query.filter(
                Expr::col(ci::Column::NameLower)
                    .like(LikeExpr::new(format!("%{escaped}%")).escape('\\')),
            );
        }
    }
    if let Some((name, value)) = &filter.attribute {
        query = query.filter(
            ci::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(ci_attribute_value::Column::ConfigurationItemId)
                    .from(ci_attribute_value::Entity)
                    .and_where(ci_attribute_value::Column::Name.eq(name.as_str()))
                    .and_where(ci_attribute_value::Column::Value.eq(attributes::filter_text(value)))
                    .to_owned(),
            ),
        );
    }
    // The list runs by name, then id; a cursor is an item's id, its name read back.
    let bound = |id: i64, argument: &'static str| async move {
        ci::Entity::find_by_id(id)
            .one(conn)
            .await?
            .ok_or_else(|| AppError::bad_input(argument, "that item is gone: start the list again"))
    };
    let past = |item: ci::Model, upward: bool| {
        let (name, id) = if upward {
            (
                ci::Column::NameLower.gt(item.name_lower.clone()),
                ci::Column::Id.gt(item.id),
            )
        } else {
            (
                ci::Column::NameLower.lt(item.name_lower.clone()),
                ci::Column::Id.lt(item.id),
            )
        };
        Condition::any().add(name).add(
            Condition::all()
                .add(ci::Column::NameLower.eq(item.name_lower))
                .add(id),
        )
    };
    if let Some(after) = window.after {
        query = query.filter(past(bound(after, "after").await?, true));
    }
    if let Some(before) = window.before {
        query = query.filter(past(bound(before, "before").await?, false));
    }
    let order = window.fetch_order(Order::Asc);
    Ok(query
        .order_by(ci::Column::NameLower, order.clone())
        .order_by(ci::Column::Id, order)
        .limit(window.fetch())
        .all(conn)
        .await?)
}

/// Each item's open tickets, newest first, for a page of items.
pub async fn open_tickets_by_item(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<ticket::Model>>> {
    let links = ticket_configuration_item::Entity::find()
        .filter(ticket_configuration_item::Column::ConfigurationItemId.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    let tickets: HashMap<i64, ticket::Model> = open_tickets_about(conn, ids)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let mut by_item: HashMap<i64, Vec<ticket::Model>> = HashMap::new();
    for link in links {
        if let Some(ticket) = tickets.get(&link.ticket_id) {
            by_item
                .entry(link.configuration_item_id)
                .or_default()
                .push(ticket.clone());
        }
    }
    for list in by_item.values_mut() {
        list.sort_by_key(|t| std::cmp::Reverse(t.id));
    }
    Ok(by_item)
}

/// The open tickets about any of `ids`, newest first.
pub async fn open_tickets_about(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<ticket::Model>> {
    let mut rows = Vec::new();
    for chunk in ids.chunks(500) {
        rows.extend(
            ticket::Entity::find()
                .filter(
                    ticket::Column::Id.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(ticket_configuration_item::Column::TicketId)
                            .from(ticket_configuration_item::Entity)
                            .and_where(
                                ticket_configuration_item::Column::ConfigurationItemId
                                    .is_in(chunk.iter().copied()),
                            )
                            .to_owned(),
                    ),
                )
                .filter(ticket::Column::Status.is_in(Status::OPEN.iter().map(|s| s.as_str())))
                .all(conn)
                .await?,
        );
    }
    rows.sort_by_key(|t| std::cmp::Reverse(t.id));
    rows.dedup_by_key(|t| t.id);
    Ok(rows)
}

/// Each item's relationships, either way, for a page of items.
pub async fn relationships_by_item(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<ci_relationship::Model>>> {
    let mut by_item: HashMap<i64, Vec<ci_relationship::Model>> = HashMap::new();
    for edge in relationships_of(conn, ids).await? {
        for end in [edge.source_id, edge.target_id] {
            if ids.contains(&end) {
                by_item.entry(end).or_default().push(edge.clone());
            }
        }
    }
    Ok(by_item)
}

/// The configuration items each ticket is about, in one query.
pub async fn items_of_tickets(
    conn: &impl ConnectionTrait,
    ticket_ids: &[i64],
) -> AppResult<HashMap<i64, Vec<ci::Model>>> {
    let links = ticket_configuration_item::Entity::find()
        .filter(ticket_configuration_item::Column::TicketId.is_in(ticket_ids.iter().copied()))
        .all(conn)
        .await?;
    let items: HashMap<i64, ci::Model> = ci::Entity::find()
        .filter(ci::Column::Id.is_in(links.iter().map(|l| l.configuration_item_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|item| (item.id, item))
        .collect();
    let mut by_ticket: HashMap<i64, Vec<ci::Model>> = HashMap::new();
    for link in links {
        if let Some(item) = items.get(&link.configuration_item_id) {
            by_ticket
                .entry(link.ticket_id)
                .or_default()
                .push(item.clone());
        }
    }
    for items in by_ticket.values_mut() {
        items.sort_by(|a, b| a.name_lower.cmp(&b.name_lower));
    }
    Ok(by_ticket)
}
