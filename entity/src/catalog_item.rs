use sea_orm::entity::prelude::*;

/// Something requesters order under a service, with its form.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: i64,
    pub name: String,
    pub description: String,
    pub fulfillment_group_id: i64,
    /// NONE, MANAGER (the requester's) or GROUP (any member of `approval_group_id`).
    pub approval: String,
    pub approval_group_id: Option<i64>,
    /// The form: a JSON list of variable definitions.
    pub variables: Json,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
