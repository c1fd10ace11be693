use sea_orm::entity::prelude::*;

/// One message to one endpoint: an event (or a ping), with its body fixed when it was
/// queued, so every retry sends the same bytes under the same `webhook-id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub endpoint_id: i64,
    /// The event's seq; none for a ping.
    pub seq: Option<i64>,
    pub topic: String,
    /// The `webhook-id` header: the receiver's idempotency key.
    pub message_id: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// PENDING, DELIVERED or FAILED.
    pub state: String,
    pub attempts: i32,
    /// When the next attempt is due (or, while one runs, when its claim lapses).
    pub next_attempt_at: Option<DateTimeUtc>,
    /// The last attempt's HTTP status, if it got one.
    pub last_status: Option<i32>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
