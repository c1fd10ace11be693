use sea_orm::entity::prelude::*;

/// A third party the desk hands work to, under an underpinning contract.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "suppliers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub description: String,
    /// Who at the desk manages the relationship: told of the contract's breaches.
    pub manager_id: Option<i64>,
    /// `[{name, email, phone, role}]`: whom to call there.
    pub contacts: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
