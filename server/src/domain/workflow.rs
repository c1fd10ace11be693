//! State machines as tables: which statuses each status may move to. Problems, changes
//! and articles each declare theirs; a move off the table is INVALID_TRANSITION naming
//! the moves there are.

use crate::error::{AppError, AppResult};

pub struct Machine {
    /// What moves: "problem", "change", "article".
    pub subject: &'static str,
    pub moves: &'static [(&'static str, &'static [&'static str])],
}

impl Machine {
    pub fn statuses(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.moves.iter().map(|(from, _)| *from)
    }

    pub fn allowed_from(&self, from: &str) -> &'static [&'static str] {
        self.moves
            .iter()
            .find(|(status, _)| *status == from)
            .map(|(_, to)| *to)
            .unwrap_or(&[])
    }

    pub fn check(&self, from: &str, to: &str) -> AppResult<()> {
        let allowed = self.allowed_from(from);
        if allowed.contains(&to) {
            return Ok(());
        }
        Err(AppError::InvalidTransition {
            message: if allowed.is_empty() {
                format!(
                    "a {} in {from} is final: it cannot move to {to}",
                    self.subject
                )
            } else {
                format!(
                    "a {} in {from} cannot move to {to}; it can move to {}",
                    self.subject,
                    allowed.join(", ")
                )
            },
            allowed: allowed.iter().map(|s| s.to_string()).collect(),
        })
    }
}

/// Asserts a machine's whole table: every listed move passes, every other fails with
/// INVALID_TRANSITION. For the machines' unit tests.
#[cfg(test)]
pub fn assert_table(machine: &Machine, expected: &[(&str, &[&str])]) {
    let statuses: Vec<&str> = machine.statuses().collect();
    for from in &statuses {
        let wanted = expected
            .iter()
            .find(|(f, _)| f == from)
            .map(|(_, to)| *to)
            .unwrap_or(&[]);
        for to in &statuses {
            let result = machine.check(from, to);
            if wanted.contains(to) {
                assert!(result.is_ok(), "{from} -> {to} should be allowed");
            } else {
                assert!(
                    matches!(result, Err(AppError::InvalidTransition { .. })),
                    "{from} -> {to} should be refused"
                );
            }
        }
    }
}
