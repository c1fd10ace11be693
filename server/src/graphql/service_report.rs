//! The monthly service report (managers): one query a frontend renders, links to the
//! same report as CSV and as a page with charts, and the owner's monthly mailing.

use async_graphql::{Context, ID, Object, SimpleObject};

use crate::{
    auth::Caller,
    domain::{
        satisfaction::Grouping,
        service_report::{self as domain, Month, ServiceReport as Report, Subject, mailing},
    },
    error::{AppError, AppResult},
    graphql::{
        availability::ServiceAvailability,
        caller,
        catalog::Service,
        continuity::ContinuityPlan,
        costs::{Charge, ServiceCost},
        ids,
        instant::Instant,
        now,
        satisfaction::SatisfactionRow,
        sla::{AgreementKind, SlaMetric},
        state,
        tickets::Priority,
    },
    state::AppState,
};

/// How one agreement fared for one metric and priority in the month.
#[derive(SimpleObject)]
pub struct AgreementAttainment {
    /// SLA, OLA or underpinning contract.
    pub agreement: AgreementKind,
    /// The policy (the agreement's terms).
    pub policy_id: ID,
    /// Its name.
    pub policy_name: String,
    /// Response or resolution.
    pub metric: SlaMetric,
    /// The tickets' priority.
    pub priority: Priority,
    /// Clocks whose outcome became known in the month: stopped within target, or
    /// breached.
    pub measured: i32,
    /// Of those, stopped within target.
    pub met: i32,
    /// met / measured, 0 to 1.
    pub attainment: f64,
}

/// How long the customer waited, in the business time their SLA clocks measure.
#[derive(SimpleObject)]
pub struct ServiceTimes {
    /// Response or resolution.
    pub metric: SlaMetric,
    /// SLA clocks that stopped in the month.
    pub measured: i32,
    /// The median, in seconds; null when none stopped.
    pub median_seconds: Option<f64>,
    /// The 90th percentile (nearest rank), in seconds.
    pub p90_seconds: Option<f64>,
}

/// Tickets raised in the month of one kind and category.
#[derive(SimpleObject)]
pub struct TicketVolume {
    /// INCIDENT, SERVICE_REQUEST, …
    pub kind: String,
    /// The category's path; null for uncategorised tickets.
    pub category: Option<String>,
    /// How many.
    pub tickets: i64,
}

/// A problem behind several of the month's incidents.
#[derive(SimpleObject)]
pub struct RecurringProblem {
    /// The problem.
    pub problem_id: ID,
    /// Its number.
    pub number: String,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: String,
    /// The month's incidents linked to it.
    pub incidents: i64,
}

/// The month's closed changes that put the services at risk, by outcome.
#[derive(SimpleObject)]
pub struct ChangeOutcomes {
    /// Closed in the month.
    pub closed: i64,
    /// Closed as successful.
    pub successful: i64,
    /// Closed as failed.
    pub failed: i64,
    /// Closed as backed out.
    pub backed_out: i64,
    /// successful / closed, 0 to 1; null when none closed.
    pub success_rate: Option<f64>,
    /// Incidents recorded as caused by them.
    pub incidents_caused: i64,
}

/// A continuity plan's standing at the month's end (or now, for this month).
#[derive(SimpleObject)]
pub struct ContinuityStatus {
    /// The plan.
    pub plan: ContinuityPlan,
    /// When its latest exercise by then took place; null if never.
    pub last_exercised_at: Option<Instant>,
    /// How that exercise went: SUCCESS, PARTIAL or FAILED.
    pub last_outcome: Option<String>,
    /// When its next successful exercise is (was) due.
    pub due_at: Instant,
    /// Whether it was due by then without a successful exercise.
    pub overdue: bool,
}

/// The month's report on a service, or on a customer organization across the services
/// its tickets named. Months are calendar months in UTC.
pub struct ServiceReport {
    report: Report,
}

/// The month's report on a service, or on a customer organization across the services
/// its tickets named. Months are calendar months in UTC.
#[Object]
impl ServiceReport {
    /// `YYYY-MM`.
    async fn month(&self) -> String {
        self.report.month.to_string()
    }

    /// The service's or organization's name.
    async fn name(&self) -> &str {
        &self.report.name
    }

    /// The services the report covers.
    async fn services(&self) -> Vec<Service> {
        self.report.services.iter().cloned().map(Service).collect()
    }

