use sea_orm::entity::prelude::*;

/// A satisfaction survey offered to a ticket's requester when it was resolved.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "surveys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub ticket_id: i64,
    pub requester_id: i64,
    /// SHA-256 (hex) of the link's token, once the mail carrying it was queued.
    #[sea_orm(unique)]
    pub token_hash: Option<String>,
    pub group_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub service_id: Option<i64>,
    pub offered_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub answered_at: Option<DateTimeUtc>,
    /// 1 (very unhappy) to 5 (very happy).
    pub rating: Option<i16>,
    pub comment: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
