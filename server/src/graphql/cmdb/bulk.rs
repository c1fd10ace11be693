//! What a bulk import takes and what it reports back.

use async_graphql::{Enum, InputObject, Json, SimpleObject};
use serde_json::{Map, Value};

use crate::domain::cmdb::import::{self, Section};

use super::CiStatus;

/// One item of an import, matched on its external key.
#[derive(InputObject)]
pub struct CiImportItem {
    /// What the item is matched by: rows with a stored key update that item.
    pub external_key: String,
    /// The class's name, e.g. "Server".
    pub class: String,
    /// The item's name.
    pub name: String,
    /// Its lifecycle status.
    #[graphql(default_with = "CiStatus::Active")]
    pub status: CiStatus,
    /// PRODUCTION, STAGING, TEST… as free text.
    #[graphql(default)]
    pub environment: String,
    /// Names, not ids: what a discovery tool knows.
    pub owner_group: Option<String>,
    /// The owning organization's name, if any.
    pub organization: Option<String>,
    /// The name of the service it belongs to, if any.
    pub service: Option<String>,
    /// Attribute values by name, checked against the class.
    #[graphql(default)]
    pub attributes: Json<Map<String, Value>>,
}

/// One relationship of an import, between items named by external key.
#[derive(InputObject)]
pub struct CiImportRelationship {
    /// External keys of the two ends, in this batch or already stored.
    pub source: String,
    /// The external key of the item at the arrow's head.
    pub target: String,
    /// A relationship type's name, e.g. DEPENDS_ON.
    pub r#type: String,
}

/// What `importConfigurationItems` takes.
#[derive(InputObject)]
pub struct ImportConfigurationItemsInput {
    /// The items to create or update, matched on external key.
    #[graphql(default)]
    pub items: Vec<CiImportItem>,
    /// The relationships to make between items, by external key.
    #[graphql(default)]
    pub relationships: Vec<CiImportRelationship>,
    /// When some rows are rejected: false (the default) writes nothing; true writes
    /// the valid rows.
    #[graphql(default)]
    pub apply_valid: bool,
}

/// Which list of an import a row was in.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ImportSection {
    /// The items.
    Items,
    /// The relationships.
    Relationships,
}

/// An import row refused, and why.
#[derive(SimpleObject)]
pub struct ImportRejection {
    /// Which list the row was in.
    pub section: ImportSection,
    /// The row's position in its list, from 0.
    pub row: i32,
    /// The rejected row's external key.
    pub external_key: Option<String>,
    /// The field at fault, e.g. `attributes.cpus`.
    pub field: String,
    /// Why it was rejected.
    pub reason: String,
}

/// What an import did: counts of items and relationships, and the rows it refused.
#[derive(SimpleObject)]
pub struct ImportReport {
    /// Whether anything was written.
    pub applied: bool,
    /// Items created.
    pub created: i32,
    /// Items changed.
    pub updated: i32,
    /// Items that matched the file already.
    pub unchanged: i32,
    /// Relationships created.
    pub relationships_created: i32,
    /// Relationships that existed already.
    pub relationships_unchanged: i32,
    /// Rows refused, with the reason; any rejection stops the whole batch.
    pub rejected: Vec<ImportRejection>,
}

impl From<import::Report> for ImportReport {
    fn from(report: import::Report) -> Self {
        ImportReport {
            applied: report.applied,
            created: report.created as i32,
            updated: report.updated as i32,
            unchanged: report.unchanged as i32,
            relationships_created: report.relationships_created as i32,
            relationships_unchanged: report.relationships_unchanged as i32,
            rejected: report
                .rejected
                .into_iter()
                .map(|r| ImportRejection {
                    section: match r.section {
                        Section::Items => ImportSection::Items,
                        Section::Relationships => ImportSection::Relationships,
                    },
                    row: r.row as i32,
                    external_key: r.external_key,
                    field: r.field,
                    reason: r.reason,
                })
                .collect(),
        }
    }
}
