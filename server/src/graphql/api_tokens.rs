use async_graphql::{
    Context, Enum, ID, InputObject, Object, SimpleObject, Subscription, connection::Connection,
};
use chrono::Utc;
use entity::api_token;
use futures::{Stream, StreamExt};

use crate::graphql::instant::Instant;
use crate::{
    auth::Role,
    domain::{
        api_tokens::{self, NewToken, scopes_of},
        events::Actor,
    },
    error::AppResult,
    graphql::{
        caller, ids,
        pagination::{self, PageArgs},
        state,
    },
};

/// A partner system's credential. The secret itself is shown only when it is created.
#[derive(Clone)]
pub struct ApiToken(pub api_token::Model);

#[Object]
impl ApiToken {
    pub async fn id(&self) -> ID {
        ids::encode("ApiToken", self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The token's first characters, to tell it apart from others.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    async fn scopes(&self) -> Vec<String> {
        scopes_of(&self.0)
            .iter()
            .map(|s| s.as_str().to_string())
            .collect()
    }
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    async fn expires_at(&self) -> Option<Instant> {
        self.0.expires_at.map(Instant)
    }
    async fn revoked_at(&self) -> Option<Instant> {
        self.0.revoked_at.map(Instant)
    }
    /// When the token was last used, to the minute.
    async fn last_used_at(&self) -> Option<Instant> {
        self.0.last_used_at.map(Instant)
    }
    /// Neither revoked nor expired.
    async fn active(&self) -> bool {
        self.0.revoked_at.is_none() && self.0.expires_at.is_none_or(|at| at > Utc::now())
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
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> AppResult<Connection<String, ApiToken>> {
        caller(ctx).require_role(Role::Admin)?;
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let rows = api_tokens::list(&state(ctx).db, &page).await?;
        Ok(pagination::connection(&page, rows, |row| row.id, ApiToken))
    }
}

#[derive(InputObject)]
pub struct CreateApiTokenInput {
    /// What the token is for, e.g. "Monitoring bridge".
    pub name: String,
    /// Scopes such as `tickets:read`, `tickets:write`, `events:subscribe`.
    pub scopes: Vec<String>,
    /// When the token stops working; never, when absent.
    pub expires_at: Option<Instant>,
}

#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    pub api_token: ApiToken,
    /// The secret to give the partner system. Shown now and never again.
    pub secret: String,
}

#[derive(InputObject)]
pub struct RevokeApiTokenInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct RevokeApiTokenPayload {
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
        input: CreateApiTokenInput,
    ) -> AppResult<CreateApiTokenPayload> {
        let admin = caller(ctx).require_role(Role::Admin)?;
        let app = state(ctx);
        let created = api_tokens::create(
            &app.db,
            &Actor::of(caller(ctx)),
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
        input: RevokeApiTokenInput,
    ) -> AppResult<RevokeApiTokenPayload> {
        caller(ctx).require_role(Role::Admin)?;
        let id = ids::decode_as(&input.id, "ApiToken", "id")?;
        let app = state(ctx);
        let row = api_tokens::revoke(&app.db, &Actor::of(caller(ctx)), id).await?;
        Ok(RevokeApiTokenPayload {
            api_token: ApiToken(row),
        })
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum ApiTokenChangeKind {
    Created,
    Revoked,
}

#[derive(SimpleObject, Clone)]
pub struct ApiTokenChange {
    pub kind: ApiTokenChangeKind,
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
        after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = AppResult<ApiTokenChange>> + use<>> {
        caller(ctx).require_role(Role::Admin)?;
        let db = state(ctx).db.clone();
        let events = crate::graphql::live::follow(ctx, after, |e| e.entity_type == "api_token");
        Ok(events.then(move |event| {
            let db = db.clone();
            async move {
                let event = event?;
                let kind = if event.topic == "api_token.revoked" {
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
