//! Sending: each endpoint's queue in seq order, one message in flight per endpoint, many
//! endpoints at once. A replica claims a due delivery by counting the attempt and
//! pushing its next attempt past the request's timeout (a lease: if the replica dies
//! mid-request, another tries again when it lapses), so two replicas never send the same
//! attempt. Only a 2xx is success; 410 Gone disables the endpoint; 429 and 503 are
//! retried when `Retry-After` says; everything else follows the schedule, and a
//! delivery that fails every attempt disables its endpoint, with an event saying so.

use std::{
    sync::{Arc, OnceLock},
    time::{Duration as StdDuration, Instant},
};

use chrono::{DateTime, Duration, Utc};
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use serde_json::json;
use tokio::task::JoinSet;

use super::{guard::Guard, schedule, sealing::Sealer, signing, types::DeliveryState};
use crate::{
    clock::SharedClock,
    db::Db,
    domain::events::{self, Actor, NewEvent, Topic},
    error::AppResult,
    metrics::Metrics,
};

/// Requests in flight at once, to as many endpoints.
const IN_FLIGHT: usize = 32;
/// How much of a response body the log keeps.
const EXCERPT_CHARS: usize = 500;

/// What sending needs: the database, the clock, and an HTTP client that connects only
/// where the guard allows.
#[derive(Clone)]
pub struct Sender {
    db: Db,
    clock: SharedClock,
    /// Built on the first send: a desk without webhooks never loads the TLS roots.
    client: Arc<OnceLock<reqwest::Client>>,
    guard: Guard,
    sealer: Sealer,
    timeout: StdDuration,
    metrics: Arc<Metrics>,
}

/// How one attempt went.
struct Outcome {
    status: Option<u16>,
    retry_after: Option<Duration>,
    error: Option<String>,
    excerpt: Option<String>,
    took: StdDuration,
}

impl Sender {
    /// A sender whose requests time out after `timeout` and connect only where `guard`
    /// allows, opening secrets with `sealer`.
    pub fn new(
        db: Db,
        clock: SharedClock,
        guard: Guard,
        sealer: Sealer,
        timeout: StdDuration,
        metrics: Arc<Metrics>,
    ) -> Sender {
        Sender {
            db,
            clock,
            client: Arc::default(),
            guard,
            sealer,
            timeout,
            metrics,
        }
    }

