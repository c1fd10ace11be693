use sea_orm::entity::prelude::*;

/// A month in which a service spent its downtime budget: announced once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "availability_breaches")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: i64,
    /// `YYYY-MM` in the service calendar's time zone.
    pub period: String,
    /// The instant the budget ran out.
    pub spent_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
