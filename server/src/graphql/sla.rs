//! SLAs: calendars and policies (admins), and each ticket's clocks (everyone who sees it).

use crate::graphql::command::acting;
use std::collections::HashMap;

use async_graphql::{
    Context, Enum, ID, InputObject, Object, SimpleObject,
    dataloader::{DataLoader, HashMapCache, Loader},
};
use chrono::{DateTime, Utc};
use entity::{calendar, sla_clock, sla_policy};

use crate::graphql::instant::Instant;
use crate::{
    auth::Role,
    db::Db,
    domain::calendar::Calendar as BusinessCalendar,
    domain::{
        sla::{
            Metric,
            clocks::{self, Display},
            reads,
            setup::{self, CalendarFields, PolicyFields},
        },
        tickets::types,
        users::strings,
    },
    error::{AppError, AppResult},
    graphql::{
        caller, ids, loaders, now, state,
        tickets::{PendingReason, Priority, TicketKind},
    },
};

/// Whom an SLA policy is agreed with, and so when its clocks run.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "crate::domain::sla::Agreement")]
pub enum AgreementKind {
    /// A service level agreement with the customer (an organization, or everyone): its
    /// clocks run from the ticket's creation.
    Sla,
    /// An operational level agreement with an internal group (`groupId`): its clocks run
    /// while the ticket sits with that group; its response is the group taking it.
    Ola,
    /// An underpinning contract with a supplier (`supplierId`): its resolution clock runs
    /// while the ticket is handed to that supplier.
    UnderpinningContract,
}

/// A ticket's clocks, loaded for a whole page at once.
pub struct ClocksByTicket(pub Db);

impl Loader<i64> for ClocksByTicket {
    type Value = Vec<sla_clock::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, AppError> {
        // Every ticket asked for gets an entry, an empty one too: a ticket without
        // clocks is then known, not loaded again in a second batch.
        reads::clocks_of_tickets(self.0.conn(), keys).await
    }
}

pub type Clocks = DataLoader<ClocksByTicket, HashMapCache>;

pub async fn clocks_of(ctx: &Context<'_>, ticket_id: i64) -> AppResult<Vec<SlaClock>> {
    let rows = ctx
        .data_unchecked::<Clocks>()
        .load_one(ticket_id)
        .await?
        .unwrap_or_default();
    let at = now(ctx);
    let mut clocks = Vec::with_capacity(rows.len());
    for row in rows {
        // Through the loader: a page of tickets reads each calendar once, not once per clock.
        let calendar = match row.calendar_id {
            Some(id) => {
                let stored = ctx
                    .data_unchecked::<loaders::Calendars>()
                    .load_one(id)
                    .await?;
                clocks::to_calendar(
                    &stored.ok_or_else(|| AppError::Internal(format!("calendar {id} is gone")))?,
                )?
            }
            None => BusinessCalendar::always(),
        };
        clocks.push(SlaClock {
            display: clocks::display(&row, &calendar, at),
            next_change: clocks::next_change(&row, &calendar, at),
            elapsed: clocks::elapsed(&row, &calendar, at),
            row,
        });
    }
    Ok(clocks)
}

/// What an SLA clock measures.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum SlaMetric {
    /// Time to the first public response by the desk.
    Response,
    /// Time to resolution.
    Resolution,
}

/// The state of an SLA clock.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Display")]
pub enum SlaClockState {
    /// Running in business hours.
    Running,
    /// Paused while the ticket waits for a reason the policy names.
    Paused,
    /// Running, but the calendar is closed now: the countdown stands still.
    OutsideBusinessHours,
    /// The target was met.
    Met,
    /// The target was missed; the clock runs on to measure by how much.
    Breached,
    /// The ticket was cancelled; the target no longer counts.
    Cancelled,
}

/// One of a ticket's SLA clocks, as of the moment it was read.
pub struct SlaClock {
    row: sla_clock::Model,
    display: Display,
    next_change: Option<DateTime<Utc>>,
    elapsed: chrono::Duration,
}

