use sea_orm::entity::prelude::*;

/// How a service is charged to the customer organizations that use it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "charging_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: i64,
    /// NOT_CHARGED, FIXED, PER_TICKET or PER_HOUR.
    pub method: String,
    /// FIXED: a month's price to each organization that used it.
    pub fixed_cents: i64,
    /// PER_TICKET: `{"1": cents, … "4": cents}` by priority (0 for MAJOR).
    pub per_ticket_cents: Json,
    /// PER_HOUR: the price of an hour of billable work.
    pub hourly_cents: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
