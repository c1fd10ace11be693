//! Background jobs: resolved tickets close themselves after the desk's auto-close period,
//! agreements coming up for review, continuity plans overdue for an exercise and
//! budgets passing their alert share are announced.

use std::time::Duration;

use tokio::sync::watch;

use crate::{clock::SharedClock, db::Db, domain::tickets::commands};

/// Runs until the server shuts down, checking every `interval`.
pub async fn auto_close(
    db: Db,
    clock: SharedClock,
    interval: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        match commands::close_resolved(&db, clock.now()).await {
            Ok(0) => {}
            Ok(closed) => {
                tracing::info!(closed, "closed resolved tickets past the auto-close period")
            }
            Err(error) => tracing::warn!(%error, "auto-close failed; will try again"),
        }
        if let Err(error) = crate::domain::sla::reviews::announce_due(&db, clock.now()).await {
            tracing::warn!(%error, "agreement reviews could not be announced; will try again");
        }
        if let Err(error) =
            crate::domain::continuity::exercises::announce_overdue(&db, clock.now()).await
        {
            tracing::warn!(%error, "overdue continuity exercises could not be announced; will try again");
        }
        if let Err(error) = crate::domain::costs::budgets::announce_passed(&db, clock.now()).await {
            tracing::warn!(%error, "budgets could not be checked; will try again");
        }
        if let Err(error) =
            crate::domain::service_report::mailing::announce_due(&db, clock.now()).await
        {
            tracing::warn!(%error, "monthly service reports could not be announced; will try again");
        }
    }
}
