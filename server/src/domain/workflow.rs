//! Lifecycles as tables: which statuses each status may move to. Tickets, problems,
//! changes and articles each declare theirs as a `Machine` over their status enum; a
//! move off the table is INVALID_TRANSITION naming the moves there are.

use super::named::Named;
use crate::error::{AppError, AppResult};

/// One lifecycle's table of moves.
pub struct Machine<S: 'static> {
    /// What moves, for messages: "ticket", "problem", "change", "article".
    pub subject: &'static str,
    /// Each status with the statuses it may move to; a status with none is final.
    pub moves: &'static [(S, &'static [S])],
}

impl<S: Named> Machine<S> {
    /// The statuses it may move to from `from` (none for a final one).
    pub fn allowed_from(&self, from: S) -> &'static [S] {
        self.moves
            .iter()
            .find(|(status, _)| *status == from)
            .map(|(_, to)| *to)
            .unwrap_or(&[])
    }

    /// The names of [`Machine::allowed_from`], as an error's `allowed` lists them.
    pub fn allowed_names(&self, from: S) -> Vec<String> {
        self.allowed_from(from)
            .iter()
            .map(|s| s.as_str().to_string())
            .collect()
    }

    /// Whether the table has the move `from` → `to`.
    ///
    /// # Errors
    /// INVALID_TRANSITION saying what `from` can become instead (or that it is final),
    /// with those statuses in `extensions.allowed`.
    pub fn check(&self, from: S, to: S) -> AppResult<()> {
        let allowed = self.allowed_from(from);
        if allowed.contains(&to) {
            return Ok(());
        }
        let names = self.allowed_names(from);
        Err(AppError::InvalidTransition {
            message: if names.is_empty() {
                format!(
                    "a {from} {} cannot change status any more: {from} is final",
                    self.subject
                )
            } else {
                format!(
                    "a {from} {} cannot become {to}; it can become {}",
                    self.subject,
                    names.join(", ")
                )
            },
            allowed: names,
        })
    }
}

/// Asserts a machine's whole table: every listed move passes, every other fails with
/// INVALID_TRANSITION listing the moves there are. For the machines' unit tests.
#[cfg(test)]
pub fn assert_table<S: Named + std::fmt::Debug>(machine: &Machine<S>, expected: &[(S, &[S])]) {
    for &from in S::ALL {
        let wanted = expected
            .iter()
            .find(|(f, _)| *f == from)
            .map(|(_, to)| *to)
            .unwrap_or(&[]);
        for &to in S::ALL {
            match machine.check(from, to) {
                Ok(()) => assert!(wanted.contains(&to), "{from} -> {to} should be refused"),
                Err(AppError::InvalidTransition { allowed, .. }) => {
                    assert!(!wanted.contains(&to), "{from} -> {to} should be allowed");
                    let expected: Vec<&str> = wanted.iter().map(|s| s.as_str()).collect();
                    assert_eq!(allowed, expected, "{from} -> {to}");
                }
                Err(other) => panic!("{from} -> {to}: {other:?}"),
            }
        }
    }
}
