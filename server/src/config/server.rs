//! The process itself: where it keeps its files, where it listens, how it logs, whom
//! browsers may call it from, and the pace of its background work.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use super::{ConfigError, Settings, invalid, seconds};

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

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "data";

pub(super) struct Process {
    pub data_dir: PathBuf,
    pub bind: SocketAddr,
    pub log_format: LogFormat,
    pub cors_origins: CorsOrigins,
    pub shutdown_grace: Duration,
    pub job_interval: Duration,
    pub relay_poll: Duration,
}

pub(super) fn process(s: &Settings) -> Result<Process, ConfigError> {
    let data_dir = PathBuf::from(s.data_dir.as_deref().unwrap_or(DEFAULT_DATA_DIR));
    if data_dir.as_os_str().is_empty() {
        return Err(invalid("SWITCHBOARD_DATA_DIR", "must not be empty"));
    }
    let bind_raw = s.bind.as_deref().unwrap_or(DEFAULT_BIND);
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
    Ok(Process {
        data_dir,
        bind,
        log_format,
        cors_origins: parse_cors(s.cors_origins.as_deref())?,
        shutdown_grace: seconds(
            s.shutdown_grace_seconds.as_deref(),
            "SWITCHBOARD_SHUTDOWN_GRACE_SECONDS",
            30,
        )?,
        job_interval: seconds(
            s.job_interval_seconds.as_deref(),
            "SWITCHBOARD_JOB_INTERVAL_SECONDS",
            60,
        )?,
        relay_poll: seconds(
            s.relay_poll_seconds.as_deref(),
            "SWITCHBOARD_RELAY_POLL_SECONDS",
            2,
        )?,
    })
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
