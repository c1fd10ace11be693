//! Webhooks in the schema: endpoints, their delivery log, secrets, pings and redelivery.
//! Admins manage every endpoint; partner tokens with `webhooks:manage` their own.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::Duration;
use entity::{webhook_attempt, webhook_delivery, webhook_endpoint};

use crate::{
    domain::webhooks::{
        endpoints::{self, EndpointChanges, EndpointInput},
        log,
        types::{DeliveryState as State, EndpointFilter},
    },
    error::AppResult,
    graphql::{
        caller, ids,
        instant::Instant,
        now,
        pagination::{self, Page, PageArgs},
        state,
        tickets::Priority,
    },
};

/// Where a delivery stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "State")]
pub enum WebhookDeliveryState {
    /// Queued, or waiting to be tried again at `nextAttemptAt`.
    Pending,
    /// The endpoint answered with a 2xx status.
    Delivered,
    /// Every attempt failed, or the endpoint answered 410 Gone.
    Failed,
}

/// A partner system's URL that the desk's events are posted to, signed as the Standard
/// Webhooks specification says (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

/// Which ticket events an endpoint is sent, beyond its topics; every list given must
/// hold the ticket's value.
#[derive(SimpleObject)]
pub struct WebhookFilter {
    /// The ticket is in one of these groups' queues.
    pub group_ids: Vec<ID>,
    /// The ticket is of one of these organizations.
    pub organization_ids: Vec<ID>,
    /// The ticket is about one of these services.
    pub service_ids: Vec<ID>,
    /// The ticket has one of these priorities.
    pub priorities: Vec<Priority>,
}

/// A partner system's URL that the desk's events are posted to, signed as the Standard
/// Webhooks specification says (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
#[Object]
impl WebhookEndpoint {
    /// The globally unique id (Relay `Node`): pass it to `node(id:)` to fetch it again.
    pub async fn id(&self) -> ID {
        ids::encode("WebhookEndpoint", self.0.id)
    }
    /// Where events are posted.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// What the endpoint is for.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The topics it is sent (`ticket.created`…); every topic when empty.
    async fn topics(&self) -> Vec<String> {
        serde_json::from_value(self.0.topics.clone()).unwrap_or_default()
    }
    /// Which ticket events it is sent.
    async fn filter(&self) -> WebhookFilter {
        let f: EndpointFilter = serde_json::from_value(self.0.filter.clone()).unwrap_or_default();
        let all = |t: &str, v: &[i64]| v.iter().map(|id| ids::encode(t, *id)).collect();
        WebhookFilter {
            group_ids: all("Group", &f.group_ids),
            organization_ids: all("Organization", &f.organization_ids),
            service_ids: all("Service", &f.service_ids),
            priorities: f
                .priorities
                .iter()
                .map(|p| Priority::from_number(*p))
                .collect(),
        }
    }
    /// Whether events are being sent to it.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    /// Why the desk disabled it (410 Gone, or days of failures); null when enabled or
    /// disabled by a person. Enable it again with `updateWebhookEndpoint`.
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// Until when the secret before the last rotation still signs beside the new one.
    async fn previous_secret_valid_until(&self) -> Option<Instant> {
        self.0.previous_secret_until.map(Instant)
    }
    /// Send this back with a change, to be sure nobody changed it since you read it.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was registered.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When it last changed.
    async fn updated_at(&self) -> Instant {
        Instant(self.0.updated_at)
    }
    /// The delivery log, newest first: each message with its attempts.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn deliveries(
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
    ) -> AppResult<Page<WebhookDelivery>> {
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let db = &state(ctx).db;
        let rows = log::deliveries(db, caller(ctx), self.0.id, &page).await?;
        // The attempts of the whole page in one read.
        let attempts = log::attempts_of(db, rows.iter().map(|r| r.id).collect()).await?;
        let mut by_delivery = std::collections::HashMap::<i64, Vec<_>>::new();
        for attempt in attempts {
            by_delivery
                .entry(attempt.delivery_id)
                .or_default()
                .push(attempt);
        }
        Ok(pagination::connection(
            &page,
            rows,
            |row| row.id,
            |row| {
                let mine = by_delivery.get(&row.id).cloned().unwrap_or_default();
                WebhookDelivery(row, mine)
            },
        ))
    }
}

