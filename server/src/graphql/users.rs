use async_graphql::{Context, ID, Object};
use entity::user;

use crate::graphql::instant::Instant;
use crate::{
    auth::Role,
    domain::users::{self, groups_of, may_see_details, roles_of},
    error::AppResult,
    graphql::{
        caller, ids,
        pagination::{self, Page, PageArgs},
        state,
    },
};

/// A person known to Switchboard from the tokens they have signed in with. Anyone who
/// meets a person on a ticket, comment or group sees their name; the rest (email,
/// roles, groups, organization, availability, subject) is null unless the caller is
/// that person, works on the desk (agent and above), or is an API token with
/// `users:read`.
pub struct User(pub user::Model);

impl User {
    /// The directory details, if this caller may see them: the one check every field
    /// beyond the name goes through, whichever path reached the person.
    fn details(&self, ctx: &Context<'_>) -> Option<&user::Model> {
        may_see_details(caller(ctx), self.0.id).then_some(&self.0)
    }
}

/// A person known to Switchboard from the tokens they have signed in with.
#[Object]
impl User {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("User", self.0.id)
    }
    /// The identity provider's id for the person (the token's `sub`). Directory readers.
    async fn subject(&self, ctx: &Context<'_>) -> Option<&str> {
        self.details(ctx).map(|u| u.subject.as_str())
    }
    /// The person's display name, as their token gives it.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Directory readers.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        self.details(ctx).and_then(|u| u.email.as_deref())
    }
    /// The roles of the last token seen. Directory readers.
    async fn roles(&self, ctx: &Context<'_>) -> Option<Vec<Role>> {
        self.details(ctx).map(roles_of)
    }
    /// The groups the last token named. Directory readers.
    async fn groups(&self, ctx: &Context<'_>) -> Option<Vec<String>> {
        self.details(ctx).map(groups_of)
    }
    /// The customer the person belongs to, as a requester. Directory readers.
    async fn organization(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::desk::Organization>> {
        match self.details(ctx).and_then(|u| u.organization_id) {
            Some(id) => ctx
                .data_unchecked::<crate::graphql::loaders::Organizations>()
                .load_one(id)
                .await
                .map(|o| o.map(crate::graphql::desk::Organization)),
            None => Ok(None),
        }
    }
    /// The supplier the person works for: they see the tickets handed to it. Directory
    /// readers.
    async fn supplier(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::suppliers::Supplier>> {
        match self.details(ctx).and_then(|u| u.supplier_id) {
            Some(id) => Ok(
                <entity::supplier::Entity as sea_orm::EntityTrait>::find_by_id(id)
                    .one(crate::graphql::state(ctx).db.conn())
                    .await?
                    .map(crate::graphql::suppliers::Supplier),
            ),
            None => Ok(None),
        }
    }
    /// Whether routing may hand the person new tickets. Directory readers.
    async fn available(&self, ctx: &Context<'_>) -> Option<bool> {
        self.details(ctx).map(|u| u.available)
    }
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When it last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
}

pub async fn load(ctx: &Context<'_>, id: i64) -> AppResult<User> {
    Ok(User(
        users::find(state(ctx).db.conn(), caller(ctx), id).await?,
    ))
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Everyone who has signed in, oldest first. Agents and above, or `users:read`.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many items to take from the start of the list (after `after`), 0 to 100; 20 unless given."
        )]
        first: Option<i32>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(
            desc = "How many items to take from the end of the list (before `before`), 0 to 100. Pass `first` or `last`, not both."
        )]
        last: Option<i32>,
        #[graphql(desc = "Take items before this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> AppResult<Page<User>> {
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let rows = users::list(state(ctx).db.conn(), caller(ctx), &page).await?;
        Ok(pagination::connection(&page, rows, |row| row.id, User))
    }
}
