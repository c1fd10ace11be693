use sea_orm::entity::prelude::*;

/// An incident or a service request (problems and changes share the numbering).
/// Enumerations are stored as their GraphQL names; the domain parses them.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tickets")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Human-readable, per kind, never reused: INC0001234.
    #[sea_orm(unique)]
    pub number: String,
    pub kind: String,
    pub status: String,
    pub title: String,
    pub description: String,
    pub impact: String,
    pub urgency: String,
    /// 1 (critical) to 4 (low), from impact and urgency.
    pub priority: i16,
    pub category_id: Option<i64>,
    pub requester_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub group_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub channel: String,
    /// The supplier the ticket is handed to, whose underpinning contract's clock runs.
    pub supplier_id: Option<i64>,
    /// The catalog service, once the catalog exists.
    pub service_id: Option<i64>,
    pub pending_reason: Option<String>,
    pub resolution_code: Option<String>,
    pub resolution_notes: Option<String>,
    /// How many times functional escalation moved it up a tier.
    pub escalation_level: i32,
    /// When hierarchical escalation last flagged the group's manager.
    pub manager_flagged_at: Option<DateTimeUtc>,
    pub routed_by_rule_id: Option<i64>,
    /// The change that caused this incident, once someone links it.
    pub caused_by_change_id: Option<i64>,
    /// Lower-cased title, description and public comments, for text search.
    pub search_text: String,
    /// Lower-cased internal work notes, searched for agents only.
    pub internal_search_text: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The first public comment by someone other than the requester.
    pub first_response_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    /// The ticket this one was merged into, as a duplicate.
    pub merged_into_id: Option<i64>,
    /// The status it had when it was merged, for undoing the merge.
    pub status_before_merge: Option<String>,
    /// Optimistic concurrency: every change must carry the version it read.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
