//! What one client may ask of the server: the query limits, the request body, and the
//! WebSocket's connections, subscriptions and queue.

use std::time::Duration;

use super::{ConfigError, Settings, number, seconds};

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub max_directives: usize,
    pub max_body_bytes: usize,
    /// The largest attachment, and the most one ticket keeps.
    pub attachments: AttachmentLimits,
}

/// How much the desk takes: a file, and all the files on one ticket, in bytes.
#[derive(Clone, Copy, Debug)]
pub struct AttachmentLimits {
    pub per_file: u64,
    pub per_ticket: u64,
}

/// The WebSocket's limits and timings.
pub(super) struct Sockets {
    pub init_timeout: Duration,
    pub keepalive: Duration,
    pub max_connections: usize,
    pub max_subscriptions: usize,
    pub queue: usize,
}

pub(super) fn limits(s: &Settings) -> Result<Limits, ConfigError> {
    Ok(Limits {
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
        attachments: AttachmentLimits {
            per_file: number(
                s.max_attachment_bytes.as_deref(),
                "SWITCHBOARD_MAX_ATTACHMENT_BYTES",
                25 * 1024 * 1024,
                1024,
            )?,
            per_ticket: number(
                s.max_ticket_attachment_bytes.as_deref(),
                "SWITCHBOARD_MAX_TICKET_ATTACHMENT_BYTES",
                250 * 1024 * 1024,
                1024,
            )?,
        },
    })
}

pub(super) fn sockets(s: &Settings) -> Result<Sockets, ConfigError> {
    Ok(Sockets {
        init_timeout: seconds(
            s.ws_init_timeout_seconds.as_deref(),
            "SWITCHBOARD_WS_INIT_TIMEOUT_SECONDS",
            10,
        )?,
        keepalive: seconds(
            s.ws_keepalive_seconds.as_deref(),
            "SWITCHBOARD_WS_KEEPALIVE_SECONDS",
            15,
        )?,
        max_connections: number(
            s.ws_max_connections.as_deref(),
            "SWITCHBOARD_WS_MAX_CONNECTIONS",
            50,
            1,
        )?,
        max_subscriptions: number(
            s.ws_max_subscriptions.as_deref(),
            "SWITCHBOARD_WS_MAX_SUBSCRIPTIONS",
            100,
            1,
        )?,
        queue: number(s.ws_queue.as_deref(), "SWITCHBOARD_WS_QUEUE", 256, 1)?,
    })
}
