//! The monthly service report: for one service (or one customer organization across
//! the services its tickets named) and one calendar month, what was promised and what
//! was delivered, read from the desk's own records whenever it is asked for.
//!
//! Each section is another area's figures, not a second computation of them:
//!
//! - `attainment`: the SLA, OLA and contract clocks whose outcome became known in the
//!   month (a clock is counted once: in the month it stopped within its target, or in
//!   the month it breached), per agreement, metric and priority; and the customer's
//!   response and resolution times (median and 90th percentile of the SLA clocks);
//! - availability against target, from `availability::report`;
//! - satisfaction, from `satisfaction::report`;
//! - `demand`: volume by kind and category, and the problems behind most incidents;
//! - `delivery`: the changes closed that touched the services, with their outcomes, and
//!   each continuity plan's exercise status at the month's end;
//! - cost and charge, from `costs::report`.
//!
//! Months are calendar months in UTC, so that the cost report's days and the clocks'
//! instants cover the same stretch; availability counts the service's own hours within
//! it. `csv` and `page` render a report; `mailing` sends it to the owners who asked.

pub mod attainment;
pub mod csv;
pub mod delivery;
pub mod demand;
pub mod mailing;
pub mod page;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use entity::{organization, service, ticket};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::{
    auth::{Caller, Role},
    domain::{
        availability::report::{self as availability, Report as Availability},
        costs::report::{Charge, ServiceCost},
        lookup::referenced,
        satisfaction::{Grouping, Row as Satisfaction, compute_report as satisfaction_of},
    },
    error::{AppError, AppResult},
};

/// Whom a report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// One service, for its owner.
    Service(i64),
    /// A customer organization, across the services its tickets named.
    Organization(i64),
}

impl Subject {
    /// Its tickets, as a condition: the service's, or the organization's. A merged
    /// duplicate is counted in the ticket it was merged into, not again.
    pub fn tickets(&self) -> Condition {
        let own = match self {
            Subject::Service(id) => ticket::Column::ServiceId.eq(*id),
            Subject::Organization(id) => ticket::Column::OrganizationId.eq(*id),
        };
        Condition::all()
            .add(own)
            .add(ticket::Column::MergedIntoId.is_null())
    }
}

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// `YYYY-MM`, as people and spreadsheets write it.
    ///
    /// # Errors
    /// BAD_USER_INPUT for anything else.
    pub fn parse(text: &str) -> AppResult<Month> {
        let bad = || AppError::bad_input("month", "give the month as YYYY-MM, such as 2026-11");
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u32 = month.parse().map_err(|_| bad())?;
        NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
        Ok(Month { year, month })
    }

    /// The month containing `at`.
    pub fn of(at: DateTime<Utc>) -> Month {
        Month {
            year: at.year(),
            month: at.month(),
        }
    }

    /// The month before this one.
    pub fn previous(self) -> Month {
        match self.month {
            1 => Month {
                year: self.year - 1,
                month: 12,
            },
            m => Month {
                year: self.year,
                month: m - 1,
            },
        }
    }

    /// Its first day and the first day of the next month.
    pub fn days(self) -> (NaiveDate, NaiveDate) {
        let next = match self.month {
            12 => (self.year + 1, 1),
            m => (self.year, m + 1),
        };
        (
            NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a parsed month"),
            NaiveDate::from_ymd_opt(next.0, next.1, 1).expect("the month after a parsed month"),
        )
    }

    /// Its bounds in UTC: from its first midnight (included) to the next month's.
    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        let (first, next) = self.days();
        let midnight =
            |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"));
        (midnight(first), midnight(next))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// What a period cost and was charged, for the report's subject.
#[derive(Clone, Debug, Default)]
pub struct Cost {
    /// Each of the subject's services' cost (a service report has one line).
    pub services: Vec<ServiceCost>,
    /// The charges: a service's to every organization, or an organization's for every
    /// service.
    pub charges: Vec<Charge>,
}

impl Cost {
    pub fn cost_cents(&self) -> i64 {
        self.services.iter().map(ServiceCost::total_cents).sum()
    }

    pub fn charge_cents(&self) -> i64 {
        self.charges.iter().map(|c| c.cents).sum()
    }
}

