use sea_orm::entity::prelude::*;

/// The event log: appended in the same transaction as every change. At once the audit
/// trail (history), the outbox for the live pipeline, and the source of replays.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What happened, e.g. `ticket.status_changed`.
    pub topic: String,
    pub entity_type: String,
    pub entity_id: i64,
    pub actor_id: Option<i64>,
    /// Who did it, as shown: a person, an API token, or "Switchboard" for the system.
    pub actor_name: String,
    /// Only agents may see it (an internal work note).
    pub internal: bool,
    /// The fields that changed (`changes`: field, old, new) and what else the topic carries.
    pub payload: Json,
    pub created_at: DateTimeUtc,
    /// Gap-free order of publication, given by the relay; none until published.
    pub seq: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
