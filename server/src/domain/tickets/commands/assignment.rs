//! Who works a ticket: assigning it, and escalating it to the next tier or up the line.

use chrono::{DateTime, Utc};
use entity::{group, ticket};
use sea_orm::ActiveValue::Set;
use serde_json::{Value, json};

use crate::domain::events::Topic;
use crate::domain::tickets::types::Status;
use crate::{
    auth::{Caller, Role},
    db::Writes,
    domain::{events::change, input::text, lookup::referenced, users::roles_of},
    error::{AppError, AppResult},
};

use super::{
    MAX_TEXT_CHARS, Standing, commit_change, load_for_change, require_member, require_open,
    standing_of,
};

/// Gives a ticket to a group and agent (an agent must be a member of the group).
///
/// # Errors
/// BAD_USER_INPUT for a group or agent that does not exist or does not fit,
/// INVALID_TRANSITION for a ticket no longer open, CONFLICT when it changed since read.
pub async fn assign(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    version: i32,
    group_id: Option<i64>,
    assignee_id: Option<i64>,
) -> AppResult<ticket::Model> {
    if let Standing::Requester(_) = standing_of(caller)? {
        return Err(AppError::Forbidden("only agents assign tickets".into()));
    }
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, Some(version)).await?;
    let status = require_open(&row, "only open tickets are assigned")?;
    let group_id = group_id
        .or(row.group_id)
        .ok_or_else(|| AppError::bad_input("groupId", "give the group to assign to"))?;
    let group = referenced::<group::Entity>(&txn, group_id, "groupId", "group").await?;
    if let Some(assignee) = assignee_id {
        let agent = require_member(&txn, &group, assignee).await?;
        if !roles_of(&agent).iter().any(|r| *r != Role::Requester) {
            return Err(AppError::bad_input(
                "assigneeId",
                format!("{} is not an agent", agent.name),
            ));
        }
    }
    let mut changes = Vec::new();
    let mut changed = <ticket::ActiveModel as Default>::default();
    if row.group_id != Some(group.id) {
        changes.push(change("groupId", row.group_id, group.id));
        changed.group_id = Set(Some(group.id));
    }
    if row.assignee_id != assignee_id {
        changes.push(change("assigneeId", row.assignee_id, assignee_id));
        changed.assignee_id = Set(assignee_id);
    }
    let new_status = match (status, assignee_id) {
        (Status::New, Some(_)) => Status::Assigned,
        (Status::Assigned, None) => Status::New,
        (status, _) => status,
    };
    if new_status != status {
        changes.push(change("status", status.as_str(), new_status.as_str()));
        changed.status = Set(new_status.as_str().into());
    }
    if changes.is_empty() {
        return Ok(row);
    }
    commit_change(
        txn,
        caller,
        now,
        Topic::TicketAssigned,
        &row,
        changed,
        json!({ "changes": changes }),
    )
    .await
}

/// How a ticket is escalated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escalation {
    /// To the group's higher-tier escalation group.
    Functional,
    /// Flag the group's manager.
    Hierarchical,
}

/// Escalates a ticket: functionally to the next tier's group, or hierarchically by
/// flagging the group's manager; either way with the reason in its history.
///
/// # Errors
/// BAD_USER_INPUT without a reason or a next tier, INVALID_TRANSITION for a ticket no
/// longer open, CONFLICT when it changed since it was read.
pub async fn escalate(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    version: i32,
    level: Escalation,
    reason: &str,
) -> AppResult<ticket::Model> {
    if let Standing::Requester(_) = standing_of(caller)? {
        return Err(AppError::Forbidden("only agents escalate tickets".into()));
    }
    let reason = text("reason", reason, MAX_TEXT_CHARS, true)?;
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, Some(version)).await?;
    let status = require_open(&row, "only open tickets are escalated")?;
    let group = match row.group_id {
        Some(id) => referenced::<group::Entity>(&txn, id, "groupId", "group").await?,
        None => {
            return Err(AppError::bad_input(
                "level",
                "the ticket has no group yet: assign it first",
            ));
        }
    };
    let mut changes = Vec::new();
    let mut changed = <ticket::ActiveModel as Default>::default();
    let payload = match level {
        Escalation::Functional => {
            let target_id = group.escalation_group_id.ok_or_else(|| {
                AppError::bad_input(
                    "level",
                    format!(
                        "the group {} has no escalation group; assign the ticket by hand",
                        group.name
                    ),
                )
            })?;
            let target = referenced::<group::Entity>(&txn, target_id, "level", "group").await?;
            changes.push(change("groupId", group.id, target.id));
            changes.push(change("assigneeId", row.assignee_id, Value::Null));
            changes.push(change(
                "escalationLevel",
                row.escalation_level,
                row.escalation_level + 1,
            ));
            changed.group_id = Set(Some(target.id));
            changed.assignee_id = Set(None);
            changed.escalation_level = Set(row.escalation_level + 1);
            if status == Status::Assigned {
                changes.push(change("status", status.as_str(), Status::New.as_str()));
                changed.status = Set(Status::New.as_str().into());
            }
            json!({ "level": "FUNCTIONAL", "fromGroupId": group.id, "toGroupId": target.id, "reason": reason })
        }
        Escalation::Hierarchical => {
            let manager_id = group.manager_id.ok_or_else(|| {
                AppError::bad_input(
                    "level",
                    format!("the group {} has no manager to flag", group.name),
                )
            })?;
            changes.push(change(
                "managerFlaggedAt",
                row.manager_flagged_at.map(|t| t.to_rfc3339()),
                now.to_rfc3339(),
            ));
            changed.manager_flagged_at = Set(Some(now));
            json!({ "level": "HIERARCHICAL", "managerId": manager_id, "reason": reason })
        }
    };
    let mut payload = payload;
    payload["changes"] = json!(changes);
    commit_change(
        txn,
        caller,
        now,
        Topic::TicketEscalated,
        &row,
        changed,
        payload,
    )
    .await
}

/// Hands a ticket to a supplier (or, with None, takes it back): while a supplier holds
/// it, the supplier's underpinning contract's clock runs. Agents.
///
/// # Errors
/// BAD_USER_INPUT for a supplier that does not exist, INVALID_TRANSITION for a ticket no
/// longer open, CONFLICT when it changed since read.
pub async fn hand_to_supplier(
    db: &impl Writes,
    caller: &Caller,
    now: DateTime<Utc>,
    ticket_id: i64,
    version: i32,
    supplier_id: Option<i64>,
) -> AppResult<ticket::Model> {
    if let Standing::Requester(_) = standing_of(caller)? {
        return Err(AppError::Forbidden(
            "only agents hand tickets to suppliers".into(),
        ));
    }
    let txn = db.begin_write().await?;
    let row = load_for_change(&txn, caller, ticket_id, Some(version)).await?;
    require_open(&row, "only open tickets are handed to a supplier")?;
    if let Some(supplier) = supplier_id {
        referenced::<entity::supplier::Entity>(&txn, supplier, "supplierId", "supplier").await?;
    }
    if row.supplier_id == supplier_id {
        return Ok(row);
    }
    let changed = ticket::ActiveModel {
        supplier_id: Set(supplier_id),
        ..Default::default()
    };
    commit_change(
        txn,
        caller,
        now,
        Topic::TicketAssigned,
        &row,
        changed,
        json!({ "changes": [change("supplierId", row.supplier_id, supplier_id)] }),
    )
    .await
}
