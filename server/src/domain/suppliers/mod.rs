//! Suppliers: the third parties the desk hands work to under underpinning contracts,
//! with their contacts and the person at the desk who manages each relationship. Read
//! by the desk's people (as organizations are), kept by admins.

use chrono::{DateTime, Utc};
use entity::{supplier, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    auth::{Caller, Role},
    db::Db,
    domain::{input::text, lookup::referenced, versioned},
    error::{AppError, AppResult},
};

/// Someone to call at a supplier.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Contact {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// What they do for the desk: "service manager", "24x7 hotline".
    pub role: Option<String>,
}

/// What an admin writes for a supplier.
#[derive(Clone, Debug, Default)]
pub struct SupplierFields {
    pub name: String,
    pub description: String,
    pub manager_id: Option<i64>,
    pub contacts: Vec<Contact>,
}

/// Every supplier, by name. The desk's people.
///
/// # Errors
/// FORBIDDEN for requesters.
pub async fn list(conn: &impl ConnectionTrait, caller: &Caller) -> AppResult<Vec<supplier::Model>> {
    caller.require_role(Role::Agent)?;
    Ok(supplier::Entity::find()
        .order_by_asc(supplier::Column::Name)
        .all(conn)
        .await?)
}

/// One supplier. The desk's people.
///
/// # Errors
/// NOT_FOUND when there is none; FORBIDDEN for requesters.
pub async fn get(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<supplier::Model> {
    caller.require_role(Role::Agent)?;
    versioned::find::<supplier::Entity>(conn, id).await
}

/// A supplier's contacts.
pub fn contacts_of(row: &supplier::Model) -> Vec<Contact> {
    serde_json::from_value(row.contacts.clone()).unwrap_or_default()
}

/// Creates a supplier (no id) or changes one. Admins.
///
/// # Errors
/// BAD_USER_INPUT for a name that does not fit or is taken, a manager who does not
/// exist, or a contact without a name.
pub async fn save(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<(i64, i32)>,
    fields: SupplierFields,
) -> AppResult<supplier::Model> {
    caller.require_role(Role::Admin)?;
    let name = text("name", &fields.name, 100, true)?;
    let description = text("description", &fields.description, 5000, false)?;
    if fields.contacts.len() > 50 {
        return Err(AppError::bad_input("contacts", "give at most 50 contacts"));
    }
    for (i, contact) in fields.contacts.iter().enumerate() {
        text(&format!("contacts.{i}.name"), &contact.name, 200, true)?;
    }
    let txn = db.begin_write().await?;
    if let Some(manager) = fields.manager_id {
        referenced::<user::Entity>(&txn, manager, "managerId", "person").await?;
    }
    let row = match id {
        Some((id, version)) => {
            let row = versioned::current::<supplier::Entity>(&txn, id, version).await?;
            let changed = supplier::ActiveModel {
                name: Set(name),
                description: Set(description),
                manager_id: Set(fields.manager_id),
                contacts: Set(json!(fields.contacts)),
                ..Default::default()
            };
            versioned::save::<supplier::Entity>(&txn, &row, changed, now).await?
        }
        None => {
            supplier::ActiveModel {
                name: Set(name),
                description: Set(description),
                manager_id: Set(fields.manager_id),
                contacts: Set(json!(fields.contacts)),
                created_at: Set(now),
                updated_at: Set(now),
                version: Set(1),
                ..Default::default()
            }
            .insert(&txn)
            .await?
        }
    };
    txn.commit().await?;
    Ok(row)
}

/// Makes a person one of a supplier's people (or no supplier's): they then see the
/// tickets handed to it, as an organization's requesters see its tickets. Admins.
///
/// # Errors
/// FORBIDDEN below admin; NOT_FOUND for a person or supplier that does not exist.
pub async fn set_user_supplier(
    db: &Db,
    caller: &Caller,
    user_id: i64,
    supplier_id: Option<i64>,
) -> AppResult<user::Model> {
    caller.require_role(Role::Admin)?;
    let txn = db.begin_write().await?;
    let row = referenced::<user::Entity>(&txn, user_id, "userId", "user").await?;
    if let Some(id) = supplier_id {
        referenced::<supplier::Entity>(&txn, id, "supplierId", "supplier").await?;
    }
    let mut active: user::ActiveModel = row.into();
    active.supplier_id = Set(supplier_id);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}
