//! IT service continuity: a recovery plan per business service (RTO and RPO, the
//! strategy, ordered steps with owners, the items it restores, whom to call) and the
//! exercises that test it.
//!
//! - `plans`: writing and reading plans, and the plans an incident's services have;
//! - `exercises`: recording a test, and when the next successful one is due: a plan
//!   whose last successful exercise is older than its interval is overdue (a report
//!   line, and `continuity.exercise_overdue` once per due date).

pub mod exercises;
pub mod plans;

use crate::{
    auth::{Caller, Role, Scope},
    domain::named::named_enum,
    error::AppResult,
};

named_enum!(
    /// How an exercise went.
    ExerciseOutcome {
        /// Recovered as the plan says, within its objectives.
        Success = "SUCCESS",
        /// Recovered, with steps that failed or objectives missed.
        Partial = "PARTIAL",
        /// Not recovered.
        Failed = "FAILED",
    }
);

/// The desk reads plans: agents, and tokens reading the CMDB.
///
/// # Errors
/// FORBIDDEN (or UNAUTHENTICATED) for anyone else.
pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::CmdbRead)
}

/// Managers keep plans and record exercises.
///
/// # Errors
/// FORBIDDEN (or UNAUTHENTICATED) for anyone else.
pub fn require_writer(caller: &Caller) -> AppResult<()> {
    caller.require_role(Role::Manager).map(|_| ())
}
