use sea_orm::entity::prelude::*;

/// An article as it was published.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "article_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub article_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: i32,
    pub title: String,
    pub body: String,
    pub search_text: String,
    /// INTERNAL or PUBLIC, as it was when published.
    pub visibility: String,
    pub published_by: Option<i64>,
    pub published_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
