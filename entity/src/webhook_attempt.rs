use sea_orm::entity::prelude::*;

/// One HTTP request of a delivery, as the delivery log shows it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_attempts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub delivery_id: i64,
    pub attempted_at: DateTimeUtc,
    /// The response's status; none when there was no response.
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    /// What went wrong without a response (refused address, timeout, connection).
    pub error: Option<String>,
    /// The start of the response body.
    #[sea_orm(column_type = "Text", nullable)]
    pub response_excerpt: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