/// One message to an endpoint, with every attempt to send it.
pub struct WebhookDelivery(pub webhook_delivery::Model, pub Vec<webhook_attempt::Model>);

/// One message to an endpoint, with every attempt to send it.
#[Object]
impl WebhookDelivery {
    /// The globally unique id.
    async fn id(&self) -> ID {
        ids::encode("WebhookDelivery", self.0.id)
    }
    /// The `webhook-id` header: the same on every retry and redelivery of the event.
    async fn webhook_id(&self) -> &str {
        &self.0.message_id
    }
    /// The event's topic, or `webhook.ping`.
    async fn topic(&self) -> &str {
        &self.0.topic
    }
    /// The event's place in the log; null for a ping.
    async fn seq(&self) -> Option<i64> {
        self.0.seq
    }
    /// Where it stands.
    async fn state(&self) -> AppResult<WebhookDeliveryState> {
        Ok(State::stored(&self.0.state)?.into())
    }
    /// How many times it was sent.
    async fn attempt_count(&self) -> i32 {
        self.0.attempts
    }
    /// When it is tried next, while pending.
    async fn next_attempt_at(&self) -> Option<Instant> {
        self.0.next_attempt_at.map(Instant)
    }
    /// The last response's HTTP status, if there was a response.
    async fn last_status(&self) -> Option<i32> {
        self.0.last_status
    }
    /// The JSON body sent, exactly.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// When it was queued.
    async fn created_at(&self) -> Instant {
        Instant(self.0.created_at)
    }
    /// When it was delivered or given up.
    async fn finished_at(&self) -> Option<Instant> {
        self.0.finished_at.map(Instant)
    }
    /// Each attempt, oldest first.
    async fn attempts(&self) -> Vec<WebhookAttempt> {
        self.1.iter().cloned().map(WebhookAttempt).collect()
    }
}

/// One HTTP request of a delivery.
pub struct WebhookAttempt(pub webhook_attempt::Model);

/// One HTTP request of a delivery.
#[Object]
impl WebhookAttempt {
    /// When it was sent.
    async fn attempted_at(&self) -> Instant {
        Instant(self.0.attempted_at)
    }
    /// The response's status; null when there was no response.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    /// How long the request took, in milliseconds.
    async fn duration_ms(&self) -> i32 {
        self.0.duration_ms
    }
    /// What went wrong without a response: a refused address, a timeout, no connection.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// The start of the response body.
    async fn response_excerpt(&self) -> Option<&str> {
        self.0.response_excerpt.as_deref()
    }
}

/// An endpoint by id, for `node(id:)`.
pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<WebhookEndpoint> {
    Ok(WebhookEndpoint(
        endpoints::find(&state(ctx).db, caller(ctx), id).await?,
    ))
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The webhook endpoints the caller manages: every one for an admin, its own for a
    /// token with `webhooks:manage`.
    #[graphql(complexity = "first.or(last).unwrap_or(20).max(0) as usize * child_complexity")]
    async fn webhook_endpoints(
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
    ) -> AppResult<Page<WebhookEndpoint>> {
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let rows = endpoints::list(&state(ctx).db, caller(ctx), &page).await?;
        Ok(pagination::connection(
            &page,
            rows,
            |row| row.id,
            WebhookEndpoint,
        ))
    }

    /// One endpoint the caller manages.
    async fn webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
    ) -> AppResult<WebhookEndpoint> {
        let id = ids::decode_as(&id, "WebhookEndpoint", "id")?;
        Ok(WebhookEndpoint(
            endpoints::find(&state(ctx).db, caller(ctx), id).await?,
        ))
    }
}

