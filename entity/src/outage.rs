use sea_orm::entity::prelude::*;

/// A time a configuration item was down (FULL) or degraded: UNPLANNED, from an
/// incident, or PLANNED, in a change's or release's window.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub configuration_item_id: i64,
    pub kind: String,
    pub severity: String,
    pub ticket_id: Option<i64>,
    pub change_id: Option<i64>,
    pub release_id: Option<i64>,
    pub started_at: DateTimeUtc,
    /// None while it lasts.
    pub ended_at: Option<DateTimeUtc>,
    pub description: String,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
