use sea_orm::entity::prelude::*;

/// What an hour of a group's (or a role's) work costs, from a day on.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cost_rates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub group_id: Option<i64>,
    /// `agent` or `manager`, for work no group rate covers.
    pub role: Option<String>,
    pub hourly_cents: i64,
    /// `YYYY-MM-DD`.
    pub valid_from: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
