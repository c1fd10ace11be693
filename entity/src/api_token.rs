use sea_orm::entity::prelude::*;

/// A partner system's API token. The secret itself is never stored, only its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// The first characters of the token, safe to show so people can tell tokens apart.
    pub prefix: String,
    #[sea_orm(unique)]
    pub secret_hash: String,
    /// Scope names as a JSON array of strings.
    pub scopes: Json,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
