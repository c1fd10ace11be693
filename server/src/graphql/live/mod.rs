//! Subscriptions: what happens to tickets, as it commits. Each starts by replaying from
//! the event log what the subscriber missed (`after: <seq>`) and then continues live
//! from this replica's hub, with no gap and no duplicate.

mod filters;
mod start;

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Subscription};
use futures::Stream;
use serde_json::Value;
use tokio::sync::{broadcast::error::RecvError, mpsc};
use tokio_stream::wrappers::ReceiverStream;

pub use self::filters::QueueChangeKind;
use self::filters::{AlertsWanted, instant_in, queue_change, visible_to};
pub use self::start::LiveQuery;
use crate::graphql::instant::Instant;
use crate::{
    domain::{
        events::{self, Topic},
        tickets::{queries, visibility::Scope},
    },
    error::{AppError, AppResult},
    events::{Envelope, Shared},
    graphql::{
        caller, ids, state,
        tickets::{FieldChange, Priority, Ticket},
    },
};

/// Where a live subscription has got to: the `seq` of the event its resolver took last.
/// The socket reads it after each response, so that it can tell a subscriber that falls
/// behind exactly where to resume from, whatever fields the subscriber asked for.
#[derive(Default)]
pub struct Position(AtomicI64);

impl Position {
    /// The event behind the latest response; none before the first, and for streams of
    /// states (a dashboard's counts) rather than events.
    pub fn get(&self) -> Option<i64> {
        Some(self.0.load(Ordering::Acquire)).filter(|&seq| seq > 0)
    }

    fn set(&self, seq: i64) {
        self.0.store(seq, Ordering::Release);
    }
}

/// Where a subscription that gives no `after` starts: the last event the hub had when
/// the server accepted the subscribe message. The resolver itself runs a moment later;
/// events published in between are replayed from the log, so that a change committed
/// once a client's subscription is running (as `switchboard_subscriptions` counts it)
/// always reaches it.
pub struct StartAfter(pub i64);

