//! Availability management: outages on configuration items, how available each service
//! was over a period against its agreed service time (its calendar), and its monthly
//! downtime budget, live.
//!
//! - `outages`: recording them (unplanned from incidents, planned from changes and
//!   releases in their windows), correcting and ending them;
//! - `timeline`: which stretches of a period a service was down, planned or not, or
//!   degraded: the outages on every item it depends on, through the CMDB, with
//!   redundant pools failing only when all their members have;
//! - `measure`: the figures from those stretches, by the SLA clocks' calendar
//!   arithmetic (pure);
//! - `report`: the figures for a service and a period, with its target;
//! - `budget`: the breach of a month's target, announced at the instant the budget is
//!   spent.

pub mod budget;
pub mod measure;
pub mod outages;
pub mod report;
pub mod timeline;

use crate::{
    auth::{Caller, Role, Scope},
    domain::named::named_enum,
    error::AppResult,
};

named_enum!(
    /// Whether an outage was planned.
    OutageKind {
        /// Downtime agreed in advance: a change's or release's window. Counted apart,
        /// outside the agreed service time.
        Planned = "PLANNED",
        /// A failure: it counts against availability.
        Unplanned = "UNPLANNED",
    }
);

named_enum!(
    /// How badly an item was out.
    OutageSeverity {
        /// Not available at all: downtime.
        Full = "FULL",
        /// Available but impaired: reported, not counted as downtime.
        Degraded = "DEGRADED",
    }
);

/// The desk reads and records outages: agents, and tokens that read the CMDB.
///
/// # Errors
/// FORBIDDEN (or UNAUTHENTICATED) for anyone else.
pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::CmdbRead)
}

/// Records outages: agents, and tokens that write the CMDB.
///
/// # Errors
/// FORBIDDEN (or UNAUTHENTICATED) for anyone else.
pub fn require_writer(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::CmdbWrite)
}
