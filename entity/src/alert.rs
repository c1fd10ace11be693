use sea_orm::entity::prelude::*;

/// An alert from a monitoring system, one row per fingerprint: the same alert firing
/// again is this row, counted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alerts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub fingerprint: String,
    /// ALERTMANAGER or GENERIC.
    pub source: String,
    /// The alert's name (`alertname`).
    pub name: String,
    /// FIRING or RESOLVED.
    pub status: String,
    pub severity: String,
    pub summary: String,
    pub labels: Json,
    pub annotations: Json,
    /// The alert group it came in: with the item, what decides its incident.
    pub group_key: String,
    pub configuration_item_id: Option<i64>,
    /// The incident it is attached to.
    pub ticket_id: Option<i64>,
    /// The automation rule that attached it, whose person resolves the incident.
    pub rule_id: Option<i64>,
    pub starts_at: DateTimeUtc,
    pub ends_at: Option<DateTimeUtc>,
    pub last_received_at: DateTimeUtc,
    pub received_count: i64,
    pub flapping: bool,
    pub generator_url: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