    fn client(&self) -> &reqwest::Client {
        self.client.get_or_init(|| {
            reqwest::Client::builder()
                .dns_resolver(Arc::new(self.guard.clone()))
                // A redirect could lead anywhere, past the guard: the receiver gets the
                // message at the URL it registered or not at all.
                .redirect(reqwest::redirect::Policy::none())
                // A proxy from the environment would connect for us, wherever it is
                // told: webhooks go straight to the address the guard checked.
                .no_proxy()
                .timeout(self.timeout)
                .user_agent(concat!("Switchboard-Webhooks/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the webhook client builds")
        })
    }

    /// Claims what is due, up to `room` deliveries, and starts sending each in
    /// `sending`; returns when the next pending attempt falls due. A slow endpoint holds
    /// up only its own queue.
    pub async fn round(
        &self,
        sending: &mut JoinSet<()>,
        room: usize,
    ) -> AppResult<Option<DateTime<Utc>>> {
        let now = self.clock.now();
        for delivery in self.due(now, room as u64).await? {
            if let Some(claimed) = self.claim(delivery, now).await? {
                let sender = self.clone();
                sending.spawn(async move {
                    if let Err(error) = sender.attempt(claimed).await {
                        tracing::warn!(%error, "a webhook attempt could not be recorded");
                    }
                });
            }
        }
        self.next_due().await
    }

    /// The head of each enabled endpoint's queue, if it is due.
    async fn due(&self, now: DateTime<Utc>, limit: u64) -> AppResult<Vec<webhook_delivery::Model>> {
        Ok(heads()
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .order_by_asc(webhook_delivery::Column::NextAttemptAt)
            .limit(limit)
            .all(self.db.conn())
            .await?)
    }

    /// When the next head of a queue falls due.
    async fn next_due(&self) -> AppResult<Option<DateTime<Utc>>> {
        Ok(heads()
            .select_only()
            .column(webhook_delivery::Column::NextAttemptAt)
            .order_by_asc(webhook_delivery::Column::NextAttemptAt)
            .limit(1)
            .into_tuple::<Option<DateTime<Utc>>>()
            .one(self.db.conn())
            .await?
            .flatten())
    }

    /// Counts the attempt and leases it to this replica; none when another was first.
    async fn claim(
        &self,
        delivery: webhook_delivery::Model,
        now: DateTime<Utc>,
    ) -> AppResult<Option<webhook_delivery::Model>> {
        use webhook_delivery::Column as D;
        let lease = now
            + Duration::from_std(self.timeout).unwrap_or(Duration::seconds(15))
            + Duration::seconds(30);
        let txn = self.db.begin_write().await?;
        let claimed = webhook_delivery::Entity::update_many()
            .col_expr(D::Attempts, Expr::value(delivery.attempts + 1))
            .col_expr(D::NextAttemptAt, Expr::value(lease))
            .filter(D::Id.eq(delivery.id))
            .filter(D::Attempts.eq(delivery.attempts))
            .filter(D::State.eq(DeliveryState::Pending.as_str()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(
            (claimed.rows_affected == 1).then(|| webhook_delivery::Model {
                attempts: delivery.attempts + 1,
                ..delivery
            }),
        )
    }

    /// One HTTP request, and what it leads to.
    async fn attempt(&self, delivery: webhook_delivery::Model) -> AppResult<()> {
        let Some(endpoint) = webhook_endpoint::Entity::find_by_id(delivery.endpoint_id)
            .one(self.db.conn())
            .await?
        else {
            return Ok(());
        };
        let sent_at = self.clock.now();
        let outcome = self.send(&endpoint, &delivery, sent_at).await;
        self.record(&endpoint, &delivery, sent_at, outcome).await
    }

    async fn send(
        &self,
        endpoint: &webhook_endpoint::Model,
        delivery: &webhook_delivery::Model,
        now: DateTime<Utc>,
    ) -> Outcome {
        let started = Instant::now();
        let failed = |error: String| Outcome {
            status: None,
            retry_after: None,
            error: Some(error),
            excerpt: None,
            took: started.elapsed(),
        };
        let mut secrets = Vec::new();
        match self.sealer.open(&endpoint.secret) {
            Ok(secret) => secrets.push(secret),
            Err(error) => return failed(error.to_string()),
        }
        if let (Some(previous), Some(until)) =
            (&endpoint.previous_secret, endpoint.previous_secret_until)
            && until > now
            && let Ok(secret) = self.sealer.open(previous)
        {
            secrets.push(secret);
        }
        // The resolver guards names; an address written in the URL is checked here.
        if let Some(ip) = literal_ip(&endpoint.url)
            && let Err(why) = self.guard.check(ip)
        {
            return failed(why);
        }
        let timestamp = now.timestamp();
        let signature = signing::header(&secrets, &delivery.message_id, timestamp, &delivery.body);
        let response = self
            .client()
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.message_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.body.clone())
            .send()
            .await;
        match response {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| schedule::retry_after(v, now));
                let excerpt = response
                    .text()
                    .await
                    .ok()
                    .map(|t| t.chars().take(EXCERPT_CHARS).collect());
                Outcome {
                    status: Some(status),
                    retry_after,
                    error: None,
                    excerpt,
                    took: started.elapsed(),
                }
            }
            Err(error) => failed(describe(&error)),
        }
    }

