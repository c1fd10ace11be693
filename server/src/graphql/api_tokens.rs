use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Subscription};
use entity::api_token;
use futures::{Stream, StreamExt};

use crate::domain::events::Topic;
use crate::graphql::instant::Instant;
use crate::{
    auth::Role,
    domain::{
        api_tokens::{self, NewToken, scopes_of},
        events::Actor,
    },
    error::AppResult,
    graphql::{
        caller, ids, now,
        pagination::{self, Page, PageArgs},
        state,
    },
};

/// A partner system's credential. The secret itself is shown only when it is created.
#[derive(Clone)]
pub struct ApiToken(pub api_token::Model);

/// A credential for a partner system: a name, scopes and an expiry. Its secret is shown
/// once, when it is created.
#[Object]
impl ApiToken {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("ApiToken", self.0.id)
    }
    /// What the token is for, e.g. "Monitoring bridge".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The token's first characters, to tell it apart from others.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    /// What the token may do, e.g. `tickets:write`, `events:subscribe`.
    async fn scopes(&self) -> Vec<String> {
        scopes_of(&self.0)
            .iter()
            .map(|s| s.as_str().to_string())
            .collect()
    }
    /// When it was created.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When the token stops working; null if it never expires.
    async fn expires_at(&self) -> Option<Instant> {
        self.0.expires_at.map(Instant)
    }
    /// When an admin revoked it; null while it works.
    async fn revoked_at(&self) -> Option<Instant> {
        self.0.revoked_at.map(Instant)
    }
    /// When the token was last used, to the minute.
    async fn last_used_at(&self) -> Option<Instant> {
        self.0.last_used_at.map(Instant)
    }
    /// Neither revoked nor expired.
    async fn active(&self, ctx: &Context<'_>) -> bool {
        self.0.revoked_at.is_none() && self.0.expires_at.is_none_or(|at| at > now(ctx))
    }
}

pub async fn load(ctx: &Context<'_>, id: i64) -> AppResult<ApiToken> {
    caller(ctx).require_role(Role::Admin)?;
    api_tokens::find(&state(ctx).db, id).await.map(ApiToken)
}

#[derive(Default)]
pub struct ApiTokenQuery;

#[Object]
impl ApiTokenQuery {
    /// Every API token, newest first, revoked ones included. Admins only.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn api_tokens(
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
    ) -> AppResult<Page<ApiToken>> {
        caller(ctx).require_role(Role::Admin)?;
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let rows = api_tokens::list(&state(ctx).db, &page).await?;
        Ok(pagination::connection(&page, rows, |row| row.id, ApiToken))
    }
}

/// What `createApiToken` takes.
#[derive(InputObject)]
pub struct CreateApiTokenInput {
    /// What the token is for, e.g. "Monitoring bridge".
    pub name: String,
    /// Scopes such as `tickets:read`, `tickets:write`, `events:subscribe`.
    pub scopes: Vec<String>,
    /// When the token stops working; never, when absent.
    pub expires_at: Option<Instant>,
}

/// What `createApiToken` returns: the token, and its secret, shown only this once.
#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    /// The api token as it is after the change.
    pub api_token: ApiToken,
    /// The secret to give the partner system. Shown now and never again.
    pub secret: String,
}

/// What `revokeApiToken` takes.
#[derive(InputObject)]
pub struct RevokeApiTokenInput {
    /// The token's id.
    pub id: ID,
}

/// What `revokeApiToken` returns: the token, revoked.
#[derive(SimpleObject)]
pub struct RevokeApiTokenPayload {
    /// The api token as it is after the change.
    pub api_token: ApiToken,
}

#[derive(Default)]
pub struct ApiTokenMutation;

#[Object]
impl ApiTokenMutation {
    /// Issues a token for a partner system. Admins only.
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: CreateApiTokenInput,
    ) -> AppResult<CreateApiTokenPayload> {
        let admin = caller(ctx).require_role(Role::Admin)?;
        let app = state(ctx);
        let created = api_tokens::create(
            &app.db,
            &Actor::of(caller(ctx)),
            now(ctx),
            NewToken {
                name: input.name,
                scopes: input.scopes,
                expires_at: crate::domain::input::maybe_instant("expiresAt", input.expires_at)?,
                created_by: Some(admin.user_id),
            },
        )
        .await?;
        Ok(CreateApiTokenPayload {
            api_token: ApiToken(created.row),
            secret: created.token,
        })
    }

    /// Stops a token from working, at once. Admins only.
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: RevokeApiTokenInput,
    ) -> AppResult<RevokeApiTokenPayload> {
        caller(ctx).require_role(Role::Admin)?;
        let id = ids::decode_as(&input.id, "ApiToken", "id")?;
        let app = state(ctx);
        let row = api_tokens::revoke(&app.db, &Actor::of(caller(ctx)), now(ctx), id).await?;
        Ok(RevokeApiTokenPayload {
            api_token: ApiToken(row),
        })
    }
}

/// What happened to an API token.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ApiTokenChangeKind {
    /// A new token was issued.
    Created,
    /// The token was revoked and stops working at once.
    Revoked,
}

/// An API token created or revoked, as `apiTokenChanged` reports it to admins.
#[derive(SimpleObject, Clone)]
pub struct ApiTokenChange {
    /// Whether it was created or revoked.
    pub kind: ApiTokenChangeKind,
    /// The token as it is now.
    pub api_token: ApiToken,
    /// The event's place in the log.
    pub seq: i64,
}

#[derive(Default)]
pub struct ApiTokenSubscription;

#[Subscription]
impl ApiTokenSubscription {
    /// Tokens created and revoked, as it happens, for an admin console. Admins only.
    async fn api_token_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = AppResult<ApiTokenChange>> + use<>> {
        caller(ctx).require_role(Role::Admin)?;
        let db = state(ctx).db.clone();
        let events = crate::graphql::live::follow(ctx, after, |e| e.entity_type == "api_token");
        Ok(events.then(move |event| {
            let db = db.clone();
            async move {
                let event = event?;
                let kind = if event.topic == Topic::ApiTokenRevoked {
                    ApiTokenChangeKind::Revoked
                } else {
                    ApiTokenChangeKind::Created
                };
                let row = api_tokens::find(&db, event.entity_id).await?;
                Ok(ApiTokenChange {
                    kind,
                    api_token: ApiToken(row),
                    seq: event.seq,
                })
            }
        }))
    }
}
