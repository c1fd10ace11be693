//! One `Config`, read from flags and environment variables and validated before anything
//! starts: a bad value stops the server with one line that names the variable.
//!
//! Each part reads and checks its own settings: the process (`server`), where the data
//! lives (`database`), who may call (`auth`), mail in and out (`mail`), webhooks, and
//! what one client may ask (`limits`). `Config` puts them side by side.

mod auth;
mod database;
mod limits;
mod mail;
mod server;
mod settings;
pub mod trusted;
mod webhooks;

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

pub use auth::{JwtConfig, JwtKeyConfig};
pub use database::DatabaseConfig;
pub use limits::{AttachmentLimits, Limits};
pub use mail::{MailboxConfig, OutboxConfig};
pub use server::{CorsOrigins, LogFormat};
pub use settings::Settings;

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
    /// The address people reach the server at (`SWITCHBOARD_PUBLIC_URL`), without a
    /// trailing slash: download links are absolute when it is given, relative otherwise.
    pub public_url: Option<String>,
    /// The only operations that run, by their SHA-256, when the deployment lists them.
    pub trusted_documents: Option<std::collections::HashMap<String, String>>,
    /// Requests per person or token; none: no limit.
    pub rate_limit: Option<Rate>,
    /// Whether the hot lists are answered from plans (`graphql::planned`).
    pub planned_reads: bool,
}

impl Config {
    pub const DEFAULT_BIND: &str = server::DEFAULT_BIND;
    pub const DEFAULT_DATA_DIR: &str = server::DEFAULT_DATA_DIR;

    /// The limits with nothing configured: what the exported schema is built with.
    pub fn default_limits() -> Limits {
        Config::from_settings(&Settings::default())
            .expect("the defaults are valid")
            .limits
    }

    pub fn from_settings(s: &Settings) -> Result<Config, ConfigError> {
        let process = server::process(s)?;
        let sockets = limits::sockets(s)?;
        let webhooks = webhooks::webhooks(s)?;
        Ok(Config {
            database: database::database(s, &process.data_dir)?,
            redis_url: database::redis(s)?,
            data_dir: process.data_dir,
            bind: process.bind,
            jwt: auth::jwt(s)?,
            log_format: process.log_format,
            cors_origins: process.cors_origins,
            limits: limits::limits(s)?,
            ws_init_timeout: sockets.init_timeout,
            ws_keepalive: sockets.keepalive,
            ws_max_connections: sockets.max_connections,
            ws_max_subscriptions: sockets.max_subscriptions,
            ws_queue: sockets.queue,
            relay_poll: process.relay_poll,
            shutdown_grace: process.shutdown_grace,
            job_interval: process.job_interval,
            webhook_timeout: webhooks.timeout,
            webhook_allow: webhooks.allow,
            secrets_key: auth::secrets_key(s)?,
            mailbox: mail::mailbox(s)?,
            outbox: mail::outbox(s)?,
            public_url: s
                .public_url
                .as_deref()
                .map(|url| url.trim().trim_end_matches('/').to_string())
                .filter(|url| !url.is_empty()),
            trusted_documents: s
                .trusted_documents
                .as_deref()
                .map(trusted::read_manifest)
                .transpose()
                .map_err(|problem| invalid("SWITCHBOARD_TRUSTED_DOCUMENTS", problem))?,
            rate_limit: rate_limit(s)?,
            planned_reads: match s.planned_reads.as_deref().map(str::trim) {
                None | Some("on") => true,
                Some("off") => false,
                Some(other) => {
                    return Err(invalid(
                        "SWITCHBOARD_PLANNED_READS",
                        format!("'{other}' is neither on nor off"),
                    ));
                }
            },
        })
    }
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

/// How many requests a caller may make: `per_second` sustained, `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: u32,
}

/// The request rate limit: a sustained rate and a burst, or none.
fn rate_limit(s: &Settings) -> Result<Option<Rate>, ConfigError> {
    let per_second: u32 = number(s.rate_limit.as_deref(), "SWITCHBOARD_RATE_LIMIT", 0, 0)?;
    if per_second == 0 {
        return Ok(None);
    }
    let burst = number(
        s.rate_burst.as_deref(),
        "SWITCHBOARD_RATE_BURST",
        per_second.saturating_mul(10),
        1,
    )?;
    Ok(Some(Rate {
        per_second: f64::from(per_second),
        burst,
    }))
}

/// A number of whole seconds of at least one.
fn seconds(
    value: Option<&str>,
    variable: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    number(value, variable, default, 1u64).map(Duration::from_secs)
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
                path: PathBuf::from("data/switchboard.db"),
                reader_idle: Duration::from_secs(60),
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
                    sqlite_reader_idle_seconds: Some("0".into()),
                    ..Default::default()
                },
                "SWITCHBOARD_SQLITE_READER_IDLE_SECONDS",
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
