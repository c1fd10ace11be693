//! What a live client reads before it subscribes: where the event log stands, and the
//! server's clock. With them it loads a page of data, subscribes with `after` from the
//! position read first (so that no change committed meanwhile is lost: one may arrive
//! twice, never not at all), and runs countdowns against the server's time rather than
//! its own.

use async_graphql::{Context, Object};

use crate::{
    auth::{Caller, not_signed_in},
    domain::events,
    error::AppResult,
    graphql::{caller, instant::Instant, now, state},
};

#[derive(Default)]
pub struct LiveQuery;

#[Object]
impl LiveQuery {
    /// The `seq` of the last event in the log now. Read it before loading what a
    /// subscription will keep up to date, then subscribe with `after` set to it: every
    /// change committed after the read reaches the subscription (a change the load
    /// already showed may come again; apply changes by id). Signed-in callers.
    async fn event_log_position(&self, ctx: &Context<'_>) -> AppResult<i64> {
        if matches!(caller(ctx), Caller::Anonymous) {
            return Err(not_signed_in());
        }
        events::last_seq(state(ctx).db.conn()).await
    }

    /// The server's clock now. A client counting down to `dueAt` or `nextChangeAt`
    /// measures from it, so that a wrong clock on the client's machine does not move
    /// its countdowns.
    async fn server_time(&self, ctx: &Context<'_>) -> Instant {
        Instant(now(ctx))
    }
}
