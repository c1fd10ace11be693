//! The vocabulary of the CMDB, stored and sent as upper-case names.

use crate::domain::named::named_enum;

named_enum!(
    /// Where a configuration item is in its life.
    CiStatus {
        Planned = "PLANNED",
        Active = "ACTIVE",
        Maintenance = "MAINTENANCE",
        Retired = "RETIRED",
    }
);

named_enum!(
    /// Whose failure reaches whom along a relationship of a type.
    ImpactDirection {
        ToSource = "TO_SOURCE",
        Both = "BOTH",
        None = "NONE",
    }
);
