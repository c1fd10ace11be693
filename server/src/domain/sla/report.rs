//! SLA reporting for a period: how many tickets, how often the targets were met, how
//! long responses and resolutions took (in the business time the clocks measure), and
//! which clocks breached.

use chrono::{DateTime, Utc};
use entity::{sla_clock, ticket};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};

use crate::error::{AppError, AppResult};

use super::{Metric, clocks::ClockState};

/// Which tickets an SLA report covers.
#[derive(Clone, Debug, Default)]
pub struct ReportFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub service_id: Option<i64>,
    pub priority: Option<i16>,
    pub group_id: Option<i64>,
    pub organization_id: Option<i64>,
}

/// How one metric fared in the period.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricReport {
    /// Clocks that stopped (met or breached) in the period's tickets.
    pub measured: usize,
    pub met: usize,
    /// met / measured; none when nothing was measured.
    pub attainment: Option<f64>,
    pub mean_seconds: Option<f64>,
    /// Nearest-rank 90th percentile.
    pub p90_seconds: Option<f64>,
}

/// One missed target.
#[derive(Clone, Debug)]
pub struct Breach {
    pub ticket_id: i64,
    pub metric: String,
    pub breached_at: DateTime<Utc>,
}

/// How the changes closed in a period went.
#[derive(Clone, Debug)]
pub struct Report {
    pub tickets: u64,
    pub response: MetricReport,
    pub resolution: MetricReport,
    pub breaches: Vec<Breach>,
}

/// The nearest-rank percentile `p` (0 to 100) of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The median: the middle value, or the mean of the middle two.
pub fn median(sorted: &[f64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The figures for one metric from its stopped clocks.
pub fn summarize(clocks: &[&sla_clock::Model]) -> MetricReport {
    let mut seconds: Vec<f64> = clocks
        .iter()
        .map(|c| c.elapsed_ms as f64 / 1000.0)
        .collect();
    seconds.sort_by(f64::total_cmp);
    let measured = seconds.len();
    let met = clocks.iter().filter(|c| c.breached_at.is_none()).count();
    let mean = (measured > 0).then(|| seconds.iter().sum::<f64>() / measured as f64);
    let p90 = percentile(&seconds, 90.0);
    MetricReport {
        measured,
        met,
        attainment: (measured > 0).then(|| met as f64 / measured as f64),
        mean_seconds: mean,
        p90_seconds: p90,
    }
}

/// The SLA report for the clocks started in `[from, to)` that the filter selects.
pub async fn report(conn: &impl ConnectionTrait, filter: &ReportFilter) -> AppResult<Report> {
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && from >= to
    {
        return Err(AppError::bad_input(
            "to",
            "the period must end after it starts",
        ));
    }
    let mut tickets = Condition::all();
    if let Some(from) = filter.from {
        tickets = tickets.add(ticket::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        tickets = tickets.add(ticket::Column::CreatedAt.lt(to));
    }
    if let Some(service) = filter.service_id {
        tickets = tickets.add(ticket::Column::ServiceId.eq(service));
    }
    if let Some(priority) = filter.priority {
        tickets = tickets.add(ticket::Column::Priority.eq(priority));
    }
    if let Some(group) = filter.group_id {
        tickets = tickets.add(ticket::Column::GroupId.eq(group));
    }
    if let Some(org) = filter.organization_id {
        tickets = tickets.add(ticket::Column::OrganizationId.eq(org));
    }
    let count = ticket::Entity::find()
        .filter(tickets.clone())
        .count(conn)
        .await?;
    let in_period = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::Id)
        .filter(tickets)
        .into_query();
    let clocks = sla_clock::Entity::find()
        .filter(sla_clock::Column::TicketId.in_subquery(in_period))
        .order_by_asc(sla_clock::Column::Id)
        .all(conn)
        .await?;
    let stopped = |metric: Metric| -> Vec<&sla_clock::Model> {
        clocks
            .iter()
            .filter(|c| c.metric == metric.as_str() && c.state == ClockState::Stopped.as_str())
            .collect()
    };
    let mut breaches: Vec<Breach> = clocks
        .iter()
        .filter_map(|c| {
            c.breached_at.map(|at| Breach {
                ticket_id: c.ticket_id,
                metric: c.metric.clone(),
                breached_at: at,
            })
        })
        .collect();
    breaches.sort_by_key(|b| (b.breached_at, b.ticket_id));
    Ok(Report {
        tickets: count,
        response: summarize(&stopped(Metric::Response)),
        resolution: summarize(&stopped(Metric::Resolution)),
        breaches,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    fn clock(elapsed_s: i64, breached: bool) -> sla_clock::Model {
        sla_clock::Model {
            id: 1,
            ticket_id: 1,
            metric: "RESPONSE".into(),
            policy_id: 1,
            calendar_id: None,
            target_seconds: 900,
            warn_percents: json!([]),
            state: ClockState::Stopped.into(),
            elapsed_ms: elapsed_s * 1000,
            running_since: None,
            due_at: None,
            next_alert_at: None,
            alerts_sent: 0,
            breached_at: breached.then(Utc::now),
            stopped_at: Some(Utc::now()),
            created_at: Utc::now(),
            agreement: "SLA".into(),
            group_id: None,
            supplier_id: None,
            party_id: 0,
        }
    }

    #[test]
    fn figures_from_a_hand_computed_set() {
        let clocks = [
            clock(600, false),
            clock(1200, true),
            clock(300, false),
            clock(720, false),
        ];
        let refs: Vec<&sla_clock::Model> = clocks.iter().collect();
        let report = summarize(&refs);
        assert_eq!((report.measured, report.met), (4, 3));
        assert_eq!(report.attainment, Some(0.75));
        assert_eq!(report.mean_seconds, Some(705.0));
        assert_eq!(report.p90_seconds, Some(1200.0));
        assert_eq!(summarize(&[]).attainment, None);
    }
}
