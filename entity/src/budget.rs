use sea_orm::entity::prelude::*;

/// What a service may cost in a year, and the share of it at which the desk says so.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "budgets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: i64,
    pub year: i32,
    pub amount_cents: i64,
    pub alert_percent: i32,
    /// When spending passed `alert_percent`: announced once.
    pub alerted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