/// One SLA target of a ticket (response or resolution), timed in business hours.
#[Object]
impl SlaClock {
    /// Which kind of agreement it counts for.
    async fn agreement(&self) -> AppResult<AgreementKind> {
        Ok(crate::domain::sla::Agreement::stored(&self.row.agreement)?.into())
    }
    /// For an OLA: the group whose hold of the ticket it counts.
    async fn group_id(&self) -> Option<ID> {
        self.row.group_id.map(|id| ids::encode("Group", id))
    }
    /// For an underpinning contract: the supplier whose hold of the ticket it counts.
    async fn supplier_id(&self) -> Option<ID> {
        self.row.supplier_id.map(|id| ids::encode("Supplier", id))
    }
    /// Which target the clock measures.
    async fn metric(&self) -> SlaMetric {
        if self.row.metric == Metric::Response.as_str() {
            SlaMetric::Response
        } else {
            SlaMetric::Resolution
        }
    }
    /// Whether it runs, is paused, met, breached or cancelled.
    async fn state(&self) -> SlaClockState {
        self.display.into()
    }
    /// The policy that set the target.
    async fn policy(&self, ctx: &Context<'_>) -> AppResult<Option<SlaPolicy>> {
        let policy = ctx
            .data_unchecked::<loaders::SlaPolicies>()
            .load_one(self.row.policy_id)
            .await?;
        Ok(policy.map(SlaPolicy))
    }
    /// The target, in business seconds.
    async fn target_seconds(&self) -> i64 {
        self.row.target_seconds
    }
    /// Business seconds the clock has run.
    async fn elapsed_seconds(&self) -> i64 {
        self.elapsed.num_seconds()
    }
    /// Business seconds left; negative once breached.
    async fn remaining_seconds(&self) -> i64 {
        self.row.target_seconds - self.elapsed.num_seconds()
    }
    /// When it falls due, while it runs.
    async fn due_at(&self) -> Option<Instant> {
        self.row.due_at.map(Instant)
    }
    /// The next instant its state changes (an alert, the calendar opening or closing):
    /// a dashboard counts down to it instead of polling.
    async fn next_change_at(&self) -> Option<Instant> {
        self.next_change.map(Instant)
    }
    /// When the target was missed; null while met or running.
    async fn breached_at(&self) -> Option<Instant> {
        self.row.breached_at.map(Instant)
    }
    /// When the clock stopped (met or cancelled).
    async fn stopped_at(&self) -> Option<Instant> {
        self.row.stopped_at.map(Instant)
    }
    /// The ledger: when it ran, when it was paused, and why.
    async fn segments(&self, ctx: &Context<'_>) -> AppResult<Vec<SlaClockSegment>> {
        let rows = reads::segments(state(ctx).db.conn(), self.row.id).await?;
        Ok(rows
            .into_iter()
            .map(|s| SlaClockSegment {
                running: s.state == clocks::ClockState::Running.as_str(),
                reason: s.reason,
                started_at: Instant(s.started_at),
                ended_at: s.ended_at.map(Instant),
            })
            .collect())
    }
}

/// A stretch of time an SLA clock ran or was paused.
#[derive(SimpleObject)]
pub struct SlaClockSegment {
    /// Running (true) or paused (false).
    pub running: bool,
    /// Why the clock paused, for paused segments.
    pub reason: String,
    /// When it began.
    pub started_at: Instant,
    /// When it ended; null for the running segment.
    pub ended_at: Option<Instant>,
}

/// Business hours: weekly spans in a time zone, less holidays.
pub struct Calendar(pub calendar::Model);

/// Business hours and holidays in a time zone: SLA clocks only run inside them.
#[Object]
impl Calendar {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("Calendar", self.0.id)
    }
    /// A name, e.g. "Berlin office hours".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The IANA time zone its hours are in, e.g. "Europe/Berlin".
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    /// Seven lists of "HH:MM-HH:MM" spans, Monday first.
    async fn week(&self) -> Vec<Vec<String>> {
        self.0
            .week
            .as_array()
            .map(|days| days.iter().map(strings).collect())
            .unwrap_or_default()
    }
    /// Whole days off, as dates (YYYY-MM-DD) in the calendar's time zone.
    async fn holidays(&self) -> Vec<String> {
        strings(&self.0.holidays)
    }
}

/// What the desk promises the tickets it matches.
pub struct SlaPolicy(pub sla_policy::Model);

