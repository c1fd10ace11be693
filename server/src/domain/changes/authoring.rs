//! Writing a change: raising it (from a template for STANDARD changes) and editing it
//! while it is not yet under way.

use chrono::{DateTime, Utc};
use entity::{change, change_template, group, user};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction};
use serde_json::json;

use crate::domain::changes::types::{
    ChangeStatus::{self, *},
    ChangeType,
};
use crate::domain::events::Topic;
use crate::domain::input::text;
use crate::domain::versioned;
use crate::domain::{
    events::{Actor, change as field_change},
    lookup::referenced,
    numbers,
};
use crate::{
    auth::Caller,
    db::Db,
    error::{AppError, AppResult},
};

use super::{item_ids, record, require_worker, set_items};

/// What a change's author writes; `None` keeps what is there (or the template's).
#[derive(Default)]
pub struct ChangeFields {
    pub title: Option<String>,
    pub description: Option<String>,
    pub reason: Option<String>,
    pub implementation_plan: Option<String>,
    pub rollback_plan: Option<String>,
    pub test_plan: Option<String>,
    pub planned_start: Option<Option<DateTime<Utc>>>,
    pub planned_end: Option<Option<DateTime<Utc>>>,
    pub configuration_item_ids: Option<Vec<i64>>,
    pub group_id: Option<Option<i64>>,
    pub assignee_id: Option<Option<i64>>,
}

