//! Bulk loading for discovery tools and partner systems: many items and relationships
//! upserted at once, matched by external key, so that sending the same file again
//! changes nothing. Every row is checked before anything is written; a file with
//! rejected rows writes nothing unless the caller asks for the valid rows to be applied.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    ci_class, ci_relationship, configuration_item as ci, group, organization, relationship_type,
    service,
};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::domain::events::Topic;
use crate::{
    auth::Caller,
    db::Db,
    domain::events::Actor,
    error::{AppError, AppResult},
};

use super::{
    Draft,
    items::{index_attributes, record_all, save_changed},
    relationships::relationship_event,
    require_writer,
    types::CiStatus,
};

/// Inserts are sent in batches of this many rows: well under SQLite's and PostgreSQL's
/// limits on bound parameters.
const BATCH: usize = 500;

/// A discovery tool's file: items and relationships, by external key.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportFile {
    #[serde(default)]
    pub items: Vec<ItemRow>,
    #[serde(default)]
    pub relationships: Vec<RelationshipRow>,
}

/// An item as a discovery tool knows it: references by name, not by id.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemRow {
    pub external_key: String,
    /// The class's name, e.g. "Server".
    pub class: String,
    pub name: String,
    #[serde(default = "active_status")]
    pub status: String,
    #[serde(default)]
    pub environment: String,
    pub owner_group: Option<String>,
    pub organization: Option<String>,
    pub service: Option<String>,
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

fn active_status() -> String {
    CiStatus::Active.into()
}

/// One relationship of an import.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationshipRow {
    /// External keys of the two ends.
    pub source: String,
    pub target: String,
    /// The relationship type's name, e.g. DEPENDS_ON.
    #[serde(rename = "type")]
    pub kind: String,
}

/// Which list of an import a row is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Section {
    Items,
    Relationships,
}

/// A row that cannot be applied, and why.
#[derive(Clone, Debug)]
pub struct Rejection {
    pub section: Section,
    /// Its position in its list, from 0.
    pub row: usize,
    pub external_key: Option<String>,
    pub field: String,
    pub reason: String,
}

/// What an import did, and the rows it refused with why.
#[derive(Debug, Default)]
pub struct Report {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub relationships_created: usize,
    pub relationships_unchanged: usize,
    pub rejected: Vec<Rejection>,
    /// Whether anything was written: false when rows were rejected and the valid ones
    /// were not asked for. The item counts then say what the file would do; the
    /// relationship counts are only known once the items exist.
    pub applied: bool,
}

/// The names the rows refer to, read once for the whole file.
struct Names {
    classes: HashMap<String, ci_class::Model>,
    groups: HashMap<String, i64>,
    organizations: HashMap<String, i64>,
    services: HashMap<String, i64>,
    types: HashMap<String, relationship_type::Model>,
}

impl Names {
    async fn load(txn: &DatabaseTransaction) -> AppResult<Names> {
        let key = |name: &str| name.trim().to_lowercase();
        Ok(Names {
            classes: ci_class::Entity::find()
                .all(txn)
                .await?
                .into_iter()
                .map(|c| (key(&c.name), c))
                .collect(),
            groups: group::Entity::find()
                .all(txn)
                .await?
                .into_iter()
                .map(|g| (key(&g.name), g.id))
                .collect(),
            organizations: organization::Entity::find()
                .all(txn)
                .await?
                .into_iter()
                .map(|o| (key(&o.name), o.id))
                .collect(),
            services: service::Entity::find()
                .all(txn)
                .await?
                .into_iter()
                .map(|s| (key(&s.name), s.id))
                .collect(),
            types: relationship_type::Entity::find()
                .all(txn)
                .await?
                .into_iter()
                .map(|t| (t.name.clone(), t))
                .collect(),
        })
    }

