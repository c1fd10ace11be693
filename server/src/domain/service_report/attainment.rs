//! How the month's clocks fared against each agreement, and how long the customer
//! waited.
//!
//! A clock is counted once, in the month its outcome became known: the month it
//! stopped within its target, or the month it breached (a clock still running past its
//! target is a miss as soon as it breaches, not when the ticket is finally resolved).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::{sla_clock, sla_policy, ticket};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};

use super::Subject;
use crate::{
    domain::sla::{
        Agreement, Metric,
        clocks::ClockState,
        report::{median, percentile},
    },
    error::AppResult,
};

/// One agreement's figures for one metric and priority.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub agreement: Agreement,
    pub policy_id: i64,
    pub policy_name: String,
    pub metric: Metric,
    pub priority: i16,
    /// Clocks whose outcome became known in the month.
    pub measured: usize,
    /// Those that stopped within their target.
    pub met: usize,
}

impl Row {
    /// met / measured, 0 to 1.
    pub fn attainment(&self) -> f64 {
        if self.measured == 0 {
            0.0
        } else {
            self.met as f64 / self.measured as f64
        }
    }
}

/// How long the customer waited for one metric: the SLA clocks that stopped in the
/// month, in the business time they measure.
#[derive(Clone, Debug, PartialEq)]
pub struct Times {
    pub metric: Metric,
    pub measured: usize,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

/// Whether a clock's outcome became known in `[from, to)`.
fn decided_in(clock: &sla_clock::Model, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    let within = |at: DateTime<Utc>| from <= at && at < to;
    match clock.breached_at {
        Some(at) => within(at),
        None => clock.state == ClockState::Stopped.as_str() && clock.stopped_at.is_some_and(within),
    }
}

/// The rows (by agreement, policy, metric and priority) and the customer's times.
pub async fn of(
    conn: &impl ConnectionTrait,
    subject: Subject,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<(Vec<Row>, Vec<Times>)> {
    let tickets = ticket::Entity::find()
        .select_only()
        .column(ticket::Column::Id)
        .filter(subject.tickets())
        .into_query();
    let window =
        |column: sla_clock::Column| Condition::all().add(column.gte(from)).add(column.lt(to));
    let clocks = sla_clock::Entity::find()
        .filter(sla_clock::Column::TicketId.in_subquery(tickets))
        .filter(
            Condition::any()
                .add(window(sla_clock::Column::StoppedAt))
                .add(window(sla_clock::Column::BreachedAt)),
        )
        .all(conn)
        .await?;
    let clocks: Vec<sla_clock::Model> = clocks
        .into_iter()
        .filter(|c| decided_in(c, from, to))
        .collect();
    let mut ticket_ids: Vec<i64> = clocks.iter().map(|c| c.ticket_id).collect();
    ticket_ids.sort_unstable();
    ticket_ids.dedup();
    let priorities: HashMap<i64, i16> = ticket::Entity::find()
        .select_only()
        .columns([ticket::Column::Id, ticket::Column::Priority])
        .filter(ticket::Column::Id.is_in(ticket_ids))
        .into_tuple::<(i64, i16)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut policy_ids: Vec<i64> = clocks.iter().map(|c| c.policy_id).collect();
    policy_ids.sort_unstable();
    policy_ids.dedup();
    let policies: HashMap<i64, sla_policy::Model> = sla_policy::Entity::find()
        .filter(sla_policy::Column::Id.is_in(policy_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(summarize(&clocks, &priorities, &policies))
}

/// The figures from the month's decided clocks (pure).
pub fn summarize(
    clocks: &[sla_clock::Model],
    priorities: &HashMap<i64, i16>,
    policies: &HashMap<i64, sla_policy::Model>,
) -> (Vec<Row>, Vec<Times>) {
    let metric_of = |name: &str| {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == name)
            .unwrap_or(Metric::Resolution)
    };
    let agreement_of =
        |c: &sla_clock::Model| Agreement::stored(&c.agreement).unwrap_or(Agreement::Sla);
    // Ordered as a reader scans it: SLA before OLA before contracts, then by policy,
    // response before resolution, then priority.
    let order = |a: Agreement| match a {
        Agreement::Sla => 0,
        Agreement::Ola => 1,
        Agreement::UnderpinningContract => 2,
    };
    let mut rows: BTreeMap<(u8, String, i64, u8, i16), Row> = BTreeMap::new();
    for clock in clocks {
        let agreement = agreement_of(clock);
        let metric = metric_of(&clock.metric);
        let priority = priorities.get(&clock.ticket_id).copied().unwrap_or(0);
        let policy_name = policies
            .get(&clock.policy_id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| format!("policy {}", clock.policy_id));
        let key = (
            order(agreement),
            policy_name.clone(),
            clock.policy_id,
            (metric == Metric::Resolution) as u8,
            priority,
        );
        let row = rows.entry(key).or_insert_with(|| Row {
            agreement,
            policy_id: clock.policy_id,
            policy_name,
            metric,
            priority,
            measured: 0,
            met: 0,
        });
        row.measured += 1;
        if clock.breached_at.is_none() {
            row.met += 1;
        }
    }
    let times = Metric::ALL
        .into_iter()
        .map(|metric| {
            let mut seconds: Vec<f64> = clocks
                .iter()
                .filter(|c| {
                    agreement_of(c) == Agreement::Sla
                        && c.metric == metric.as_str()
                        && c.state == ClockState::Stopped.as_str()
                })
                .map(|c| c.elapsed_ms as f64 / 1000.0)
                .collect();
            seconds.sort_by(f64::total_cmp);
            Times {
                metric,
                measured: seconds.len(),
                median_seconds: median(&seconds),
                p90_seconds: percentile(&seconds, 90.0),
            }
        })
        .collect();
    (rows.into_values().collect(), times)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};
    use serde_json::json;

    use super::*;

    #[test]
    fn medians_and_percentiles_by_hand() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[5.0]), Some(5.0));
        assert_eq!(median(&[1.0, 3.0, 10.0, 20.0]), Some(6.5));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 90.0), Some(9.0));
        assert_eq!(percentile(&ten, 100.0), Some(10.0));
        assert_eq!(percentile(&[4.0], 90.0), Some(4.0));
    }

    fn clock(
        id: i64,
        ticket: i64,
        agreement: &str,
        stopped: Option<DateTime<Utc>>,
        breached: Option<DateTime<Utc>>,
        elapsed_s: i64,
    ) -> sla_clock::Model {
        sla_clock::Model {
            id,
            ticket_id: ticket,
            metric: "RESPONSE".into(),
            policy_id: if agreement == "SLA" { 1 } else { 2 },
            calendar_id: None,
            target_seconds: 900,
            warn_percents: json!([]),
            state: if stopped.is_some() {
                ClockState::Stopped.into()
            } else {
                ClockState::Running.into()
            },
            elapsed_ms: elapsed_s * 1000,
            running_since: None,
            due_at: None,
            next_alert_at: None,
            alerts_sent: 0,
            breached_at: breached,
            stopped_at: stopped,
            created_at: Utc::now(),
            agreement: agreement.into(),
            group_id: None,
            supplier_id: None,
            party_id: 0,
        }
    }

    #[test]
    fn a_clock_counts_in_the_month_its_outcome_became_known() {
        let from = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let inside = from + Duration::days(3);
        let before = from - Duration::days(3);
        // Met in the month; breached in the month though still running; breached the
        // month before and stopped in this one (last month's miss, not this month's).
        assert!(decided_in(
            &clock(1, 1, "SLA", Some(inside), None, 60),
            from,
            to
        ));
        assert!(decided_in(
            &clock(2, 1, "SLA", None, Some(inside), 60),
            from,
            to
        ));
        assert!(!decided_in(
            &clock(3, 1, "SLA", Some(inside), Some(before), 60),
            from,
            to
        ));
        assert!(!decided_in(&clock(4, 1, "SLA", None, None, 60), from, to));
    }

    #[test]
    fn rows_by_agreement_and_priority_with_the_customers_times() {
        let at = Utc.with_ymd_and_hms(2026, 11, 5, 0, 0, 0).unwrap();
        let clocks = [
            clock(1, 10, "SLA", Some(at), None, 600),
            clock(2, 11, "SLA", Some(at), Some(at), 1200),
            clock(3, 12, "SLA", Some(at), None, 300),
            clock(4, 11, "OLA", Some(at), None, 100),
        ];
        let priorities = HashMap::from([(10, 2), (11, 2), (12, 3)]);
        let (rows, times) = summarize(&clocks, &priorities, &HashMap::new());
        let shape: Vec<(Agreement, i16, usize, usize)> = rows
            .iter()
            .map(|r| (r.agreement, r.priority, r.measured, r.met))
            .collect();
        assert_eq!(
            shape,
            vec![
                (Agreement::Sla, 2, 2, 1),
                (Agreement::Sla, 3, 1, 1),
                (Agreement::Ola, 2, 1, 1),
            ]
        );
        assert_eq!(rows[0].attainment(), 0.5);
        // Only the customer's (SLA) clocks make the times: 300, 600, 1200.
        assert_eq!(times[0].measured, 3);
        assert_eq!(times[0].median_seconds, Some(600.0));
        assert_eq!(times[0].p90_seconds, Some(1200.0));
        assert_eq!(times[1].measured, 0);
    }
}
