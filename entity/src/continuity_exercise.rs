use sea_orm::entity::prelude::*;

/// A test of a continuity plan: when, how far, how it went, how long recovery took.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "continuity_exercises")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub exercised_at: DateTimeUtc,
    pub scope: String,
    /// SUCCESS, PARTIAL or FAILED.
    pub outcome: String,
    /// The recovery time measured, to hold against the plan's RTO.
    pub recovery_minutes: Option<i32>,
    pub findings: String,
    pub recorded_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
