//! One `Config`, read from flags and environment variables and validated before anything
//! starts: a bad value stops the server with one line that names the variable.

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

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
    /// The sender of notifications, for example `Service Desk <desk@acme.example>`;
    /// required with `SWITCHBOARD_SMTP_URL`. Its domain names the messages the desk sends.
    #[arg(long, global = true, env = "SWITCHBOARD_MAIL_FROM")]
    pub mail_from: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database: DatabaseConfig,
    pub redis_url: Option<String>,
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    pub jwt: JwtConfig,
    pub log_format: LogFormat,
    pub cors_origins: CorsOrigins,
    pub limits: Limits,
    pub ws_init_timeout: Duration,
    pub ws_keepalive: Duration,
    pub ws_max_connections: usize,
    pub ws_max_subscriptions: usize,
    pub ws_queue: usize,
    pub relay_poll: Duration,
    pub shutdown_grace: Duration,
    pub job_interval: Duration,
    pub webhook_timeout: Duration,
    /// Networks webhooks may reach although they are internal.
    pub webhook_allow: Vec<crate::network::Network>,
    pub secrets_key: Option<String>,
    /// The desk's IMAP mailbox, fetched for new mail; none by default.
    pub mailbox: Option<MailboxConfig>,
    /// Where notifications go out; none by default, and none are sent.
    pub outbox: Option<OutboxConfig>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseConfig {
    Sqlite { path: PathBuf },
    Postgres { url: String },
}

#[derive(Clone, Debug)]
pub struct JwtConfig {
    pub key: JwtKeyConfig,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub leeway: Duration,
}

#[derive(Clone, Debug)]
pub enum JwtKeyConfig {
    /// HS256 with this secret, or with one generated into the data directory when `None`.
    Hs256 {
        secret: Option<String>,
    },
    Rs256 {
        public_key_pem: String,
    },
    Es256 {
        public_key_pem: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigins {
    None,
    Any,
    List(Vec<String>),
}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_directives: usize,
    pub max_body_bytes: usize,
}

/// Where the mailbox is: `imap://user:password@host:port/INBOX`, or `imaps://` for TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxConfig {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub folder: String,
    /// Time between fetches.
    pub every: Duration,
}

impl MailboxConfig {
    /// Parses `imap://` or `imaps://` with credentials, host, port and folder.
    pub fn parse(url: &str, every: Duration) -> Result<MailboxConfig, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        let tls = match parsed.scheme() {
            "imap" => false,
            "imaps" => true,
            other => return Err(format!("use imap:// or imaps://, not {other}://")),
        };
        let host = parsed.host_str().ok_or("the URL has no host")?.to_string();
        let user = percent_decode(parsed.username());
        if user.is_empty() {
            return Err("give the mailbox's user: imap://user:password@host/INBOX".into());
        }
        let folder = parsed.path().trim_start_matches('/');
        Ok(MailboxConfig {
            tls,
            port: parsed.port().unwrap_or(if tls { 993 } else { 143 }),
            host,
            user,
            password: percent_decode(parsed.password().unwrap_or_default()),
            folder: if folder.is_empty() {
                "INBOX".into()
            } else {
                percent_decode(folder)
            },
            every,
        })
    }
}

/// Where notifications are sent, and from whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxConfig {
    /// The SMTP URL as lettre reads it (`smtp://`, `smtps://`, `?tls=required`).
    pub url: String,
    /// `Name <address>` or an address.
    pub from: String,
    /// The domain of the sender's address: the right-hand side of every Message-ID.
    pub domain: String,
}

impl OutboxConfig {
    /// Checks the URL's scheme and host, and that the sender is an address.
    pub fn parse(url: &str, from: Option<&str>) -> Result<OutboxConfig, ConfigError> {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| invalid("SWITCHBOARD_SMTP_URL", format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "smtp" | "smtps") {
            return Err(invalid(
                "SWITCHBOARD_SMTP_URL",
                format!("use smtp:// or smtps://, not {}://", parsed.scheme()),
            ));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(invalid("SWITCHBOARD_SMTP_URL", "the URL has no host"));
        }
        let from = from.map(str::trim).filter(|f| !f.is_empty()).ok_or_else(|| {
            invalid(
                "SWITCHBOARD_MAIL_FROM",
                "say who notifications come from, for example 'Service Desk <desk@acme.example>'",
            )
        })?;
        let mailbox: lettre::message::Mailbox = from
            .parse()
            .map_err(|e| invalid("SWITCHBOARD_MAIL_FROM", format!("not a mail address: {e}")))?;
        Ok(OutboxConfig {
            url: url.to_string(),
            from: from.to_string(),
            domain: mailbox.email.domain().to_string(),
        })
    }
}

