//! Logging: text for people, JSON for log collectors. `RUST_LOG` filters.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// What is logged when `RUST_LOG` says nothing: a line per request and per WebSocket
/// close, and whatever goes wrong.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,tower_http=info";

pub fn init(format: LogFormat) {
    init_with(format, DEFAULT_FILTER)
}

/// `init` with another default filter (the test harness keeps to warnings: its
/// servers answer thousands of requests).
pub fn init_with(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let registry = tracing_subscriber::registry().with(filter);
    // Only the first call in a process installs a subscriber; tests may call it often.
    let _ = match format {
        LogFormat::Text => registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(std::io::stderr),
            )
            .try_init(),
    };
}
