//! Registering and managing endpoints. Admins manage every endpoint; a partner token
//! with `webhooks:manage` manages the endpoints it registered. Whoever registers an
//! endpoint owns it: its deliveries show the desk as the owner may see it.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use entity::{webhook_delivery, webhook_endpoint};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order,
    QueryFilter,
};
use serde_json::json;

use super::{fanout, guard::Guard, queue::queue, sealing::Sealer, signing, types::EndpointFilter};
use crate::{
    auth::{Caller, Role, Scope},
    db::Db,
    domain::{
        events::{self, Topic},
        input::text,
        page::Window,
        versioned,
    },
    error::{AppError, AppResult},
};

/// Who may manage which endpoints.
#[derive(Clone, Copy, Debug)]
enum Manager {
    /// An admin: every endpoint, owned by them when they register it.
    Admin(i64),
    /// A partner token: its own endpoints.
    Token(i64),
}

fn manager_of(caller: &Caller) -> AppResult<Manager> {
    match caller {
        Caller::Partner(partner) => {
            partner.require_scope(Scope::WebhooksManage)?;
            Ok(Manager::Token(partner.token_id))
        }
        _ => Ok(Manager::Admin(caller.require_role(Role::Admin)?.user_id)),
    }
}

impl Manager {
    fn manages(self, row: &webhook_endpoint::Model) -> bool {
        match self {
            Manager::Admin(_) => true,
            Manager::Token(id) => row.owner_token_id == Some(id),
        }
    }
}

/// What an endpoint is: where, what for, and which events.
pub struct EndpointInput {
    pub url: String,
    pub description: String,
    /// Topics by name (`ticket.created`); every topic when empty.
    pub topics: Vec<String>,
    pub filter: EndpointFilter,
    pub enabled: bool,
}

/// What `update` changes; absent fields stay as they are.
#[derive(Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    pub topics: Option<Vec<String>>,
    pub filter: Option<EndpointFilter>,
    pub enabled: Option<bool>,
}

/// The longest URL accepted.
const MAX_URL_CHARS: usize = 2000;

