use sea_orm::entity::prelude::*;

/// How two configuration items relate, read from source to target ("depends on") and
/// back ("used by").
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "relationship_types")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub forward_label: String,
    pub reverse_label: String,
    /// TO_SOURCE (the source suffers when the target fails), BOTH, or NONE.
    pub impact: String,
    /// The source fails only when every item it relates to by this type has failed
    /// (a load-balanced pool), not when one has.
    pub redundant: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