    fn id(
        map: &HashMap<String, i64>,
        field: &str,
        what: &str,
        name: Option<&str>,
    ) -> AppResult<Option<i64>> {
        match name.map(str::trim).filter(|n| !n.is_empty()) {
            None => Ok(None),
            Some(name) => map
                .get(&name.to_lowercase())
                .map(|&id| Some(id))
                .ok_or_else(|| {
                    AppError::bad_input(field, format!("there is no {what} named '{name}'"))
                }),
        }
    }

    /// The row as a checked draft, and the external keys its attributes refer to.
    fn draft(&self, row: &ItemRow) -> AppResult<(Draft, Vec<super::attributes::Reference>)> {
        let class = self
            .classes
            .get(&row.class.trim().to_lowercase())
            .ok_or_else(|| {
                AppError::bad_input("class", format!("there is no class named '{}'", row.class))
            })?;
        let draft = Draft {
            class_id: class.id,
            name: row.name.clone(),
            status: CiStatus::parse(&row.status.trim().to_uppercase(), "status")?,
            environment: row.environment.clone(),
            owner_group_id: Self::id(
                &self.groups,
                "ownerGroup",
                "group",
                row.owner_group.as_deref(),
            )?,
            organization_id: Self::id(
                &self.organizations,
                "organization",
                "organization",
                row.organization.as_deref(),
            )?,
            service_id: Self::id(&self.services, "service", "service", row.service.as_deref())?,
            attributes: row.attributes.clone(),
            external_key: Some(row.external_key.clone()),
        };
        draft.checked(class)
    }
}

fn rejection(section: Section, row: usize, key: Option<&str>, error: AppError) -> Rejection {
    let (field, reason) = match error {
        AppError::BadUserInput { field, message } | AppError::Taken { field, message } => {
            (field, message)
        }
        other => (String::new(), other.to_string()),
    };
    Rejection {
        section,
        row,
        external_key: key.map(str::to_string),
        field,
        reason,
    }
}

/// Items stored under any of `keys`, by key.
async fn stored(
    txn: &DatabaseTransaction,
    keys: &[String],
) -> AppResult<HashMap<String, ci::Model>> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(BATCH) {
        for row in ci::Entity::find()
            .filter(ci::Column::ExternalKey.is_in(chunk.iter().cloned()))
            .all(txn)
            .await?
        {
            if let Some(key) = row.external_key.clone() {
                found.insert(key, row);
            }
        }
    }
    Ok(found)
}

enum Plan {
    Create(Draft),
    Update(ci::Model, Draft),
}

/// Imports on behalf of a caller who may write the CMDB.
pub async fn run(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    file: ImportFile,
    apply_valid: bool,
) -> AppResult<Report> {
    require_writer(caller)?;
    apply(db, &Actor::of(caller), now, file, apply_valid).await
}