/// Which ticket events an endpoint is sent; absent lists do not narrow.
#[derive(InputObject, Default)]
pub struct WebhookFilterInput {
    /// Only tickets in these groups' queues.
    #[graphql(default)]
    pub group_ids: Vec<ID>,
    /// Only tickets of these organizations.
    #[graphql(default)]
    pub organization_ids: Vec<ID>,
    /// Only tickets about these services.
    #[graphql(default)]
    pub service_ids: Vec<ID>,
    /// Only tickets of these priorities.
    #[graphql(default)]
    pub priorities: Vec<Priority>,
}

impl WebhookFilterInput {
    fn decode(self) -> AppResult<EndpointFilter> {
        Ok(EndpointFilter {
            group_ids: ids::decode_all(&self.group_ids, "Group", "groupIds")?,
            organization_ids: ids::decode_all(
                &self.organization_ids,
                "Organization",
                "organizationIds",
            )?,
            service_ids: ids::decode_all(&self.service_ids, "Service", "serviceIds")?,
            priorities: self.priorities.iter().map(|p| p.number()).collect(),
        })
    }
}

/// What `createWebhookEndpoint` takes.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    /// Where to post events: http or https, on a public address unless the server's
    /// `SWITCHBOARD_WEBHOOK_ALLOW` lists it.
    pub url: String,
    /// What the endpoint is for.
    #[graphql(default)]
    pub description: String,
    /// Topics to send (`ticket.created`, `sla.warning`…); every topic when empty.
    #[graphql(default)]
    pub topics: Vec<String>,
    /// Narrows the ticket events sent.
    pub filter: Option<WebhookFilterInput>,
    /// Whether to start sending at once; true unless given.
    #[graphql(default = true)]
    pub enabled: bool,
}

