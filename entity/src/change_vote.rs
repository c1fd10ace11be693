use sea_orm::entity::prelude::*;

/// One approver's decision on a change.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_votes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub change_id: i64,
    pub voter_id: i64,
    pub approve: bool,
    pub comment: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
