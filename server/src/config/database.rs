//! Where the data lives: the database (SQLite by default, or PostgreSQL) and Redis, the
//! event bus between replicas.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use super::{ConfigError, Settings, invalid, seconds};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseConfig {
    Sqlite {
        path: PathBuf,
        /// How long a reader a burst of requests opened may sit unused before it is
        /// closed (`SWITCHBOARD_SQLITE_READER_IDLE_SECONDS`).
        reader_idle: Duration,
    },
    Postgres {
        url: String,
    },
}

/// `DATABASE_URL`, or the SQLite file in the data directory when it is not set.
pub(super) fn database(s: &Settings, data_dir: &Path) -> Result<DatabaseConfig, ConfigError> {
    let reader_idle = seconds(
        s.sqlite_reader_idle_seconds.as_deref(),
        "SWITCHBOARD_SQLITE_READER_IDLE_SECONDS",
        60,
    )?;
    match s.database_url.as_deref().map(str::trim) {
        None | Some("") => Ok(DatabaseConfig::Sqlite {
            path: data_dir.join("switchboard.db"),
            reader_idle,
        }),
        Some(url) => parse_database_url(url, reader_idle),
    }
}

/// `REDIS_URL`: none means the in-process bus.
pub(super) fn redis(s: &Settings) -> Result<Option<String>, ConfigError> {
    match s.redis_url.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
            Ok(Some(url.to_string()))
        }
        Some(url) => Err(invalid(
            "REDIS_URL",
            format!("'{url}' is not a redis:// or rediss:// URL"),
        )),
    }
}

fn parse_database_url(url: &str, reader_idle: Duration) -> Result<DatabaseConfig, ConfigError> {
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
            reader_idle,
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
