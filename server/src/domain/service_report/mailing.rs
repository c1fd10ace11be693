//! The monthly report by mail, for the services whose owners asked for it.
//!
//! Early each month the jobs announce last month's report (`service_report.ready`)
//! for every such service, once whichever replica gets there first: the mailing's
//! `last_sent_month` is claimed in the transaction that appends the event. The event
//! goes where every event goes; the notifications turn it into the `SERVICE_REPORT`
//! mail to the owner group's manager, rendered from the records as they are then.

use chrono::{DateTime, Utc};
use entity::{service, service_report_mailing as mailing};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};
use serde_json::json;

use super::{Month, ServiceReport, Subject, compute, page, require_reader};
use crate::{
    auth::Caller,
    db::Db,
    domain::{
        events::{self, Actor, NewEvent, Topic},
        lookup::referenced,
        sla::{Agreement, Metric},
    },
    error::AppResult,
};

/// Turns a service's monthly mailing on or off; whether it is now on. The first report
/// sent is the one for the month now running, when it ends.
///
/// # Errors
/// FORBIDDEN below manager; NOT_FOUND for a service that does not exist.
pub async fn set(
    db: &Db,
    caller: &Caller,
    service_id: i64,
    monthly: bool,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    require_reader(caller)?;
    referenced::<service::Entity>(db.conn(), service_id, "serviceId", "service").await?;
    if monthly {
        mailing::Entity::insert(mailing::ActiveModel {
            service_id: Set(service_id),
            last_sent_month: Set(Some(Month::of(now).previous().to_string())),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(mailing::Column::ServiceId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db.conn())
        .await?;
    } else {
        mailing::Entity::delete_by_id(service_id)
            .exec(db.conn())
            .await?;
    }
    Ok(monthly)
}

/// Whether a service's owner asked for the monthly mail.
pub async fn is_on(conn: &impl ConnectionTrait, service_id: i64) -> AppResult<bool> {
    Ok(mailing::Entity::find_by_id(service_id)
        .one(conn)
        .await?
        .is_some())
}

/// Announces last month's report for every service that asked and has not had it;
/// how many.
pub async fn announce_due(db: &Db, now: DateTime<Utc>) -> AppResult<usize> {
    let month = Month::of(now).previous();
    let label = month.to_string();
    let not_sent = Condition::any()
        .add(mailing::Column::LastSentMonth.is_null())
        .add(mailing::Column::LastSentMonth.lt(label.clone()));
    let due = mailing::Entity::find()
        .filter(not_sent.clone())
        .all(db.conn())
        .await?;
    let mut announced = 0;
    for row in due {
        let txn = db.begin_write().await?;
        let claimed = mailing::Entity::update_many()
            .col_expr(
                mailing::Column::LastSentMonth,
                Expr::value(Some(label.clone())),
            )
            .filter(mailing::Column::ServiceId.eq(row.service_id))
            .filter(not_sent.clone())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            events::append(
                &txn,
                &Actor::system(),
                now,
                NewEvent {
                    topic: Topic::ServiceReportReady,
                    entity_type: "service",
                    entity_id: row.service_id,
                    internal: false,
                    payload: json!({ "serviceId": row.service_id, "month": label }),
                },
            )
            .await?;
            announced += 1;
        }
        txn.commit().await?;
    }
    Ok(announced)
}

/// The headline figures as lines of text: the mail's body.
pub fn summary(report: &ServiceReport) -> String {
    let mut lines = Vec::new();
    for agreement in [
        Agreement::Sla,
        Agreement::Ola,
        Agreement::UnderpinningContract,
    ] {
        let rows: Vec<_> = report
            .attainment
            .iter()
            .filter(|r| r.agreement == agreement)
            .collect();
        let measured: usize = rows.iter().map(|r| r.measured).sum();
        if measured > 0 {
            let met: usize = rows.iter().map(|r| r.met).sum();
            lines.push(format!(
                "{} attainment: {:.1}% ({met} of {measured} targets met)",
                match agreement {
                    Agreement::Sla => "SLA",
                    Agreement::Ola => "OLA",
                    Agreement::UnderpinningContract => "Contract",
                },
                met as f64 * 100.0 / measured as f64
            ));
        }
    }
    for times in &report.times {
        if let (Some(median), Some(p90)) = (times.median_seconds, times.p90_seconds) {
            lines.push(format!(
                "{} time: median {:.0} min, 90th percentile {:.0} min",
                if times.metric == Metric::Response {
                    "Response"
                } else {
                    "Resolution"
                },
                median / 60.0,
                p90 / 60.0
            ));
        }
    }
    for a in &report.availability {
        lines.push(format!(
            "Availability of {}: {:.3}%{}",
            a.service.name,
            a.figures.availability_percent,
            a.target_percent
                .map(|t| format!(" (target {t}%)"))
                .unwrap_or_default()
        ));
    }
    if let Some(average) = report.satisfaction.average() {
        lines.push(format!(
            "Satisfaction: {average:.2} of 5 from {} answers",
            report.satisfaction.answered
        ));
    }
    let raised: i64 = report.volume.iter().map(|v| v.tickets).sum();
    lines.push(format!("Tickets raised: {raised}"));
    lines.push(format!(
        "Changes: {} closed, {} successful",
        report.changes.closed, report.changes.successful
    ));
    let overdue = report.continuity.iter().filter(|p| p.overdue).count();
    if !report.continuity.is_empty() {
        lines.push(format!(
            "Continuity: {overdue} of {} plans overdue for an exercise",
            report.continuity.len()
        ));
    }
    let money = page::money;
    lines.push(format!(
        "Cost: {}; charged: {}",
        money(report.cost.cost_cents()),
        money(report.cost.charge_cents())
    ));
    lines.join("\n")
}

/// The report a `service_report.ready` event announced, for its mail: the service's
/// name, the summary and the page.
pub async fn for_mail(
    conn: &impl ConnectionTrait,
    service_id: i64,
    month: &str,
    at: DateTime<Utc>,
    desk_name: &str,
) -> AppResult<(String, String, String)> {
    let report = compute(conn, Subject::Service(service_id), Month::parse(month)?, at).await?;
    Ok((
        report.name.clone(),
        summary(&report),
        page::render(&report, desk_name),
    ))
}