/// A URL part as written before percent-encoding (`desk%40acme.test` is `desk@acme.test`).
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// A bad setting: which variable, and what is wrong with it.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid configuration: {}: {}",
            self.variable, self.problem
        )
    }
}

impl std::error::Error for ConfigError {}

fn invalid(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

fn number<T: std::str::FromStr + PartialOrd + fmt::Display>(
    value: Option<&str>,
    variable: &'static str,
    default: T,
    min: T,
) -> Result<T, ConfigError> {
    let Some(raw) = value else { return Ok(default) };
    match raw.trim().parse::<T>() {
        Ok(n) if n >= min => Ok(n),
        _ => Err(invalid(
            variable,
            format!("'{raw}' is not a whole number of at least {min}"),
        )),
    }
}

impl Config {
    pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
    pub const DEFAULT_DATA_DIR: &str = "data";

    /// The limits with nothing configured: what the exported schema is built with.
    pub fn default_limits() -> Limits {
        Config::from_settings(&Settings::default())
            .expect("the defaults are valid")
            .limits
    }

    pub fn from_settings(s: &Settings) -> Result<Config, ConfigError> {
        let data_dir = PathBuf::from(s.data_dir.as_deref().unwrap_or(Self::DEFAULT_DATA_DIR));
        if data_dir.as_os_str().is_empty() {
            return Err(invalid("SWITCHBOARD_DATA_DIR", "must not be empty"));
        }
        let database = match s.database_url.as_deref().map(str::trim) {
            None | Some("") => DatabaseConfig::Sqlite {
                path: data_dir.join("switchboard.db"),
            },
            Some(url) => parse_database_url(url)?,
        };
        let redis_url = match s.redis_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Some(url.to_string())
            }
            Some(url) => {
                return Err(invalid(
                    "REDIS_URL",
                    format!("'{url}' is not a redis:// or rediss:// URL"),
                ));
            }
        };
        let bind_raw = s.bind.as_deref().unwrap_or(Self::DEFAULT_BIND);
        let bind = bind_raw.trim().parse::<SocketAddr>().map_err(|_| {
            invalid(
                "SWITCHBOARD_BIND",
                format!("'{bind_raw}' is not an address and port such as 127.0.0.1:8080"),
            )
        })?;
        let log_format = match s.log_format.as_deref().map(str::trim) {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "SWITCHBOARD_LOG_FORMAT",
                    format!("'{other}' is neither 'text' nor 'json'"),
                ));
            }
        };
        let cors_origins = parse_cors(s.cors_origins.as_deref())?;
        let limits = Limits {
            max_depth: number(s.max_depth.as_deref(), "SWITCHBOARD_MAX_DEPTH", 12, 2)?,
            max_complexity: number(
                s.max_complexity.as_deref(),
                "SWITCHBOARD_MAX_COMPLEXITY",
                2000,
                10,
            )?,
            max_aliases: number(s.max_aliases.as_deref(), "SWITCHBOARD_MAX_ALIASES", 30, 0)?,
            max_directives: number(
                s.max_directives.as_deref(),
                "SWITCHBOARD_MAX_DIRECTIVES",
                5,
                1,
            )?,
            max_body_bytes: number(
                s.max_body_bytes.as_deref(),
                "SWITCHBOARD_MAX_BODY_BYTES",
                1024 * 1024,
                1024,
            )?,
        };
        let seconds = |value: Option<&str>, variable, default| {
            number(value, variable, default, 1u64).map(Duration::from_secs)
        };
        Ok(Config {
            database,
            redis_url,
            data_dir,
            bind,
            jwt: parse_jwt(s)?,
            log_format,
            cors_origins,
            limits,
            ws_init_timeout: seconds(
                s.ws_init_timeout_seconds.as_deref(),
                "SWITCHBOARD_WS_INIT_TIMEOUT_SECONDS",
                10,
            )?,
            ws_keepalive: seconds(
                s.ws_keepalive_seconds.as_deref(),
                "SWITCHBOARD_WS_KEEPALIVE_SECONDS",
                15,
            )?,
            shutdown_grace: seconds(
                s.shutdown_grace_seconds.as_deref(),
                "SWITCHBOARD_SHUTDOWN_GRACE_SECONDS",
                30,
            )?,
            ws_max_connections: number(
                s.ws_max_connections.as_deref(),
                "SWITCHBOARD_WS_MAX_CONNECTIONS",
                50,
                1,
            )?,
            ws_max_subscriptions: number(
                s.ws_max_subscriptions.as_deref(),
                "SWITCHBOARD_WS_MAX_SUBSCRIPTIONS",
                100,
                1,
            )?,
            ws_queue: number(s.ws_queue.as_deref(), "SWITCHBOARD_WS_QUEUE", 256, 1)?,
            relay_poll: seconds(
                s.relay_poll_seconds.as_deref(),
                "SWITCHBOARD_RELAY_POLL_SECONDS",
                2,
            )?,
            job_interval: seconds(
                s.job_interval_seconds.as_deref(),
                "SWITCHBOARD_JOB_INTERVAL_SECONDS",
                60,
            )?,
            webhook_timeout: seconds(
                s.webhook_timeout_seconds.as_deref(),
                "SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS",
                15,
            )?,
            webhook_allow: s
                .webhook_allow
                .as_deref()
                .map(crate::network::Network::parse_list)
                .transpose()
                .map_err(|problem| invalid("SWITCHBOARD_WEBHOOK_ALLOW", problem))?
                .unwrap_or_default(),
            secrets_key: match s.secrets_key.as_deref() {
                Some(key) if key.trim().chars().count() < 32 => {
                    return Err(invalid(
                        "SWITCHBOARD_SECRETS_KEY",
                        "use at least 32 characters",
                    ));
                }
                key => key.map(|k| k.trim().to_string()),
            },
            mailbox: s
                .imap_url
                .as_deref()
                .map(|url| {
                    let every = seconds(
                        s.imap_poll_seconds.as_deref(),
                        "SWITCHBOARD_IMAP_POLL_SECONDS",
                        30,
                    )?;
                    MailboxConfig::parse(url, every)
                        .map_err(|problem| invalid("SWITCHBOARD_IMAP_URL", problem))
                })
                .transpose()?,
            outbox: s
                .smtp_url
                .as_deref()
                .filter(|url| !url.trim().is_empty())
                .map(|url| OutboxConfig::parse(url.trim(), s.mail_from.as_deref()))
                .transpose()?,
        })
    }
}

