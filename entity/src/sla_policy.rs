use sea_orm::entity::prelude::*;

/// What the desk promises for the tickets it matches. The first active policy by
/// position whose set conditions all hold applies.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sla_policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub position: i32,
    pub name: String,
    pub active: bool,
    pub match_kind: Option<String>,
    pub match_priority: Option<i16>,
    pub match_service_id: Option<i64>,
    pub match_category_id: Option<i64>,
    pub match_organization_id: Option<i64>,
    /// None: the built-in 24x7 calendar.
    pub calendar_id: Option<i64>,
    /// Business minutes to the first response; none means no response target.
    pub response_minutes: Option<i32>,
    pub resolution_minutes: Option<i32>,
    /// Percentages of the target at which warnings go out, e.g. [75, 90].
    pub warn_percents: Json,
    /// Pending reasons that pause the clocks, e.g. ["AWAITING_CUSTOMER"].
    pub pause_reasons: Json,
    pub created_at: DateTimeUtc,
    /// SLA (with a customer, or everyone), OLA (with `match_group_id`, an internal
    /// group) or UNDERPINNING_CONTRACT (with `supplier_id`).
    pub agreement: String,
    pub match_group_id: Option<i64>,
    pub supplier_id: Option<i64>,
    /// It applies from, and until, these instants (either end open).
    pub valid_from: Option<DateTimeUtc>,
    pub valid_until: Option<DateTimeUtc>,
    /// When it is to be reviewed with the other party; announced before.
    pub review_at: Option<DateTimeUtc>,
    pub review_announced: bool,
    /// Where the signed document is.
    pub document_url: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
