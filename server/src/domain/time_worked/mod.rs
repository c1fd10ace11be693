//! Time worked on tickets: what agents record (a duration, the day, an activity,
//! billable or not, a note), with a comment or a running timer, and the totals managers
//! read by ticket, group, organization, service, agent and month.
//!
//! Entries are the raw material of workload reports and of cost and charging: each
//! keeps the ticket's group, organization and service as they were when it was
//! recorded, so that a closed month's figures never move when a ticket does later.
//! Requesters never see them; the desk sees those of the tickets it may see.

mod reads;
mod record;
mod timers;

pub use reads::{Grouping, Total, entries_of_tickets, may_see, totals};
pub use record::{NewEntry, insert, record, remove, spent_on};
pub use timers::{running_timers, start_timer, stop_timer};

use crate::domain::named::named_enum;
use crate::{
    auth::{Caller, Role, Scope as TokenScope},
    error::AppResult,
};

named_enum!(
    /// What the time was spent on.
    Activity {
        Diagnosis = "DIAGNOSIS",
        Resolution = "RESOLUTION",
        Communication = "COMMUNICATION",
        Travel = "TRAVEL",
        Meeting = "MEETING",
        Administration = "ADMINISTRATION",
        Other = "OTHER",
    }
);

/// The longest single entry: a day. More is several entries, one a day.
pub const MAX_MINUTES: i32 = 24 * 60;
/// The longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// Who may record time: agents (and above) and tokens with `tickets:write`.
fn require_recorder(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, TokenScope::TicketsWrite)
}

/// Who may read a ticket's entries: the desk, and tokens with `tickets:read`.
/// Requesters never: it is the desk's own record.
fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, TokenScope::TicketsRead)
}

/// Who may read the totals across tickets: managers and admins, and tokens with
/// `tickets:read`.
fn require_report_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Manager, TokenScope::TicketsRead)
}
