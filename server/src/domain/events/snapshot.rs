//! The ticket as every ticket event carries it: the fields subscriptions, the SLA engine
//! and automations match on, so that none of them needs a query per event. Written and
//! read through this one struct, so that no reader can look for a field the writer
//! calls something else.

use entity::ticket;
use serde::{Deserialize, Serialize};

/// A ticket's routing fields as of the event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketSnapshot {
    pub number: String,
    /// `INCIDENT` or `SERVICE_REQUEST`.
    pub kind: String,
    /// The status's stored name (`NEW`, `IN_PROGRESS`…).
    pub status: String,
    /// 1 (critical) to 4 (low).
    pub priority: i16,
    pub group_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub requester_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub service_id: Option<i64>,
    /// The supplier holding it (its people see it); absent from events written before
    /// tickets could be handed to suppliers.
    #[serde(default)]
    pub supplier_id: Option<i64>,
    pub version: i32,
}

impl TicketSnapshot {
    /// The snapshot of a ticket as it is now.
    pub fn of(row: &ticket::Model) -> TicketSnapshot {
        TicketSnapshot {
            number: row.number.clone(),
            kind: row.kind.clone(),
            status: row.status.clone(),
            priority: row.priority,
            group_id: row.group_id,
            assignee_id: row.assignee_id,
            requester_id: row.requester_id,
            organization_id: row.organization_id,
            service_id: row.service_id,
            supplier_id: row.supplier_id,
            version: row.version,
        }
    }

    /// The snapshot an event's payload carries under `ticket`, if it carries one.
    pub fn in_payload(payload: &serde_json::Value) -> Option<TicketSnapshot> {
        TicketSnapshot::deserialize(payload.get("ticket")?).ok()
    }

    /// The snapshot as it is written into an event's payload.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("snapshots serialize")
    }
}
