use sea_orm::entity::prelude::*;

/// One file's bytes, kept once however often they are attached, named by their SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "blobs")]
pub struct Model {
    /// The SHA-256 of the bytes, in lower-case hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub sha256: String,
    pub size: i64,
    /// What the first bytes say the file is: an image type, or application/octet-stream.
    pub media_type: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
