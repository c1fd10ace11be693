use sea_orm::entity::prelude::*;

/// A configuration item: something the desk manages and that can fail.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "configuration_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub class_id: i64,
    pub name: String,
    /// The name lower-cased: what lists sort and search by.
    pub name_lower: String,
    /// PLANNED, ACTIVE, MAINTENANCE or RETIRED.
    pub status: String,
    pub environment: String,
    pub owner_group_id: Option<i64>,
    pub organization_id: Option<i64>,
    /// The catalog service this item delivers or represents.
    pub service_id: Option<i64>,
    /// Attribute values by name, valid for the class when written.
    pub attributes: Json,
    /// The key a discovery tool or partner system knows it by.
    #[sea_orm(unique)]
    pub external_key: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
