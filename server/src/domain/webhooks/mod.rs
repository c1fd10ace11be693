//! Webhooks: partner systems are told of the desk's events over HTTP, signed as the
//! Standard Webhooks specification says, from the event log (so nothing is sent that did
//! not commit, and nothing committed is lost), each endpoint in seq order, retried for
//! about three days, exactly once across replicas.
//!
//! - `endpoints`: registering, changing, rotating secrets, pings and redelivery;
//! - `fanout`: from the log to each endpoint's queue, as its owner may see the desk;
//! - `delivery`: sending, the retry schedule's decisions, disabling dead endpoints;
//! - `log`: the delivery log people read; `queue`: how a message joins a queue;
//! - `signing`, `sealing`, `guard`, `schedule`: the signature, secrets at rest, the
//!   refusal of internal addresses, and when to try again.

pub mod delivery;
pub mod endpoints;
pub mod fanout;
pub mod guard;
pub mod log;
pub mod queue;
pub mod schedule;
pub mod sealing;
pub mod signing;
pub mod types;
