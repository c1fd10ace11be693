use sea_orm::entity::prelude::*;

/// Time an agent worked on a ticket. The ticket's group, organization and service are
/// kept as they were when it was recorded, so that a month's totals stay as they were.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "time_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub ticket_id: i64,
    /// Who worked; none for an API token's record.
    pub user_id: Option<i64>,
    /// Who worked, as shown.
    pub user_name: String,
    pub minutes: i32,
    /// The day worked, `YYYY-MM-DD`.
    pub worked_on: String,
    /// Its month, `YYYY-MM`.
    pub month: String,
    /// A `time_worked::Activity` name.
    pub activity: String,
    pub billable: bool,
    pub note: String,
    pub group_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub service_id: Option<i64>,
    /// The comment it was recorded with, if any.
    pub comment_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
