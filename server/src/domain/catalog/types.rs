//! The vocabulary of the service catalog, stored and sent as upper-case names.

use crate::domain::named::named_enum;

named_enum!(
    /// Where a service is in its life: only LIVE services can be ordered from.
    ServiceLifecycle {
        Pipeline = "PIPELINE",
        Live = "LIVE",
        Retired = "RETIRED",
    }
);

named_enum!(
    /// How much the business depends on a service, least first (so the derived order
    /// ranks them).
    Criticality {
        Low = "LOW",
        Medium = "MEDIUM",
        High = "HIGH",
        Critical = "CRITICAL",
    }
);

named_enum!(
    /// Who must approve an order of a catalog item before it is fulfilled.
    Approval {
        None = "NONE",
        Manager = "MANAGER",
        Group = "GROUP",
    }
);

named_enum!(
    /// Where an order's approval stands.
    ApprovalState {
        NotRequired = "NOT_REQUIRED",
        Pending = "PENDING",
        Approved = "APPROVED",
        Rejected = "REJECTED",
    }
);
