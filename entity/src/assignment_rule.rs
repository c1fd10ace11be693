use sea_orm::entity::prelude::*;

/// An admin-defined routing rule. Unset conditions match anything; the first active
/// rule by position whose conditions all hold routes the ticket.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assignment_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub position: i32,
    pub name: String,
    pub active: bool,
    pub match_kind: Option<String>,
    pub match_category_id: Option<i64>,
    pub match_service_id: Option<i64>,
    pub match_configuration_item_id: Option<i64>,
    pub match_priority: Option<i16>,
    pub match_organization_id: Option<i64>,
    /// Words that must all appear in the title, space separated, lower case.
    pub match_title_words: Option<String>,
    pub group_id: i64,
    /// LEAST_OPEN, ROUND_ROBIN or QUEUE.
    pub agent_strategy: String,
    /// Hierarchical escalation on routing: flag the group's manager.
    pub flag_manager: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
