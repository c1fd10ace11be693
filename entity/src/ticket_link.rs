use sea_orm::entity::prelude::*;

/// A typed link from one ticket to another: `source` is the child of, caused by, a
/// duplicate of, or related to `target` (a `tickets::links::LinkKind` name).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ticket_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source_id: i64,
    pub target_id: i64,
    pub kind: String,
    /// Who linked them, as shown.
    pub created_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