/// Response and resolution targets for the tickets it matches, in business minutes of a
/// calendar.
#[Object]
impl SlaPolicy {
    /// The globally unique id (Relay `Node`): pass it wherever an id of this kind is asked
    /// for, or to `node(id:)`.
    pub async fn id(&self) -> ID {
        ids::encode("SlaPolicy", self.0.id)
    }
    /// A name, e.g. "P1 incidents".
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Where it stands in the order policies are tried; the first match applies.
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// Inactive policies start no clocks.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Matches tickets of this kind; null matches any.
    async fn kind(&self) -> AppResult<Option<TicketKind>> {
        self.0
            .match_kind
            .as_deref()
            .map(|k| types::Kind::parse(k, "kind").map(Into::into))
            .transpose()
    }
    /// Matches tickets of this priority; null matches any.
    async fn priority(&self) -> Option<Priority> {
        self.0.match_priority.map(Priority::from_number)
    }
    /// None: the built-in 24x7 calendar.
    async fn calendar(&self, ctx: &Context<'_>) -> AppResult<Option<Calendar>> {
        match self.0.calendar_id {
            Some(id) => Ok(ctx
                .data_unchecked::<loaders::Calendars>()
                .load_one(id)
                .await?
                .map(Calendar)),
            None => Ok(None),
        }
    }
    /// The first-response target, in business minutes.
    async fn response_minutes(&self) -> Option<i32> {
        self.0.response_minutes
    }
    /// The resolution target, in business minutes.
    async fn resolution_minutes(&self) -> Option<i32> {
        self.0.resolution_minutes
    }
    /// Percentages of the target at which warnings go out, e.g. [75, 90].
    async fn warn_percents(&self) -> Vec<i64> {
        self.0
            .warn_percents
            .as_array()
            .map(|v| v.iter().filter_map(|p| p.as_i64()).collect())
            .unwrap_or_default()
    }
    /// Pending reasons that pause its clocks.
    async fn pause_reasons(&self) -> AppResult<Vec<PendingReason>> {
        strings(&self.0.pause_reasons)
            .iter()
            .map(|r| types::PendingReason::parse(r, "pauseReasons").map(Into::into))
            .collect()
    }
    /// Whom it is agreed with: the customer (SLA), a group (OLA) or a supplier.
    async fn agreement(&self) -> AppResult<AgreementKind> {
        Ok(crate::domain::sla::Agreement::stored(&self.0.agreement)?.into())
    }
    /// For an OLA: the internal group it is agreed with.
    async fn group_id(&self) -> Option<ID> {
        self.0.match_group_id.map(|id| ids::encode("Group", id))
    }
    /// For an underpinning contract: the supplier it is agreed with.
    async fn supplier_id(&self) -> Option<ID> {
        self.0.supplier_id.map(|id| ids::encode("Supplier", id))
    }
    /// From when it applies (open when null).
    async fn valid_from(&self) -> Option<Instant> {
        self.0.valid_from.map(Instant)
    }
    /// Until when it applies (open when null).
    async fn valid_until(&self) -> Option<Instant> {
        self.0.valid_until.map(Instant)
    }
    /// When it is to be reviewed with the other party (`agreement.review_due` goes out
    /// 30 days before).
    async fn review_at(&self) -> Option<Instant> {
        self.0.review_at.map(Instant)
    }
    /// Where the signed document is.
    async fn document_url(&self) -> Option<&str> {
        self.0.document_url.as_deref()
    }
}

#[derive(Default)]
pub struct SlaQuery;

#[Object]
impl SlaQuery {
    /// Business-hour calendars. Agents.
    async fn calendars(&self, ctx: &Context<'_>) -> AppResult<Vec<Calendar>> {
        let rows = reads::calendars(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(Calendar).collect())
    }
    /// Policies in the order they are tried.
    async fn sla_policies(&self, ctx: &Context<'_>) -> AppResult<Vec<SlaPolicy>> {
        let rows = reads::policies(state(ctx).db.conn(), caller(ctx)).await?;
        Ok(rows.into_iter().map(SlaPolicy).collect())
    }
}

/// What `saveCalendar` takes.
#[derive(InputObject)]
pub struct SaveCalendarInput {
    /// Absent to create one.
    pub id: Option<ID>,
    /// A name, e.g. "Berlin office hours".
    pub name: String,
    /// An IANA time zone, e.g. Europe/Paris.
    pub time_zone: String,
    /// Seven lists of "HH:MM-HH:MM" spans, Monday first; an empty list for a closed day.
    pub week: Vec<Vec<String>>,
    /// Dates ("YYYY-MM-DD") with no business hours.
    #[graphql(default)]
    pub holidays: Vec<String>,
}

/// What a mutation on a calendar returns: the calendar as it is after the change.
#[derive(SimpleObject)]
pub struct CalendarPayload {
    /// The calendar as it is after the change.
    pub calendar: Calendar,
}

