use sea_orm::entity::prelude::*;

/// A service the desk offers. Requesters browse the LIVE ones.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub description: String,
    pub category: String,
    pub owner_group_id: Option<i64>,
    pub support_group_id: Option<i64>,
    /// PIPELINE, LIVE or RETIRED.
    pub lifecycle: String,
    /// LOW, MEDIUM, HIGH or CRITICAL.
    pub criticality: String,
    /// Its service hours; none means around the clock.
    pub calendar_id: Option<i64>,
    /// Its change window: changes may be scheduled in this calendar's open hours only.
    pub change_calendar_id: Option<i64>,
    /// Price or cost, as text for people.
    pub price: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
