//! Availability: outages on configuration items, a service's availability over a period
//! against its target, and its month's downtime budget, live.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use entity::outage;

use crate::{
    domain::availability::{
        self, budget,
        measure::State,
        outages::{NewOutage, OutageChanges, OutageFilter},
        report::{self, Report},
    },
    error::{AppError, AppResult},
    graphql::{
        caller,
        catalog::Service,
        cmdb::ConfigurationItem,
        command::acting,
        ids,
        instant::Instant,
        loaders, now,
        pagination::{self, Page, PageArgs},
        state,
    },
};

/// Whether an outage was planned.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::availability::OutageKind")]
pub enum OutageKind {
    /// Agreed in advance (a change's or release's window): outside the agreed service
    /// time, counted apart.
    Planned,
    /// A failure: it counts against availability.
    Unplanned,
}

/// How badly an item was out.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::availability::OutageSeverity")]
pub enum OutageSeverity {
    /// Not available at all: downtime.
    Full,
    /// Impaired but available: reported, not downtime.
    Degraded,
}

/// A time a configuration item was out.
pub struct Outage(pub outage::Model);

/// An outage for `node(id:)`: the desk's.
pub async fn load_node(ctx: &Context<'_>, id: i64) -> AppResult<Outage> {
    availability::outages::get(state(ctx).db.conn(), caller(ctx), id)
        .await
        .map(Outage)
}

/// A time a configuration item was out.
#[Object]
impl Outage {
    /// The globally unique id.
    pub async fn id(&self) -> ID {
        ids::encode("Outage", self.0.id)
    }
    /// Its version, for `updateOutage`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The item that was out.
    async fn configuration_item(&self, ctx: &Context<'_>) -> AppResult<Option<ConfigurationItem>> {
        Ok(ctx
            .data_unchecked::<loaders::ConfigurationItems>()
            .load_one(self.0.configuration_item_id)
            .await?
            .map(ConfigurationItem))
    }
    /// Planned or not.
    async fn kind(&self) -> AppResult<OutageKind> {
        Ok(availability::OutageKind::stored(&self.0.kind)?.into())
    }
    /// Down or degraded.
    async fn severity(&self) -> AppResult<OutageSeverity> {
        Ok(availability::OutageSeverity::stored(&self.0.severity)?.into())
    }
    /// The incident it came from.
    async fn ticket_id(&self) -> Option<ID> {
        self.0.ticket_id.map(|id| ids::encode("Ticket", id))
    }
    /// The change whose window it is.
    async fn change_id(&self) -> Option<ID> {
        self.0.change_id.map(|id| ids::encode("Change", id))
    }
    /// The release whose window it is.
    async fn release_id(&self) -> Option<ID> {
        self.0.release_id.map(|id| ids::encode("Release", id))
    }
    /// When it started.
    async fn started_at(&self) -> Instant {
        Instant(self.0.started_at)
    }
    /// When it ended; null while it goes on.
    async fn ended_at(&self) -> Option<Instant> {
        self.0.ended_at.map(Instant)
    }
    /// What the recorder said of it.
    async fn description(&self) -> &str {
        &self.0.description
    }
}

/// What `recordOutage` takes. Give the incident, change or release it comes from (its
/// items, kind and window follow from it), or the items and the kind yourself.
#[derive(InputObject)]
pub struct RecordOutageInput {
    /// The items that were out; by default the source's items.
    #[graphql(default)]
    pub configuration_item_ids: Vec<ID>,
    /// The incident it comes from: UNPLANNED, from its alerts' first firing (or its
    /// creation) to their resolution.
    pub ticket_id: Option<ID>,
    /// The change whose window it is: PLANNED, its planned window.
    pub change_id: Option<ID>,
    /// The release whose window it is: PLANNED, its planned window.
    pub release_id: Option<ID>,
    /// Without a source: planned or not.
    pub kind: Option<OutageKind>,
    /// FULL (the default) or DEGRADED.
    pub severity: Option<OutageSeverity>,
    /// When it started, if not as the source says.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended, if not as the source says; null while it goes on.
    pub ended_at: Option<DateTime<Utc>>,
    /// What happened.
    pub description: Option<String>,
}

