use sea_orm::entity::prelude::*;

/// A kind of configuration item, with the attributes its items carry.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ci_classes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub description: String,
    /// Items of this class are business services: impact analysis reports them as such.
    pub business_service: bool,
    /// The attribute definitions: `[{name, kind, required, choices, referenceClassId}]`.
    pub attributes: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
