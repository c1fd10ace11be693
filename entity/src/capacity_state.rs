use sea_orm::entity::prelude::*;

/// What was last announced of a measure: over its threshold, forecast to cross it.
/// Events fire when these change, not on every sample.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "capacity_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub configuration_item_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub measure: String,
    pub over_threshold: bool,
    pub forecast_warned: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
