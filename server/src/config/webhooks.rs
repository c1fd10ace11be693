//! Where webhooks may go and how long an endpoint has to answer.

use std::time::Duration;

use super::{ConfigError, Settings, invalid, seconds};
use crate::network::Network;

pub(super) struct Webhooks {
    pub timeout: Duration,
    /// Networks webhooks may reach although they are internal.
    pub allow: Vec<Network>,
}

pub(super) fn webhooks(s: &Settings) -> Result<Webhooks, ConfigError> {
    Ok(Webhooks {
        timeout: seconds(
            s.webhook_timeout_seconds.as_deref(),
            "SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS",
            15,
        )?,
        allow: s
            .webhook_allow
            .as_deref()
            .map(Network::parse_list)
            .transpose()
            .map_err(|problem| invalid("SWITCHBOARD_WEBHOOK_ALLOW", problem))?
            .unwrap_or_default(),
    })
}
