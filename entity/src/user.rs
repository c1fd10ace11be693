use sea_orm::entity::prelude::*;

/// A person known from a valid JWT: created or refreshed when their token is first seen.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The token's `sub` claim: the identity provider's stable id for the person.
    #[sea_orm(unique)]
    pub subject: String,
    pub name: String,
    pub email: Option<String>,
    /// Role names from the last token seen, as a JSON array of strings.
    pub roles: Json,
    /// Group names from the last token seen, as a JSON array of strings.
    pub groups: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The customer the person belongs to, when they are a requester of one.
    pub organization_id: Option<i64>,
    /// Whether routing may hand the person new tickets (an agent on leave is not).
    pub available: bool,
    /// Who approves the person's catalog orders that need their manager's approval.
    pub manager_id: Option<i64>,
    /// The supplier the person works for, when they are one of its people: they see
    /// the tickets handed to it.
    pub supplier_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
}

impl Related<super::organization::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organization.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