    /// Writes the attempt to the log and moves the delivery on, in one transaction.
    async fn record(
        &self,
        endpoint: &webhook_endpoint::Model,
        delivery: &webhook_delivery::Model,
        sent_at: DateTime<Utc>,
        outcome: Outcome,
    ) -> AppResult<()> {
        let now = self.clock.now();
        let txn = self.db.begin_write().await?;
        webhook_attempt::ActiveModel {
            delivery_id: Set(delivery.id),
            attempted_at: Set(sent_at),
            status_code: Set(outcome.status.map(i32::from)),
            duration_ms: Set(outcome.took.as_millis().min(i32::MAX as u128) as i32),
            error: Set(outcome.error.clone()),
            response_excerpt: Set(outcome.excerpt),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let mut changed = webhook_delivery::ActiveModel {
            id: Set(delivery.id),
            last_status: Set(outcome.status.map(i32::from)),
            ..Default::default()
        };
        let mut disable = None;
        match outcome.status {
            Some(200..=299) => {
                changed.state = Set(DeliveryState::Delivered.as_str().into());
                changed.next_attempt_at = Set(None);
                changed.finished_at = Set(Some(now));
            }
            Some(410) => {
                changed.state = Set(DeliveryState::Failed.as_str().into());
                changed.next_attempt_at = Set(None);
                changed.finished_at = Set(Some(now));
                disable = Some("the endpoint answered 410 Gone".to_string());
            }
            status => {
                let asked = matches!(status, Some(429 | 503))
                    .then_some(outcome.retry_after)
                    .flatten();
                match schedule::next_attempt(delivery.attempts, now, asked) {
                    Some(at) => changed.next_attempt_at = Set(Some(at)),
                    None => {
                        changed.state = Set(DeliveryState::Failed.as_str().into());
                        changed.next_attempt_at = Set(None);
                        changed.finished_at = Set(Some(now));
                        disable = Some(format!(
                            "every one of {} attempts to deliver {} failed (last: {})",
                            delivery.attempts,
                            delivery.message_id,
                            status.map_or_else(
                                || outcome.error.clone().unwrap_or_default(),
                                |s| format!("HTTP {s}")
                            )
                        ));
                    }
                }
            }
        }
        changed.update(&txn).await?;
        self.metrics
            .webhook_attempt(match (outcome.status, &disable) {
                (Some(200..=299), _) => "delivered",
                (_, Some(_)) => "gave_up",
                _ => "failed",
            });
        if let Some(reason) = disable {
            disable_endpoint(&txn, endpoint, &reason, now).await?;
        }
        txn.commit().await?;
        if let Some(error) = outcome.error {
            tracing::info!(endpoint = endpoint.id, delivery = delivery.id, attempt = delivery.attempts, %error, "webhook attempt failed");
        }
        Ok(())
    }
}

/// The head of each enabled endpoint's queue: its oldest pending delivery. Only the
/// head is sent, so each endpoint receives its events in seq order.
fn heads() -> sea_orm::Select<webhook_delivery::Entity> {
    use webhook_delivery::Column as D;
    let pending = DeliveryState::Pending.as_str();
    let earlier = Query::select()
        .expr(Expr::val(1))
        .from_as(webhook_delivery::Entity, "e")
        .and_where(
            Expr::col(("e", D::EndpointId)).equals((webhook_delivery::Entity, D::EndpointId)),
        )
        .and_where(Expr::col(("e", D::State)).eq(pending))
        .and_where(Expr::col(("e", D::Id)).lt(Expr::col((webhook_delivery::Entity, D::Id))))
        .to_owned();
    let enabled = Query::select()
        .column(webhook_endpoint::Column::Id)
        .from(webhook_endpoint::Entity)
        .and_where(webhook_endpoint::Column::Enabled.eq(true))
        .to_owned();
    webhook_delivery::Entity::find()
        .filter(D::State.eq(pending))
        .filter(Condition::all().add(Expr::exists(earlier)).not())
        .filter(D::EndpointId.in_subquery(enabled))
}

/// Turns the endpoint off with the reason, and says so in the event log.
async fn disable_endpoint(
    txn: &sea_orm::DatabaseTransaction,
    endpoint: &webhook_endpoint::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    webhook_endpoint::ActiveModel {
        id: Set(endpoint.id),
        enabled: Set(false),
        disabled_reason: Set(Some(reason.to_string())),
        updated_at: Set(now),
        version: Set(endpoint.version + 1),
        ..Default::default()
    }
    .update(txn)
    .await?;
    events::append(
        txn,
        &Actor::system(),
        now,
        NewEvent {
            topic: Topic::WebhookDisabled,
            entity_type: "webhook_endpoint",
            entity_id: endpoint.id,
            internal: true,
            payload: json!({ "url": endpoint.url, "reason": reason }),
        },
    )
    .await?;
    tracing::warn!(endpoint = endpoint.id, url = %endpoint.url, reason, "webhook endpoint disabled");
    Ok(())
}

/// The address written in a URL, if it names one rather than a host.
fn literal_ip(url: &str) -> Option<std::net::IpAddr> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url.host_str()?;
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// What went wrong, in words for the delivery log.
fn describe(error: &reqwest::Error) -> String {
    let what = if error.is_timeout() {
        "no answer within the timeout"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    crate::domain::outbound::with_causes(what.to_string(), error)
}

/// Runs fan-out and sending until the server stops.
pub async fn run(sender: Sender, stopping: tokio::sync::watch::Receiver<bool>) {
    crate::domain::outbound::run(sender, stopping).await
}

impl crate::domain::outbound::Outbound for Sender {
    const NAME: &'static str = "webhooks";
    const IN_FLIGHT: usize = IN_FLIGHT;

    fn db(&self) -> &Db {
        &self.db
    }

    fn clock(&self) -> &SharedClock {
        &self.clock
    }

    async fn queue(&self) -> AppResult<bool> {
        Ok(super::fanout::fan_out(&self.db, self.clock.now()).await?.1)
    }

    async fn round(
        &self,
        sending: &mut JoinSet<()>,
        room: usize,
    ) -> AppResult<Option<DateTime<Utc>>> {
        Sender::round(self, sending, room).await
    }
}
