//! Release and deployment management: changes that ship together, the configuration
//! items they move from one version to another, a deployment plan in the order the
//! CMDB's dependencies decide, deployment step by step (each success moves the item's
//! version in the CMDB, in the same transaction), rollback in reverse, verification by
//! the business, and the incidents of its early life.
//!
//! The lifecycle is `LIFECYCLE`; writing a release in `authoring`, its plan and its
//! order in `plan`, moving it (with the schedule rules changes already have) in
//! `transitions`, deploying in `deploy`, early-life incidents in `early_life`, and
//! reading in `reads`. Managers are the release managers; agents read; requesters see
//! nothing of releases.

mod authoring;
mod calendar;
mod deploy;
mod early_life;
mod plan;
mod reads;
mod report;
mod transitions;

use chrono::{DateTime, Utc};
use entity::release;
use sea_orm::DatabaseTransaction;
use serde_json::{Value, json};

use crate::{
    auth::{Caller, Role, Scope},
    domain::{
        events::{self, Actor, NewEvent, Topic},
        named::named_enum,
        workflow::Machine,
    },
    error::AppResult,
};

pub use authoring::{ReleaseFields, create, update};
pub use calendar::{Period, calendar};
pub use deploy::{StepOutcome, record_step};
pub use early_life::incident_raised;
pub use plan::{PlannedStep, order_by_dependencies, plan};
pub use reads::{changes_of, find, incidents_of, list, service_ids_of, steps_of};
pub use report::{Month, report};
pub use transitions::transition;

named_enum!(
    /// Where a release stands; `LIFECYCLE` says how it moves.
    ReleaseStatus {
        Planning = "PLANNING",
        Building = "BUILDING",
        Testing = "TESTING",
        /// Every one of its changes is authorized.
        Approved = "APPROVED",
        /// Its steps are being deployed, in its changes' windows.
        Deploying = "DEPLOYING",
        Deployed = "DEPLOYED",
        /// Its business owner (or verifier) confirmed it.
        Verified = "VERIFIED",
        Closed = "CLOSED",
        Cancelled = "CANCELLED",
        /// A step failed, or verification did, and what was deployed was rolled back.
        RolledBack = "ROLLED_BACK",
    }
);

named_enum!(
    /// How big a release is.
    ReleaseType {
        Major = "MAJOR",
        Minor = "MINOR",
        /// May deploy in a freeze, as an emergency change may.
        Emergency = "EMERGENCY",
    }
);

named_enum!(
    /// Where one step of a deployment plan stands.
    StepState {
        Pending = "PENDING",
        Started = "STARTED",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        Skipped = "SKIPPED",
        /// Deployed, then put back to the version it had.
        RolledBack = "ROLLED_BACK",
    }
);

use ReleaseStatus::*;

/// The release's table of moves.
pub const LIFECYCLE: Machine<ReleaseStatus> = Machine {
    subject: "release",
    moves: &[
        (Planning, &[Building, Cancelled]),
        (Building, &[Testing, Planning, Cancelled]),
        (Testing, &[Approved, Building, Cancelled]),
        (Approved, &[Deploying, Testing, Cancelled]),
        // ROLLED_BACK comes from a failed step; DEPLOYED from the last step.
        (Deploying, &[Deployed, RolledBack]),
        // Verification failed: rolled back.
        (Deployed, &[Verified, RolledBack]),
        (Verified, &[Closed]),
        // Planned again, or given up.
        (RolledBack, &[Planning, Closed]),
        (Closed, &[]),
        (Cancelled, &[]),
    ],
};

/// The CMDB attribute a step's version is written to.
pub const VERSION_ATTRIBUTE: &str = "version";

/// Release managers (managers) plan, approve and deploy releases.
fn require_manager(caller: &Caller) -> AppResult<()> {
    caller.require_role(Role::Manager).map(|_| ())
}

/// Agents read releases, and partner tokens with `tickets:read`; requesters do not.
pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsRead)
}

/// Appends a release's event: internal, the desk's own work.
async fn record(
    txn: &DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &release::Model,
    mut payload: Value,
) -> AppResult<()> {
    payload["number"] = json!(row.number);
    payload["status"] = json!(row.status);
    events::append(
        txn,
        actor,
        now,
        NewEvent {
            topic,
            entity_type: "release",
            entity_id: row.id,
            internal: true,
            payload,
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::assert_table;

    #[test]
    fn the_release_lifecycle_allows_exactly_its_moves() {
        assert_table(
            &LIFECYCLE,
            &[
                (Planning, &[Building, Cancelled]),
                (Building, &[Testing, Planning, Cancelled]),
                (Testing, &[Approved, Building, Cancelled]),
                (Approved, &[Deploying, Testing, Cancelled]),
                (Deploying, &[Deployed, RolledBack]),
                (Deployed, &[Verified, RolledBack]),
                (Verified, &[Closed]),
                (RolledBack, &[Planning, Closed]),
            ],
        );
    }
}
