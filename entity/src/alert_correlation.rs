use sea_orm::entity::prelude::*;

/// How an alert finds its configuration item: the value of `label` matched to an item's
/// NAME, EXTERNAL_KEY or ATTRIBUTE `attribute`. Tried in position order; the first
/// match wins.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alert_correlations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub position: i32,
    pub label: String,
    pub match_on: String,
    pub attribute: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