/// What `saveSlaPolicy` takes.
#[derive(InputObject)]
pub struct SaveSlaPolicyInput {
    /// Absent to create one.
    pub id: Option<ID>,
    /// A name, e.g. "P1 incidents".
    pub name: String,
    /// Policies are tried in ascending position: put customer contracts first.
    pub position: i32,
    /// Inactive policies start no clocks.
    #[graphql(default = true)]
    pub active: bool,
    /// Matches tickets of this kind; null matches any.
    pub kind: Option<TicketKind>,
    /// Matches tickets of this priority; null matches any.
    pub priority: Option<Priority>,
    /// This category and those below it.
    pub category_id: Option<ID>,
    /// The id of the service.
    pub service_id: Option<ID>,
    /// The id of the organization.
    pub organization_id: Option<ID>,
    /// None: the built-in 24x7 calendar.
    pub calendar_id: Option<ID>,
    /// Business minutes to the first response.
    pub response_minutes: Option<i32>,
    /// Business minutes to resolution.
    pub resolution_minutes: Option<i32>,
    /// Percentages of the target at which warnings go out.
    #[graphql(default_with = "vec![75, 90]")]
    pub warn_percents: Vec<i32>,
    /// Pending reasons that pause the clocks.
    #[graphql(default_with = "vec![PendingReason::AwaitingCustomer]")]
    pub pause_reasons: Vec<PendingReason>,
    /// Whom it is agreed with: SLA (the customer), OLA (with `groupId`) or
    /// UNDERPINNING_CONTRACT (with `supplierId`).
    #[graphql(default_with = "AgreementKind::Sla")]
    pub agreement: AgreementKind,
    /// For an OLA: the internal group.
    pub group_id: Option<ID>,
    /// For an underpinning contract: the supplier.
    pub supplier_id: Option<ID>,
    /// From when it applies; clocks start under it only then.
    pub valid_from: Option<DateTime<Utc>>,
    /// Until when it applies.
    pub valid_until: Option<DateTime<Utc>>,
    /// When it is to be reviewed with the other party.
    pub review_at: Option<DateTime<Utc>>,
    /// Where the signed document is (http or https).
    pub document_url: Option<String>,
}

/// What a mutation on an SLA policy returns: the policy as it is after the change.
#[derive(SimpleObject)]
pub struct SlaPolicyPayload {
    /// The sla policy as it is after the change.
    pub sla_policy: SlaPolicy,
}

#[derive(Default)]
pub struct SlaMutation;

#[Object]
impl SlaMutation {
    /// Creates a business calendar (no id) or changes one. Admins only.
    async fn save_calendar(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: SaveCalendarInput,
    ) -> AppResult<CalendarPayload> {
        let on = acting(ctx);
        let id = ids::decode_opt(input.id, "Calendar", "id")?;
        let fields = CalendarFields {
            name: input.name,
            time_zone: input.time_zone,
            week: input.week,
            holidays: input.holidays,
        };
        Ok(CalendarPayload {
            calendar: Calendar(setup::save_calendar(on.db, on.caller, on.now, id, fields).await?),
        })
    }

    /// Creates an SLA policy (no id) or changes one. Admins only.
    async fn save_sla_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")]
        input: SaveSlaPolicyInput,
    ) -> AppResult<SlaPolicyPayload> {
        let on = acting(ctx);
        let fields = PolicyFields {
            name: input.name,
            position: input.position,
            active: input.active,
            kind: input.kind.map(Into::into),
            priority: input.priority.map(Priority::number),
            category_id: ids::decode_opt(input.category_id, "Category", "categoryId")?,
            service_id: ids::decode_opt(input.service_id, "Service", "serviceId")?,
            organization_id: ids::decode_opt(
                input.organization_id,
                "Organization",
                "organizationId",
            )?,
            calendar_id: ids::decode_opt(input.calendar_id, "Calendar", "calendarId")?,
            response_minutes: input.response_minutes,
            resolution_minutes: input.resolution_minutes,
            warn_percents: input.warn_percents,
            pause_reasons: input.pause_reasons.into_iter().map(Into::into).collect(),
            agreement: input.agreement.into(),
            group_id: ids::decode_opt(input.group_id, "Group", "groupId")?,
            supplier_id: ids::decode_opt(input.supplier_id, "Supplier", "supplierId")?,
            valid_from: input.valid_from,
            valid_until: input.valid_until,
            review_at: input.review_at,
            document_url: input.document_url,
        };
        let id = ids::decode_opt(input.id, "SlaPolicy", "id")?;
        Ok(SlaPolicyPayload {
            sla_policy: SlaPolicy(setup::save_policy(on.db, on.caller, on.now, id, fields).await?),
        })
    }
}

