//! Monitoring in (event management): alerts from Prometheus Alertmanager and from any
//! other system that can post JSON, made into the desk's work without flooding it.
//!
//! - `intake`: reading Alertmanager's webhook and the generic alert into one shape;
//! - `batcher`: one writer that takes the deliveries of many requests into one
//!   transaction (group commit), so a storm costs a few commits a second;
//! - `record`: deduplication by fingerprint, the firing/resolved timeline, flapping;
//! - `correlate`: which configuration item an alert is about, by the desk's rules;
//! - `incidents`: one incident per item and alert group (the automation action
//!   `RAISE_INCIDENT`), and the incident resolving itself when its alerts are;
//! - `reads`: the alert list for the desk.
//!
//! Alerts are the desk's own records: agents (and tokens reading tickets) see them,
//! requesters do not.

pub mod batcher;
pub mod correlate;
pub mod incidents;
pub mod intake;
pub mod reads;
pub mod record;

use crate::{
    auth::{Caller, Role, Scope},
    domain::named::named_enum,
    error::AppResult,
};

pub use batcher::{Intake, Receipt};
pub use intake::IncomingAlert;

named_enum!(
    /// Whether an alert is firing now.
    AlertStatus {
        Firing = "FIRING",
        Resolved = "RESOLVED",
    }
);

named_enum!(
    /// Which intake an alert came through.
    AlertSource {
        /// Prometheus Alertmanager's webhook.
        Alertmanager = "ALERTMANAGER",
        /// The generic JSON alert (Zabbix, Grafana, scripts).
        Generic = "GENERIC",
    }
);

named_enum!(
    /// What of a configuration item an alert's label is matched to.
    MatchOn {
        /// The item's name, in any case (and, for `host:port`, the host).
        Name = "NAME",
        /// The item's external key.
        ExternalKey = "EXTERNAL_KEY",
        /// One of the item's attributes, named by the rule.
        Attribute = "ATTRIBUTE",
    }
);

/// The desk reads alerts: agents, and tokens that read tickets.
///
/// # Errors
/// FORBIDDEN (or UNAUTHENTICATED) for anyone else.
pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Agent, Scope::TicketsRead)
}

/// Sends alerts in: admins, and tokens holding `alerts:ingest`.
///
/// # Errors
/// FORBIDDEN (or UNAUTHENTICATED) for anyone else.
pub fn require_sender(caller: &Caller) -> AppResult<()> {
    caller.require_role_or_scope(Role::Admin, Scope::AlertsIngest)
}
