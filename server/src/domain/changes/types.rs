//! The vocabulary of changes, stored and sent as their upper-case names.

use crate::domain::named::named_enum;

named_enum!(
    /// How a change is approved.
    ChangeType {
        Standard = "STANDARD",
        Normal = "NORMAL",
        Emergency = "EMERGENCY",
    }
);

named_enum!(
    /// Where a change stands; `lifecycle::LIFECYCLE` says how it moves.
    ChangeStatus {
        Draft = "DRAFT",
        Submitted = "SUBMITTED",
        Assessed = "ASSESSED",
        Authorized = "AUTHORIZED",
        Rejected = "REJECTED",
        Scheduled = "SCHEDULED",
        Implementing = "IMPLEMENTING",
        Review = "REVIEW",
        Closed = "CLOSED",
        Cancelled = "CANCELLED",
    }
);

named_enum!(
    /// How an implemented change went.
    Outcome {
        Successful = "SUCCESSFUL",
        Failed = "FAILED",
        BackedOut = "BACKED_OUT",
    }
);

impl ChangeStatus {
    /// Statuses in which a change is finished, one way or another.
    pub const ENDED: &'static [ChangeStatus] = &[
        ChangeStatus::Closed,
        ChangeStatus::Cancelled,
        ChangeStatus::Rejected,
    ];
}
