use sea_orm::entity::prelude::*;

/// A problem: the unknown cause of one or more incidents.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "problems")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub number: String,
    pub title: String,
    pub description: String,
    /// NEW, UNDER_INVESTIGATION, KNOWN_ERROR, RESOLVED or CLOSED.
    pub status: String,
    /// 1 (highest) to 4.
    pub priority: i16,
    pub root_cause: String,
    pub workaround: String,
    pub group_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub created_by: Option<i64>,
    pub known_error_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