/// What `slaReport` takes.
#[derive(InputObject, Default)]
pub struct SlaReportInput {
    /// Tickets created from this instant…
    pub from: Option<Instant>,
    /// …up to (not including) this one.
    pub to: Option<Instant>,
    /// The id of the service.
    pub service_id: Option<ID>,
    /// Only tickets of this priority.
    pub priority: Option<Priority>,
    /// The id of the group.
    pub group_id: Option<ID>,
    /// The id of the organization.
    pub organization_id: Option<ID>,
}

/// One metric's figures. Times are business time, as the clocks measure it.
#[derive(SimpleObject)]
pub struct SlaMetricReport {
    /// Clocks that stopped, met or breached.
    pub measured: i64,
    /// Clocks that met their target.
    pub met: i64,
    /// Met over measured, 0 to 1; null when nothing was measured.
    pub attainment: Option<f64>,
    /// The mean time taken, in business seconds.
    pub mean_seconds: Option<f64>,
    /// The 90th percentile (nearest rank).
    pub p90_seconds: Option<f64>,
}

impl From<crate::domain::sla::report::MetricReport> for SlaMetricReport {
    fn from(r: crate::domain::sla::report::MetricReport) -> Self {
        SlaMetricReport {
            measured: r.measured as i64,
            met: r.met as i64,
            attainment: r.attainment,
            mean_seconds: r.mean_seconds,
            p90_seconds: r.p90_seconds,
        }
    }
}

pub struct SlaBreach(crate::domain::sla::report::Breach);

/// A missed SLA target.
#[Object]
impl SlaBreach {
    /// Which target: response or resolution.
    async fn metric(&self) -> SlaMetric {
        if self.0.metric == Metric::Response.as_str() {
            SlaMetric::Response
        } else {
            SlaMetric::Resolution
        }
    }
    /// When the target was missed.
    async fn breached_at(&self) -> Instant {
        Instant(self.0.breached_at)
    }
    /// The ticket, if the caller may see it.
    async fn ticket(
        &self,
        ctx: &Context<'_>,
    ) -> AppResult<Option<crate::graphql::tickets::Ticket>> {
        crate::graphql::tickets::visible(ctx, self.0.ticket_id).await
    }
}

/// How SLA targets went over a period.
#[derive(SimpleObject)]
pub struct SlaReport {
    /// Tickets created in the period that match.
    pub tickets: i64,
    /// How first-response targets went.
    pub response: SlaMetricReport,
    /// How resolution targets went.
    pub resolution: SlaMetricReport,
    /// Every breached clock of those tickets, oldest breach first.
    pub breaches: Vec<SlaBreach>,
}

#[derive(Default)]
pub struct SlaReportQuery;

#[Object]
impl SlaReportQuery {
    /// SLA attainment and timings for the tickets created in a period. Managers and admins.
    async fn sla_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the fields of the input type.")] input: Option<
            SlaReportInput,
        >,
    ) -> AppResult<SlaReport> {
        caller(ctx).require_role(Role::Manager)?;
        let input = input.unwrap_or_default();
        let filter = crate::domain::sla::report::ReportFilter {
            from: crate::domain::input::maybe_instant("from", input.from)?,
            to: crate::domain::input::maybe_instant("to", input.to)?,
            service_id: ids::decode_opt(input.service_id, "Service", "serviceId")?,
            priority: input.priority.map(Priority::number),
            group_id: ids::decode_opt(input.group_id, "Group", "groupId")?,
            organization_id: ids::decode_opt(
                input.organization_id,
                "Organization",
                "organizationId",
            )?,
        };
        let report = crate::domain::sla::report::report(state(ctx).db.conn(), &filter).await?;
        Ok(SlaReport {
            tickets: report.tickets as i64,
            response: report.response.into(),
            resolution: report.resolution.into(),
            breaches: report.breaches.into_iter().map(SlaBreach).collect(),
        })
    }
}

pub async fn load_node(
    ctx: &Context<'_>,
    type_name: &str,
    id: i64,
) -> AppResult<crate::graphql::node::Node> {
    use crate::graphql::node::Node;
    let (db, caller) = (state(ctx).db.conn(), caller(ctx));
    let not_found = || AppError::NotFound(format!("there is no {type_name} with that id"));
    Ok(match type_name {
        "Calendar" => Node::Calendar(Calendar(
            reads::calendar(db, caller, id)
                .await?
                .ok_or_else(not_found)?,
        )),
        _ => Node::SlaPolicy(SlaPolicy(
            reads::policy(db, caller, id).await?.ok_or_else(not_found)?,
        )),
    })
}