/// Imports for whoever runs it: `run`, or the command line on the server's machine.
pub async fn apply(
    db: &Db,
    actor: &Actor,
    now: DateTime<Utc>,
    file: ImportFile,
    apply_valid: bool,
) -> AppResult<Report> {
    let mut report = Report::default();
    // One write transaction from the first read: what was checked is what is written.
    let txn = db.begin_write().await?;
    let names = Names::load(&txn).await?;

    // Items: check each row on its own, then against what is stored.
    let mut checked: Vec<(usize, Draft, Vec<super::attributes::Reference>)> = Vec::new();
    let mut first_row_of: HashMap<String, usize> = HashMap::new();
    for (i, row) in file.items.iter().enumerate() {
        let key = row.external_key.trim().to_string();
        if key.is_empty() {
            report.rejected.push(rejection(
                Section::Items,
                i,
                None,
                AppError::bad_input("externalKey", "every imported item needs its external key"),
            ));
            continue;
        }
        if let Some(first) = first_row_of.get(&key) {
            report.rejected.push(rejection(
                Section::Items,
                i,
                Some(&key),
                AppError::bad_input("externalKey", format!("'{key}' is in row {first} already")),
            ));
            continue;
        }
        first_row_of.insert(key.clone(), i);
        match names.draft(row) {
            Ok((draft, references)) => checked.push((i, draft, references)),
            Err(error) => report
                .rejected
                .push(rejection(Section::Items, i, Some(&key), error)),
        }
    }
    let keys: Vec<String> = checked
        .iter()
        .filter_map(|(_, d, _)| d.external_key.clone())
        .collect();
    let mut existing = stored(&txn, &keys).await?;

    // References among attributes and relationships may point into the file or the CMDB.
    let referenced_keys: Vec<String> = checked
        .iter()
        .flat_map(|(_, _, refs)| refs.iter().map(|r| r.external_key.clone()))
        .chain(
            file.relationships
                .iter()
                .flat_map(|r| [r.source.trim().to_string(), r.target.trim().to_string()]),
        )
        .filter(|k| !first_row_of.contains_key(k))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let outside = stored(&txn, &referenced_keys).await?;
    let class_in_file: HashMap<String, i64> = checked
        .iter()
        .filter_map(|(_, d, _)| Some((d.external_key.clone()?, d.class_id)))
        .collect();
    let class_of = |key: &str| {
        class_in_file
            .get(key)
            .copied()
            .or_else(|| outside.get(key).map(|c| c.class_id))
    };

    let mut plans: Vec<Plan> = Vec::new();
    let mut valid_keys: HashSet<String> = HashSet::new();
    for (i, draft, references) in checked {
        let key = draft.external_key.clone().unwrap_or_default();
        let broken = references.iter().find_map(|reference| {
            match class_of(&reference.external_key) {
                None => Some(format!(
                    "no configuration item has the external key '{}'",
                    reference.external_key
                )),
                Some(class) if reference.class_id.is_some_and(|c| c != class) => Some(format!(
                    "'{}' is not of the class this attribute refers to",
                    reference.external_key
                )),
                Some(_) => None,
            }
            .map(|reason| (reference.attribute.clone(), reason))
        });
        if let Some((attribute, reason)) = broken {
            report.rejected.push(rejection(
                Section::Items,
                i,
                Some(&key),
                AppError::bad_input(&format!("attributes.{attribute}"), reason),
            ));
            continue;
        }
        valid_keys.insert(key.clone());
        match existing.remove(&key) {
            None => {
                report.created += 1;
                plans.push(Plan::Create(draft));
            }
            Some(row) if Draft::of(&row)? == draft => report.unchanged += 1,
            Some(row) => {
                report.updated += 1;
                plans.push(Plan::Update(row, draft));
            }
        }
    }

    // Relationships: both ends must be valid rows of the file or stored items.
    let mut wanted: Vec<(String, String, relationship_type::Model)> = Vec::new();
    let mut seen_relationships = HashSet::new();
    for (i, row) in file.relationships.iter().enumerate() {
        let (source, target) = (row.source.trim().to_string(), row.target.trim().to_string());
        let end = |field: &str, key: &str| -> AppResult<()> {
            if valid_keys.contains(key) || outside.contains_key(key) {
                Ok(())
            } else if first_row_of.contains_key(key) {
                Err(AppError::bad_input(
                    field,
                    format!("item '{key}' was rejected"),
                ))
            } else {
                Err(AppError::bad_input(
                    field,
                    format!("'{key}' is neither in this file nor in the CMDB"),
                ))
            }
        };
        let checked = end("source", &source)
            .and_then(|_| end("target", &target))
            .and_then(|_| {
                if source == target {
                    return Err(AppError::bad_input(
                        "target",
                        "an item cannot be related to itself",
                    ));
                }
                names
                    .types
                    .get(&row.kind.trim().to_uppercase())
                    .cloned()
                    .ok_or_else(|| {
                        AppError::bad_input(
                            "type",
                            format!("there is no relationship type named '{}'", row.kind),
                        )
                    })
            });
        match checked {
            Ok(kind) => {
                if seen_relationships.insert((source.clone(), target.clone(), kind.id)) {
                    wanted.push((source, target, kind));
                }
            }
            Err(error) => report.rejected.push(rejection(
                Section::Relationships,
                i,
                Some(&format!("{source} -> {target}")),
                error,
            )),
        }
    }

    if !report.rejected.is_empty() && !apply_valid {
        txn.rollback().await?;
        return Ok(report);
    }

    let mut written: Vec<ci::Model> = Vec::new();
    let mut events: Vec<(Topic, i64, Value)> = Vec::new();
    let creates: Vec<&Draft> = plans
        .iter()
        .filter_map(|p| match p {
            Plan::Create(d) => Some(d),
            Plan::Update(..) => None,
        })
        .collect();
    for batch in creates.chunks(BATCH) {
        let rows = batch.iter().map(|draft| {
            let mut active = draft.active(now);
            active.created_at = sea_orm::ActiveValue::Set(now);
            active.version = sea_orm::ActiveValue::Set(1);
            active
        });
        let inserted = ci::Entity::insert_many(rows)
            .exec_with_returning(&txn)
            .await?;
        for (row, draft) in inserted.iter().zip(batch) {
            events.push((
                Topic::CiCreated,
                row.id,
                json!({ "name": row.name, "changes": draft.changes(None), "import": true }),
            ));
        }
        written.extend(inserted);
    }
    index_attributes(&txn, &written).await?;
    for plan in &plans {
        if let Plan::Update(row, draft) = plan {
            let changes = draft.changes(Some(&Draft::of(row)?));
            let saved = save_changed(&txn, row, draft, now).await?;
            events.push((
                Topic::CiUpdated,
                saved.id,
                json!({ "name": saved.name, "changes": changes, "import": true }),
            ));
            written.push(saved);
        }
    }

    // Relationships between the ends' ids; those already stored are left as they are.
    let in_file = stored(&txn, &valid_keys.iter().cloned().collect::<Vec<_>>()).await?;
    let id_of: HashMap<String, i64> = in_file
        .values()
        .chain(outside.values())
        .filter_map(|c| Some((c.external_key.clone()?, c.id)))
        .collect();
    let ends: Vec<i64> = wanted
        .iter()
        .map(|(source, _, _)| id_of[source])
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut present = HashSet::new();
    for chunk in ends.chunks(BATCH) {
        for edge in ci_relationship::Entity::find()
            .filter(ci_relationship::Column::SourceId.is_in(chunk.iter().copied()))
            .all(&txn)
            .await?
        {
            present.insert((edge.source_id, edge.target_id, edge.type_id));
        }
    }
    let mut new_edges = Vec::new();
    for (source, target, kind) in &wanted {
        let edge = (id_of[source], id_of[target], kind.id);
        if present.contains(&edge) {
            report.relationships_unchanged += 1;
        } else {
            new_edges.push((edge, kind));
        }
    }
    report.relationships_created = new_edges.len();
    for batch in new_edges.chunks(BATCH) {
        let rows =
            batch.iter().map(
                |((source, target, kind_id), _)| ci_relationship::ActiveModel {
                    source_id: sea_orm::ActiveValue::Set(*source),
                    target_id: sea_orm::ActiveValue::Set(*target),
                    type_id: sea_orm::ActiveValue::Set(*kind_id),
                    created_at: sea_orm::ActiveValue::Set(now),
                    ..Default::default()
                },
            );
        let inserted = ci_relationship::Entity::insert_many(rows)
            .exec_with_returning(&txn)
            .await?;
        for (edge, (_, kind)) in inserted.iter().zip(batch) {
            events.extend(relationship_event(Topic::CiRelated, edge, kind));
        }
    }
    record_all(&txn, actor, now, events).await?;
    txn.commit().await?;
    report.applied = true;
    Ok(report)
}
