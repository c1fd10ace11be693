//! Deployment, step by step, in the plan's order. A step that succeeds moves its item's
//! version in the CMDB in the same transaction, through the CMDB's own command, so
//! the CMDB says what runs and its history which release put it there. A failed step
//! stops the plan, and what was deployed is rolled back in reverse order.

use chrono::{DateTime, Utc};
use entity::{release, release_item};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde_json::json;

use super::{ReleaseStatus, StepState, VERSION_ATTRIBUTE, record};
use crate::{
    auth::{Caller, Role},
    db::Db,
    domain::{
        cmdb,
        events::{Actor, Topic, change as field_change},
        input::text,
        versioned,
    },
    error::{AppError, AppResult},
};

/// What became of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    Started,
    Succeeded,
    Failed,
    Skipped,
}

/// Records how one step of a deploying release went: the release manager's or the
/// step's assignee's. Steps go in the plan's order.
///
/// # Errors
/// FORBIDDEN for anyone else; INVALID_TRANSITION unless the release is deploying and
/// this is its next step; BAD_USER_INPUT when the item cannot hold the version.
pub async fn record_step(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    step_id: i64,
    outcome: StepOutcome,
    note: Option<&str>,
) -> AppResult<(release::Model, release_item::Model)> {
    let person = caller.person()?;
    let note = note.map(|n| text("note", n, 2_000, false)).transpose()?;
    let actor = Actor::of(caller);
    let txn = db.begin_write().await?;
    let step = release_item::Entity::find_by_id(step_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("there is no deployment step with that id".into()))?;
    if step.assignee_id != Some(person.user_id) {
        caller.require_role(Role::Manager)?;
    }
    let row = versioned::find::<release::Entity>(&txn, step.release_id).await?;
    if ReleaseStatus::stored(&row.status)? != ReleaseStatus::Deploying {
        return Err(AppError::InvalidTransition {
            message: format!(
                "{} is {}: steps are recorded while it deploys",
                row.number, row.status
            ),
            allowed: vec![],
        });
    }
    let steps = plan_of(&txn, row.id).await?;
    let next = steps.iter().find(|s| {
        matches!(
            StepState::stored(&s.state),
            Ok(StepState::Pending | StepState::Started)
        )
    });
    if next.map(|s| s.id) != Some(step.id) {
        return Err(AppError::InvalidTransition {
            message: format!(
                "step {} of {} is not the next: the plan goes in order{}",
                step.position,
                row.number,
                next.map(|s| format!(", and step {} comes first", s.position))
                    .unwrap_or_default()
            ),
            allowed: vec![],
        });
    }
    let state = match outcome {
        StepOutcome::Started => StepState::Started,
        StepOutcome::Succeeded => StepState::Succeeded,
        StepOutcome::Failed => StepState::Failed,
        StepOutcome::Skipped => StepState::Skipped,
    };
    if outcome == StepOutcome::Succeeded {
        cmdb::set_attribute(
            &txn,
            &actor,
            now,
            step.configuration_item_id,
            VERSION_ATTRIBUTE,
            Some(&step.to_version),
            json!({ "releaseId": row.id, "release": row.number, "step": step.position }),
        )
        .await?;
    }
    let mut active: release_item::ActiveModel = step.clone().into();
    active.state = Set(state.as_str().into());
    active.done_by = Set(Some(actor.name.clone()));
    active.note = Set(note);
    if outcome == StepOutcome::Started {
        active.started_at = Set(Some(now));
    } else {
        active.started_at = Set(step.started_at.or(Some(now)));
        active.finished_at = Set(Some(now));
    }
    let step = active.update(&txn).await?;
    record(
        &txn,
        &actor,
        now,
        Topic::ReleaseStepRecorded,
        &row,
        json!({ "stepId": step.id, "position": step.position, "configurationItemId": step.configuration_item_id, "state": step.state }),
    )
    .await?;
    let last = steps.last().map(|s| s.id) == Some(step.id);
    let finished = match outcome {
        StepOutcome::Failed => {
            roll_back(&txn, &actor, now, &row).await?;
            Some(ReleaseStatus::RolledBack)
        }
        StepOutcome::Succeeded | StepOutcome::Skipped if last => Some(ReleaseStatus::Deployed),
        _ => None,
    };
    let row = match finished {
        Some(to) => {
            let changed = release::ActiveModel {
                status: Set(to.as_str().into()),
                actual_end: Set(Some(now)),
                ..Default::default()
            };
            let saved = versioned::save::<release::Entity>(&txn, &row, changed, now).await?;
            record(
                &txn,
                &actor,
                now,
                Topic::ReleaseStatusChanged,
                &saved,
                json!({ "changes": [field_change("status", row.status.clone(), to.as_str())] }),
            )
            .await?;
            saved
        }
        None => row,
    };
    txn.commit().await?;
    Ok((row, step))
}

/// Puts back what the release deployed, in reverse order: each succeeded step's item
/// gets the version it had, through the CMDB's own command.
pub(super) async fn roll_back(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    row: &release::Model,
) -> AppResult<()> {
    let mut steps = plan_of(txn, row.id).await?;
    steps.reverse();
    for step in steps {
        if StepState::stored(&step.state)? != StepState::Succeeded {
            continue;
        }
        cmdb::set_attribute(
            txn,
            actor,
            now,
            step.configuration_item_id,
            VERSION_ATTRIBUTE,
            step.from_version.as_deref(),
            json!({ "releaseId": row.id, "release": row.number, "step": step.position, "rollback": true }),
        )
        .await?;
        let mut active: release_item::ActiveModel = step.into();
        active.state = Set(StepState::RolledBack.as_str().into());
        active.finished_at = Set(Some(now));
        active.update(txn).await?;
    }
    Ok(())
}

async fn plan_of(
    txn: &DatabaseTransaction,
    release_id: i64,
) -> AppResult<Vec<release_item::Model>> {
    Ok(release_item::Entity::find()
        .filter(release_item::Column::ReleaseId.eq(release_id))
        .order_by_asc(release_item::Column::Position)
        .all(txn)
        .await?)
}
