//! Automation rules: when an event of a kind happens (`Trigger`) and the ticket and the
//! event meet the rule's conditions, the desk carries out the rule's actions, through
//! the same commands a person uses, with the rights of the person the rule runs as, and
//! with the rule named in the ticket's history. Each event's rules act once across
//! replicas, and rules never set themselves off (see `run`).
//!
//! - `types`: triggers, conditions and actions;
//! - `rules`: defining rules (admins);
//! - `conditions`, `actions`: deciding and doing;
//! - `run`: the consumer of the event log.

pub mod actions;
pub mod conditions;
pub mod rules;
pub mod run;
pub mod types;
