//! Problem management: the causes behind incidents. A problem gathers its incidents and
//! the configuration items they touch; a known error publishes its workaround to every
//! linked incident (and drafts a knowledge article); fixing the problem can resolve its
//! open incidents. Trend detection proposes problems when incidents pile up on one item
//! or category.
//!
//! The lifecycle and what every command shares are here; recording and working problems
//! in `work`, reading them in `queries`, spotting trends in `trends` (which an
//! incident being recorded calls, so it stands apart from the commands that call back
//! into tickets) and deciding trend proposals in `candidates`.

pub mod types;

mod candidates;
mod queries;
pub mod trends;
mod work;

use chrono::{DateTime, Utc};
use entity::problem;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use crate::domain::events::Topic;
use crate::domain::problems::types::ProblemStatus::{self, *};
use crate::domain::versioned;
use crate::domain::{
    events::{self, Actor, NewEvent},
    workflow::Machine,
};
use crate::{
    auth::{Caller, Role, Scope},
    error::{AppError, AppResult},
};

pub use candidates::{accept_candidate, candidate_incident_ids, candidates, dismiss_candidate};
pub use queries::{incidents_by_problem, items_of, list, problems_of_tickets, visible_tickets};
pub(crate) use work::insert;
pub use work::{
    NewProblem, ProblemChanges, Transition, Transitioned, create, link_incidents, transition,
    update,
};

/// The problem's table of moves.
pub const LIFECYCLE: Machine<ProblemStatus> = Machine {
    subject: "problem",
    moves: &[
        (New, &[UnderInvestigation, Closed]),
        (UnderInvestigation, &[KnownError, Resolved, Closed]),
        (KnownError, &[UnderInvestigation, Resolved]),
        // Back to investigation when the fix did not hold.
        (Resolved, &[Closed, UnderInvestigation]),
        (Closed, &[]),
    ],
};

/// Agents work problems, and partner tokens with `tickets:write`.
fn require_worker(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsWrite)
}

/// Agents read problems, and partner tokens with `tickets:read`.
pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsRead)
}

fn priority(value: i16) -> AppResult<i16> {
    if (1..=4).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            "priority",
            "give a priority from 1 (highest) to 4",
        ))
    }
}

async fn record(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &problem::Model,
    payload: Value,
) -> AppResult<()> {
    let mut payload = payload;
    payload["number"] = json!(row.number);
    events::append(
        txn,
        actor,
        now,
        NewEvent {
            topic,
            entity_type: "problem",
            entity_id: row.id,
            internal: true,
            payload,
        },
    )
    .await?;
    Ok(())
}

/// One problem, whoever asks: callers check `require_reader` first.
///
/// # Errors
/// NOT_FOUND when there is no problem with that id.
pub async fn find(conn: &impl ConnectionTrait, id: i64) -> AppResult<problem::Model> {
    versioned::find::<problem::Entity>(conn, id).await
}

/// Problems by id, in id order.
pub async fn find_many(conn: &impl ConnectionTrait, ids: &[i64]) -> AppResult<Vec<problem::Model>> {
    Ok(problem::Entity::find()
        .filter(problem::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(problem::Column::Id)
        .all(conn)
        .await?)
}

/// Whether a problem is still being worked.
pub fn is_open(row: &problem::Model) -> bool {
    ProblemStatus::stored(&row.status).is_ok_and(|s| ProblemStatus::OPEN.contains(&s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::assert_table;

    #[test]
    fn the_problem_lifecycle_allows_exactly_its_moves() {
        assert_table(
            &LIFECYCLE,
            &[
                (New, &[UnderInvestigation, Closed]),
                (UnderInvestigation, &[KnownError, Resolved, Closed]),
                (KnownError, &[UnderInvestigation, Resolved]),
                (Resolved, &[Closed, UnderInvestigation]),
            ],
        );
    }

    #[test]
    fn a_refused_move_names_the_allowed_ones() {
        match LIFECYCLE.check(New, Resolved) {
            Err(AppError::InvalidTransition { allowed, message }) => {
                assert_eq!(allowed, ["UNDER_INVESTIGATION", "CLOSED"]);
                assert!(message.contains("UNDER_INVESTIGATION, CLOSED"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