/// A URL the desk will post to: http or https, with a host, and (when the host names
/// its addresses now) none the guard refuses. Delivery checks again, after resolving.
async fn checked_url(url: &str, guard: &Guard) -> AppResult<String> {
    let url = url.trim();
    let bad = |why: String| AppError::bad_input("url", why);
    if url.chars().count() > MAX_URL_CHARS {
        return Err(bad(format!("use at most {MAX_URL_CHARS} characters")));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| bad(format!("'{url}' is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("webhooks are sent over http or https".into()));
    }
    let Some(host) = parsed.host_str() else {
        return Err(bad("the URL has no host".into()));
    };
    let port = parsed.port_or_known_default().unwrap_or(443);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    // A name that does not resolve now (or not within a few seconds) is checked at
    // delivery, where every address is checked anyway.
    let looked_up = tokio::time::timeout(
        StdDuration::from_secs(5),
        tokio::net::lookup_host((host, port)),
    )
    .await;
    if let Ok(Ok(addresses)) = looked_up {
        for address in addresses {
            guard.check(address.ip()).map_err(bad)?;
        }
    }
    Ok(parsed.to_string())
}

fn checked_topics(names: &[String]) -> AppResult<serde_json::Value> {
    let mut topics = Vec::new();
    for name in names {
        let topic = Topic::parse(name.trim());
        if topic == Topic::Unknown {
            return Err(AppError::bad_input(
                "topics",
                format!(
                    "'{name}' is not a topic; use one of {}",
                    Topic::ALL
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if !topics.contains(&topic.as_str()) {
            topics.push(topic.as_str());
        }
    }
    Ok(json!(topics))
}

fn checked_filter(filter: &EndpointFilter) -> AppResult<serde_json::Value> {
    if filter.priorities.iter().any(|p| !(1..=4).contains(p)) {
        return Err(AppError::bad_input(
            "priorities",
            "priorities run from 1 (critical) to 4 (low)",
        ));
    }
    Ok(serde_json::to_value(filter).expect("filters serialize"))
}

/// Registers an endpoint; returns it with its signing secret, shown this once.
///
/// # Errors
/// FORBIDDEN unless an admin or a token with `webhooks:manage`; BAD_USER_INPUT for a
/// URL that is not http(s) or reaches an internal address, or an unknown topic.
pub async fn register(
    db: &Db,
    caller: &Caller,
    guard: &Guard,
    sealer: &Sealer,
    now: DateTime<Utc>,
    input: EndpointInput,
) -> AppResult<(webhook_endpoint::Model, String)> {
    let manager = manager_of(caller)?;
    let url = checked_url(&input.url, guard).await?;
    let description = text("description", &input.description, 500, false)?;
    let topics = checked_topics(&input.topics)?;
    let filter = checked_filter(&input.filter)?;
    let secret = signing::new_secret();
    let txn = db.begin_write().await?;
    let start_seq = events::last_seq(&txn).await?;
    let (owner_user_id, owner_token_id) = match manager {
        Manager::Admin(id) => (Some(id), None),
        Manager::Token(id) => (None, Some(id)),
    };
    let row = webhook_endpoint::ActiveModel {
        url: Set(url),
        description: Set(description),
        topics: Set(topics),
        filter: Set(filter),
        enabled: Set(input.enabled),
        disabled_reason: Set(None),
        secret: Set(sealer.seal(&secret)),
        previous_secret: Set(None),
        previous_secret_until: Set(None),
        owner_user_id: Set(owner_user_id),
        owner_token_id: Set(owner_token_id),
        start_seq: Set(start_seq),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok((row, secret))
}

/// Loads an endpoint the caller manages; another's is NOT_FOUND, as if it did not exist.
async fn managed(
    conn: &impl ConnectionTrait,
    manager: Manager,
    id: i64,
) -> AppResult<webhook_endpoint::Model> {
    let row = versioned::find::<webhook_endpoint::Entity>(conn, id).await?;
    if !manager.manages(&row) {
        return Err(AppError::NotFound(
            "there is no webhook endpoint with that id".into(),
        ));
    }
    Ok(row)
}

/// Changes an endpoint at the version the caller read. Enabling it again clears why the
/// desk disabled it; its queued deliveries resume.
///
/// # Errors
/// As `register`, and CONFLICT when it changed since it was read.
pub async fn update(
    db: &Db,
    caller: &Caller,
    guard: &Guard,
    now: DateTime<Utc>,
    id: i64,
    version: i32,
    changes: EndpointChanges,
) -> AppResult<webhook_endpoint::Model> {
    let manager = manager_of(caller)?;
    let mut changed = <webhook_endpoint::ActiveModel as Default>::default();
    if let Some(url) = &changes.url {
        changed.url = Set(checked_url(url, guard).await?);
    }
    if let Some(description) = &changes.description {
        changed.description = Set(text("description", description, 500, false)?);
    }
    if let Some(topics) = &changes.topics {
        changed.topics = Set(checked_topics(topics)?);
    }
    if let Some(filter) = &changes.filter {
        changed.filter = Set(checked_filter(filter)?);
    }
    if let Some(enabled) = changes.enabled {
        changed.enabled = Set(enabled);
        changed.disabled_reason = Set(None);
    }
    let txn = db.begin_write().await?;
    let row = managed(&txn, manager, id).await?;
    versioned::check::<webhook_endpoint::Entity>(&row, version)?;
    let saved = versioned::save::<webhook_endpoint::Entity>(&txn, &row, changed, now).await?;
    txn.commit().await?;
    Ok(saved)
}

/// Removes an endpoint with its delivery log.
pub async fn delete(db: &Db, caller: &Caller, id: i64) -> AppResult<webhook_endpoint::Model> {
    let manager = manager_of(caller)?;
    let txn = db.begin_write().await?;
    let row = managed(&txn, manager, id).await?;
    webhook_endpoint::Entity::delete_by_id(row.id)
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(row)
}

/// Gives the endpoint a new secret; the old one keeps signing beside it for `overlap`,
/// so the receiver can switch without losing a message. Returns the new secret, shown
/// this once.
pub async fn rotate_secret(
    db: &Db,
    caller: &Caller,
    sealer: &Sealer,
    now: DateTime<Utc>,
    id: i64,
    overlap: Duration,
) -> AppResult<(webhook_endpoint::Model, String)> {
    let manager = manager_of(caller)?;
    if overlap < Duration::zero() || overlap > Duration::days(7) {
        return Err(AppError::bad_input(
            "overlapMinutes",
            "keep the old secret between 0 minutes and 7 days",
        ));
    }
    let secret = signing::new_secret();
    let txn = db.begin_write().await?;
    let row = managed(&txn, manager, id).await?;
    let changed = webhook_endpoint::ActiveModel {
        secret: Set(sealer.seal(&secret)),
        previous_secret: Set(Some(row.secret.clone())),
        previous_secret_until: Set(Some(now + overlap)),
        ..Default::default()
    };
    let saved = versioned::save::<webhook_endpoint::Entity>(&txn, &row, changed, now).await?;
    txn.commit().await?;
    Ok((saved, secret))
}

/// The endpoints the caller manages, oldest first.
pub async fn list(
    db: &Db,
    caller: &Caller,
    window: &Window,
) -> AppResult<Vec<webhook_endpoint::Model>> {
    let mut query = webhook_endpoint::Entity::find();
    if let Manager::Token(id) = manager_of(caller)? {
        query = query.filter(webhook_endpoint::Column::OwnerTokenId.eq(id));
    }
    Ok(window
        .apply(query, webhook_endpoint::Column::Id, Order::Asc)
        .all(db.conn())
        .await?)
}

/// One endpoint the caller manages.
pub async fn find(db: &Db, caller: &Caller, id: i64) -> AppResult<webhook_endpoint::Model> {
    managed(db.conn(), manager_of(caller)?, id).await
}

/// Queues a test message (`webhook.ping`) to the endpoint, delivered like any other.
pub async fn ping(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
) -> AppResult<webhook_delivery::Model> {
    let manager = manager_of(caller)?;
    let txn = db.begin_write().await?;
    let endpoint = managed(&txn, manager, id).await?;
    let mut nonce = [0u8; 12];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut nonce);
    let message_id = format!("msg_ping_{}", hex::encode(nonce));
    let body = json!({
        "type": "webhook.ping",
        "timestamp": now,
        "data": { "endpointId": crate::domain::global_id::of("WebhookEndpoint", endpoint.id) },
    });
    let row = queue(
        &txn,
        &endpoint,
        None,
        "webhook.ping",
        message_id,
        body.to_string(),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Queues an event for the endpoint again, under the same `webhook-id` (the receiver
/// may have it already: it decides), with the body rendered as the owner sees it now.
///
/// # Errors
/// NOT_FOUND for an event the endpoint's owner may not see (or that does not exist).
pub async fn redeliver(
    db: &Db,
    caller: &Caller,
    now: DateTime<Utc>,
    id: i64,
    seq: i64,
) -> AppResult<webhook_delivery::Model> {
    let manager = manager_of(caller)?;
    let txn = db.begin_write().await?;
    let endpoint = managed(&txn, manager, id).await?;
    let rendered = fanout::render_one(&txn, &endpoint, seq, now)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "there is no event {seq} this endpoint's owner may see"
            ))
        })?;
    let row = queue(
        &txn,
        &endpoint,
        Some(seq),
        &rendered.topic,
        rendered.message_id,
        rendered.body,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Queues an event for an endpoint on an automation rule's say: rendered as the
/// endpoint's owner sees it, or refused as NOT_FOUND when they may not see it.
pub async fn notify(
    conn: &impl ConnectionTrait,
    endpoint_id: i64,
    seq: i64,
    now: DateTime<Utc>,
) -> AppResult<webhook_delivery::Model> {
    let endpoint = versioned::find::<webhook_endpoint::Entity>(conn, endpoint_id).await?;
    let rendered = fanout::render_one(conn, &endpoint, seq, now)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!("the endpoint's owner may not see event {seq}"))
        })?;
    queue(
        conn,
        &endpoint,
        Some(seq),
        &rendered.topic,
        rendered.message_id,
        rendered.body,
        now,
    )
    .await
}
