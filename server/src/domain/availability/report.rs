//! The availability of a service over a period, against its target: the figures
//! `measure` gives from the stretches `timeline` finds, in the service's calendar.
//!
//! For a period still running the figures are to date (up to now), while the month's
//! downtime budget is the whole month's: the target promises a share of the month.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use entity::{availability_target, service};
use sea_orm::{ConnectionTrait, EntityTrait};

use super::{
    measure::{self, Figures, Stretch},
    require_reader, timeline,
};
use crate::{
    auth::Caller,
    domain::{calendar::Calendar, cmdb::redundancy::Dependencies, lookup::referenced, sla},
    error::{AppError, AppResult},
};

/// A service's availability over a period.
#[derive(Clone, Debug)]
pub struct Report {
    pub service: service::Model,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The end of what was measured: the period's end, or now if sooner.
    pub measured_to: DateTime<Utc>,
    /// The items that stand for the service.
    pub items: Vec<i64>,
    pub figures: Figures,
    pub stretches: Vec<Stretch>,
    pub target_percent: Option<f64>,
    /// The period's downtime budget under the target.
    pub budget: Option<Duration>,
    /// What is left of it (never below zero).
    pub budget_left: Option<Duration>,
    /// When the budget was spent, if it was.
    pub spent_at: Option<DateTime<Utc>>,
    /// When it will be spent if the outages going on now go on.
    pub projected_spent_at: Option<DateTime<Utc>>,
}

impl Report {
    /// Whether the target was met (so far): none without a target.
    pub fn met(&self) -> Option<bool> {
        self.target_percent.map(|_| self.spent_at.is_none())
    }
}

/// The month containing `at`, in the calendar's time zone: its bounds and `YYYY-MM`.
pub fn month_containing(
    calendar: &Calendar,
    at: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>, String) {
    let local = at.with_timezone(&calendar.time_zone).date_naive();
    month(calendar, local.year(), local.month()).expect("a date's month exists")
}

/// A month's bounds in the calendar's time zone, and `YYYY-MM`.
pub fn month(
    calendar: &Calendar,
    year: i32,
    month: u32,
) -> Option<(DateTime<Utc>, DateTime<Utc>, String)> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let start = |d: NaiveDate| {
        calendar
            .time_zone
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    Some((start(first)?, start(next)?, format!("{year:04}-{month:02}")))
}

/// The availability of a service from `from` to `to`, for the desk.
///
/// # Errors
/// NOT_FOUND for a service that does not exist; BAD_USER_INPUT for an empty or
/// overlong period; FORBIDDEN for requesters.
pub async fn for_service(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    service_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<Report> {
    require_reader(caller)?;
    if to <= from || to - from > Duration::days(3 * 366) {
        return Err(AppError::bad_input(
            "to",
            "give a period that ends after it starts and lasts at most three years",
        ));
    }
    compute(conn, service_id, from, to, now).await
}

/// The calendar of a service's agreed service time.
pub async fn calendar_of(conn: &impl ConnectionTrait, row: &service::Model) -> AppResult<Calendar> {
    sla::clocks::calendar_of(conn, row.calendar_id).await
}

/// The report, without asking who wants it: for the budget's watcher.
pub async fn compute(
    conn: &impl ConnectionTrait,
    service_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<Report> {
    let row = referenced::<service::Entity>(conn, service_id, "serviceId", "service").await?;
    let calendar = calendar_of(conn, &row).await?;
    let target = availability_target::Entity::find_by_id(service_id)
        .one(conn)
        .await?
        .map(|t| t.target_percent);
    let items = timeline::items_of(conn, service_id).await?;
    let outages = timeline::outages_in(conn, from, to).await?;
    let mut failed: Vec<i64> = outages.iter().map(|o| o.configuration_item_id).collect();
    failed.sort_unstable();
    failed.dedup();
    let graph = Dependencies::around(conn, &failed).await?;
    let measured_to = now.clamp(from, to);
    let stretches = timeline::stretches(&graph, &items, &outages, from, to, measured_to);
    let figures = measure::measure(&calendar, from, measured_to, &stretches);
    // The budget is the whole period's: its calendar time less the planned downtime
    // known for it, future windows included.
    let whole = measure::measure(&calendar, from, to, &stretches);
    let budget = target.map(|t| measure::budget(whole.agreed_service_time, t));
    let spent_at = budget.and_then(|b| {
        measure::spent_at(&calendar, from, to, &stretches, b).filter(|at| *at <= measured_to)
    });
    let projected_spent_at = match budget {
        Some(b) if spent_at.is_none() => {
            let projected = timeline::stretches(&graph, &items, &outages, from, to, to);
            measure::spent_at(&calendar, from, to, &projected, b)
        }
        _ => None,
    };
    Ok(Report {
        service: row,
        from,
        to,
        measured_to,
        items,
        budget_left: budget.map(|b| (b - figures.unplanned_downtime).max(Duration::zero())),
        figures,
        stretches,
        target_percent: target,
        budget,
        spent_at,
        projected_spent_at,
    })
}
