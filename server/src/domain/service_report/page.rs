//! The report as a page people would rather look at than read: one self-contained HTML
//! document with its charts drawn in, which prints to PDF from any browser (its print
//! styles drop the page's chrome) and travels by mail as it is.
//!
//! The charts are drawn by plotters, on the server, into SVG. A browser-side charting
//! library would need its script served and run (and a mail client runs none); a PDF
//! library would need fonts on the server; plotters' SVG backend needs neither: it lays
//! the chart out and leaves the text to whatever shows it.

use plotters::prelude::*;

use super::{ServiceReport, attainment::Row};
use crate::{domain::sla::Agreement, html::escape};

/// Blue for SLAs, teal for OLAs, amber for contracts: the agreement, at a glance.
fn colour(agreement: Agreement) -> RGBColor {
    match agreement {
        Agreement::Sla => RGBColor(0x2f, 0x6f, 0xb3),
        Agreement::Ola => RGBColor(0x2a, 0x9d, 0x8f),
        Agreement::UnderpinningContract => RGBColor(0xe0, 0x9f, 0x3e),
    }
}

/// A horizontal bar chart: one labelled bar a row, on a scale from 0 to `max`.
fn bars(
    caption: &str,
    unit: &str,
    max: f64,
    rows: &[(String, f64, RGBColor)],
) -> Result<String, Box<dyn std::error::Error>> {
    let mut svg = String::new();
    {
        let height = 90 + 30 * rows.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (860, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 18))
            .margin(10)
            .margin_right(30)
            .x_label_area_size(36)
            .y_label_area_size(300)
            .build_cartesian_2d(0f64..max, (0..rows.len()).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(11)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc(unit)
            .y_labels(rows.len().max(1))
            // The first row at the top, where a reader starts.
            .y_label_formatter(&|at| match at {
                SegmentValue::CenterOf(i) if *i < rows.len() => rows[rows.len() - 1 - i].0.clone(),
                _ => String::new(),
            })
            .label_style(("sans-serif", 13))
            .draw()?;
        chart.draw_series(
            rows.iter()
                .rev()
                .enumerate()
                .map(|(i, (_, value, colour))| {
                    let mut bar = Rectangle::new(
                        [
                            (0.0, SegmentValue::Exact(i)),
                            (value.clamp(0.0, max), SegmentValue::Exact(i + 1)),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(5, 5, 0, 0);
                    bar
                }),
        )?;
        root.present()?;
    }
    Ok(svg)
}

/// The attainment chart: one bar per agreement, metric and priority, in percent.
fn attainment_chart(rows: &[Row]) -> String {
    let bars_of: Vec<(String, f64, RGBColor)> = rows
        .iter()
        .map(|r| {
            (
                format!(
                    "{} · {} · P{}",
                    r.policy_name,
                    r.metric.as_str().to_lowercase(),
                    r.priority
                ),
                r.attainment() * 100.0,
                colour(r.agreement),
            )
        })
        .collect();
    chart_or_note(bars(
        "Targets met, by agreement, metric and priority",
        "% met",
        100.0,
        &bars_of,
    ))
}

/// The volume chart: tickets raised by kind and category.
fn volume_chart(report: &ServiceReport) -> String {
    let most = report
        .volume
        .iter()
        .map(|v| v.tickets)
        .max()
        .unwrap_or(0)
        .max(1);
    let rows: Vec<(String, f64, RGBColor)> = report
        .volume
        .iter()
        .map(|v| {
            (
                match &v.category {
                    Some(path) => format!("{} · {path}", v.kind.to_lowercase()),
                    None => v.kind.to_lowercase(),
                },
                v.tickets as f64,
                RGBColor(0x6c, 0x5c, 0xa8),
            )
        })
        .collect();
    chart_or_note(bars("Tickets raised", "tickets", most as f64 * 1.1, &rows))
}

fn chart_or_note(drawn: Result<String, Box<dyn std::error::Error>>) -> String {
    drawn.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "a service report chart could not be drawn");
        "<p class=\"note\">The chart could not be drawn; its figures are in the table.</p>".into()
    })
}

/// Whole cents as an amount: `-12.05`.
pub(super) fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn duration(seconds: Option<f64>) -> String {
    match seconds {
        None => "–".into(),
        Some(s) if s < 3600.0 => format!("{:.0} min", s / 60.0),
        Some(s) => format!("{:.1} h", s / 3600.0),
    }
}

