use async_graphql::{Context, ID, Object, connection::Connection};
use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::{
    auth::{Caller, Role, Scope},
    domain::users::{groups_of, roles_of},
    error::{AppError, AppResult},
    graphql::{caller, ids, pagination, state},
};

/// A person known to Switchboard from the tokens they have signed in with.
pub struct User(pub user::Model);

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        ids::encode("User", self.0.id)
    }
    /// The identity provider's id for the person (the token's `sub`).
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    async fn roles(&self) -> Vec<Role> {
        roles_of(&self.0)
    }
    async fn groups(&self) -> Vec<String> {
        groups_of(&self.0)
    }
    /// The customer the person belongs to, as a requester.
    async fn organization(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::desk::Organization>> {
        match self.0.organization_id {
            Some(id) => ctx
                .data_unchecked::<crate::graphql::loaders::Organizations>()
                .load_one(id)
                .await
                .map(|o| o.map(crate::graphql::desk::Organization)),
            None => Ok(None),
        }
    }
    /// Whether routing may hand the person new tickets.
    async fn available(&self) -> bool {
        self.0.available
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// People may read their own record; agents, and tokens with `users:read`, anyone's.
pub fn check_can_read(caller: &Caller, user_id: i64) -> AppResult<()> {
    if let Caller::Person(person) = caller
        && person.user_id == user_id
    {
        return Ok(());
    }
    caller.require_role_or_scope(Role::Agent, Scope::UsersRead)
}

pub async fn load(ctx: &Context<'_>, id: i64) -> AppResult<User> {
    check_can_read(caller(ctx), id)?;
    user::Entity::find_by_id(id)
        .one(state(ctx).db.conn())
        .await?
        .map(User)
        .ok_or_else(|| AppError::NotFound(format!("there is no user with id {id}")))
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Everyone who has signed in, oldest first. Agents and above, or `users:read`.
    #[graphql(complexity = "first.unwrap_or(20).max(0) as usize * child_complexity")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> AppResult<Connection<String, User>> {
        caller(ctx).require_role_or_scope(Role::Agent, Scope::UsersRead)?;
        let page = pagination::page(first, after)?;
        let mut query = user::Entity::find()
            .order_by_asc(user::Column::Id)
            .limit(page.size + 1);
        if let Some(after_id) = page.after_id {
            query = query.filter(user::Column::Id.gt(after_id));
        }
        let rows = query.all(state(ctx).db.conn()).await?;
        Ok(pagination::connection(&page, rows, |row| row.id, User))
    }
}
