//! Reading how the desk is organised, each list behind the rule of who may see it.

use entity::{assignment_rule, category, group, organization};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::{
    auth::{Caller, Role},
    error::AppResult,
};

use super::require_admin;

/// Every customer organization, by name.
///
/// # Errors
/// FORBIDDEN for anyone below agent.
pub async fn organizations(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<organization::Model>> {
    caller.require_role(Role::Agent)?;
    Ok(organization::Entity::find()
        .order_by_asc(organization::Column::Name)
        .all(conn)
        .await?)
}

/// Every group, by name: anyone signed in may see where tickets go.
///
/// # Errors
/// UNAUTHENTICATED for an anonymous caller.
pub async fn groups(conn: &impl ConnectionTrait, caller: &Caller) -> AppResult<Vec<group::Model>> {
    caller.person()?;
    Ok(group::Entity::find()
        .order_by_asc(group::Column::Name)
        .all(conn)
        .await?)
}

/// The category tree in path order, so a parent comes before its children.
///
/// # Errors
/// UNAUTHENTICATED for an anonymous caller.
pub async fn categories(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<category::Model>> {
    caller.person()?;
    Ok(category::Entity::find()
        .order_by_asc(category::Column::Path)
        .all(conn)
        .await?)
}

/// The routing rules in the order they are tried.
///
/// # Errors
/// FORBIDDEN for anyone but admins.
pub async fn assignment_rules(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> AppResult<Vec<assignment_rule::Model>> {
    require_admin(caller)?;
    Ok(assignment_rule::Entity::find()
        .order_by_asc(assignment_rule::Column::Position)
        .order_by_asc(assignment_rule::Column::Id)
        .all(conn)
        .await?)
}

/// One routing rule, if there is one with that id.
///
/// # Errors
/// FORBIDDEN for anyone but admins.
pub async fn assignment_rule(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    id: i64,
) -> AppResult<Option<assignment_rule::Model>> {
    require_admin(caller)?;
    Ok(assignment_rule::Entity::find_by_id(id).one(conn).await?)
}
