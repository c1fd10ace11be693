use sea_orm::entity::prelude::*;

/// A knowledge article: the working copy; published versions are kept apart.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub number: String,
    pub title: String,
    /// Markdown.
    pub body: String,
    pub category_id: Option<i64>,
    pub tags: Json,
    /// DRAFT, REVIEW, PUBLISHED or RETIRED.
    pub status: String,
    /// INTERNAL or PUBLIC.
    pub visibility: String,
    pub search_text: String,
    /// The version readers see.
    pub published_version: Option<i32>,
    /// The visibility that version was published with (INTERNAL or PUBLIC): what
    /// decides who reads it, whatever the working copy says meanwhile.
    pub published_visibility: Option<String>,
    pub helpful_yes: i32,
    pub helpful_no: i32,
    pub author_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