/// One month's report.
#[derive(Clone, Debug)]
pub struct ServiceReport {
    pub subject: Subject,
    /// The service's or organization's name.
    pub name: String,
    pub month: Month,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The services it covers: the one, or those the organization's tickets named in
    /// the month (and those it was charged for).
    pub services: Vec<service::Model>,
    pub attainment: Vec<attainment::Row>,
    pub times: Vec<attainment::Times>,
    /// The services with an availability target, or with outages in the month.
    pub availability: Vec<Availability>,
    pub satisfaction: Satisfaction,
    pub volume: Vec<demand::Volume>,
    pub problems: Vec<demand::Recurring>,
    pub changes: delivery::Changes,
    pub continuity: Vec<delivery::PlanStatus>,
    pub cost: Cost,
}

/// Managers read service reports: they carry costs and charges.
///
/// # Errors
/// FORBIDDEN (or UNAUTHENTICATED) for anyone else.
pub fn require_reader(caller: &Caller) -> AppResult<()> {
    caller.require_role(Role::Manager).map(|_| ())
}

/// The report on `subject` for `month`, for a manager.
///
/// # Errors
/// FORBIDDEN below manager; NOT_FOUND for a service or organization that does not
/// exist; BAD_USER_INPUT for a month that has not begun.
pub async fn report(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    subject: Subject,
    month: Month,
    now: DateTime<Utc>,
) -> AppResult<ServiceReport> {
    require_reader(caller)?;
    if month.bounds().0 > now {
        return Err(AppError::bad_input(
            "month",
            "that month has not begun: ask for this month or an earlier one",
        ));
    }
    compute(conn, subject, month, now).await
}

/// The report, without asking who wants it: for the monthly mailing.
pub async fn compute(
    conn: &impl ConnectionTrait,
    subject: Subject,
    month: Month,
    now: DateTime<Utc>,
) -> AppResult<ServiceReport> {
    let (from, to) = month.bounds();
    let (first_day, next_day) = month.days();
    let name = match subject {
        Subject::Service(id) => {
            referenced::<service::Entity>(conn, id, "serviceId", "service")
                .await?
                .name
        }
        Subject::Organization(id) => {
            referenced::<organization::Entity>(conn, id, "organizationId", "organization")
                .await?
                .name
        }
    };
    let costs = crate::domain::costs::report::compute(conn, first_day, next_day).await?;
    let charges: Vec<Charge> = costs
        .charges
        .into_iter()
        .filter(|c| match subject {
            Subject::Service(id) => c.service_id == id,
            Subject::Organization(id) => c.organization_id == id,
        })
        .collect();
    let service_ids = match subject {
        Subject::Service(id) => vec![id],
        Subject::Organization(_) => {
            let mut ids = demand::services_named(conn, subject, from, to).await?;
            ids.extend(charges.iter().map(|c| c.service_id));
            ids.sort_unstable();
            ids.dedup();
            ids
        }
    };
    let services = service::Entity::find()
        .filter(service::Column::Id.is_in(service_ids.clone()))
        .order_by_asc(service::Column::Name)
        .all(conn)
        .await?;
    let (attainment, times) = attainment::of(conn, subject, from, to).await?;
    let mut availability = Vec::new();
    for service in &services {
        let measured = availability::compute(conn, service.id, from, to, now).await?;
        if measured.target_percent.is_some()
            || measured.figures.outages > 0
            || measured.figures.planned_windows > 0
        {
            availability.push(measured);
        }
    }
    let (grouping, key) = match subject {
        Subject::Service(id) => (Grouping::Service, id),
        Subject::Organization(id) => (Grouping::Organization, id),
    };
    let satisfaction = satisfaction_of(conn, from, to, grouping)
        .await?
        .into_iter()
        .find(|row| row.key == Some(key))
        .unwrap_or_else(|| Satisfaction {
            key: Some(key),
            ..Satisfaction::default()
        });
    Ok(ServiceReport {
        subject,
        name,
        month,
        from,
        to,
        attainment,
        times,
        availability,
        satisfaction,
        volume: demand::volume(conn, subject, from, to).await?,
        problems: demand::recurring(conn, subject, from, to).await?,
        changes: delivery::changes(conn, &service_ids, from, to).await?,
        continuity: delivery::continuity(conn, &service_ids, to.min(now)).await?,
        cost: Cost {
            services: costs
                .services
                .into_iter()
                .filter(|c| service_ids.contains(&c.service_id))
                .collect(),
            charges,
        },
        services,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_bound_in_utc() {
        let month = Month::parse("2026-12").unwrap();
        assert_eq!(month.to_string(), "2026-12");
        let (from, to) = month.bounds();
        assert_eq!(from.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2027-01-01T00:00:00+00:00");
        assert_eq!(Month::parse("2027-01").unwrap().previous(), month);
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "", "2026-00"] {
            assert!(Month::parse(bad).is_err(), "{bad} is not a month");
        }
    }
}
