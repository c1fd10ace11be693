//! The CMDB's model: classes with their typed attributes, and relationship types with
//! the way failure spreads along them.

use crate::auth::Caller;
use crate::domain::desk::require_admin;
use chrono::{DateTime, Utc};
use entity::{ci_class, relationship_type};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, TryIntoModel};

use crate::domain::cmdb::attributes::{AttributeDefinition, check_definitions};
use crate::domain::cmdb::types::ImpactDirection;
use crate::domain::input::text;
use crate::domain::lookup::referenced;
use crate::{
    db::Db,
    error::{AppError, AppResult},
};

/// What an admin writes for a class.
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
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: ClassFields,
) -> AppResult<ci_class::Model> {
    require_admin(caller)?;
    let name = text("name", &fields.name, 100, true)?;
    check_definitions(&fields.attributes)?;
    let txn = db.begin_write().await?;
    for (i, definition) in fields.attributes.iter().enumerate() {
        if let Some(class) = definition.reference_class_id {
            let field = format!("attributes.{i}.referenceClassId");
            referenced::<ci_class::Entity>(&txn, class, &field, "class").await?;
        }
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
    let row = active.save(&txn).await?.try_into_model()?;
    txn.commit().await?;
    Ok(row)
}

/// What an admin writes for a relationship type.
pub struct RelationshipTypeFields {
    pub name: String,
    pub forward_label: String,
    pub reverse_label: String,
    pub impact: ImpactDirection,
    /// The source fails only when every item it relates to by this type has.
    pub redundant: bool,
}

/// Creates a relationship type (no id) or replaces one.
///
/// # Errors
/// BAD_USER_INPUT for labels that do not fit or a name already taken.
pub async fn save_relationship_type(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: RelationshipTypeFields,
) -> AppResult<relationship_type::Model> {
    require_admin(caller)?;
    let name = text("name", &fields.name, 50, true)?
        .to_uppercase()
        .replace(' ', "_");
    let forward = text("forwardLabel", &fields.forward_label, 50, true)?;
    let reverse = text("reverseLabel", &fields.reverse_label, 50, true)?;
    let txn = db.begin_write().await?;
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
    active.redundant = Set(fields.redundant);
    let row = active.save(&txn).await?.try_into_model()?;
    txn.commit().await?;
    Ok(row)
}
