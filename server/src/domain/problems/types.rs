//! The vocabulary of problems, stored and sent as upper-case names.

use crate::domain::named::named_enum;

named_enum!(
    /// Where a problem stands; `LIFECYCLE` says how it moves.
    ProblemStatus {
        New = "NEW",
        UnderInvestigation = "UNDER_INVESTIGATION",
        KnownError = "KNOWN_ERROR",
        Resolved = "RESOLVED",
        Closed = "CLOSED",
    }
);

named_enum!(
    /// What the incidents of a trend share.
    TrendBasis {
        ConfigurationItem = "CONFIGURATION_ITEM",
        Category = "CATEGORY",
    }
);

named_enum!(
    /// What became of a trend detection's proposal.
    CandidateState {
        Open = "OPEN",
        Accepted = "ACCEPTED",
        Dismissed = "DISMISSED",
    }
);

impl ProblemStatus {
    /// Statuses in which a problem is still being worked.
    pub const OPEN: &'static [ProblemStatus] = &[
        ProblemStatus::New,
        ProblemStatus::UnderInvestigation,
        ProblemStatus::KnownError,
    ];
}
