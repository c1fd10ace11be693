use sea_orm::entity::prelude::*;

/// One of a ticket's SLA clocks (first response or resolution). The stored instants
/// follow from its ledger of segments; the engine reads `next_alert_at`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sla_clocks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: i64,
    /// RESPONSE or RESOLUTION.
    pub metric: String,
    pub policy_id: i64,
    pub calendar_id: Option<i64>,
    pub target_seconds: i64,
    pub warn_percents: Json,
    /// RUNNING, PAUSED, STOPPED or CANCELLED.
    pub state: String,
    /// Business milliseconds in the running segments already closed.
    pub elapsed_ms: i64,
    /// Start of the running segment now open.
    pub running_since: Option<DateTimeUtc>,
    pub due_at: Option<DateTimeUtc>,
    /// The next warning or breach not yet sent; none when paused or stopped.
    pub next_alert_at: Option<DateTimeUtc>,
    /// How many of the thresholds (warnings, then the breach) have gone out.
    pub alerts_sent: i32,
    pub breached_at: Option<DateTimeUtc>,
    pub stopped_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The kind of agreement it counts for: SLA, OLA or UNDERPINNING_CONTRACT.
    pub agreement: String,
    /// An OLA's group: the clock runs while the ticket sits with it.
    pub group_id: Option<i64>,
    /// A contract's supplier: the clock runs while the ticket is handed to it.
    pub supplier_id: Option<i64>,
    /// Whom it counts for in the clock's key: 0 for the customer, else the group's or
    /// the supplier's id (one clock a metric for each).
    pub party_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
