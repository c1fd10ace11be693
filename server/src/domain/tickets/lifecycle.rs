//! The ticket lifecycle: NEW → ASSIGNED → IN_PROGRESS ⇄ PENDING → RESOLVED → CLOSED,
//! CANCELLED from any open status, and reopening a RESOLVED ticket within a window.

use chrono::{DateTime, Duration, Utc};

use super::types::Status::{self, *};
use crate::{
    domain::workflow::Machine,
    error::{AppError, AppResult},
};

/// The ticket's table of moves.
pub const LIFECYCLE: Machine<Status> = Machine {
    subject: "ticket",
    moves: &[
        (New, &[Assigned, InProgress, Resolved, Cancelled]),
        (Assigned, &[InProgress, Pending, Resolved, Cancelled]),
        (InProgress, &[Pending, Resolved, Cancelled]),
        (Pending, &[InProgress, Resolved, Cancelled]),
        // Back to IN_PROGRESS is a reopen.
        (Resolved, &[Closed, InProgress]),
        (Closed, &[]),
        (Cancelled, &[]),
    ],
};

/// The statuses a ticket may move to from `status`.
pub fn allowed_from(status: Status) -> &'static [Status] {
    LIFECYCLE.allowed_from(status)
}

/// What a transition needs to know about the ticket beyond its status.
pub struct TransitionFacts {
    pub has_assignee: bool,
    pub resolved_at: Option<DateTime<Utc>>,
    pub reopen_window: Duration,
    pub now: DateTime<Utc>,
}

/// Whether the ticket may move from `from` to `to`: on the table, with an assignee for
/// ASSIGNED, and inside the reopen window for a reopen.
///
/// # Errors
/// INVALID_TRANSITION saying what the ticket can become instead.
pub fn check(from: Status, to: Status, facts: &TransitionFacts) -> AppResult<()> {
    LIFECYCLE.check(from, to)?;
    let allowed = allowed_from(from);
    if to == Status::Assigned && !facts.has_assignee {
        return Err(AppError::InvalidTransition {
            message:
                "assign the ticket to an agent first (assignTicket); ASSIGNED needs an assignee"
                    .into(),
            allowed: allowed.iter().map(|s| s.as_str().to_string()).collect(),
        });
    }
    if from == Status::Resolved && to == Status::InProgress {
        let resolved_at = facts.resolved_at.unwrap_or(facts.now);
        if facts.now - resolved_at > facts.reopen_window {
            return Err(AppError::InvalidTransition {
                message: format!(
                    "the ticket was resolved more than {} days ago and can no longer be reopened; open a new one",
                    facts.reopen_window.num_days()
                ),
                allowed: vec![Status::Closed.as_str().to_string()],
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(resolved_days_ago: i64) -> TransitionFacts {
        let now = Utc::now();
        TransitionFacts {
            has_assignee: true,
            resolved_at: Some(now - Duration::days(resolved_days_ago)),
            reopen_window: Duration::days(7),
            now,
        }
    }

    #[test]
    fn every_pair_outside_the_table_is_refused_with_the_allowed_ones() {
        for &from in Status::ALL {
            for &to in Status::ALL {
                let result = check(from, to, &facts(0));
                if allowed_from(from).contains(&to) {
                    assert!(result.is_ok(), "{from} -> {to}");
                } else {
                    match result {
                        Err(AppError::InvalidTransition { allowed, .. }) => {
                            let expected: Vec<&str> =
                                allowed_from(from).iter().map(|s| s.as_str()).collect();
                            assert_eq!(allowed, expected, "{from} -> {to}");
                        }
                        other => panic!("{from} -> {to}: {other:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn reopening_is_allowed_only_inside_the_window() {
        assert!(check(Status::Resolved, Status::InProgress, &facts(6)).is_ok());
        assert!(check(Status::Resolved, Status::InProgress, &facts(8)).is_err());
        assert!(check(Status::Resolved, Status::Closed, &facts(30)).is_ok());
    }

    #[test]
    fn assigned_needs_an_assignee() {
        let mut f = facts(0);
        f.has_assignee = false;
        assert!(check(Status::New, Status::Assigned, &f).is_err());
    }
}
