use sea_orm::entity::prelude::*;

/// An assignment group: a team of agents that works a queue.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub description: String,
    /// Support tier: 1 is the front line.
    pub tier: i16,
    pub manager_id: Option<i64>,
    /// Where functional escalation sends a ticket.
    pub escalation_group_id: Option<i64>,
    /// Round-robin routing's place in the rota.
    pub last_assigned_user_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