/// What `updateOutage` takes; what is left out is kept.
#[derive(InputObject)]
pub struct UpdateOutageInput {
    /// The outage.
    pub id: ID,
    /// The version read.
    pub version: i32,
    /// FULL or DEGRADED.
    pub severity: Option<OutageSeverity>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// True: it is going on again (its end is removed).
    #[graphql(default)]
    pub ongoing: bool,
    /// What happened.
    pub description: Option<String>,
}

/// What a service was in a stretch of time.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ServiceState {
    /// Available.
    Up,
    /// Available but impaired.
    Degraded,
    /// Down in a planned window.
    PlannedDown,
    /// Down, unplanned.
    Down,
}

/// A stretch of time in one state.
#[derive(SimpleObject)]
pub struct ServiceStretch {
    /// Its start.
    pub from: Instant,
    /// Its end (exclusive).
    pub to: Instant,
    /// What the service was meanwhile.
    pub state: ServiceState,
}

/// A service's availability over a period, measured in its agreed service time (its
/// calendar). Durations are in seconds of service time. For a period still running
/// the figures are to date; the downtime budget is the whole period's.
pub struct ServiceAvailability(pub Report);

fn seconds(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}

/// A service's availability over a period, measured in its agreed service time (its
/// calendar). Durations are in seconds of service time. For a period still running
/// the figures are to date; the downtime budget is the whole period's.
#[Object]
impl ServiceAvailability {
    /// The service.
    async fn service(&self) -> Service {
        Service(self.0.service.clone())
    }
    /// The period's start.
    async fn from(&self) -> Instant {
        Instant(self.0.from)
    }
    /// The period's end.
    async fn to(&self) -> Instant {
        Instant(self.0.to)
    }
    /// Up to when it was measured: the period's end, or now.
    async fn measured_to(&self) -> Instant {
        Instant(self.0.measured_to)
    }
    /// The service calendar's time in the period (to date).
    async fn calendar_seconds(&self) -> f64 {
        seconds(self.0.figures.calendar_time)
    }
    /// Agreed service time: the calendar's time less planned downtime.
    async fn agreed_service_seconds(&self) -> f64 {
        seconds(self.0.figures.agreed_service_time)
    }
    /// Downtime in planned windows, counted apart.
    async fn planned_downtime_seconds(&self) -> f64 {
        seconds(self.0.figures.planned_downtime)
    }
    /// Unplanned downtime in service time.
    async fn downtime_seconds(&self) -> f64 {
        seconds(self.0.figures.unplanned_downtime)
    }
    /// Time impaired but available.
    async fn degraded_seconds(&self) -> f64 {
        seconds(self.0.figures.degraded_time)
    }
    /// (agreed service time − downtime) / agreed service time, in percent.
    async fn availability_percent(&self) -> f64 {
        self.0.figures.availability_percent
    }
    /// Unplanned outages (breaks in service) with service time in them.
    async fn outages(&self) -> i32 {
        self.0.figures.outages as i32
    }
    /// Planned windows with service time in them.
    async fn planned_windows(&self) -> i32 {
        self.0.figures.planned_windows as i32
    }
    /// Mean time to restore service: downtime / outages. Null without outages.
    async fn mtrs_seconds(&self) -> Option<f64> {
        self.0.figures.mtrs.map(seconds)
    }
    /// Mean time between failures: uptime (agreed service time − downtime) / outages.
    async fn mtbf_seconds(&self) -> Option<f64> {
        self.0.figures.mtbf.map(seconds)
    }
    /// Mean time between service incidents: agreed service time / outages.
    async fn mtbsi_seconds(&self) -> Option<f64> {
        self.0.figures.mtbsi.map(seconds)
    }
    /// The service's availability target, in percent; null without one.
    async fn target_percent(&self) -> Option<f64> {
        self.0.target_percent
    }
    /// Whether the target is met (so far): null without a target.
    async fn target_met(&self) -> Option<bool> {
        self.0.met()
    }
    /// The period's downtime budget under the target.
    async fn budget_seconds(&self) -> Option<f64> {
        self.0.budget.map(seconds)
    }
    /// What is left of the budget now ("4 min 19 s of downtime left this month").
    async fn budget_left_seconds(&self) -> Option<f64> {
        self.0.budget_left.map(seconds)
    }
    /// When the budget was spent, if it was.
    async fn budget_spent_at(&self) -> Option<Instant> {
        self.0.spent_at.map(Instant)
    }
    /// When the budget will be spent if the outages going on now go on: a dashboard
    /// counts down to it.
    async fn budget_runs_out_at(&self) -> Option<Instant> {
        self.0.projected_spent_at.map(Instant)
    }
    /// The period in stretches of one state, for a timeline chart.
    async fn stretches(&self) -> Vec<ServiceStretch> {
        self.0
            .stretches
            .iter()
            .map(|s| ServiceStretch {
                from: Instant(s.from),
                to: Instant(s.to),
                state: match s.state {
                    State::Up => ServiceState::Up,
                    State::Degraded => ServiceState::Degraded,
                    State::Planned => ServiceState::PlannedDown,
                    State::Unplanned => ServiceState::Down,
                },
            })
            .collect()
    }
}

