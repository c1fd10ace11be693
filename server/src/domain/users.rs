//! People are not managed here: the identity provider owns them. A user row mirrors
//! the claims of the last token seen, so that tickets and history can point at people.

use chrono::Utc;
use entity::user;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Order, sea_query::OnConflict};
use serde_json::json;

use crate::{
    auth::{ByRule, Caller, Person, Role},
    db::Db,
    domain::page::Window,
    error::AppResult,
};

/// A person as a caller with the roles their row holds (from their last token): how
/// the desk acts for someone who is not at the keyboard, an automation rule's person or
/// a webhook endpoint's owner. No token of theirs expires meanwhile.
pub fn acting_as(row: &user::Model, by_rule: Option<ByRule>) -> Caller {
    Caller::Person(Person {
        user_id: row.id,
        subject: row.subject.clone(),
        name: row.name.clone(),
        email: row.email.clone(),
        roles: roles_of(row),
        groups: groups_of(row),
        expires_at: chrono::DateTime::<Utc>::MAX_UTC,
        by_rule,
    })
}

/// Who a valid token says the caller is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity {
    pub subject: String,
    pub name: String,
    pub email: Option<String>,
    pub roles: Vec<Role>,
    pub groups: Vec<String>,
}

/// Creates the user, or brings it up to date with the token's claims; returns its id.
pub async fn upsert(db: &Db, identity: &Identity) -> AppResult<i64> {
    let now = Utc::now();
    let row = user::ActiveModel {
        subject: Set(identity.subject.clone()),
        name: Set(identity.name.clone()),
        email: Set(identity.email.clone()),
        roles: Set(json!(
            identity
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
        )),
        groups: Set(json!(identity.groups)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    let txn = db.begin_write().await?;
    let saved = user::Entity::insert(row)
        .on_conflict(
            OnConflict::column(user::Column::Subject)
                .update_columns([
                    user::Column::Name,
                    user::Column::Email,
                    user::Column::Roles,
                    user::Column::Groups,
                    user::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_with_returning(&txn)
        .await?;
    txn.commit().await?;
    Ok(saved.id)
}

/// A person's roles as stored.
pub fn roles_of(row: &user::Model) -> Vec<Role> {
    strings(&row.roles)
        .iter()
        .filter_map(|r| Role::parse(r))
        .collect()
}

/// A person's group names from their token, as stored.
pub fn groups_of(row: &user::Model) -> Vec<String> {
    strings(&row.groups)
}

/// A stored JSON list of strings (anything else reads as empty).
pub fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// How much of a person a caller may see. A name is shown to anyone who meets the
/// person on a ticket, a comment or a group; the rest of the directory (email, roles,
/// groups, organization, availability, identity-provider subject) is for the person
/// themself, for the desk (agents and above), and for API tokens with `users:read`.
/// Every path that returns a person applies this one rule.
pub fn may_see_details(caller: &crate::auth::Caller, user_id: i64) -> bool {
    use crate::auth::{Caller, Scope};
    match caller {
        Caller::Person(person) => person.user_id == user_id || person.has_role(Role::Agent),
        Caller::Partner(partner) => partner.scopes.contains(&Scope::UsersRead),
        Caller::Anonymous => false,
    }
}

/// A person's whole record: their own, or anyone's for agents and `users:read` tokens
/// (the same people [`may_see_details`] shows the details to).
///
/// # Errors
/// FORBIDDEN for anyone else, NOT_FOUND when there is no such person.
pub async fn find(
    conn: &impl ConnectionTrait,
    caller: &crate::auth::Caller,
    id: i64,
) -> AppResult<user::Model> {
    if !may_see_details(caller, id) {
        caller.require_role_or_scope(Role::Agent, crate::auth::Scope::UsersRead)?;
    }
    user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| crate::error::AppError::NotFound(format!("there is no user with id {id}")))
}

/// A page of everyone who has signed in, a list oldest first, in fetch order.
///
/// # Errors
/// FORBIDDEN for anyone but agents and `users:read` tokens.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &crate::auth::Caller,
    window: &Window,
) -> AppResult<Vec<user::Model>> {
    caller.require_role_or_scope(Role::Agent, crate::auth::Scope::UsersRead)?;
    Ok(window
        .apply(user::Entity::find(), user::Column::Id, Order::Asc)
        .all(conn)
        .await?)
}