    /// SLA, OLA and contract attainment, per agreement, metric and priority. A clock
    /// counts in the month its outcome became known.
    async fn attainment(&self) -> Vec<AgreementAttainment> {
        self.report
            .attainment
            .iter()
            .map(|r| AgreementAttainment {
                agreement: r.agreement.into(),
                policy_id: ids::encode("SlaPolicy", r.policy_id),
                policy_name: r.policy_name.clone(),
                metric: metric(r.metric),
                priority: Priority::from_number(r.priority),
                measured: r.measured as i32,
                met: r.met as i32,
                attainment: r.attainment(),
            })
            .collect()
    }

    /// The customer's response and resolution times: median and 90th percentile.
    async fn times(&self) -> Vec<ServiceTimes> {
        self.report
            .times
            .iter()
            .map(|t| ServiceTimes {
                metric: metric(t.metric),
                measured: t.measured as i32,
                median_seconds: t.median_seconds,
                p90_seconds: t.p90_seconds,
            })
            .collect()
    }

    /// Availability against target, for the services with a target or with outages
    /// in the month.
    async fn availability(&self) -> Vec<ServiceAvailability> {
        self.report
            .availability
            .iter()
            .cloned()
            .map(ServiceAvailability)
            .collect()
    }

    /// What requesters said in the surveys offered in the month.
    async fn satisfaction(&self) -> SatisfactionRow {
        let grouping = match self.report.subject {
            Subject::Service(_) => Grouping::Service,
            Subject::Organization(_) => Grouping::Organization,
        };
        SatisfactionRow::of(self.report.satisfaction.clone(), grouping)
    }

    /// Tickets raised in the month, by kind and category, most first.
    async fn volume(&self) -> Vec<TicketVolume> {
        self.report
            .volume
            .iter()
            .map(|v| TicketVolume {
                kind: v.kind.clone(),
                category: v.category.clone(),
                tickets: v.tickets,
            })
            .collect()
    }

    /// The problems behind most of the month's incidents (five at most).
    async fn recurring_problems(&self) -> Vec<RecurringProblem> {
        self.report
            .problems
            .iter()
            .map(|p| RecurringProblem {
                problem_id: ids::encode("Problem", p.problem_id),
                number: p.number.clone(),
                title: p.title.clone(),
                status: p.status.clone(),
                incidents: p.incidents,
            })
            .collect()
    }

    /// The changes closed in the month that put the services at risk.
    async fn changes(&self) -> ChangeOutcomes {
        let c = &self.report.changes;
        ChangeOutcomes {
            closed: c.closed,
            successful: c.successful,
            failed: c.failed,
            backed_out: c.backed_out,
            success_rate: c.success_rate(),
            incidents_caused: c.incidents_caused,
        }
    }

    /// Each continuity plan of the services, as it stood at the month's end.
    async fn continuity(&self) -> Vec<ContinuityStatus> {
        self.report
            .continuity
            .iter()
            .map(|s| ContinuityStatus {
                plan: ContinuityPlan(s.plan.clone()),
                last_exercised_at: s.last_exercise.as_ref().map(|e| Instant(e.exercised_at)),
                last_outcome: s.last_exercise.as_ref().map(|e| e.outcome.clone()),
                due_at: Instant(s.due_at),
                overdue: s.overdue,
            })
            .collect()
    }

    /// What each of the services cost in the month.
    async fn costs(&self) -> Vec<ServiceCost> {
        self.report
            .cost
            .services
            .iter()
            .map(|s| {
                let name = self
                    .report
                    .services
                    .iter()
                    .find(|row| row.id == s.service_id)
                    .map(|row| row.name.clone())
                    .unwrap_or_default();
                ServiceCost::of(s, name)
            })
            .collect()
    }

    /// The month's charges: a service's to each organization, or an organization's for
    /// each service.
    async fn charges(&self) -> Vec<Charge> {
        self.report.cost.charges.iter().map(Charge::from).collect()
    }

    /// All the services' cost, in cents.
    async fn cost_cents(&self) -> i64 {
        self.report.cost.cost_cents()
    }

    /// All the charges, in cents.
    async fn charge_cents(&self) -> i64 {
        self.report.cost.charge_cents()
    }

    /// The same report as CSV (one figure a row: section, agreement, name, metric,
    /// priority, measure, value), by a link that opens without a token for a quarter
    /// of an hour.
    async fn csv_url(&self, ctx: &Context<'_>) -> String {
        link(state(ctx), self.report.subject, self.report.month, "csv")
    }