/// Replays `seq > after` from the log, then follows the hub, passing on what `wanted`
/// accepts. A subscriber that falls too far behind gets an error naming the `after` to
/// resume from, and the stream ends.
pub fn follow<F>(
    ctx: &Context<'_>,
    after: Option<i64>,
    wanted: F,
) -> impl Stream<Item = AppResult<Shared>> + Send + use<F>
where
    F: Fn(&Envelope) -> bool + Send + Sync + 'static,
{
    let app = state(ctx).clone();
    let position = ctx.data_opt::<Arc<Position>>().cloned();
    let accepted = ctx.data_opt::<StartAfter>().map(|start| start.0);
    // Subscribe before replaying, so that nothing published meanwhile is lost.
    let mut live = app.hub.subscribe();
    // Events a slow subscriber may have waiting before it is told to resume with `after`
    // (SWITCHBOARD_WS_QUEUE), and room for that notice.
    let (out, receiver) = mpsc::channel::<AppResult<Shared>>(app.config.ws_queue + 1);
    tokio::spawn(async move {
        let now = app.hub.last_seq().await;
        let mut last = after.or(accepted).unwrap_or(now);
        // Replay what the client asked for, or what was published since it subscribed.
        if after.is_some() || last < now {
            loop {
                let rows = match events::published_after(app.db.conn(), last, None).await {
                    Ok(rows) => rows,
                    Err(error) => {
                        let _ = out.send(Err(error)).await;
                        return;
                    }
                };
                let count = rows.len();
                for envelope in rows.iter().filter_map(Envelope::of) {
                    last = envelope.seq;
                    if wanted(&envelope) && out.send(Ok(Arc::new(envelope))).await.is_err() {
                        return;
                    }
                }
                if (count as u64) < events::PAGE {
                    break;
                }
            }
        }
        loop {
            match live.recv().await {
                Ok(envelope) if envelope.seq <= last => {}
                Ok(envelope) => {
                    last = envelope.seq;
                    if !wanted(&envelope) {
                        continue;
                    }
                    // The last slot is kept for the notice: a queue down to it means the
                    // client is not reading, and must be told where to resume from.
                    if out.capacity() <= 1 {
                        let _ = out.try_send(Err(behind(last - 1)));
                        return;
                    }
                    let _ = out.try_send(Ok(envelope));
                    if out.is_closed() {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    // Everything up to `last` reached the queue; what the hub dropped
                    // after it did not.
                    let _ = out.send(Err(behind(last))).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            }
        }
    });
    // The position moves when the resolver takes an event, not when it is queued.
    futures::StreamExt::inspect(ReceiverStream::new(receiver), move |item| {
        if let (Some(position), Ok(envelope)) = (&position, item) {
            position.set(envelope.seq);
        }
    })
}

/// The notice for a subscriber that fell behind: RATE_LIMITED with
/// `extensions.resumeAfter`, the last event it was given, which the socket closes on.
fn behind(delivered: i64) -> AppError {
    AppError::FellBehind(delivered)
}

/// Something that happened to a ticket.
pub struct TicketEvent(pub Shared);

/// A change to a ticket, as subscriptions push it.
#[Object]
impl TicketEvent {
    /// The event's place in the log: resume from it with `after`.
    async fn seq(&self) -> i64 {
        self.0.seq
    }
    /// `ticket.created`, `ticket.updated`, `ticket.status_changed`, `sla.warning`, …
    async fn action(&self) -> &str {
        self.0.topic.as_str()
    }
    /// When it happened.
    async fn at(&self) -> Instant {
        Instant(self.0.at)
    }
    /// Who did it, by name as it was then.
    async fn actor_name(&self) -> &str {
        &self.0.actor_name
    }
    /// The ticket's id.
    async fn ticket_id(&self) -> ID {
        ids::encode("Ticket", self.0.entity_id)
    }
    /// The ticket's number.
    async fn ticket_number(&self) -> Option<&str> {
        self.0.ticket.as_ref().map(|ticket| ticket.number.as_str())
    }
    /// The fields it changed, before and after.
    async fn changes(&self) -> Vec<FieldChange> {
        FieldChange::list(&self.0.payload)
    }
    /// The rest of what the event carries, as JSON.
    async fn details(&self) -> Json<Value> {
        let mut details = self.0.payload.clone();
        if let Some(object) = details.as_object_mut() {
            object.remove("changes");
        }
        Json(details)
    }
    /// The ticket as it is now, if the subscriber may still see it: null once it has
    /// moved out of their sight (to another group's queue, say), exactly as a query
    /// made now would not show it.
    async fn ticket(&self, ctx: &Context<'_>) -> AppResult<Option<Ticket>> {
        crate::graphql::tickets::visible(ctx, self.0.entity_id).await
    }
}

/// A queue's change: one ticket, never the whole queue again.
pub struct QueueChange {
    kind: QueueChangeKind,
    group: i64,
    event: TicketEvent,
}

/// Something that changed a queue: a ticket arrived, changed in it, or left it.
#[Object]
impl QueueChange {
    /// Whether the ticket arrived, changed or left.
    async fn kind(&self) -> QueueChangeKind {
        self.kind
    }
    /// The event behind it.
    async fn event(&self) -> &TicketEvent {
        &self.event
    }
    /// Where the ticket now sorts in the queue's working order (priority, then oldest
    /// first), counting from 0 among its open tickets; null once it has left.
    async fn position(&self, ctx: &Context<'_>) -> AppResult<Option<u64>> {
        if self.kind == QueueChangeKind::Left {
            return Ok(None);
        }
        let Some(ticket) = &self.event.0.ticket else {
            return Ok(None);
        };
        let id = self.event.0.entity_id;
        queries::queue_position(state(ctx).db.conn(), self.group, ticket.priority, id).await
    }
}

/// What an SLA alert says.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum SlaAlertKind {
    /// A warning threshold passed.
    Warning,
    /// The target was missed.
    Breached,
}

/// Which SLA alerts to hear about; every condition given must hold.
#[derive(InputObject, Default)]
pub struct SlaAlertFilter {
    /// Only tickets in this group's queue.
    pub group_id: Option<ID>,
    /// Only tickets about this service.
    pub service_id: Option<ID>,
    /// Only tickets of this priority.
    pub priority: Option<Priority>,
    /// Only tickets of this organization.
    pub organization_id: Option<ID>,
}

/// An SLA warning or breach, with the clock's state when it went out.
pub struct SlaAlert(TicketEvent);

/// A warning or breach of an SLA clock, as `slaAlerts` pushes it.
#[Object]
impl SlaAlert {
    /// The event's sequence number: resume with `after` from it.
    async fn seq(&self) -> i64 {
        self.0.0.seq
    }
    /// A warning (a threshold passed) or a breach.
    async fn kind(&self) -> SlaAlertKind {
        if self.0.0.topic == Topic::SlaBreached {
            SlaAlertKind::Breached
        } else {
            SlaAlertKind::Warning
        }
    }
    /// Which clock crossed its threshold.
    async fn metric(&self) -> Option<crate::graphql::sla::SlaMetric> {
        match self.0.0.payload["metric"].as_str()? {
            "RESPONSE" => Some(crate::graphql::sla::SlaMetric::Response),
            "RESOLUTION" => Some(crate::graphql::sla::SlaMetric::Resolution),
            _ => None,
        }
    }
    /// The share of the target elapsed: a warning threshold, or 100.
    async fn percent(&self) -> Option<i64> {
        self.0.0.payload["percent"].as_i64()
    }
    /// The exact instant the threshold was reached.
    async fn instant(&self) -> Option<Instant> {
        instant_in(&self.0.0.payload["instant"]).map(Instant)
    }
    /// When the clock is due, as of the alert: count down to it.
    async fn due_at(&self) -> Option<Instant> {
        instant_in(&self.0.0.payload["dueAt"]).map(Instant)
    }
    /// Business seconds left on the clock when it was sent (negative once breached).
    async fn remaining_seconds(&self) -> Option<i64> {
        self.0.0.payload["remainingSeconds"].as_i64()
    }
    /// The event behind it.
    async fn event(&self) -> &TicketEvent {
        &self.0
    }
}

/// How often a dashboard may be pushed new counts: changes in between are coalesced.
const DASHBOARD_PERIOD: std::time::Duration = std::time::Duration::from_millis(300);

#[derive(Default)]
pub struct LiveSubscription;

#[Subscription]
impl LiveSubscription {
    /// Everything that happens to one ticket. With `after`, first what was missed.
    async fn ticket_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ticket's id.")] id: ID,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = AppResult<TicketEvent>> + use<>> {
        let ticket_id = ids::decode_as(&id, "Ticket", "id")?;
        let scope = Scope::of(state(ctx).db.conn(), caller(ctx)).await?;
        queries::by_id(state(ctx).db.conn(), &scope, ticket_id).await?;
        let stream = follow(ctx, after, move |e| {
            e.entity_id == ticket_id && visible_to(&scope, e)
        });
        Ok(futures::StreamExt::map(stream, |e| e.map(TicketEvent)))
    }

    /// A group's queue: tickets entering, leaving and changing in it, one at a time.
    async fn queue_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The group whose queue to watch.")] group_id: ID,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = AppResult<QueueChange>> + use<>> {
        let group = ids::decode_as(&group_id, "Group", "groupId")?;
        let scope = Scope::of(state(ctx).db.conn(), caller(ctx)).await?;
        if !scope.works_queue(group) {
            return Err(AppError::Forbidden("you do not work this group's queue".into()).into());
        }
        let sees_internal = scope.sees_internal();
        let stream = follow(ctx, after, move |e| {
            e.entity_type == "ticket"
                && (!e.internal || sees_internal)
                && queue_change(group, e).is_some()
        });
        Ok(futures::StreamExt::map(stream, move |e| {
            e.map(|e| QueueChange {
                kind: queue_change(group, &e).unwrap_or(QueueChangeKind::Changed),
                group,
                event: TicketEvent(e),
            })
        }))
    }

    /// Live counts by status and priority over the tickets the caller may see (narrowed
    /// by the filter): the counts now, then again whenever they change, at most a few
    /// times a second however busy the desk.
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which tickets the counts cover.")] filter: Option<
            crate::graphql::tickets::TicketFilterInput,
        >,
    ) -> async_graphql::Result<
        impl Stream<Item = AppResult<crate::graphql::tickets::TicketCounts>> + use<>,
    > {
        let filter = filter.unwrap_or_default().into_domain()?;
        let app = state(ctx).clone();
        let scope = Scope::of(app.db.conn(), caller(ctx)).await?;
        let mut events = app.hub.subscribe();
        let (out, receiver) = mpsc::channel(4);
        tokio::spawn(async move {
            let mut shown: Option<queries::Counts> = None;
            let mut changed = true;
            let mut ticker = tokio::time::interval(DASHBOARD_PERIOD);
            loop {
                tokio::select! {
                    event = events.recv() => match event {
                        Ok(event) => changed |= event.ticket.is_some() && !event.topic.is_about_sla(),
                        // Missed some: recount to be sure.
                        Err(RecvError::Lagged(_)) => changed = true,
                        Err(RecvError::Closed) => return,
                    },
                    _ = ticker.tick(), if changed => {
                        changed = false;
                        let counts = match queries::counts(app.db.conn(), &scope, &filter).await {
                            Ok(counts) => counts,
                            Err(error) => { let _ = out.send(Err(error)).await; return; }
                        };
                        if shown.as_ref() != Some(&counts) {
                            shown = Some(counts.clone());
                            let update = crate::graphql::tickets::TicketCounts::of(counts);
                            if out.send(update).await.is_err() {
                                return;
                            }
                        }
                    }
                    _ = out.closed() => return,
                }
            }
        });
        Ok(ReceiverStream::new(receiver))
    }

    /// SLA warnings and breaches on the tickets the caller may see, narrowed by group,
    /// service, priority or organization.
    async fn sla_alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which tickets to hear about; all the caller may see when left out.")]
        filter: Option<SlaAlertFilter>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = AppResult<SlaAlert>> + use<>> {
        let filter = filter.unwrap_or_default();
        let wanted = AlertsWanted {
            group: ids::decode_opt(filter.group_id, "Group", "groupId")?,
            service: ids::decode_opt(filter.service_id, "Service", "serviceId")?,
            organization: ids::decode_opt(
                filter.organization_id,
                "Organization",
                "organizationId",
            )?,
            priority: filter.priority.map(Priority::number),
        };
        let scope = Scope::of(state(ctx).db.conn(), caller(ctx)).await?;
        let stream = follow(ctx, after, move |e| wanted.matches(&scope, e));
        Ok(futures::StreamExt::map(stream, |e| {
            e.map(|e| SlaAlert(TicketEvent(e)))
        }))
    }
}