fn parse_database_url(url: &str) -> Result<DatabaseConfig, ConfigError> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" {
            return Err(invalid(
                "DATABASE_URL",
                format!("'{url}' names no file: use sqlite://path/to/switchboard.db"),
            ));
        }
        return Ok(DatabaseConfig::Sqlite {
            path: PathBuf::from(path),
        });
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(DatabaseConfig::Postgres {
            url: url.to_string(),
        });
    }
    Err(invalid(
        "DATABASE_URL",
        format!("'{url}' is neither a sqlite:// nor a postgres:// URL"),
    ))
}

fn parse_cors(value: Option<&str>) -> Result<CorsOrigins, ConfigError> {
    let Some(raw) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(CorsOrigins::None);
    };
    if raw == "*" {
        return Ok(CorsOrigins::Any);
    }
    let origins: Vec<String> = raw
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_string())
        .collect();
    for origin in &origins {
        let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
            && origin.parse::<axum::http::HeaderValue>().is_ok();
        if !valid {
            return Err(invalid(
                "SWITCHBOARD_CORS_ORIGINS",
                format!("'{origin}' is not an origin such as https://desk.example.com"),
            ));
        }
    }
    Ok(CorsOrigins::List(origins))
}

fn parse_jwt(s: &Settings) -> Result<JwtConfig, ConfigError> {
    let algorithm = s
        .jwt_algorithm
        .as_deref()
        .map(str::trim)
        .unwrap_or("HS256")
        .to_uppercase();
    let public_key = || -> Result<String, ConfigError> {
        let Some(raw) = s
            .jwt_public_key
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        else {
            return Err(invalid(
                "SWITCHBOARD_JWT_PUBLIC_KEY",
                format!("is required for {algorithm}: give the PEM text or a path to it"),
            ));
        };
        if raw.starts_with("-----BEGIN") {
            return Ok(raw.to_string());
        }
        std::fs::read_to_string(raw).map_err(|e| {
            invalid(
                "SWITCHBOARD_JWT_PUBLIC_KEY",
                format!("cannot read the file '{raw}': {e}"),
            )
        })
    };
    let key = match algorithm.as_str() {
        "HS256" => {
            let secret = s.jwt_secret.clone().filter(|v| !v.is_empty());
            if let Some(secret) = &secret
                && secret.len() < 32
            {
                return Err(invalid(
                    "SWITCHBOARD_JWT_SECRET",
                    format!("is {} characters long; use at least 32", secret.len()),
                ));
            }
            JwtKeyConfig::Hs256 { secret }
        }
        "RS256" => {
            let pem = public_key()?;
            jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| {
                invalid(
                    "SWITCHBOARD_JWT_PUBLIC_KEY",
                    format!("is not an RSA public key in PEM: {e}"),
                )
            })?;
            JwtKeyConfig::Rs256 {
                public_key_pem: pem,
            }
        }
        "ES256" => {
            let pem = public_key()?;
            jsonwebtoken::DecodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| {
                invalid(
                    "SWITCHBOARD_JWT_PUBLIC_KEY",
                    format!("is not an EC public key in PEM: {e}"),
                )
            })?;
            JwtKeyConfig::Es256 {
                public_key_pem: pem,
            }
        }
        other => {
            return Err(invalid(
                "SWITCHBOARD_JWT_ALGORITHM",
                format!("'{other}' is not one of HS256, RS256, ES256"),
            ));
        }
    };
    let leeway = number(
        s.jwt_leeway_seconds.as_deref(),
        "SWITCHBOARD_JWT_LEEWAY_SECONDS",
        30u64,
        0,
    )?;
    if leeway > 300 {
        return Err(invalid(
            "SWITCHBOARD_JWT_LEEWAY_SECONDS",
            "must be at most 300 seconds",
        ));
    }
    let non_empty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    Ok(JwtConfig {
        key,
        issuer: non_empty(&s.jwt_issuer),
        audience: non_empty(&s.jwt_audience),
        leeway: Duration::from_secs(leeway),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_settings_give_the_embedded_default() {
        let config = Config::from_settings(&Settings::default()).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(
            config.database,
            DatabaseConfig::Sqlite {
                path: PathBuf::from("data/switchboard.db")
            }
        );
        assert!(config.redis_url.is_none());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases: Vec<(Settings, &str)> = vec![
            (
                Settings {
                    bind: Some("nowhere".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_BIND",
            ),
            (
                Settings {
                    database_url: Some("mysql://x".into()),
                    ..Default::default()
                },
                "DATABASE_URL",
            ),
            (
                Settings {
                    redis_url: Some("http://x".into()),
                    ..Default::default()
                },
                "REDIS_URL",
            ),
            (
                Settings {
                    jwt_secret: Some("short".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_JWT_SECRET",
            ),
            (
                Settings {
                    jwt_algorithm: Some("none".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_JWT_ALGORITHM",
            ),
            (
                Settings {
                    jwt_algorithm: Some("RS256".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_JWT_PUBLIC_KEY",
            ),
            (
                Settings {
                    log_format: Some("xml".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_LOG_FORMAT",
            ),
            (
                Settings {
                    max_depth: Some("-1".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_MAX_DEPTH",
            ),
            (
                Settings {
                    cors_origins: Some("desk.example.com".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_CORS_ORIGINS",
            ),
        ];
        for (settings, variable) in cases {
            let error = Config::from_settings(&settings).unwrap_err();
            assert_eq!(error.variable, variable, "{error}");
        }
    }
}

#[cfg(test)]
mod mailbox_url_tests {
    use std::time::Duration;

    use super::MailboxConfig;

    #[test]
    fn reads_the_mailbox_url() {
        let every = Duration::from_secs(30);
        let c = MailboxConfig::parse(
            "imaps://desk%40acme.test:p%40ss@mail.acme.test/Support",
            every,
        )
        .unwrap();
        assert_eq!(
            (
                c.tls,
                c.host.as_str(),
                c.port,
                c.user.as_str(),
                c.password.as_str(),
                c.folder.as_str()
            ),
            (
                true,
                "mail.acme.test",
                993,
                "desk@acme.test",
                "p@ss",
                "Support"
            )
        );
        let plain = MailboxConfig::parse("imap://desk:secret@127.0.0.1:1143", every).unwrap();
        assert_eq!(
            (plain.tls, plain.port, plain.folder.as_str()),
            (false, 1143, "INBOX")
        );
        assert!(MailboxConfig::parse("pop3://desk@mail", every).is_err());
        assert!(MailboxConfig::parse("imap://mail.acme.test", every).is_err());
    }
}
