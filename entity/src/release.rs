use sea_orm::entity::prelude::*;

/// A release: changes that ship together, the items they move, in a deployment plan.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "releases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// REL0000001.
    #[sea_orm(unique)]
    pub number: String,
    pub name: String,
    /// The release's own version, e.g. "2026.12".
    pub version_label: String,
    /// MAJOR, MINOR or EMERGENCY.
    pub release_type: String,
    pub status: String,
    pub owner_id: Option<i64>,
    /// Who confirms it after deployment; the owner when none.
    pub verifier_id: Option<i64>,
    pub planned_start: Option<DateTimeUtc>,
    pub planned_end: Option<DateTimeUtc>,
    pub actual_start: Option<DateTimeUtc>,
    pub actual_end: Option<DateTimeUtc>,
    /// For how many days after deployment incidents on its services are linked to it.
    pub early_life_days: i32,
    pub verified_at: Option<DateTimeUtc>,
    pub verified_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
