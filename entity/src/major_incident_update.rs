use sea_orm::entity::prelude::*;

/// An update the coordinator published to the people a major incident affects.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "major_incident_updates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub major_incident_id: i64,
    pub body: String,
    pub published_by_id: Option<i64>,
    pub published_by: String,
    pub published_at: DateTimeUtc,
    /// How many people it was published to.
    pub recipients: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
