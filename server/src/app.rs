//! Building the running service from a `Config`: what `main` and the tests both call.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::{
    auth::{Authenticator, jwt},
    clock::{SharedClock, SystemClock},
    config::{Config, JwtKeyConfig},
    db::Db,
    domain, events, graphql, http, jobs,
    metrics::Metrics,
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
    pub ws_seats: Arc<http::ws::Seats>,
    /// Flips to true when the server begins to shut down; long-lived sockets watch it.
    pub shutting_down: watch::Receiver<bool>,
}

/// Connects to the database, applies migrations and prepares the HS256 secret.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database)
        .await
        .context("cannot open the database")?;
    db.migrate()
        .await
        .context("cannot apply database migrations")?;
    Ok(db)
}

/// The HS256 secret in force, generating one into the data directory when none is configured.
pub fn hs256_secret(config: &Config) -> anyhow::Result<Option<String>> {
    let JwtKeyConfig::Hs256 { secret } = &config.jwt.key else {
        return Ok(None);
    };
    let (secret, generated) = jwt::hs256_secret(secret.as_deref(), &config.data_dir)
        .with_context(|| format!("cannot keep a JWT secret in {}", config.data_dir.display()))?;
    if generated {
        tracing::warn!(
            path = %jwt::secret_path(&config.data_dir).display(),
            "no SWITCHBOARD_JWT_SECRET configured: generated one and kept it in the data directory; \
             `switchboard token dev` signs tokens with it"
        );
    }
    Ok(Some(secret))
}

pub struct RunningServer {
    pub addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting connections, lets in-flight requests finish, closes sockets.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    /// Waits until the server stops on its own (after a signal).
    pub async fn wait(self) -> std::io::Result<()> {
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }

    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Starts the whole service on `listener`.
pub async fn start(config: Config, listener: TcpListener) -> anyhow::Result<RunningServer> {
    start_with_clock(config, listener, Arc::new(SystemClock)).await
}

/// Starts the service with a given clock: tests move time forward with it.
pub async fn start_with_clock(
    config: Config,
    listener: TcpListener,
    clock: SharedClock,
) -> anyhow::Result<RunningServer> {
    let db = open_database(&config).await?;
    let secret = hs256_secret(&config)?;
    let verifier = jwt::JwtVerifier::new(&config.jwt, secret.as_deref())
        .map_err(|e| anyhow::anyhow!("cannot use the JWT key: {e}"))?;
    let redis = config
        .redis_url
        .as_deref()
        .map(redis::Client::open)
        .transpose()
        .context("cannot use REDIS_URL")?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let metrics = Arc::new(Metrics::new(db.statements_counter(), db.writes_waiting()));
    let hub = events::Hub::start(db.clone(), metrics.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the event hub: {e}"))?;
    let bus = match &redis {
        Some(client) => events::relay::Bus::Redis {
            client: client.clone(),
            conn: None,
        },
        None => events::relay::Bus::InProcess,
    };
    events::hub::spawn(hub.clone(), redis.clone(), shutdown_rx.clone());
    events::wake::listen(db.clone(), shutdown_rx.clone());
    events::relay::spawn(
        db.clone(),
        bus,
        hub.clone(),
        metrics.clone(),
        config.relay_poll,
        shutdown_rx.clone(),
    );
    let state = AppState {
        hub,
        metrics,
        ws_seats: Arc::default(),
        auth: Arc::new(Authenticator::new(db.clone(), verifier)),
        config: Arc::new(config),
        db,
        redis,
        clock,
        shutting_down: shutdown_rx.clone(),
    };
    domain::sla::engine::spawn(
        state.db.clone(),
        state.clock.clone(),
        state.metrics.sla_engine_lag.clone(),
        shutdown_rx.clone(),
    );
    jobs::spawn_auto_close(
        state.db.clone(),
        state.clock.clone(),
        state.config.job_interval,
        shutdown_rx.clone(),
    );
    let schema = graphql::build_schema(&state.config.limits, Some(state.clone()));
    let addr = listener.local_addr()?;
    let grace = state.config.shutdown_grace;
    let router = http::router(state, schema);
    let (mut stop_serving, mut stop_waiting) = (shutdown_rx.clone(), shutdown_rx);
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = stop_serving.wait_for(|stopping| *stopping).await;
        });
        let deadline = async move {
            let _ = stop_waiting.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = std::future::IntoFuture::into_future(serve) => result,
            _ = deadline => {
                tracing::warn!(grace_seconds = grace.as_secs(), "in-flight requests did not finish in time; stopping anyway");
                Ok(())
            }
        }
    });
    tracing::info!(%addr, "Switchboard is listening: GraphQL at /graphql, WebSocket at /graphql/ws");
    Ok(RunningServer {
        addr,
        shutdown: shutdown_tx,
        task,
    })
}
