//! Building the running service from a `Config`: what `main` and the tests both call.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context as _;
use tokio::{
    net::TcpListener,
    sync::watch,
    task::{JoinHandle, JoinSet},
};

use crate::domain::webhooks::{guard::Guard, sealing::Sealer};
use crate::{
    auth::jwt,
    authenticator::Authenticator,
    clock::{SharedClock, SystemClock},
    config::{Config, JwtKeyConfig},
    db::Db,
    domain, events, graphql, http, jobs,
    metrics::Metrics,
    state::AppState,
};

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

/// What stored secrets are sealed with: the configured secrets key, else the HS256 JWT
/// secret (which replicas share already), else a key generated into the data directory.
fn secrets_key(config: &Config, hs256: Option<&str>) -> anyhow::Result<String> {
    if let Some(key) = config
        .secrets_key
        .clone()
        .or_else(|| hs256.map(str::to_string))
    {
        return Ok(key);
    }
    let (key, _) = jwt::kept_secret(None, &config.data_dir, "secrets-key")
        .with_context(|| format!("cannot keep a secrets key in {}", config.data_dir.display()))?;
    Ok(key)
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
    // The background tasks read through a pool of their own (see `Db::for_background`);
    // the hub's catch-up, every second, is one of them.
    let background_db = db.for_background();
    let hub = events::Hub::start(background_db.clone(), metrics.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the event hub: {e}"))?;
    let bus = match &redis {
        Some(client) => events::relay::Bus::Redis {
            client: client.clone(),
            conn: None,
        },
        None => events::relay::Bus::InProcess,
    };
    // The background tasks: each runs until the shutdown flag flips, finishing the round
    // it is in, and the server's task waits for them before it reports stopped.
    let mut background = JoinSet::new();
    background.spawn(events::hub::catch_up_every_second(
        hub.clone(),
        shutdown_rx.clone(),
    ));
    if let Some(client) = &redis {
        background.spawn(events::hub::follow_redis(
            hub.clone(),
            client.clone(),
            shutdown_rx.clone(),
        ));
    }
    background.spawn(events::wake::listen(
        background_db.clone(),
        shutdown_rx.clone(),
    ));
    background.spawn(events::relay::run(
        background_db.clone(),
        bus,
        hub.clone(),
        metrics.clone(),
        config.relay_poll,
        shutdown_rx.clone(),
    ));
    background.spawn(domain::sla::engine::run(
        background_db.clone(),
        clock.clone(),
        metrics.sla_engine_lag.clone(),
        shutdown_rx.clone(),
    ));
    background.spawn(crate::memory::give_back_every_minute(shutdown_rx.clone()));
    background.spawn(jobs::auto_close(
        background_db.clone(),
        clock.clone(),
        config.job_interval,
        shutdown_rx.clone(),
    ));
    let sealer = Sealer::new(&secrets_key(&config, secret.as_deref())?);
    let webhook_guard = Guard::new(config.webhook_allow.clone());
    background.spawn(domain::webhooks::delivery::run(
        domain::webhooks::delivery::Sender::new(
            background_db.clone(),
            clock.clone(),
            webhook_guard.clone(),
            sealer.clone(),
            config.webhook_timeout,
            metrics.clone(),
        ),
        shutdown_rx.clone(),
    ));
    background.spawn(domain::automation::run::run(
        background_db.clone(),
        clock.clone(),
        metrics.clone(),
        shutdown_rx.clone(),
    ));
    background.spawn(domain::availability::budget::run(
        background_db.clone(),
        clock.clone(),
        shutdown_rx.clone(),
    ));
    let alerts = domain::monitoring::Intake::start(
        background_db.clone(),
        clock.clone(),
        shutdown_rx.clone(),
        &mut background,
    );
    let files = Arc::new(domain::attachments::Files {
        store: domain::attachments::Store::for_database(&config.database, &config.data_dir),
        signer: domain::attachments::Signer::load(&db).await?,
        limits: config.limits.attachments,
    });
    let mailbox = config.mailbox.clone().map(|mailbox| {
        let status = Arc::new(domain::mail::mailbox::MailboxStatus::default());
        background.spawn(domain::mail::mailbox::run(
            mailbox,
            background_db.clone(),
            files.clone(),
            clock.clone(),
            status.clone(),
            metrics.mailbox_up.clone(),
            shutdown_rx.clone(),
        ));
        status
    });
    if let Some(outbox) = &config.outbox {
        let mailer = domain::notifications::sender::Mailer::new(
            outbox,
            background_db.clone(),
            files.clone(),
            clock.clone(),
            metrics.clone(),
        )
        .map_err(|e| anyhow::anyhow!(e))?;
        background.spawn(domain::notifications::sender::run(
            mailer,
            shutdown_rx.clone(),
        ));
    }
    let state = AppState {
        rate_limiter: Arc::new(crate::rate_limit::RateLimiter::new(
            config.rate_limit,
            redis.clone(),
        )),
        documents: Arc::new(http::documents::Documents::new(
            config.trusted_documents.clone(),
        )),
        plans: Arc::new(crate::graphql::planned::Plans::new(config.planned_reads)),
        alerts,
        files: files.clone(),
        hub,
        metrics,
        sealer,
        webhook_guard,
        mailbox,
        ws_seats: Arc::default(),
        auth: Arc::new(Authenticator::new(db.clone(), verifier, clock.clone())),
        config: Arc::new(config),
        db,
        redis,
        clock,
        shutting_down: shutdown_rx.clone(),
    };
    let schema = graphql::build_schema(&state.config.limits, Some(state.clone()));
    let addr = listener.local_addr()?;
    let grace = state.config.shutdown_grace;
    let router = http::router(state, schema);
    let (mut stop_serving, mut stop_waiting) = (shutdown_rx.clone(), shutdown_rx);
    let stop_background = shutdown_tx.clone();
    let task = tokio::spawn(async move {
        // Each connection's socket is reachable from its requests (a WebSocket's
        // subscriptions write into it directly): see http/listener.rs.
        let sockets = http::listener::Sockets(listener);
        let service = router.into_make_service_with_connect_info::<http::listener::Wire>();
        let serve = axum::serve(sockets, service).with_graceful_shutdown(async move {
            let _ = stop_serving.wait_for(|stopping| *stopping).await;
        });
        let deadline = async move {
            let _ = stop_waiting.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        };
        let served = tokio::select! {
            result = std::future::IntoFuture::into_future(serve) => result,
            _ = deadline => {
                tracing::warn!(grace_seconds = grace.as_secs(), "in-flight requests did not finish in time; stopping anyway");
                Ok(())
            }
        };
        // Serving can also end by itself (a listener error): the tasks must stop then too.
        let _ = stop_background.send(true);
        let finished = async { while background.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, finished).await.is_err() {
            tracing::warn!(
                grace_seconds = grace.as_secs(),
                "background tasks did not finish in time; stopping anyway"
            );
        }
        served
    });
    // Start-up's garbage (migrations, the schema and its SDL) is not an idle server's.
    crate::memory::give_back();
    tracing::info!(%addr, "Switchboard is listening: GraphQL at /graphql, WebSocket at /graphql/ws");
    Ok(RunningServer {
        addr,
        shutdown: shutdown_tx,
        task,
    })
}
