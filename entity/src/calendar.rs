use sea_orm::entity::prelude::*;

/// A business calendar: weekly hours in a time zone, and holidays.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendars")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    /// An IANA name, e.g. Europe/Paris.
    pub time_zone: String,
    /// Seven lists of "HH:MM-HH:MM" spans, Monday first.
    pub week: Json,
    /// "YYYY-MM-DD" dates with no business hours.
    pub holidays: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