#[derive(Default)]
pub struct AvailabilityQuery;

#[Object]
impl AvailabilityQuery {
    /// Outages, newest first. The desk, and tokens that read the CMDB.
    #[allow(clippy::too_many_arguments)]
    async fn outages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the outages of this item.")] configuration_item_id: Option<ID>,
        #[graphql(desc = "Only the outages of this incident.")] ticket_id: Option<ID>,
        #[graphql(desc = "Only planned, or only unplanned, ones.")] kind: Option<OutageKind>,
        #[graphql(desc = "Only those going on (true) or over (false).")] ongoing: Option<bool>,
        #[graphql(desc = "Only those that overlap from this instant…")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "…up to this one.")] to: Option<DateTime<Utc>>,
        #[graphql(desc = "How many to take from the start.")] first: Option<i32>,
        #[graphql(desc = "Take items after this cursor: the `endCursor` of the page before.")]
        after: Option<String>,
        #[graphql(desc = "How many to take from the end.")] last: Option<i32>,
        #[graphql(desc = "Take items before this cursor: the `startCursor` of the page after.")]
        before: Option<String>,
    ) -> AppResult<Page<Outage>> {
        let page = PageArgs::new(first, after, last, before).keyed()?;
        let filter = OutageFilter {
            configuration_item_id: ids::decode_opt(
                configuration_item_id,
                "ConfigurationItem",
                "configurationItemId",
            )?,
            ticket_id: ids::decode_opt(ticket_id, "Ticket", "ticketId")?,
            kind: kind.map(Into::into),
            ongoing,
            from,
            to,
        };
        let rows =
            availability::outages::list(state(ctx).db.conn(), caller(ctx), &filter, &page).await?;
        Ok(pagination::connection(&page, rows, |o| o.id, Outage))
    }

    /// How available a service was in a month (in its calendar's time zone), or over
    /// `from`–`to`, against its target. The desk, and tokens that read the CMDB.
    async fn service_availability(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] service_id: ID,
        #[graphql(desc = "The month, YYYY-MM; this month when neither it nor from/to is given.")]
        month: Option<String>,
        #[graphql(desc = "Or a period: from this instant…")] from: Option<DateTime<Utc>>,
        #[graphql(desc = "…to this one.")] to: Option<DateTime<Utc>>,
    ) -> AppResult<ServiceAvailability> {
        let service_id = ids::decode_as(&service_id, "Service", "serviceId")?;
        let conn = state(ctx).db.conn();
        let now = now(ctx);
        availability::require_reader(caller(ctx))?;
        let (from, to) = match (month, from, to) {
            (None, Some(from), Some(to)) => (from, to),
            (month, None, None) => {
                let row = crate::domain::lookup::referenced::<entity::service::Entity>(
                    conn,
                    service_id,
                    "serviceId",
                    "service",
                )
                .await?;
                let calendar = report::calendar_of(conn, &row).await?;
                let (from, to, _) = match month {
                    None => report::month_containing(&calendar, now),
                    Some(text) => {
                        let bad = || {
                            AppError::bad_input(
                                "month",
                                format!("'{text}' is not a month such as 2026-11"),
                            )
                        };
                        let (y, m) = text.split_once('-').ok_or_else(bad)?;
                        let (y, m) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
                        report::month(&calendar, y, m).ok_or_else(bad)?
                    }
                };
                (from, to)
            }
            _ => {
                return Err(AppError::bad_input(
                    "month",
                    "give a month, or both from and to, not a mix",
                ));
            }
        };
        let report = report::for_service(conn, caller(ctx), service_id, from, to, now).await?;
        Ok(ServiceAvailability(report))
    }
}

