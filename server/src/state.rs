//! What every request handler and resolver shares: the running service's parts, built
//! once by `app::start` and handed to the HTTP layer and the GraphQL schema. Its own
//! module so that the layers that use it need not know how the service is started.

use std::sync::Arc;

use tokio::sync::watch;

use crate::domain::{
    mail::mailbox::MailboxStatus,
    webhooks::{guard::Guard, sealing::Sealer},
};
use crate::{
    authenticator::Authenticator, clock::SharedClock, config::Config, db::Db, events,
    http::seats::Seats, metrics::Metrics,
};

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub auth: Arc<Authenticator>,
    pub redis: Option<redis::Client>,
    pub clock: SharedClock,
    /// This replica's share of the live pipeline: subscriptions listen here.
    pub hub: Arc<events::Hub>,
    /// What /metrics reports, recorded where the work happens.
    pub metrics: Arc<Metrics>,
    /// WebSocket connections held per person or token on this replica.
    pub ws_seats: Arc<Seats>,
    /// Seals and opens stored secrets (webhook signing secrets).
    pub sealer: Sealer,
    /// Which addresses webhooks may be sent to.
    pub webhook_guard: Guard,
    /// How the last fetch from the IMAP mailbox went, when there is one.
    pub mailbox: Option<Arc<MailboxStatus>>,
    /// Where attachments' bytes are kept, and what signs their download links.
    pub files: Arc<crate::domain::attachments::Files>,
    /// How many requests each person and token may make.
    pub rate_limiter: Arc<crate::rate_limit::RateLimiter>,
    /// Documents parsed before, persisted by hash, or trusted in advance.
    pub documents: Arc<crate::http::documents::Documents>,
    /// Plans of the hot lists' documents, made once each.
    pub plans: Arc<crate::graphql::planned::Plans>,
    /// Takes alerts in from monitoring systems, many requests to a transaction.
    pub alerts: crate::domain::monitoring::Intake,
    /// Flips to true when the server begins to shut down; long-lived sockets watch it.
    pub shutting_down: watch::Receiver<bool>,
}
