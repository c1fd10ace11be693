//! Major incidents: an incident whose impact calls for more than the queue. A manager
//! declares one (from an incident, or new); it takes the priority above P1, gets a
//! coordinator, and the coordinator publishes updates that reach everyone it affects,
//! by mail and live (`audience`: the requesters of its children, and everyone whose
//! service is impacted through the CMDB). It resolves with its ticket (its children
//! resolve with it, by the links' rule) and closes with a review: the timeline from the
//! event log, the cause, the actions, and the problem the review opens.
//!
//! Its lifecycle is `LIFECYCLE`; its writes are versioned; its events are on the one
//! log, recorded on its ticket, each carrying the audience it was published to.

mod audience;
mod declare;
mod finish;
mod publish;
mod reads;

use chrono::{DateTime, Utc};
use entity::{major_incident, ticket};
use sea_orm::DatabaseTransaction;
use serde_json::{Value, json};

use crate::{
    auth::{Caller, Role},
    domain::{
        events::{Actor, Topic},
        named::named_enum,
        tickets::commands::record as record_on_ticket,
        workflow::Machine,
    },
    error::AppResult,
};

pub use audience::affected;
pub use declare::{Declare, declare};
pub use finish::{Review, close, resolve};
pub use publish::publish;
pub use reads::{find, list, timeline, updates_of};

named_enum!(
    /// Where a major incident stands; `LIFECYCLE` says how it moves.
    MajorIncidentStatus {
        /// Being worked: the coordinator publishes updates.
        Active = "ACTIVE",
        /// Its ticket is resolved; the review is still to be written.
        Resolved = "RESOLVED",
        /// Reviewed and closed.
        Closed = "CLOSED",
    }
);

use MajorIncidentStatus::{Active, Closed, Resolved};

pub const LIFECYCLE: Machine<MajorIncidentStatus> = Machine {
    subject: "major incident",
    moves: &[
        (Active, &[Resolved]),
        // Back to work when the resolution did not hold.
        (Resolved, &[Active, Closed]),
        (Closed, &[]),
    ],
};

/// The longest update or review text, in characters.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Declaring, coordinating and closing major incidents is for managers; the
/// coordinator publishes updates too.
fn require_manager(caller: &Caller) -> AppResult<()> {
    caller.require_role(Role::Manager).map(|_| ())
}

/// Records a major incident's event on its ticket, with the people it reaches.
#[allow(clippy::too_many_arguments)]
async fn record(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    ticket: &ticket::Model,
    incident: &major_incident::Model,
    audience: &[i64],
    mut payload: Value,
) -> AppResult<()> {
    payload["majorIncidentId"] = json!(incident.id);
    payload["status"] = json!(incident.status);
    payload["audience"] = json!(audience);
    record_on_ticket(txn, actor, now, topic, ticket, false, payload).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::assert_table;

    #[test]
    fn the_major_incident_lifecycle_allows_exactly_its_moves() {
        assert_table(
            &LIFECYCLE,
            &[(Active, &[Resolved]), (Resolved, &[Active, Closed])],
        );
    }
}
