//! Administration: pre-approved templates, approval policies and change freezes.

use crate::auth::Caller;
use crate::domain::desk::require_admin;
use chrono::{DateTime, Utc};
use entity::{change_approval_policy, change_freeze, change_template, group};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, QueryOrder, TryIntoModel,
};

use crate::domain::changes::{risk::Grade, types::ChangeType};
use crate::domain::input::text;
use crate::domain::lookup::referenced;
use crate::{
    auth::Role,
    db::Db,
    error::{AppError, AppResult},
};

use super::require_reader;

/// What an admin writes for a pre-approved template.
pub struct TemplateFields {
    pub name: String,
    pub description: String,
    pub implementation_plan: String,
    pub rollback_plan: String,
    pub test_plan: String,
    pub active: bool,
}

/// Creates a template (no id) or replaces one's fields.
///
/// # Errors
/// BAD_USER_INPUT for a name or a plan that is missing.
pub async fn save_template(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: TemplateFields,
) -> AppResult<change_template::Model> {
    require_admin(caller)?;
    let name = text("name", &fields.name, 200, true)?;
    for (field, value) in [
        ("implementationPlan", &fields.implementation_plan),
        ("rollbackPlan", &fields.rollback_plan),
        ("testPlan", &fields.test_plan),
    ] {
        text(field, value, 20_000, true).map_err(|_| {
            AppError::bad_input(field, format!("a pre-approved template needs its {field}"))
        })?;
    }
    let txn = db.begin_write().await?;
    let mut active: change_template::ActiveModel = match id {
        Some(id) => referenced::<change_template::Entity>(&txn, id, "id", "change template")
            .await?
            .into(),
        None => change_template::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.name = Set(name);
    active.description = Set(fields.description.trim().to_string());
    active.implementation_plan = Set(fields.implementation_plan.trim().to_string());
    active.rollback_plan = Set(fields.rollback_plan.trim().to_string());
    active.test_plan = Set(fields.test_plan.trim().to_string());
    active.active = Set(fields.active);
    let row = active.save(&txn).await?.try_into_model()?;
    txn.commit().await?;
    Ok(row)
}

/// Who approves changes of a type (and, optionally, of a risk).
pub struct PolicyFields {
    pub change_type: ChangeType,
    /// The risk it applies to; none for every risk of its type.
    pub risk: Option<Grade>,
    pub approver_group_id: Option<i64>,
    pub approver_role: Option<Role>,
    pub quorum: i32,
}

/// Creates a policy (no id) or replaces one.
///
/// # Errors
/// BAD_USER_INPUT for a policy naming neither group nor role, a quorum outside 1 to
/// 50, or a group that does not exist.
pub async fn save_policy(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<i64>,
    fields: PolicyFields,
) -> AppResult<change_approval_policy::Model> {
    require_admin(caller)?;
    if fields.approver_group_id.is_none() && fields.approver_role.is_none() {
        return Err(AppError::bad_input(
            "approverGroupId",
            "name the approving group, or role, or both",
        ));
    }
    if !(1..=50).contains(&fields.quorum) {
        return Err(AppError::bad_input(
            "quorum",
            "give a quorum of 1 to 50 approvals",
        ));
    }
    let txn = db.begin_write().await?;
    if let Some(group) = fields.approver_group_id {
        referenced::<group::Entity>(&txn, group, "approverGroupId", "group").await?;
    }
    let mut active: change_approval_policy::ActiveModel = match id {
        Some(id) => referenced::<change_approval_policy::Entity>(&txn, id, "id", "approval policy")
            .await?
            .into(),
        None => change_approval_policy::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.change_type = Set(fields.change_type.into());
    active.risk = Set(fields.risk.map(Into::into));
    active.approver_group_id = Set(fields.approver_group_id);
    active.approver_role = Set(fields.approver_role.map(|r| r.as_str().to_string()));
    active.quorum = Set(fields.quorum);
    let row = active.save(&txn).await?.try_into_model()?;
    txn.commit().await?;
    Ok(row)
}

/// Creates a freeze (no id) or moves one.
///
/// # Errors
/// BAD_USER_INPUT for a name that does not fit or an end before the start.
pub async fn save_freeze(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: Option<i64>,
    name: &str,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> AppResult<change_freeze::Model> {
    require_admin(caller)?;
    let name = text("name", name, 200, true)?;
    if ends_at <= starts_at {
        return Err(AppError::bad_input(
            "endsAt",
            "a freeze must end after it starts",
        ));
    }
    let txn = db.begin_write().await?;
    let mut active: change_freeze::ActiveModel = match id {
        Some(id) => referenced::<change_freeze::Entity>(&txn, id, "id", "freeze")
            .await?
            .into(),
        None => change_freeze::ActiveModel {
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.name = Set(name);
    active.starts_at = Set(starts_at);
    active.ends_at = Set(ends_at);
    let row = active.save(&txn).await?.try_into_model()?;
    txn.commit().await?;
    Ok(row)
}

/// The pre-approved templates, by name.
///
/// # Errors
/// FORBIDDEN for anyone who may not read changes.
pub async fn templates(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<change_template::Model>> {
    require_reader(caller)?;
    Ok(change_template::Entity::find()
        .order_by_asc(change_template::Column::Name)
        .all(conn)
        .await?)
}

/// The approval policies, oldest first.
///
/// # Errors
/// FORBIDDEN for anyone who may not read changes.
pub async fn policies(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<change_approval_policy::Model>> {
    require_reader(caller)?;
    Ok(change_approval_policy::Entity::find()
        .order_by_asc(change_approval_policy::Column::Id)
        .all(conn)
        .await?)
}

/// The change freezes, by start.
///
/// # Errors
/// FORBIDDEN for anyone who may not read changes.
pub async fn freezes(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<change_freeze::Model>> {
    require_reader(caller)?;
    Ok(change_freeze::Entity::find()
        .order_by_asc(change_freeze::Column::StartsAt)
        .all(conn)
        .await?)
}