/// The whole page.
pub fn render(report: &ServiceReport, desk_name: &str) -> String {
    let mut html = String::new();
    let title = format!("{} — service report {}", report.name, report.month);
    html.push_str(&format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head><body>\
         <header><p class=\"desk\">{}</p><h1>{}</h1><p class=\"month\">{}</p></header>",
        escape(&title),
        escape(desk_name),
        escape(&report.name),
        report.month,
    ));

    html.push_str("<section id=\"attainment\"><h2>Service levels</h2>");
    if report.attainment.is_empty() {
        html.push_str("<p class=\"note\">No clock met or missed a target this month.</p>");
    } else {
        html.push_str(&format!(
            "<figure id=\"attainment-chart\">{}</figure>",
            attainment_chart(&report.attainment)
        ));
        html.push_str("<table><tr><th>Agreement</th><th>Policy</th><th>Metric</th><th>Priority</th><th>Measured</th><th>Met</th><th>Attainment</th></tr>");
        for r in &report.attainment {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>P{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.agreement.as_str(),
                escape(&r.policy_name),
                r.metric.as_str(),
                r.priority,
                r.measured,
                r.met,
                percent(r.attainment())
            ));
        }
        html.push_str("</table>");
    }
    html.push_str("<table><tr><th>Customer's wait</th><th>Measured</th><th>Median</th><th>90th percentile</th></tr>");
    for t in &report.times {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t.metric.as_str(),
            t.measured,
            duration(t.median_seconds),
            duration(t.p90_seconds)
        ));
    }
    html.push_str("</table></section>");

    html.push_str("<section id=\"availability\"><h2>Availability</h2>");
    if report.availability.is_empty() {
        html.push_str("<p class=\"note\">No target is set and no outage was recorded.</p>");
    } else {
        html.push_str("<table><tr><th>Service</th><th>Availability</th><th>Target</th><th>Downtime</th><th>Outages</th></tr>");
        for a in &report.availability {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{:.3}%</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&a.service.name),
                a.figures.availability_percent,
                a.target_percent
                    .map(|t| format!("{t}%"))
                    .unwrap_or_else(|| "–".into()),
                duration(Some(a.figures.unplanned_downtime.num_seconds() as f64)),
                a.figures.outages
            ));
        }
        html.push_str("</table>");
    }
    html.push_str("</section>");

    let s = &report.satisfaction;
    html.push_str(&format!(
        "<section id=\"satisfaction\"><h2>Satisfaction</h2><p>{} of {} surveys answered; average rating {}.</p></section>",
        s.answered,
        s.offered,
        s.average().map(|a| format!("{a:.2} of 5")).unwrap_or_else(|| "–".into())
    ));

    html.push_str("<section id=\"volume\"><h2>Demand</h2>");
    if report.volume.is_empty() {
        html.push_str("<p class=\"note\">No tickets were raised.</p>");
    } else {
        html.push_str(&format!(
            "<figure id=\"volume-chart\">{}</figure>",
            volume_chart(report)
        ));
    }
    if !report.problems.is_empty() {
        html.push_str(
            "<table><tr><th>Recurring problem</th><th>Status</th><th>Incidents</th></tr>",
        );
        for p in &report.problems {
            html.push_str(&format!(
                "<tr><td>{} {}</td><td>{}</td><td>{}</td></tr>",
                escape(&p.number),
                escape(&p.title),
                escape(&p.status),
                p.incidents
            ));
        }
        html.push_str("</table>");
    }
    html.push_str("</section>");

    let c = &report.changes;
    html.push_str(&format!(
        "<section id=\"changes\"><h2>Changes</h2><p>{} closed: {} successful, {} failed, {} backed out{}; {} incidents caused.</p></section>",
        c.closed,
        c.successful,
        c.failed,
        c.backed_out,
        c.success_rate().map(|r| format!(" ({} success)", percent(r))).unwrap_or_default(),
        c.incidents_caused
    ));

    html.push_str("<section id=\"continuity\"><h2>Continuity</h2>");
    if report.continuity.is_empty() {
        html.push_str("<p class=\"note\">No continuity plan.</p>");
    } else {
        html.push_str("<table><tr><th>Plan</th><th>RTO</th><th>Last exercise</th><th>Next due</th><th>Status</th></tr>");
        for p in &report.continuity {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{} min</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>",
                escape(&p.plan.name),
                p.plan.rto_minutes,
                p.last_exercise
                    .as_ref()
                    .map(|e| format!("{} ({})", e.exercised_at.format("%Y-%m-%d"), e.outcome))
                    .unwrap_or_else(|| "never".into()),
                p.due_at.format("%Y-%m-%d"),
                if p.overdue { "overdue" } else { "ok" },
                if p.overdue { "overdue" } else { "tested" }
            ));
        }
        html.push_str("</table>");
    }
    html.push_str("</section>");

    html.push_str("<section id=\"cost\"><h2>Cost and charge</h2><table><tr><th>Service</th><th>Labour</th><th>Items</th><th>Fixed</th><th>Total</th></tr>");
    for cost in &report.cost.services {
        let name = report
            .services
            .iter()
            .find(|s| s.id == cost.service_id)
            .map(|s| s.name.as_str())
            .unwrap_or_default();
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            money(cost.labour_cents),
            money(cost.item_cents),
            money(cost.fixed_cents),
            money(cost.total_cents())
        ));
    }
    html.push_str(&format!(
        "</table><p>Cost {}; charged {}.</p></section>",
        money(report.cost.cost_cents()),
        money(report.cost.charge_cents())
    ));
    html.push_str("</body></html>");
    html
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;color:#1d2433;max-width:900px;margin:2em auto;padding:0 1em}\
header{border-bottom:3px solid #2f6fb3;margin-bottom:1.5em}.desk{color:#5b6477;margin:0}.month{font-size:1.2em;margin:.2em 0 1em}\
h1{margin:.2em 0}h2{border-bottom:1px solid #d5d9e2;padding-bottom:.2em;margin-top:1.8em}\
table{border-collapse:collapse;width:100%;margin:.8em 0}th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #e6e9ef}\
th{background:#f3f5f9}figure{margin:0}figure svg{max-width:100%;height:auto}.note{color:#5b6477}\
.overdue{color:#b3261e;font-weight:600}.ok{color:#1e7b34}\
@media print{body{margin:0;max-width:none}section{break-inside:avoid}}";
