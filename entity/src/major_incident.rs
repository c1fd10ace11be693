use sea_orm::entity::prelude::*;

/// An incident declared major: coordinated, communicated, and reviewed when it closes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "major_incidents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub ticket_id: i64,
    /// ACTIVE, RESOLVED or CLOSED.
    pub status: String,
    pub coordinator_id: Option<i64>,
    /// Who declared it, by name.
    pub declared_by: String,
    pub declared_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// The review: what caused it.
    pub cause: Option<String>,
    /// The review: what is to be done so that it does not happen again.
    pub actions: Option<String>,
    /// The problem the review opened.
    pub problem_id: Option<i64>,
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
