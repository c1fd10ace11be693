use sea_orm::entity::prelude::*;

/// When an event of a kind happens and its conditions hold, the desk acts: an ordered
/// list of actions, carried out as the person the rule runs as.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "automation_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub description: String,
    /// Rules are tried in ascending position.
    pub position: i32,
    pub enabled: bool,
    /// When it acted, the rules after it are not tried for that event.
    pub stop_processing: bool,
    /// What event it answers, e.g. `SLA_WARNING`.
    pub trigger: String,
    pub conditions: Json,
    pub actions: Json,
    /// Whose rights the actions are carried out with.
    pub run_as_id: i64,
    /// The last event seq before it was created or enabled: it acts on what comes after.
    pub start_seq: i64,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
