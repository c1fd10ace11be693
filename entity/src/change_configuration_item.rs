use sea_orm::entity::prelude::*;

/// A configuration item a change touches.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_configuration_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub change_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub configuration_item_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