/// What `createWebhookEndpoint` and `rotateWebhookSecret` return: the endpoint, and its
/// signing secret, shown this once.
#[derive(SimpleObject)]
pub struct WebhookSecretPayload {
    /// The endpoint as it is after the change.
    pub webhook_endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_…`), for the receiver's Standard Webhooks library.
    /// Shown now and never again.
    pub secret: String,
}

/// What `updateWebhookEndpoint` takes; absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    /// The endpoint's id.
    pub id: ID,
    /// The version you read.
    pub version: i32,
    /// A new URL.
    pub url: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// New topics; every topic when empty.
    pub topics: Option<Vec<String>>,
    /// A new filter.
    pub filter: Option<WebhookFilterInput>,
    /// Turn sending on or off; turning it on clears why the desk disabled it and sends
    /// what was queued meanwhile.
    pub enabled: Option<bool>,
}

/// What the endpoint mutations return.
#[derive(SimpleObject)]
pub struct WebhookEndpointPayload {
    /// The endpoint as it is after the change.
    pub webhook_endpoint: WebhookEndpoint,
}

/// What `rotateWebhookSecret` takes.
#[derive(InputObject)]
pub struct RotateWebhookSecretInput {
    /// The endpoint's id.
    pub id: ID,
    /// How long the old secret keeps signing beside the new one, in minutes (0 to 10080);
    /// a day unless given.
    #[graphql(default = 1440)]
    pub overlap_minutes: i32,
}

/// What `deleteWebhookEndpoint` and `pingWebhookEndpoint` take.
#[derive(InputObject)]
pub struct WebhookEndpointIdInput {
    /// The endpoint's id.
    pub id: ID,
}

/// What `redeliverWebhookEvent` takes.
#[derive(InputObject)]
pub struct RedeliverWebhookEventInput {
    /// The endpoint's id.
    pub id: ID,
    /// The event's seq (from the delivery log or a subscription).
    pub seq: i64,
}

/// What `pingWebhookEndpoint` and `redeliverWebhookEvent` return: the delivery queued.
#[derive(SimpleObject)]
pub struct WebhookDeliveryPayload {
    /// The delivery, pending; follow it in the endpoint's `deliveries`.
    pub delivery: WebhookDelivery,
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers an endpoint. Admins, or tokens with `webhooks:manage`.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: CreateWebhookEndpointInput,
    ) -> AppResult<WebhookSecretPayload> {
        let app = state(ctx);
        let (row, secret) = endpoints::register(
            &app.db,
            caller(ctx),
            &app.webhook_guard,
            &app.sealer,
            now(ctx),
            EndpointInput {
                url: input.url,
                description: input.description,
                topics: input.topics,
                filter: input.filter.unwrap_or_default().decode()?,
                enabled: input.enabled,
            },
        )
        .await?;
        Ok(WebhookSecretPayload {
            webhook_endpoint: WebhookEndpoint(row),
            secret,
        })
    }

    /// Changes an endpoint.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: UpdateWebhookEndpointInput,
    ) -> AppResult<WebhookEndpointPayload> {
        let id = ids::decode_as(&input.id, "WebhookEndpoint", "id")?;
        let app = state(ctx);
        let changes = EndpointChanges {
            url: input.url,
            description: input.description,
            topics: input.topics,
            filter: input.filter.map(WebhookFilterInput::decode).transpose()?,
            enabled: input.enabled,
        };
        let row = endpoints::update(
            &app.db,
            caller(ctx),
            &app.webhook_guard,
            now(ctx),
            id,
            input.version,
            changes,
        )
        .await?;
        Ok(WebhookEndpointPayload {
            webhook_endpoint: WebhookEndpoint(row),
        })
    }

    /// Removes an endpoint and its delivery log.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: WebhookEndpointIdInput,
    ) -> AppResult<WebhookEndpointPayload> {
        let id = ids::decode_as(&input.id, "WebhookEndpoint", "id")?;
        let row = endpoints::delete(&state(ctx).db, caller(ctx), id).await?;
        Ok(WebhookEndpointPayload {
            webhook_endpoint: WebhookEndpoint(row),
        })
    }

    /// Gives an endpoint a new signing secret; the old one keeps signing beside it for
    /// the overlap, so the receiver can switch without missing a message.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: RotateWebhookSecretInput,
    ) -> AppResult<WebhookSecretPayload> {
        let id = ids::decode_as(&input.id, "WebhookEndpoint", "id")?;
        let app = state(ctx);
        let overlap = Duration::minutes(i64::from(input.overlap_minutes));
        let (row, secret) =
            endpoints::rotate_secret(&app.db, caller(ctx), &app.sealer, now(ctx), id, overlap)
                .await?;
        Ok(WebhookSecretPayload {
            webhook_endpoint: WebhookEndpoint(row),
            secret,
        })
    }

    /// Sends a `webhook.ping` message, to check the receiver and its signature check.
    async fn ping_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: WebhookEndpointIdInput,
    ) -> AppResult<WebhookDeliveryPayload> {
        let id = ids::decode_as(&input.id, "WebhookEndpoint", "id")?;
        let row = endpoints::ping(&state(ctx).db, caller(ctx), now(ctx), id).await?;
        Ok(WebhookDeliveryPayload {
            delivery: WebhookDelivery(row, vec![]),
        })
    }

    /// Sends an event to an endpoint again, under its same `webhook-id`.
    async fn redeliver_webhook_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: RedeliverWebhookEventInput,
    ) -> AppResult<WebhookDeliveryPayload> {
        let id = ids::decode_as(&input.id, "WebhookEndpoint", "id")?;
        let row =
            endpoints::redeliver(&state(ctx).db, caller(ctx), now(ctx), id, input.seq).await?;
        Ok(WebhookDeliveryPayload {
            delivery: WebhookDelivery(row, vec![]),
        })
    }
}
