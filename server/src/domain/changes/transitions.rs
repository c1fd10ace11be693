//! Moving a change along its lifecycle: submitting, scheduling into a window (or a
//! freeze, for EMERGENCY changes), implementing, reviewing and closing.

use chrono::{DateTime, Utc};
use entity::change;
use sea_orm::ActiveValue::Set;
use serde_json::json;

use crate::domain::changes::schedule;
use crate::domain::changes::types::{
    ChangeStatus::{self, *},
    ChangeType, Outcome,
};
use crate::domain::events::Topic;
use crate::domain::events::{Actor, change as field_change};
use crate::domain::input::text;
use crate::domain::versioned;
use crate::{
    auth::Caller,
    db::Db,
    error::{AppError, AppResult},
};

use super::{LIFECYCLE, item_ids, record, require_worker};

/// Where a change is moved to, with what that move needs.
pub struct Transition {
    pub to: ChangeStatus,
    /// How it went: needed to move to REVIEW.
    pub outcome: Option<Outcome>,
    /// The post-implementation review: needed to close, unless recorded before.
    pub review: Option<String>,
}

/// Moves a change along its lifecycle. Assessment and the CAB's decision have their
/// own commands (`assess`, `vote`); scheduling checks windows and freezes.
pub async fn transition(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    input: Transition,
) -> AppResult<change::Model> {
    require_worker(caller)?;
    let txn = db.begin_write().await?;
    let row = versioned::current::<change::Entity>(&txn, id, version).await?;
    let (from, to) = (ChangeStatus::stored(&row.status)?, input.to);
    let change_type = ChangeType::stored(&row.change_type)?;
    match to {
        Assessed if from == Submitted => {
            return Err(AppError::bad_input(
                "to",
                "a change is assessed with assessChange, which computes its risk",
            ));
        }
        Authorized | Rejected if from == Assessed => {
            return Err(AppError::bad_input(
                "to",
                "the approvers authorize or reject a change with voteOnChange",
            ));
        }
        _ => {}
    }
    // A standard change is pre-approved: submitting it authorizes it.
    let target = if to == Submitted && change_type == ChangeType::Standard {
        Authorized
    } else {
        to
    };
    LIFECYCLE.check(from, to)?;
    let mut changed = change::ActiveModel {
        status: Set(target.into()),
        ..Default::default()
    };
    let mut payload = json!({ "changes": [field_change("status", from, target)] });
    match target {
        Submitted => {
            for (field, value) in [
                ("reason", &row.reason),
                ("implementationPlan", &row.implementation_plan),
                ("rollbackPlan", &row.rollback_plan),
                ("testPlan", &row.test_plan),
            ] {
                if value.trim().is_empty() {
                    return Err(AppError::bad_input(
                        field,
                        format!(
                            "a {} change needs its {field} before it is submitted",
                            row.change_type
                        ),
                    ));
                }
            }
        }
        // A STANDARD change submitted: pre-approved by its template.
        Authorized if from == Draft => {
            payload["preApproved"] = json!(true);
        }
        Scheduled => {
            let (Some(start), Some(end)) = (row.planned_start, row.planned_end) else {
                return Err(AppError::bad_input(
                    "plannedStart",
                    "give the planned start and end before scheduling",
                ));
            };
            let items = item_ids(&txn, row.id).await?;
            let emergency = change_type == ChangeType::Emergency;
            let freezes = schedule::freezes_overlapping(&txn, start, end).await?;
            if let Some(freeze) = freezes.first() {
                if !emergency {
                    return Err(AppError::bad_input(
                        "plannedStart",
                        format!(
                            "the slot falls in the change freeze '{}' ({} to {}): only EMERGENCY changes may be scheduled in it",
                            freeze.name,
                            freeze.starts_at.to_rfc3339(),
                            freeze.ends_at.to_rfc3339()
                        ),
                    ));
                }
                changed.freeze_override = Set(true);
                payload["freezeOverride"] =
                    json!(freezes.iter().map(|f| &f.name).collect::<Vec<_>>());
            }
            if !emergency {
                let services = schedule::services_at_risk(&txn, &items).await?;
                schedule::check_windows(&txn, &services, start, end).await?;
            }
            let conflicts = schedule::conflicts(&txn, &row, &items).await?;
            payload["conflicts"] = json!(
                conflicts
                    .iter()
                    .map(|c| &c.other.number)
                    .collect::<Vec<_>>()
            );
        }
        // Unscheduled: it waits for a new slot, and no longer sits in a freeze.
        Authorized => changed.freeze_override = Set(false),
        Review => {
            let outcome = input.outcome.ok_or_else(|| {
                AppError::bad_input(
                    "outcome",
                    "say how it went: SUCCESSFUL, FAILED or BACKED_OUT",
                )
            })?;
            payload["changes"]
                .as_array_mut()
                .expect("a list")
                .push(field_change("outcome", row.outcome.clone(), outcome));
            changed.outcome = Set(Some(outcome.into()));
        }
        Closed => {
            let review = match input.review.as_deref() {
                Some(review) => text("review", review, 20_000, true)?,
                None => row
                    .review
                    .clone()
                    .filter(|r| !r.trim().is_empty())
                    .ok_or_else(|| {
                        AppError::bad_input(
                            "review",
                            "record the post-implementation review before closing",
                        )
                    })?,
            };
            changed.review = Set(Some(review));
            changed.closed_at = Set(Some(now));
        }
        Cancelled => changed.closed_at = Set(Some(now)),
        _ => {}
    }
    let saved = versioned::save::<change::Entity>(&txn, &row, changed, now).await?;
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::ChangeStatusChanged,
        &saved,
        payload,
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}
