use sea_orm::entity::prelude::*;

/// One recorded value of a capacity measure of an item.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "capacity_samples")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub configuration_item_id: i64,
    pub measure: String,
    pub value: f64,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
