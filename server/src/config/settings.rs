//! The raw settings as given, before anything is checked: one flag for each
//! environment variable of the same name.

use clap::Args;

/// The raw settings as given: every flag also reads its environment variable.
#[derive(Args, Clone, Debug, Default)]
pub struct Settings {
    /// Database: `sqlite://path` or `postgres://user:pass@host/db`. Default: a SQLite file in the data directory.
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Redis for the event bus shared by several replicas. Default: the in-process bus.
    #[arg(long, global = true, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Where the embedded database and the generated JWT secret live.
    #[arg(long, global = true, env = "SWITCHBOARD_DATA_DIR")]
    pub data_dir: Option<String>,
    /// Address to listen on.
    #[arg(long, global = true, env = "SWITCHBOARD_BIND")]
    pub bind: Option<String>,
    /// HS256 secret for people's JWTs (at least 32 characters). Default: generated into the data directory.
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_JWT_SECRET",
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,
    /// Public key (PEM text, or a path to a PEM file) for RS256 or ES256 JWTs.
    #[arg(long, global = true, env = "SWITCHBOARD_JWT_PUBLIC_KEY")]
    pub jwt_public_key: Option<String>,
    /// The one algorithm accepted: HS256, RS256 or ES256.
    #[arg(long, global = true, env = "SWITCHBOARD_JWT_ALGORITHM")]
    pub jwt_algorithm: Option<String>,
    /// Required `iss` claim, when set.
    #[arg(long, global = true, env = "SWITCHBOARD_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim, when set.
    #[arg(long, global = true, env = "SWITCHBOARD_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    #[arg(long, global = true, env = "SWITCHBOARD_JWT_LEEWAY_SECONDS")]
    pub jwt_leeway_seconds: Option<String>,
    /// Log format: `text` or `json`.
    #[arg(long, global = true, env = "SWITCHBOARD_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Origins allowed by CORS, comma separated, or `*`. Default: none (same origin only).
    #[arg(long, global = true, env = "SWITCHBOARD_CORS_ORIGINS")]
    pub cors_origins: Option<String>,
    /// Deepest selection nesting a query may have.
    #[arg(long, global = true, env = "SWITCHBOARD_MAX_DEPTH")]
    pub max_depth: Option<String>,
    /// Highest complexity score a query may have (each field counts 1, lists times their page size).
    #[arg(long, global = true, env = "SWITCHBOARD_MAX_COMPLEXITY")]
    pub max_complexity: Option<String>,
    /// Most aliases a query may use.
    #[arg(long, global = true, env = "SWITCHBOARD_MAX_ALIASES")]
    pub max_aliases: Option<String>,
    /// Most directives on one field.
    #[arg(long, global = true, env = "SWITCHBOARD_MAX_DIRECTIVES")]
    pub max_directives: Option<String>,
    /// Largest request body accepted, in bytes.
    #[arg(long, global = true, env = "SWITCHBOARD_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<String>,
    /// Largest file accepted as an attachment, in bytes (25 MiB).
    #[arg(long, global = true, env = "SWITCHBOARD_MAX_ATTACHMENT_BYTES")]
    pub max_attachment_bytes: Option<String>,
    /// Most bytes of files one ticket keeps, its comments' included (250 MiB).
    #[arg(long, global = true, env = "SWITCHBOARD_MAX_TICKET_ATTACHMENT_BYTES")]
    pub max_ticket_attachment_bytes: Option<String>,
    /// Seconds a WebSocket client has to send `connection_init`.
    #[arg(long, global = true, env = "SWITCHBOARD_WS_INIT_TIMEOUT_SECONDS")]
    pub ws_init_timeout_seconds: Option<String>,
    /// Seconds between the server's keep-alive pings on WebSockets.
    #[arg(long, global = true, env = "SWITCHBOARD_WS_KEEPALIVE_SECONDS")]
    pub ws_keepalive_seconds: Option<String>,
    /// WebSocket connections one person or API token may hold open on a replica.
    #[arg(long, global = true, env = "SWITCHBOARD_WS_MAX_CONNECTIONS")]
    pub ws_max_connections: Option<String>,
    /// Subscriptions one WebSocket connection may run at once.
    #[arg(long, global = true, env = "SWITCHBOARD_WS_MAX_SUBSCRIPTIONS")]
    pub ws_max_subscriptions: Option<String>,
    /// Messages a WebSocket client may leave unread before its subscriptions are told
    /// they fell behind (RATE_LIMITED with resumeAfter) and the socket is closed with 1013.
    #[arg(long, global = true, env = "SWITCHBOARD_WS_QUEUE")]
    pub ws_queue: Option<String>,
    /// Seconds between the event relay's rounds when no commit wakes it (a safety net:
    /// commits wake it at once).
    #[arg(long, global = true, env = "SWITCHBOARD_RELAY_POLL_SECONDS")]
    pub relay_poll_seconds: Option<String>,
    /// Seconds a SQLite connection that serves requests' reads may sit unused before it
    /// is closed (a burst opens up to eight; a quiet desk keeps none).
    #[arg(long, global = true, env = "SWITCHBOARD_SQLITE_READER_IDLE_SECONDS")]
    pub sqlite_reader_idle_seconds: Option<String>,
    /// Seconds between runs of the background jobs (closing resolved tickets).
    #[arg(long, global = true, env = "SWITCHBOARD_JOB_INTERVAL_SECONDS")]
    pub job_interval_seconds: Option<String>,
    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, global = true, env = "SWITCHBOARD_SHUTDOWN_GRACE_SECONDS")]
    pub shutdown_grace_seconds: Option<String>,
    /// Seconds a webhook endpoint has to answer before the attempt counts as failed.
    #[arg(long, global = true, env = "SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS")]
    pub webhook_timeout_seconds: Option<String>,
    /// Internal networks webhooks may be sent to, comma separated (`10.0.0.0/8,127.0.0.1`).
    /// Default: none; loopback, private, link-local and metadata addresses are refused.
    #[arg(long, global = true, env = "SWITCHBOARD_WEBHOOK_ALLOW")]
    pub webhook_allow: Option<String>,
    /// Key that seals stored secrets (webhook signing secrets), at least 32 characters,
    /// the same on every replica. Default: derived from the HS256 JWT secret, or
    /// generated into the data directory.
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_SECRETS_KEY",
        hide_env_values = true
    )]
    pub secrets_key: Option<String>,
    /// The desk's IMAP mailbox, fetched for new mail: `imap://user:password@host:port/INBOX`
    /// or `imaps://…` for TLS. Default: none.
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_IMAP_URL",
        hide_env_values = true
    )]
    pub imap_url: Option<String>,
    /// Seconds between fetches from the IMAP mailbox.
    #[arg(long, global = true, env = "SWITCHBOARD_IMAP_POLL_SECONDS")]
    pub imap_poll_seconds: Option<String>,
    /// Where notifications are sent: `smtp://user:password@host:587?tls=required` for
    /// submission with STARTTLS, `smtps://user:password@host:465` for implicit TLS,
    /// `smtp://host:25` for a relay on a trusted network. Default: none, and nothing is
    /// sent.
    #[arg(
        long,
        global = true,
        env = "SWITCHBOARD_SMTP_URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// Where people reach the desk, for the links in its mail (a survey's, say): for
    /// example `https://desk.acme.example`. Default: `http://` and the bind address.
    #[arg(long, global = true, env = "SWITCHBOARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The sender of notifications, for example `Service Desk <desk@acme.example>`;
    /// required with `SWITCHBOARD_SMTP_URL`. Its domain names the messages the desk sends.
    #[arg(long, global = true, env = "SWITCHBOARD_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// A JSON file of SHA-256 hash to GraphQL document: when given, only those
    /// operations run (trusted documents). Default: none, and any operation runs.
    #[arg(long, global = true, env = "SWITCHBOARD_TRUSTED_DOCUMENTS")]
    pub trusted_documents: Option<String>,
    /// Requests a second one person or API token may make, sustained (shared across
    /// replicas through Redis when it is configured). Default: 0, no limit.
    #[arg(long, global = true, env = "SWITCHBOARD_RATE_LIMIT")]
    pub rate_limit: Option<String>,
    /// Requests one person or API token may make at once, above the sustained rate.
    /// Default: ten seconds' worth of the rate.
    #[arg(long, global = true, env = "SWITCHBOARD_RATE_BURST")]
    pub rate_burst: Option<String>,
    /// `on` or `off`: whether the hot lists (the ticket connection) are answered from a
    /// plan made once per document, rows written straight into the response. Default:
    /// on; `off` runs every request through the ordinary resolvers, for comparing the
    /// two.
    #[arg(long, global = true, env = "SWITCHBOARD_PLANNED_READS")]
    pub planned_reads: Option<String>,
}
