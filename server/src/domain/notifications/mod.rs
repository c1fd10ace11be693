//! Notifications: people are told by mail what happens to their tickets and what waits
//! on them, from the event log (so only what committed is told, and nothing committed is
//! lost across restarts), each message once across replicas, retried when the mail
//! server is away. Without an SMTP server configured, nothing is queued or sent.
//!
//! - `recipients`: who is told of which event, and what;
//! - `outbox`: from the log to the queue, as each person may see the desk;
//! - `templates`: the built-in and admin-edited templates, and rendering;
//! - `sender`: SMTP, the retry schedule, the record of each message;
//! - `preferences`: the notifications each person turned off; `log`: the record admins read.

pub mod log;
pub mod outbox;
pub mod preferences;
pub mod recipients;
pub mod sender;
pub mod templates;
pub mod types;
