//! The CMDB: classes with typed attributes, configuration items, their relationships,
//! what depends on what (`impact`), and bulk loading from discovery tools (`import`).
//!
//! Who may read and write it is here; classes and relationship types in `setup`, items
//! in `items`, relationships in `relationships`, and reads in `queries`.

pub mod attributes;
pub mod impact;
pub mod import;
pub mod redundancy;
pub mod types;

mod items;
mod queries;
mod relationships;
mod setup;

use entity::{ci_class, configuration_item as ci};
use sea_orm::ConnectionTrait;

use crate::domain::cmdb::attributes::AttributeDefinition;
use crate::domain::versioned;
use crate::{
    auth::{Caller, Role, Scope},
    error::{AppError, AppResult},
};

pub(crate) use items::set_attribute;
pub use items::{Draft, ItemChanges, create_item, update_item};
pub use queries::{
    ItemFilter, business_service_classes, class, classes, item_by_key,
    items_of_service as items_delivering, items_of_tickets, list, open_tickets_about,
    open_tickets_by_item, relationship_types, relationships_by_item,
};
pub use relationships::{relate, relationship_type_named, relationships_of, unrelate};
pub use setup::{ClassFields, RelationshipTypeFields, save_class, save_relationship_type};

/// Agents read the CMDB, and partner tokens with `cmdb:read`.
pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::CmdbRead)
}

/// Admins write it, and discovery tools with `cmdb:write`.
pub fn require_writer(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Admin, Scope::CmdbWrite)
}

// ---- classes and relationship types ------------------------------------------------

/// A class's attribute definitions.
///
/// # Errors
/// INTERNAL when the stored definitions do not read.
pub fn definitions(class: &ci_class::Model) -> AppResult<Vec<AttributeDefinition>> {
    serde_json::from_value(class.attributes.clone()).map_err(|e| {
        AppError::Internal(format!("class {} has unreadable attributes: {e}", class.id))
    })
}

/// One configuration item, whoever asks: callers check `require_reader` first.
///
/// # Errors
/// NOT_FOUND when there is no item with that id.
pub async fn find(conn: &impl ConnectionTrait, id: i64) -> AppResult<ci::Model> {
    versioned::find::<ci::Entity>(conn, id).await
}
