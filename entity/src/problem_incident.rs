use sea_orm::entity::prelude::*;

/// An incident linked to a problem.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "problem_incidents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub problem_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ticket_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
