//! The vocabulary of tickets. Stored and sent as their upper-case names.

use crate::domain::named::named_enum;

named_enum!(Kind { Incident = "INCIDENT", ServiceRequest = "SERVICE_REQUEST" });

named_enum!(Status {
    New = "NEW",
    Assigned = "ASSIGNED",
    InProgress = "IN_PROGRESS",
    Pending = "PENDING",
    Resolved = "RESOLVED",
    Closed = "CLOSED",
    Cancelled = "CANCELLED",
});

named_enum!(
    /// Impact and urgency share one scale.
    Level { High = "HIGH", Medium = "MEDIUM", Low = "LOW" }
);

named_enum!(Channel { Portal = "PORTAL", Email = "EMAIL", Phone = "PHONE", Api = "API", Monitoring = "MONITORING" });

// AWAITING_APPROVAL holds a catalog order until it is approved: its clocks always pause.
named_enum!(PendingReason {
    AwaitingCustomer = "AWAITING_CUSTOMER",
    AwaitingVendor = "AWAITING_VENDOR",
    AwaitingChange = "AWAITING_CHANGE",
    AwaitingApproval = "AWAITING_APPROVAL",
});

named_enum!(AgentStrategy { LeastOpen = "LEAST_OPEN", RoundRobin = "ROUND_ROBIN", Queue = "QUEUE" });

impl Kind {
    /// The number prefix: INC0001234, REQ0000045.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Incident => "INC",
            Kind::ServiceRequest => "REQ",
        }
    }

    /// The ticket number for the `n`th ticket of this kind.
    pub fn format_number(self, n: i64) -> String {
        format!("{}{n:07}", self.prefix())
    }
}

impl Status {
    /// Statuses in which the ticket is still being worked.
    pub const OPEN: &'static [Status] = &[
        Status::New,
        Status::Assigned,
        Status::InProgress,
        Status::Pending,
    ];

    /// Whether a ticket in this status is still being worked.
    pub fn is_open(self) -> bool {
        Status::OPEN.contains(&self)
    }
}

impl Level {
    /// The row or column of the priority matrix.
    pub fn index(self) -> usize {
        match self {
            Level::High => 0,
            Level::Medium => 1,
            Level::Low => 2,
        }
    }
}

/// The priority of a major incident: above P1 (1), set only by declaring one.
pub const MAJOR_PRIORITY: i16 = 0;
