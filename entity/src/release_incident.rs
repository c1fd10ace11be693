use sea_orm::entity::prelude::*;

/// An incident raised on a release's services in its early life.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_incidents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub release_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_id: i64,
    pub linked_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
