//! The webhooks' vocabulary: a delivery's states and what an endpoint is sent.

use serde::{Deserialize, Serialize};

use crate::domain::named::named_enum;

use crate::domain::events::TicketSnapshot;

named_enum!(
    /// Where a delivery stands.
    DeliveryState {
        /// Queued, or waiting to be tried again.
        Pending = "PENDING",
        /// The endpoint answered 2xx.
        Delivered = "DELIVERED",
        /// Every attempt failed, or the endpoint was gone (410).
        Failed = "FAILED",
    }
);

/// Narrows the ticket events an endpoint is sent; each list, when not empty, must hold
/// the ticket's value. An endpoint with any of them set is sent ticket events only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EndpointFilter {
    pub group_ids: Vec<i64>,
    pub organization_ids: Vec<i64>,
    pub service_ids: Vec<i64>,
    /// 1 (critical) to 4 (low).
    pub priorities: Vec<i16>,
}

impl EndpointFilter {
    /// Whether it narrows nothing: every event of the topics passes.
    pub fn is_empty(&self) -> bool {
        self.group_ids.is_empty()
            && self.organization_ids.is_empty()
            && self.service_ids.is_empty()
            && self.priorities.is_empty()
    }

    /// Whether an event about this ticket (none: not a ticket event) passes.
    pub fn admits(&self, ticket: Option<&TicketSnapshot>) -> bool {
        if self.is_empty() {
            return true;
        }
        let Some(t) = ticket else { return false };
        let holds = |wanted: &[i64], value: Option<i64>| {
            wanted.is_empty() || value.is_some_and(|v| wanted.contains(&v))
        };
        holds(&self.group_ids, t.group_id)
            && holds(&self.organization_ids, t.organization_id)
            && holds(&self.service_ids, t.service_id)
            && (self.priorities.is_empty() || self.priorities.contains(&t.priority))
    }
}
