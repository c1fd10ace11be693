//! Defining rules: admins only. A rule is checked when it is saved (its person, the
//! groups, people, categories and endpoints it names, its templates), so that a rule
//! that cannot work is refused then, not discovered at three in the morning.

use chrono::{DateTime, Utc};
use entity::{automation_rule, category, group, user, webhook_endpoint};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, Order};
use serde_json::json;

use super::{
    actions::check_template,
    types::{Action, Conditions, Trigger},
};
use crate::{
    auth::{Caller, Role},
    db::Db,
    domain::{
        events, input::text, lookup::referenced, page::Window, tickets::types::Status, versioned,
    },
    error::{AppError, AppResult},
};

/// The most actions one rule may take.
const MAX_ACTIONS: usize = 20;

/// A rule as an admin writes it.
pub struct RuleInput {
    pub name: String,
    pub description: String,
    pub position: i32,
    pub enabled: bool,
    pub stop_processing: bool,
    pub trigger: Trigger,
    pub conditions: Conditions,
    pub actions: Vec<Action>,
    /// Whose rights it acts with; the admin saving it when none.
    pub run_as_id: Option<i64>,
}

async fn checked(
    conn: &impl ConnectionTrait,
    input: &RuleInput,
    admin: i64,
) -> AppResult<(String, String, i64)> {
    let name = text("name", &input.name, 200, true)?;
    let description = text("description", &input.description, 2000, false)?;
    if input.actions.is_empty() || input.actions.len() > MAX_ACTIONS {
        return Err(AppError::bad_input(
            "actions",
            format!("give between 1 and {MAX_ACTIONS} actions"),
        ));
    }
    if input
        .conditions
        .priorities
        .iter()
        .any(|p| !(1..=4).contains(p))
    {
        return Err(AppError::bad_input(
            "priorities",
            "priorities run from 1 to 4",
        ));
    }
    let run_as = input.run_as_id.unwrap_or(admin);
    referenced::<user::Entity>(conn, run_as, "runAsId", "person").await?;
    for action in &input.actions {
        match action {
            Action::SetGroup { group_id } => {
                referenced::<group::Entity>(conn, *group_id, "groupId", "group").await?;
            }
            Action::SetAssignee { user_id } => {
                referenced::<user::Entity>(conn, *user_id, "userId", "person").await?;
            }
            Action::SetPriority { priority } if !(1..=4).contains(priority) => {
                return Err(AppError::bad_input(
                    "priority",
                    "priorities run from 1 to 4",
                ));
            }
            Action::SetStatus { status } => {
                Status::parse(status, "status")?;
            }
            Action::SetCategory { category_id } => {
                referenced::<category::Entity>(conn, *category_id, "categoryId", "category")
                    .await?;
            }
            Action::Escalate { level, reason } => {
                if !matches!(level.as_str(), "FUNCTIONAL" | "HIERARCHICAL") {
                    return Err(AppError::bad_input(
                        "level",
                        "escalate FUNCTIONAL or HIERARCHICAL",
                    ));
                }
                text("reason", reason, 2000, true)?;
            }
            Action::AddNote { template } | Action::AddComment { template } => {
                check_template(template)?;
            }
            Action::NotifyWebhook { endpoint_id } => {
                referenced::<webhook_endpoint::Entity>(
                    conn,
                    *endpoint_id,
                    "endpointId",
                    "webhook endpoint",
                )
                .await?;
            }
            Action::RaiseIncident { priority, group_id } => {
                if priority.is_some_and(|p| !(1..=4).contains(&p)) {
                    return Err(AppError::bad_input(
                        "priority",
                        "priorities run from 1 to 4",
                    ));
                }
                if let Some(group_id) = group_id {
                    referenced::<group::Entity>(conn, *group_id, "groupId", "group").await?;
                }
            }
            Action::SetPriority { .. } => {}
        }
    }
    Ok((name, description, run_as))
}

/// Saves a new rule. It acts on events from now on.
///
/// # Errors
/// FORBIDDEN unless an admin; BAD_USER_INPUT for a rule that cannot work.
pub async fn create(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    input: RuleInput,
) -> AppResult<automation_rule::Model> {
    let admin = caller.require_role(Role::Admin)?.user_id;
    let txn = db.begin_write().await?;
    let (name, description, run_as) = checked(&txn, &input, admin).await?;
    let row = automation_rule::ActiveModel {
        name: Set(name),
        description: Set(description),
        position: Set(input.position),
        enabled: Set(input.enabled),
        stop_processing: Set(input.stop_processing),
        trigger: Set(input.trigger.as_str().into()),
        conditions: Set(json!(input.conditions)),
        actions: Set(json!(input.actions)),
        run_as_id: Set(run_as),
        start_seq: Set(events::last_seq(&txn).await?),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Replaces a rule read at `version`. Enabling a disabled rule starts it from now, not
/// from the events it missed.
pub async fn update(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    input: RuleInput,
) -> AppResult<automation_rule::Model> {
    let admin = caller.require_role(Role::Admin)?.user_id;
    let txn = db.begin_write().await?;
    let row = versioned::current::<automation_rule::Entity>(&txn, id, version).await?;
    let (name, description, run_as) = checked(&txn, &input, admin).await?;
    let mut changed = automation_rule::ActiveModel {
        name: Set(name),
        description: Set(description),
        position: Set(input.position),
        enabled: Set(input.enabled),
        stop_processing: Set(input.stop_processing),
        trigger: Set(input.trigger.as_str().into()),
        conditions: Set(json!(input.conditions)),
        actions: Set(json!(input.actions)),
        run_as_id: Set(run_as),
        ..Default::default()
    };
    if input.enabled && !row.enabled {
        changed.start_seq = Set(events::last_seq(&txn).await?);
    }
    let saved = versioned::save::<automation_rule::Entity>(&txn, &row, changed, now).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Removes a rule.
pub async fn delete(db: &Db, caller: &Caller, id: i64) -> AppResult<automation_rule::Model> {
    caller.require_role(Role::Admin)?;
    let txn = db.begin_write().await?;
    let row = versioned::find::<automation_rule::Entity>(&txn, id).await?;
    automation_rule::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// The rules in the order they are tried. Admins only.
pub async fn list(
    db: &Db,
    caller: &Caller,
    window: &Window,
) -> AppResult<Vec<automation_rule::Model>> {
    caller.require_role(Role::Admin)?;
    Ok(window
        .apply(
            automation_rule::Entity::find(),
            automation_rule::Column::Id,
            Order::Asc,
        )
        .all(db.conn())
        .await?)
}

/// One rule. Admins only.
pub async fn find(db: &Db, caller: &Caller, id: i64) -> AppResult<automation_rule::Model> {
    caller.require_role(Role::Admin)?;
    versioned::find::<automation_rule::Entity>(db.conn(), id).await
}

/// The stored conditions and actions of a rule.
pub fn parts(row: &automation_rule::Model) -> AppResult<(Trigger, Conditions, Vec<Action>)> {
    let broken = |e: serde_json::Error| {
        AppError::Internal(format!("rule {} is stored wrongly: {e}", row.id))
    };
    Ok((
        Trigger::stored(&row.trigger)?,
        serde_json::from_value(row.conditions.clone()).map_err(broken)?,
        serde_json::from_value(row.actions.clone()).map_err(broken)?,
    ))
}
