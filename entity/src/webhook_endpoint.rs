use sea_orm::entity::prelude::*;

/// A partner system's URL that the desk's events are delivered to, signed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub url: String,
    pub description: String,
    /// The topics delivered (`ticket.created`…); every topic when empty.
    pub topics: Json,
    /// Narrows ticket events: `groupIds`, `organizationIds`, `serviceIds`, `priorities`.
    pub filter: Json,
    pub enabled: bool,
    /// Why the desk disabled it (410 Gone, persistent failure); none when an admin did.
    pub disabled_reason: Option<String>,
    /// The signing secret, sealed with the server's key.
    pub secret: String,
    /// The secret before the last rotation, sealed, still signed with until
    /// `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    /// Who registered it, whose view of the desk the deliveries show: a person…
    pub owner_user_id: Option<i64>,
    /// …or a partner's API token.
    pub owner_token_id: Option<i64>,
    /// The last event seq before it was registered: it is sent what comes after.
    pub start_seq: i64,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
