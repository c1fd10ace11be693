use sea_orm::entity::prelude::*;

/// A file on a ticket (or one of its comments) or on a knowledge article.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "attachments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: Option<i64>,
    /// The comment it came with, on `ticket_id`.
    pub comment_id: Option<i64>,
    pub article_id: Option<i64>,
    /// Came with an internal work note: agents only.
    pub internal: bool,
    pub sha256: String,
    pub filename: String,
    pub size: i64,
    pub media_type: String,
    pub uploaded_by_id: Option<i64>,
    pub uploaded_by_name: String,
    pub created_at: DateTimeUtc,
    /// The duplicate a merge moved it from.
    pub moved_from_ticket_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
