//! Moving a release along its lifecycle, under the rules a release adds to its table:
//! approved only once every change in it is; deploying only inside its changes'
//! windows, outside any freeze (unless an emergency), and while no conflicting change is
//! in flight; verified by its business owner or verifier.

use chrono::{DateTime, Duration, Utc};
use entity::release;
use sea_orm::{ActiveValue::Set, DatabaseTransaction};
use serde_json::json;

use super::{
    LIFECYCLE, ReleaseStatus, ReleaseType, StepState, deploy, reads, record, require_manager,
};
use crate::{
    auth::{Caller, Role},
    db::Db,
    domain::{
        changes::{
            schedule::{self, freezes_overlapping},
            types::ChangeStatus,
        },
        events::{Actor, Topic, change as field_change},
        versioned,
    },
    error::{AppError, AppResult},
};

/// Moves a release read at `version` to `to`. Release managers; verifying is also its
/// owner's or verifier's.
///
/// # Errors
/// INVALID_TRANSITION off the table, or when a rule of the release refuses (a change not
/// authorized, outside a window, in a freeze, a conflicting change in flight), saying
/// which; FORBIDDEN for anyone else; CONFLICT for a stale version.
pub async fn transition(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    to: ReleaseStatus,
) -> AppResult<release::Model> {
    let person = caller.person()?;
    let txn = db.begin_write().await?;
    let row = versioned::current::<release::Entity>(&txn, id, version).await?;
    let verifier = row.verifier_id.or(row.owner_id) == Some(person.user_id);
    if !(to == ReleaseStatus::Verified && verifier && person.has_role(Role::Agent)) {
        require_manager(caller)?;
    }
    let from = ReleaseStatus::stored(&row.status)?;
    LIFECYCLE.check(from, to)?;
    let mut changed = release::ActiveModel {
        status: Set(to.as_str().into()),
        ..Default::default()
    };
    match to {
        ReleaseStatus::Approved => require_authorized(&txn, &row).await?,
        ReleaseStatus::Deploying => {
            require_schedule(&txn, &row, now).await?;
            changed.actual_start = Set(Some(now));
        }
        ReleaseStatus::Deployed => require_all_deployed(&txn, &row).await?,
        ReleaseStatus::Verified => {
            changed.verified_at = Set(Some(now));
            changed.verified_by = Set(Some(Actor::of(caller).name));
        }
        ReleaseStatus::RolledBack => {
            deploy::roll_back(&txn, &Actor::of(caller), now, &row).await?;
            changed.actual_end = Set(Some(now));
        }
        _ => {}
    }
    let saved = versioned::save::<release::Entity>(&txn, &row, changed, now).await?;
    record(
        &txn,
        &Actor::of(caller),
        now,
        Topic::ReleaseStatusChanged,
        &saved,
        json!({ "changes": [field_change("status", from.as_str(), to.as_str())] }),
    )
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Declared deployed by hand only when no step is left undone.
async fn require_all_deployed(txn: &DatabaseTransaction, row: &release::Model) -> AppResult<()> {
    for step in reads::steps_of(txn, row.id).await? {
        if !matches!(
            StepState::stored(&step.state)?,
            StepState::Succeeded | StepState::Skipped
        ) {
            return Err(AppError::InvalidTransition {
                message: format!(
                    "step {} of {} is {}: a release is deployed once every step succeeded or was skipped",
                    step.position, row.number, step.state
                ),
                allowed: vec![ReleaseStatus::RolledBack.as_str().into()],
            });
        }
    }
    Ok(())
}

/// Every change in the release is authorized (or further along).
async fn require_authorized(txn: &DatabaseTransaction, row: &release::Model) -> AppResult<()> {
    let ready = [
        ChangeStatus::Authorized,
        ChangeStatus::Scheduled,
        ChangeStatus::Implementing,
        ChangeStatus::Review,
        ChangeStatus::Closed,
    ];
    for change in reads::changes_of(txn, row.id).await? {
        let status = ChangeStatus::stored(&change.status)?;
        if !ready.contains(&status) {
            return Err(AppError::InvalidTransition {
                message: format!(
                    "{} is {status}: {} is approved once every change in it is authorized",
                    change.number, row.number
                ),
                allowed: vec![
                    ReleaseStatus::Testing.as_str().into(),
                    ReleaseStatus::Cancelled.as_str().into(),
                ],
            });
        }
    }
    Ok(())
}

/// Deploying starts now only inside every change's window, outside every freeze (an
/// emergency release may), and with no conflicting change of another release or none
/// implementing meanwhile.
async fn require_schedule(
    txn: &DatabaseTransaction,
    row: &release::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let refuse = |message: String| AppError::InvalidTransition {
        message,
        allowed: vec![ReleaseStatus::Cancelled.as_str().into()],
    };
    let changes = reads::changes_of(txn, row.id).await?;
    for change in &changes {
        match (change.planned_start, change.planned_end) {
            (Some(start), Some(end)) if start <= now && now < end => {}
            (Some(start), Some(end)) => {
                return Err(refuse(format!(
                    "{} deploys in the window of {}, {} to {}; it is {} now",
                    row.number,
                    change.number,
                    start.to_rfc3339(),
                    end.to_rfc3339(),
                    now.to_rfc3339()
                )));
            }
            _ => {
                return Err(refuse(format!(
                    "{} has no window: schedule it before {} deploys",
                    change.number, row.number
                )));
            }
        }
    }
    let emergency = ReleaseType::stored(&row.release_type)? == ReleaseType::Emergency;
    if !emergency
        && let Some(freeze) = freezes_overlapping(txn, now, now + Duration::minutes(1))
            .await?
            .into_iter()
            .next()
    {
        return Err(refuse(format!(
            "the change freeze '{}' ({} to {}) holds: {} may deploy after it, or as an EMERGENCY release",
            freeze.name,
            freeze.starts_at.to_rfc3339(),
            freeze.ends_at.to_rfc3339(),
            row.number
        )));
    }
    // The services at risk from what it deploys keep their change windows, as for any
    // change: the whole of its expected time inside them.
    let steps = reads::steps_of(txn, row.id).await?;
    let expected: i64 = steps.iter().map(|s| i64::from(s.expected_minutes)).sum();
    let mut items: Vec<i64> = steps.iter().map(|s| s.configuration_item_id).collect();
    let of_changes =
        schedule::items_of(txn, &changes.iter().map(|c| c.id).collect::<Vec<_>>()).await?;
    items.extend(of_changes.values().flatten().copied());
    items.sort_unstable();
    items.dedup();
    if !emergency {
        let services = schedule::services_at_risk(txn, &items).await?;
        schedule::check_windows(
            txn,
            &services,
            now,
            now + Duration::minutes(expected.max(1)),
        )
        .await
        .map_err(|refusal| refuse(refusal.to_string()))?;
    }
    let own: Vec<i64> = changes.iter().map(|c| c.id).collect();
    for change in &changes {
        let items = schedule::items_of(txn, &[change.id])
            .await?
            .remove(&change.id)
            .unwrap_or_default();
        for conflict in schedule::conflicts(txn, change, &items).await? {
            let other = &conflict.other;
            let in_flight = ChangeStatus::stored(&other.status)? == ChangeStatus::Implementing;
            if !own.contains(&other.id) && in_flight {
                return Err(refuse(format!(
                    "{} is being implemented on the same items as {} in an overlapping window: {} waits for it",
                    other.number, change.number, row.number
                )));
            }
        }
    }
    Ok(())
}
