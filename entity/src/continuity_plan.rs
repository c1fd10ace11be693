use sea_orm::entity::prelude::*;

/// How a business service is recovered from a disaster, and how often that is tested.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "continuity_plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: i64,
    pub name: String,
    /// Recovery time objective: how long the service may be down.
    pub rto_minutes: i32,
    /// Recovery point objective: how much data (in minutes) may be lost.
    pub rpo_minutes: i32,
    pub strategy: String,
    /// `[{action, ownerId}]`, in order.
    pub steps: Json,
    /// The configuration items the plan restores.
    pub configuration_item_ids: Json,
    /// `[{name, email, phone, role}]`.
    pub contacts: Json,
    /// A successful exercise is due this many months after the last one.
    pub exercise_interval_months: i32,
    /// The due date last announced as overdue: each is announced once.
    pub overdue_announced_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
