use sea_orm::entity::prelude::*;

/// A change to the services or the things that deliver them.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub number: String,
    pub title: String,
    pub description: String,
    /// STANDARD, NORMAL or EMERGENCY.
    pub change_type: String,
    pub status: String,
    pub template_id: Option<i64>,
    pub reason: String,
    pub implementation_plan: String,
    pub rollback_plan: String,
    pub test_plan: String,
    pub planned_start: Option<DateTimeUtc>,
    pub planned_end: Option<DateTimeUtc>,
    /// LOW, MEDIUM or HIGH, once assessed.
    pub risk: Option<String>,
    pub risk_answers: Option<Json>,
    pub risk_reasons: Option<Json>,
    /// Who must approve, fixed when it was assessed.
    pub approval_group_id: Option<i64>,
    pub approval_role: Option<String>,
    pub quorum: Option<i32>,
    pub group_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub requested_by: Option<i64>,
    /// SUCCESSFUL, FAILED or BACKED_OUT.
    pub outcome: Option<String>,
    /// The post-implementation review.
    pub review: Option<String>,
    /// An emergency change scheduled inside a freeze.
    pub freeze_override: bool,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    /// The release it ships in, if any.
    pub release_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
