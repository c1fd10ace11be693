use sea_orm::entity::prelude::*;

/// A public comment (the requester sees it) or an internal work note (agents only).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: i64,
    pub author_id: Option<i64>,
    /// The author as shown: a person's name, or the API token's.
    pub author_name: String,
    pub body: String,
    pub internal: bool,
    pub created_at: DateTimeUtc,
    /// The duplicate a merge moved it from.
    pub moved_from_ticket_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
