use sea_orm::entity::prelude::*;

/// A stretch of a clock's life: running or paused, and why.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sla_clock_segments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub clock_id: i64,
    /// RUNNING or PAUSED.
    pub state: String,
    pub reason: String,
    pub started_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
