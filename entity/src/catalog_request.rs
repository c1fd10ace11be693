use sea_orm::entity::prelude::*;

/// What was ordered with a service request: the item, the answers, and its approval.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_id: i64,
    pub item_id: i64,
    pub answers: Json,
    /// NOT_REQUIRED, PENDING, APPROVED or REJECTED.
    pub approval_state: String,
    pub approver_user_id: Option<i64>,
    pub approver_group_id: Option<i64>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTimeUtc>,
    /// The approver's comment.
    pub decision: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
