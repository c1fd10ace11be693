//! IT financial management: what the desk's services and tickets cost, and what each
//! customer organization is charged, computed from the desk's own records (time worked,
//! configuration items' costs through the CMDB, services' fixed costs) whenever they are
//! read, never stored (stored totals drift from the records they summarize).
//!
//! - `model`: the cost model: rates, costs, charging policies and budgets;
//! - `money`: proration and rounding, in whole cents (pure);
//! - `report`: a period's costs per service and ticket, and charges per organization;
//! - `budgets`: a year's budgets against actuals, and the event when spending passes a
//!   share of one.

pub mod budgets;
pub mod model;
pub mod money;
pub mod report;

use crate::{
    auth::{Caller, Role},
    domain::named::named_enum,
    error::AppResult,
};

named_enum!(
    /// How a cost recurs.
    CostKind {
        /// Every month from its start (and until its end), prorated by days.
        Monthly = "MONTHLY",
        /// Once, on its day.
        OneOff = "ONE_OFF",
    }
);

named_enum!(
    /// How a service is charged to its customers.
    ChargingMethod {
        /// Not charged: its cost is the IT department's.
        NotCharged = "NOT_CHARGED",
        /// A fixed monthly price to each organization that used it in the period.
        Fixed = "FIXED",
        /// A price per ticket raised, by priority.
        PerTicket = "PER_TICKET",
        /// A price per hour of billable work.
        PerHour = "PER_HOUR",
    }
);

/// Managers read costs, charges and budgets.
///
/// # Errors
/// FORBIDDEN (or UNAUTHENTICATED) for anyone else.
pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role(Role::Manager).map(|_| ())
}

/// Admins keep the cost model.
///
/// # Errors
/// FORBIDDEN (or UNAUTHENTICATED) for anyone else.
pub fn require_writer(caller: &Caller) -> AppResult<()> {
    caller.require_role(Role::Admin).map(|_| ())
}
