use sea_orm::entity::prelude::*;

/// Who must approve changes of a type (and risk), and how many.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "change_approval_policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub change_type: String,
    /// None: any risk.
    pub risk: Option<String>,
    pub approver_group_id: Option<i64>,
    pub approver_role: Option<String>,
    pub quorum: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