#[derive(Default)]
pub struct AvailabilityMutation;

#[Object]
impl AvailabilityMutation {
    /// Records an outage on each item: from an incident (unplanned), a change or a
    /// release (planned, its window), or as you say. Agents.
    async fn record_outage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to record; see the fields of the input type.")]
        input: RecordOutageInput,
    ) -> AppResult<Vec<Outage>> {
        let new = NewOutage {
            configuration_item_ids: ids::decode_all(
                &input.configuration_item_ids,
                "ConfigurationItem",
                "configurationItemIds",
            )?,
            ticket_id: ids::decode_opt(input.ticket_id, "Ticket", "ticketId")?,
            change_id: ids::decode_opt(input.change_id, "Change", "changeId")?,
            release_id: ids::decode_opt(input.release_id, "Release", "releaseId")?,
            kind: input.kind.map(Into::into),
            severity: input.severity.map(Into::into),
            started_at: input.started_at,
            ended_at: input.ended_at,
            description: input.description,
        };
        let on = acting(ctx);
        let rows = availability::outages::record(on.db, on.caller, on.now, new).await?;
        Ok(rows.into_iter().map(Outage).collect())
    }

    /// Corrects an outage: its severity, start, end, or description. Agents.
    async fn update_outage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to change; see the fields of the input type.")]
        input: UpdateOutageInput,
    ) -> AppResult<Outage> {
        let id = ids::decode_as(&input.id, "Outage", "id")?;
        let changes = OutageChanges {
            severity: input.severity.map(Into::into),
            started_at: input.started_at,
            ended_at: if input.ongoing {
                Some(None)
            } else {
                input.ended_at.map(Some)
            },
            description: input.description,
        };
        let on = acting(ctx);
        let row =
            availability::outages::update(on.db, on.caller, on.now, id, input.version, changes)
                .await?;
        Ok(Outage(row))
    }

    /// Sets a service's monthly availability target (99.9, say), or removes it with
    /// null. Managers.
    async fn set_availability_target(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] service_id: ID,
        #[graphql(
            desc = "Percent of agreed service time, above 0 and at most 100; null removes it."
        )]
        target_percent: Option<f64>,
    ) -> AppResult<Service> {
        let service_id = ids::decode_as(&service_id, "Service", "serviceId")?;
        let on = acting(ctx);
        let row = budget::set_target(on.db, on.caller, on.now, service_id, target_percent).await?;
        Ok(Service(row))
    }
}
