use async_graphql::{Context, Enum, ID, Object, SimpleObject};

use crate::graphql::instant::Instant;
use crate::{
    auth::{Caller, Role, not_signed_in},
    error::AppResult,
    graphql::{caller, ids},
};

/// Who is calling.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ViewerKind {
    /// A person signed in with a JWT.
    User,
    /// A partner system calling with an API token.
    ApiToken,
}

/// Whoever is calling: a person or a partner system.
#[derive(SimpleObject)]
pub struct Viewer {
    /// This viewer's own id, unique across types as Relay requires (it is not the
    /// `User`'s id: use `nodeId` for that).
    pub id: ID,
    /// The global id of the caller's `User` or `ApiToken`, for `node(id:)` and for the
    /// arguments that name a person.
    pub node_id: ID,
    /// Whether the caller is a person or an API token.
    pub kind: ViewerKind,
    /// The caller's name, or the API token's name.
    pub name: String,
    /// The caller's email address, if the token carries one.
    pub email: Option<String>,
    /// A person's roles; empty for an API token.
    pub roles: Vec<Role>,
    /// A person's groups, as their token names them.
    pub groups: Vec<String>,
    /// An API token's scopes; empty for a person.
    pub scopes: Vec<String>,
    /// When the credential stops being accepted.
    pub expires_at: Option<Instant>,
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// The caller. Fails with UNAUTHENTICATED when no credential was sent.
    async fn viewer(&self, ctx: &Context<'_>) -> AppResult<Viewer> {
        match caller(ctx) {
            Caller::Anonymous => Err(not_signed_in()),
            Caller::Person(person) => Ok(Viewer {
                id: ids::encode("Viewer:User", person.user_id),
                node_id: ids::encode("User", person.user_id),
                kind: ViewerKind::User,
                name: person.name.clone(),
                email: person.email.clone(),
                roles: person.roles.clone(),
                groups: person.groups.clone(),
                scopes: vec![],
                expires_at: Some(Instant(person.expires_at)),
            }),
            Caller::Partner(partner) => Ok(Viewer {
                id: ids::encode("Viewer:ApiToken", partner.token_id),
                node_id: ids::encode("ApiToken", partner.token_id),
                kind: ViewerKind::ApiToken,
                name: partner.name.clone(),
                email: None,
                roles: vec![],
                groups: vec![],
                scopes: partner
                    .scopes
                    .iter()
                    .map(|s| s.as_str().to_string())
                    .collect(),
                expires_at: partner.expires_at.map(Instant),
            }),
        }
    }
}
