//! Change management: standard changes from pre-approved templates, normal changes
//! assessed for risk and authorized by the CAB's votes, emergency changes allowed into
//! freezes; change windows, conflicts, the post-implementation review, and the report
//! of how changes went.
//!
//! The lifecycle and what every command shares are here; writing a change in
//! `authoring`, moving it in `transitions`, risk and the CAB in `approval`, reading in
//! `queries`, how changes went in `report`, and templates, policies and freezes in
//! `setup`. `risk` and `schedule` are the pure and the calendar rules they use.

pub mod risk;
pub mod schedule;
pub mod types;

mod approval;
mod authoring;
mod queries;
mod report;
mod setup;
mod transitions;

use chrono::{DateTime, Utc};
use entity::{change, change_configuration_item, configuration_item};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};

use crate::domain::changes::types::ChangeStatus::{self, *};
use crate::domain::events::Topic;
use crate::domain::versioned;
use crate::domain::{
    events::{self, Actor, NewEvent},
    workflow::Machine,
};
use crate::{
    auth::{Caller, Role, Scope},
    error::{AppError, AppResult},
};

pub use approval::{assess, vote};
pub use authoring::{ChangeFields, create, update};
pub use queries::{changes_by_item, items_by_change, list, open_changes_touching, votes_by_change};
pub use report::{Report, report};
pub use setup::{
    PolicyFields, TemplateFields, freezes, policies, save_freeze, save_policy, save_template,
    templates,
};
pub use transitions::{Transition, transition};

/// The change's table of moves.
pub const LIFECYCLE: Machine<ChangeStatus> = Machine {
    subject: "change",
    moves: &[
        (Draft, &[Submitted, Cancelled]),
        // Back to DRAFT: sent back to the requester for more detail.
        (Submitted, &[Assessed, Draft, Cancelled]),
        // AUTHORIZED and REJECTED come from the approvers' votes.
        (Assessed, &[Authorized, Rejected, Cancelled]),
        (Authorized, &[Scheduled, Cancelled]),
        (Rejected, &[]),
        // Back to AUTHORIZED: unscheduled, to pick another slot.
        (Scheduled, &[Implementing, Authorized, Cancelled]),
        (Implementing, &[Review]),
        (Review, &[Closed]),
        (Closed, &[]),
        (Cancelled, &[]),
    ],
};

/// Agents raise and work changes, and partner tokens with `tickets:write`.
fn require_worker(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsWrite)
}

/// Agents read changes, and partner tokens with `tickets:read`.
pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsRead)
}

async fn record(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &change::Model,
    mut payload: Value,
) -> AppResult<()> {
    payload["number"] = json!(row.number);
    events::append(
        txn,
        actor,
        now,
        NewEvent {
            topic,
            entity_type: "change",
            entity_id: row.id,
            internal: true,
            payload,
        },
    )
    .await?;
    Ok(())
}

/// One change, whoever asks: callers check `require_reader` first.
///
/// # Errors
/// NOT_FOUND when there is no change with that id.
pub async fn find(conn: &impl ConnectionTrait, id: i64) -> AppResult<change::Model> {
    versioned::find::<change::Entity>(conn, id).await
}

/// The configuration items a change touches, by id.
pub async fn item_ids(conn: &impl ConnectionTrait, change_id: i64) -> AppResult<Vec<i64>> {
    Ok(schedule::items_of(conn, &[change_id])
        .await?
        .remove(&change_id)
        .unwrap_or_default())
}

async fn set_items(txn: &DatabaseTransaction, change_id: i64, ids: &[i64]) -> AppResult<Vec<i64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let found = configuration_item::Entity::find()
        .filter(configuration_item::Column::Id.is_in(ids.iter().copied()))
        .count(txn)
        .await?;
    if found as usize != ids.len() {
        return Err(AppError::bad_input(
            "configurationItemIds",
            "one of these configuration items does not exist",
        ));
    }
    change_configuration_item::Entity::delete_many()
        .filter(change_configuration_item::Column::ChangeId.eq(change_id))
        .exec(txn)
        .await?;
    if !ids.is_empty() {
        change_configuration_item::Entity::insert_many(ids.iter().map(|&ci| {
            change_configuration_item::ActiveModel {
                change_id: Set(change_id),
                configuration_item_id: Set(ci),
            }
        }))
        .exec_without_returning(txn)
        .await?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::assert_table;

    #[test]
    fn the_change_lifecycle_allows_exactly_its_moves() {
        assert_table(
            &LIFECYCLE,
            &[
                (Draft, &[Submitted, Cancelled]),
                (Submitted, &[Assessed, Draft, Cancelled]),
                (Assessed, &[Authorized, Rejected, Cancelled]),
                (Authorized, &[Scheduled, Cancelled]),
                (Scheduled, &[Implementing, Authorized, Cancelled]),
                (Implementing, &[Review]),
                (Review, &[Closed]),
            ],
        );
    }
}
