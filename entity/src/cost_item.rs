use sea_orm::entity::prelude::*;

/// A cost of a configuration item or a service: MONTHLY (from `starts_on`, until
/// `ends_on` if given) or ONE_OFF (on `starts_on`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cost_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub configuration_item_id: Option<i64>,
    pub service_id: Option<i64>,
    pub kind: String,
    pub amount_cents: i64,
    /// `YYYY-MM-DD`.
    pub starts_on: String,
    /// `YYYY-MM-DD`, the last day it runs; none while it goes on.
    pub ends_on: Option<String>,
    pub description: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