/// Raises a change in DRAFT, filled from its template where the author left a field out.
///
/// # Errors
/// BAD_USER_INPUT for a STANDARD change without a template, a retired template, or
/// fields that do not fit; FORBIDDEN for callers who do not work changes.
pub async fn create(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    change_type: ChangeType,
    template_id: Option<i64>,
    fields: ChangeFields,
) -> AppResult<change::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let template = match template_id {
        Some(id) => {
            let template =
                referenced::<change_template::Entity>(&txn, id, "templateId", "change template")
                    .await?;
            if !template.active {
                return Err(AppError::bad_input(
                    "templateId",
                    format!("the template '{}' is retired", template.name),
                ));
            }
            Some(template)
        }
        None if change_type == ChangeType::Standard => {
            return Err(AppError::bad_input(
                "templateId",
                "a STANDARD change comes from a pre-approved template: name it",
            ));
        }
        None => None,
    };
    let from_template = |value: Option<String>, pick: fn(&change_template::Model) -> &String| {
        value.unwrap_or_else(|| {
            template
                .as_ref()
                .map(|t| pick(t).clone())
                .unwrap_or_default()
        })
    };
    let actor = Actor::of(caller);
    let title = text(
        "title",
        &from_template(fields.title.clone(), |t| &t.name),
        200,
        true,
    )?;
    let row = change::ActiveModel {
        number: Set(numbers::next(&txn, "CHANGE", "CHG").await?),
        title: Set(title),
        description: Set(text(
            "description",
            &from_template(fields.description.clone(), |t| &t.description),
            20_000,
            false,
        )?),
        change_type: Set(change_type.into()),
        status: Set(Draft.into()),
        template_id: Set(template_id),
        reason: Set(text(
            "reason",
            &fields.reason.clone().unwrap_or_default(),
            20_000,
            false,
        )?),
        implementation_plan: Set(text(
            "implementationPlan",
            &from_template(fields.implementation_plan.clone(), |t| {
                &t.implementation_plan
            }),
            20_000,
            false,
        )?),
        rollback_plan: Set(text(
            "rollbackPlan",
            &from_template(fields.rollback_plan.clone(), |t| &t.rollback_plan),
            20_000,
            false,
        )?),
        test_plan: Set(text(
            "testPlan",
            &from_template(fields.test_plan.clone(), |t| &t.test_plan),
            20_000,
            false,
        )?),
        planned_start: Set(fields.planned_start.flatten()),
        planned_end: Set(fields.planned_end.flatten()),
        group_id: Set(fields.group_id.flatten()),
        assignee_id: Set(fields.assignee_id.flatten()),
        requested_by: Set(actor.user_id),
        freeze_override: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    };
    check_people(
        &txn,
        fields.group_id.flatten(),
        fields.assignee_id.flatten(),
    )
    .await?;
    check_period(fields.planned_start.flatten(), fields.planned_end.flatten())?;
    let row = row.insert(&txn).await?;
    let items = set_items(
        &txn,
        row.id,
        &fields.configuration_item_ids.unwrap_or_default(),
    )
    .await?;
    record(
        &txn,
        &actor,
        now,
        Topic::ChangeCreated,
        &row,
        json!({ "type": row.change_type, "configurationItemIds": items }),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

async fn check_people(
    txn: &DatabaseTransaction,
    group_id: Option<i64>,
    assignee_id: Option<i64>,
) -> AppResult<()> {
    if let Some(id) = group_id {
        referenced::<group::Entity>(txn, id, "groupId", "group").await?;
    }
    if let Some(id) = assignee_id {
        referenced::<user::Entity>(txn, id, "assigneeId", "user").await?;
    }
    Ok(())
}

fn check_period(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> AppResult<()> {
    if let (Some(start), Some(end)) = (start, end)
        && end <= start
    {
        return Err(AppError::bad_input(
            "plannedEnd",
            "the planned end must come after the start",
        ));
    }
    Ok(())
}

/// Edits a change that is not yet under way: its words in DRAFT, its slot until it is
/// scheduled.
pub async fn update(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    fields: ChangeFields,
) -> AppResult<change::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let row = versioned::current::<change::Entity>(&txn, id, version).await?;
    let status = ChangeStatus::stored(&row.status)?;
    let words_editable = status == Draft;
    let slot_editable = matches!(status, Draft | Submitted | Assessed | Authorized);
    let mut changes = Vec::new();
    let mut changed = <change::ActiveModel as Default>::default();
    macro_rules! words {
        ($value:expr, $column:ident, $name:literal, $max:expr, $required:expr) => {
            if let Some(value) = $value {
                let value = text($name, &value, $max, $required)?;
                if value != row.$column {
                    if !words_editable {
                        return Err(AppError::InvalidTransition {
                            message: format!(
                                "{} is {}: its {} can be changed in DRAFT only",
                                row.number, row.status, $name
                            ),
                            allowed: vec![],
                        });
                    }
                    changes.push(field_change($name, row.$column.clone(), value.clone()));
                    changed.$column = Set(value);
                }
            }
        };
    }
    words!(fields.title, title, "title", 200, true);
    words!(
        fields.description,
        description,
        "description",
        20_000,
        false
    );
    words!(fields.reason, reason, "reason", 20_000, false);
    words!(
        fields.implementation_plan,
        implementation_plan,
        "implementationPlan",
        20_000,
        false
    );
    words!(
        fields.rollback_plan,
        rollback_plan,
        "rollbackPlan",
        20_000,
        false
    );
    words!(fields.test_plan, test_plan, "testPlan", 20_000, false);
    let start = fields.planned_start.unwrap_or(row.planned_start);
    let end = fields.planned_end.unwrap_or(row.planned_end);
    if start != row.planned_start || end != row.planned_end {
        if !slot_editable {
            return Err(AppError::InvalidTransition {
                message: format!(
                    "{} is {}: unschedule it (back to AUTHORIZED) to move it",
                    row.number, row.status
                ),
                allowed: vec![Authorized.into()],
            });
        }
        check_period(start, end)?;
        changes.push(field_change(
            "plannedStart",
            json!(row.planned_start),
            json!(start),
        ));
        changes.push(field_change(
            "plannedEnd",
            json!(row.planned_end),
            json!(end),
        ));
        changed.planned_start = Set(start);
        changed.planned_end = Set(end);
    }
    let group_id = fields.group_id.unwrap_or(row.group_id);
    let assignee_id = fields.assignee_id.unwrap_or(row.assignee_id);
    check_people(&txn, group_id, assignee_id).await?;
    if group_id != row.group_id {
        changes.push(field_change("groupId", row.group_id, group_id));
        changed.group_id = Set(group_id);
    }
    if assignee_id != row.assignee_id {
        changes.push(field_change("assigneeId", row.assignee_id, assignee_id));
        changed.assignee_id = Set(assignee_id);
    }
    if let Some(items) = fields.configuration_item_ids {
        let before = item_ids(&txn, row.id).await?;
        let mut wanted = items.clone();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted != before {
            if !slot_editable {
                return Err(AppError::InvalidTransition {
                    message: format!(
                        "{} is {}: its items are fixed once it is scheduled",
                        row.number, row.status
                    ),
                    allowed: vec![],
                });
            }
            let after = set_items(&txn, row.id, &wanted).await?;
            changes.push(field_change(
                "configurationItemIds",
                json!(before),
                json!(after),
            ));
        }
    }
    if changes.is_empty() {
        return Ok(row);
    }
    let saved = versioned::save::<change::Entity>(&txn, &row, changed, now).await?;
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::ChangeUpdated,
        &saved,
        json!({ "changes": changes }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}
