use sea_orm::entity::prelude::*;

/// A step of a release's deployment plan: one configuration item moved from one version
/// to another in one environment, and how its deployment went.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "release_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub release_id: i64,
    /// Its place in the plan, from 1.
    pub position: i32,
    pub configuration_item_id: i64,
    /// The item's version when the plan was made.
    pub from_version: Option<String>,
    pub to_version: String,
    /// The packages or artefacts it deploys, as text.
    pub artefacts: String,
    pub environment: String,
    pub assignee_id: Option<i64>,
    pub expected_minutes: i32,
    /// PENDING, STARTED, SUCCEEDED, FAILED, SKIPPED or ROLLED_BACK.
    pub state: String,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub done_by: Option<String>,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
