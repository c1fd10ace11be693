//! Partner API tokens: issued by admins, shown once, stored as a hash, revocable.

use chrono::{DateTime, Duration, Utc};
use entity::api_token;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, Order, QueryFilter,
    sea_query::Expr,
};
use serde_json::json;

use crate::domain::events::Topic;
use crate::{
    auth::{Partner, Scope, api_token as secrets},
    db::Db,
    domain::events::{self, Actor, NewEvent},
    domain::page::Window,
    domain::users::strings,
    error::{AppError, AppResult},
};

/// The longest name a token may have, in characters.
pub const MAX_NAME_LEN: usize = 100;

/// Last-used times are kept to the minute: a write on every call would cost more than it tells.
const LAST_USED_RESOLUTION: Duration = Duration::seconds(60);

/// What an admin asks for when issuing a token.
pub struct NewToken {
    pub name: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
}

/// A token just issued: its row, and its secret (which only this moment shows).
pub struct CreatedToken {
    pub row: api_token::Model,
    /// The secret, to be shown once and never again.
    pub token: String,
}

/// The scopes named, each known and none repeated.
///
/// # Errors
/// BAD_USER_INPUT when none is given or one is not a scope.
pub fn parse_scopes(names: &[String]) -> AppResult<Vec<Scope>> {
    if names.is_empty() {
        return Err(AppError::bad_input("scopes", "give at least one scope"));
    }
    let mut scopes = Vec::with_capacity(names.len());
    for name in names {
        let scope = Scope::parse(name).ok_or_else(|| {
            let known: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
            AppError::bad_input(
                "scopes",
                format!(
                    "'{name}' is not a scope; known scopes are {}",
                    known.join(", ")
                ),
            )
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes.sort();
    Ok(scopes)
}

/// The event every replica hears: subscriptions and sockets of a revoked token end.
async fn record(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    now: DateTime<Utc>,
    topic: Topic,
    row: &api_token::Model,
) -> AppResult<()> {
    let payload = json!({ "name": row.name, "prefix": row.prefix });
    let event = NewEvent {
        topic,
        entity_type: "api_token",
        entity_id: row.id,
        internal: false,
        payload,
    };
    events::append(txn, actor, now, event).await?;
    Ok(())
}

/// Issues a token: stores only its hash, and returns the secret once.
///
/// # Errors
/// BAD_USER_INPUT for a name or scopes that do not fit, or an expiry in the past.
pub async fn create(
    db: &Db,
    actor: &Actor,
    now: DateTime<Utc>,
    new: NewToken,
) -> AppResult<CreatedToken> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(AppError::bad_input(
            "name",
            format!("give the token a name of 1 to {MAX_NAME_LEN} characters"),
        ));
    }
    let scopes = parse_scopes(&new.scopes)?;
    if let Some(expires_at) = new.expires_at
        && expires_at <= now
    {
        return Err(AppError::bad_input(
            "expiresAt",
            "the expiry must be in the future",
        ));
    }
    let secret = secrets::generate();
    let txn = db.begin_write().await?;
    let row = api_token::ActiveModel {
        name: Set(name.to_string()),
        prefix: Set(secret.display_prefix),
        secret_hash: Set(secret.hash),
        scopes: Set(json!(scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>())),
        created_by: Set(new.created_by),
        created_at: Set(now),
        expires_at: Set(new.expires_at),
        revoked_at: Set(None),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(&txn, actor, now, Topic::ApiTokenCreated, &row).await?;
    txn.commit().await?;
    Ok(CreatedToken {
        row,
        token: secret.token,
    })
}

/// A page of the tokens, a list newest first with revoked ones included (they are part
/// of the record), in fetch order.
pub async fn list(db: &Db, window: &Window) -> AppResult<Vec<api_token::Model>> {
    Ok(window
        .apply(
            api_token::Entity::find(),
            api_token::Column::Id,
            Order::Desc,
        )
        .all(db.conn())
        .await?)
}

/// One token, revoked or not.
///
/// # Errors
/// NOT_FOUND when there is no token with that id.
pub async fn find(db: &Db, id: i64) -> AppResult<api_token::Model> {
    api_token::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no API token with id {id}")))
}

/// Revokes the token at once. Revoking a revoked token is harmless and keeps the first time.
pub async fn revoke(
    db: &Db,
    actor: &Actor,
    now: DateTime<Utc>,
    id: i64,
) -> AppResult<api_token::Model> {
    let txn = db.begin_write().await?;
    let row = api_token::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no API token with id {id}")))?;
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    let mut active: api_token::ActiveModel = row.into();
    active.revoked_at = Set(Some(now));
    let row = active.update(&txn).await?;
    record(&txn, actor, now, Topic::ApiTokenRevoked, &row).await?;
    txn.commit().await?;
    Ok(row)
}

/// The scopes a token was issued with (a stored name no longer known is dropped).
pub fn scopes_of(row: &api_token::Model) -> Vec<Scope> {
    strings(&row.scopes)
        .iter()
        .filter_map(|s| Scope::parse(s))
        .collect()
}

/// The partner behind a presented token, if the token is known, unrevoked and unexpired
/// at `now`.
pub async fn verify(db: &Db, token: &str, now: DateTime<Utc>) -> AppResult<Partner> {
    let refused =
        |why: &str| AppError::Unauthenticated(format!("the API token was refused: {why}"));
    let row = api_token::Entity::find()
        .filter(api_token::Column::SecretHash.eq(secrets::hash(token)))
        .one(db.conn())
        .await?
        .ok_or_else(|| refused("it is not a token this server issued"))?;
    if row.revoked_at.is_some() {
        return Err(refused("it has been revoked"));
    }
    if row.expires_at.is_some_and(|at| at <= now) {
        return Err(refused("it has expired"));
    }
    if row
        .last_used_at
        .is_none_or(|at| now - at >= LAST_USED_RESOLUTION)
    {
        touch(db.clone(), row.id, now);
    }
    Ok(Partner {
        token_id: row.id,
        name: row.name.clone(),
        scopes: scopes_of(&row),
        expires_at: row.expires_at,
    })
}

/// Records the use off the request's path: the caller need not wait for a write.
fn touch(db: Db, id: i64, now: DateTime<Utc>) {
    tokio::spawn(async move {
        let result = api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(id))
            .exec(db.conn())
            .await;
        if let Err(error) = result {
            tracing::warn!(%error, token_id = id, "could not record the API token's last use");
        }
    });
}