    /// The same report as a page with its charts (print it for a PDF), by a link that
    /// opens without a token for a quarter of an hour.
    async fn page_url(&self, ctx: &Context<'_>) -> String {
        link(state(ctx), self.report.subject, self.report.month, "html")
    }
}

fn metric(m: crate::domain::sla::Metric) -> SlaMetric {
    match m {
        crate::domain::sla::Metric::Response => SlaMetric::Response,
        crate::domain::sla::Metric::Resolution => SlaMetric::Resolution,
    }
}

/// The global id a report's links name its subject by.
pub fn subject_id(subject: Subject) -> ID {
    match subject {
        Subject::Service(id) => ids::encode("Service", id),
        Subject::Organization(id) => ids::encode("Organization", id),
    }
}

/// What a report link signs: its subject and month, whatever its format.
pub fn signed_name(subject: Subject, month: Month) -> String {
    format!("service-report:{}:{month}", subject_id(subject).as_str())
}

fn link(state: &AppState, subject: Subject, month: Month, format: &str) -> String {
    let (expires, signature) = state
        .files
        .signer
        .sign_for(&signed_name(subject, month), state.clock.now());
    format!(
        "{}/reports/{}/{month}.{format}?expires={expires}&signature={signature}",
        state.config.public_url.as_deref().unwrap_or(""),
        subject_id(subject).as_str(),
    )
}

/// The subject a pair of optional ids names: exactly one of them.
///
/// # Errors
/// BAD_USER_INPUT for both or neither, or an id of another type.
pub fn subject_of(service_id: Option<ID>, organization_id: Option<ID>) -> AppResult<Subject> {
    match (service_id, organization_id) {
        (Some(service), None) => Ok(Subject::Service(ids::decode_as(
            &service,
            "Service",
            "serviceId",
        )?)),
        (None, Some(organization)) => Ok(Subject::Organization(ids::decode_as(
            &organization,
            "Organization",
            "organizationId",
        )?)),
        _ => Err(AppError::bad_input(
            "serviceId",
            "give either serviceId (a service's report) or organizationId (a customer's report), not both",
        )),
    }
}

/// The report, for a caller: what the query and the HTTP endpoint both serve.
pub async fn load(
    state: &AppState,
    caller: &Caller,
    subject: Subject,
    month: Month,
) -> AppResult<Report> {
    domain::report(state.db.conn(), caller, subject, month, state.clock.now()).await
}

#[derive(Default)]
pub struct ServiceReportQuery;

#[Object]
impl ServiceReportQuery {
    /// The month's service report, from the desk's own records as they are now: for a
    /// service (`serviceId`) or for a customer organization across the services its
    /// tickets named (`organizationId`). Managers.
    async fn service_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service the report is about.")] service_id: Option<ID>,
        #[graphql(desc = "Or the customer organization it is about.")] organization_id: Option<ID>,
        #[graphql(desc = "The month, YYYY-MM (in UTC); this month's report runs to now.")]
        month: String,
    ) -> AppResult<ServiceReport> {
        let subject = subject_of(service_id, organization_id)?;
        let month = Month::parse(&month)?;
        Ok(ServiceReport {
            report: load(state(ctx), caller(ctx), subject, month).await?,
        })
    }

    /// Whether a service's report is mailed each month to the manager of its owner
    /// group. Managers.
    async fn service_report_mailing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] service_id: ID,
    ) -> AppResult<bool> {
        domain::require_reader(caller(ctx))?;
        let id = ids::decode_as(&service_id, "Service", "serviceId")?;
        mailing::is_on(state(ctx).db.conn(), id).await
    }
}

#[derive(Default)]
pub struct ServiceReportMutation;

#[Object]
impl ServiceReportMutation {
    /// Turns a service's monthly report mail on or off; whether it is now on. Early
    /// each month last month's report goes to the manager of the service's owner group,
    /// the first one when the month now running ends. Managers.
    async fn set_service_report_mailing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service.")] service_id: ID,
        #[graphql(desc = "Whether to mail its report each month.")] monthly: bool,
    ) -> AppResult<bool> {
        let id = ids::decode_as(&service_id, "Service", "serviceId")?;
        mailing::set(&state(ctx).db, caller(ctx), id, monthly, now(ctx)).await
    }
}
