//! The report as CSV, for the spreadsheets service managers live in: one long table,
//! one figure a row, so that a pivot table can take it as it is.
//!
//! Columns: `section, agreement, name, metric, priority, measure, value`. Shares are
//! 0 to 1 (a spreadsheet formats them as percentages), times are seconds, money is
//! whole cents: the same numbers the GraphQL report gives, written the same way.

use super::ServiceReport;

/// One figure of a report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figure {
    pub section: &'static str,
    pub agreement: String,
    pub name: String,
    pub metric: String,
    pub priority: String,
    pub measure: &'static str,
    pub value: String,
}

/// Every figure of the report, in the order the page shows them.
pub fn figures(report: &ServiceReport) -> Vec<Figure> {
    let mut out = Vec::new();
    let mut push = |section, measure, value: String, fill: &dyn Fn(&mut Figure)| {
        let mut figure = Figure {
            section,
            measure,
            value,
            ..Figure::default()
        };
        fill(&mut figure);
        out.push(figure);
    };
    let whole = |n: i64| n.to_string();
    let real = |x: f64| x.to_string();
    push("report", "month", report.month.to_string(), &|f| {
        f.name = report.name.clone()
    });
    for row in &report.attainment {
        let fill = |f: &mut Figure| {
            f.agreement = row.agreement.as_str().into();
            f.name = row.policy_name.clone();
            f.metric = row.metric.as_str().into();
            f.priority = row.priority.to_string();
        };
        push("attainment", "measured", whole(row.measured as i64), &fill);
        push("attainment", "met", whole(row.met as i64), &fill);
        push("attainment", "attainment", real(row.attainment()), &fill);
    }
    for times in &report.times {
        let fill = |f: &mut Figure| f.metric = times.metric.as_str().into();
        push("times", "measured", whole(times.measured as i64), &fill);
        if let Some(median) = times.median_seconds {
            push("times", "median_seconds", real(median), &fill);
        }
        if let Some(p90) = times.p90_seconds {
            push("times", "p90_seconds", real(p90), &fill);
        }
    }
    for availability in &report.availability {
        let fill = |f: &mut Figure| f.name = availability.service.name.clone();
        let figures = &availability.figures;
        push(
            "availability",
            "availability_percent",
            real(figures.availability_percent),
            &fill,
        );
        if let Some(target) = availability.target_percent {
            push("availability", "target_percent", real(target), &fill);
        }
        push(
            "availability",
            "downtime_seconds",
            whole(figures.unplanned_downtime.num_seconds()),
            &fill,
        );
        push(
            "availability",
            "outages",
            whole(figures.outages.into()),
            &fill,
        );
    }
    let satisfaction = &report.satisfaction;
    push(
        "satisfaction",
        "offered",
        whole(satisfaction.offered),
        &|_| {},
    );
    push(
        "satisfaction",
        "answered",
        whole(satisfaction.answered),
        &|_| {},
    );
    if let Some(average) = satisfaction.average() {
        push("satisfaction", "average_rating", real(average), &|_| {});
    }
    for volume in &report.volume {
        let fill = |f: &mut Figure| {
            f.name = match &volume.category {
                Some(path) => format!("{} / {path}", volume.kind),
                None => volume.kind.clone(),
            }
        };
        push("volume", "tickets", whole(volume.tickets), &fill);
    }
    for problem in &report.problems {
        let fill = |f: &mut Figure| f.name = format!("{} {}", problem.number, problem.title);
        push("problems", "incidents", whole(problem.incidents), &fill);
    }
    let changes = &report.changes;
    for (measure, n) in [
        ("closed", changes.closed),
        ("successful", changes.successful),
        ("failed", changes.failed),
        ("backed_out", changes.backed_out),
        ("incidents_caused", changes.incidents_caused),
    ] {
        push("changes", measure, whole(n), &|_| {});
    }
    for status in &report.continuity {
        let fill = |f: &mut Figure| f.name = status.plan.name.clone();
        push(
            "continuity",
            "rto_minutes",
            whole(status.plan.rto_minutes.into()),
            &fill,
        );
        push("continuity", "overdue", status.overdue.to_string(), &fill);
        push("continuity", "due_at", status.due_at.to_rfc3339(), &fill);
        if let Some(exercise) = &status.last_exercise {
            push(
                "continuity",
                "last_outcome",
                exercise.outcome.clone(),
                &fill,
            );
        }
    }
    for cost in &report.cost.services {
        let name = report
            .services
            .iter()
            .find(|s| s.id == cost.service_id)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let fill = |f: &mut Figure| f.name = name.clone();
        push("cost", "labour_cents", whole(cost.labour_cents), &fill);
        push("cost", "item_cents", whole(cost.item_cents), &fill);
        push("cost", "fixed_cents", whole(cost.fixed_cents), &fill);
        push("cost", "total_cents", whole(cost.total_cents()), &fill);
    }
    push(
        "cost",
        "charge_cents",
        whole(report.cost.charge_cents()),
        &|_| {},
    );
    out
}

/// The report as CSV text, with a header row.
pub fn render(report: &ServiceReport) -> String {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "section",
            "agreement",
            "name",
            "metric",
            "priority",
            "measure",
            "value",
        ])
        .expect("writing to memory");
    for f in figures(report) {
        writer
            .write_record([
                f.section,
                &f.agreement,
                &f.name,
                &f.metric,
                &f.priority,
                f.measure,
                &f.value,
            ])
            .expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("writing to memory")).expect("CSV of UTF-8 text")
}
