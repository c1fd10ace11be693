use sea_orm::entity::prelude::*;

/// One attribute value of a CI as text, so that lists can filter by it with an index.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ci_attribute_values")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub configuration_item_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub value: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
