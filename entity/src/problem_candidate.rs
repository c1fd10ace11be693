use sea_orm::entity::prelude::*;

/// Incidents that trend detection thinks share a cause.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "problem_candidates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// CONFIGURATION_ITEM or CATEGORY.
    pub basis: String,
    /// The item's or category's id.
    pub subject_id: i64,
    pub incident_ids: Json,
    /// OPEN, ACCEPTED or DISMISSED.
    pub state: String,
    /// The problem it became.
    pub problem_id: Option<i64>,
    pub detected_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
