//! The two shapes alerts arrive in, read into one: Alertmanager's webhook (version 4,
//! grouped alerts) and the generic alert. Pure: no I/O, every refusal names its field.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{AlertSource, AlertStatus};
use crate::error::{AppError, AppResult};

/// The most alerts one delivery may carry: Alertmanager sends a group at a time, and a
/// script that batches sends a few hundred.
pub const MAX_ALERTS: usize = 10_000;
/// The most labels (and annotations) an alert may carry, and the longest value.
const MAX_LABELS: usize = 64;
const MAX_VALUE_CHARS: usize = 4096;

/// One alert as a monitoring system reported it.
#[derive(Clone, Debug, PartialEq)]
pub struct IncomingAlert {
    pub fingerprint: String,
    pub source: AlertSource,
    pub name: String,
    pub status: AlertStatus,
    pub severity: String,
    pub summary: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// The group it was sent in: Alertmanager's `groupKey`, or the generic `group`
    /// (by default the alert's name).
    pub group_key: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub generator_url: Option<String>,
    /// Capacity values it carries: measure name and value.
    pub metrics: Vec<(String, f64)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Webhook {
    #[serde(default)]
    group_key: String,
    alerts: Vec<WebhookAlert>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    #[serde(rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: String,
}

/// Reads Alertmanager's webhook body.
///
/// # Errors
/// BAD_USER_INPUT naming what does not read.
pub fn from_alertmanager(body: &[u8]) -> AppResult<Vec<IncomingAlert>> {
    let hook: Webhook = serde_json::from_slice(body).map_err(|e| {
        AppError::bad_input(
            "body",
            format!("this is not Alertmanager's webhook JSON (version 4): {e}"),
        )
    })?;
    check_count(hook.alerts.len())?;
    hook.alerts
        .into_iter()
        .enumerate()
        .map(|(i, alert)| {
            let field = format!("alerts.{i}");
            let status = status_of(&alert.status, &field)?;
            let name = alert.labels.get("alertname").cloned().unwrap_or_default();
            let metrics = metric_of(&alert.labels, &alert.annotations);
            let group_key = if hook.group_key.is_empty() {
                name.clone()
            } else {
                hook.group_key.clone()
            };
            finish(
                &field,
                Draft {
                    fingerprint: alert.fingerprint,
                    source: AlertSource::Alertmanager,
                    name,
                    status,
                    severity: alert.labels.get("severity").cloned(),
                    summary: alert
                        .annotations
                        .get("summary")
                        .or_else(|| alert.annotations.get("description"))
                        .cloned(),
                    group_key,
                    starts_at: instant(alert.starts_at.as_deref(), &format!("{field}.startsAt"))?,
                    ends_at: instant(alert.ends_at.as_deref(), &format!("{field}.endsAt"))?,
                    generator_url: alert.generator_url,
                    labels: alert.labels,
                    annotations: alert.annotations,
                    metrics,
                },
            )
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Generic {
    fingerprint: Option<String>,
    name: String,
    #[serde(default = "firing")]
    status: String,
    severity: Option<String>,
    summary: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    group: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    #[serde(rename = "url")]
    generator_url: Option<String>,
    #[serde(default)]
    metrics: BTreeMap<String, f64>,
}

fn firing() -> String {
    "firing".into()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum GenericBody {
    Many { alerts: Vec<Generic> },
    One(Box<Generic>),
}

/// Reads the generic alert: one alert object, or `{"alerts": [...]}`.
///
/// # Errors
/// BAD_USER_INPUT naming what does not read.
pub fn from_generic(body: &[u8]) -> AppResult<Vec<IncomingAlert>> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| AppError::bad_input("body", format!("the body is not JSON: {e}")))?;
    let parsed: GenericBody = serde_json::from_value(value).map_err(|e| {
        AppError::bad_input(
            "body",
            format!(
                "give an alert {{\"name\", \"status\": \"firing\"|\"resolved\", \"labels\", ...}} or {{\"alerts\": [...]}}: {e}"
            ),
        )
    })?;
    let alerts = match parsed {
        GenericBody::Many { alerts } => alerts,
        GenericBody::One(alert) => vec![*alert],
    };
    check_count(alerts.len())?;
    alerts
        .into_iter()
        .enumerate()
        .map(|(i, alert)| {
            let field = format!("alerts.{i}");
            let status = status_of(&alert.status, &field)?;
            let mut metrics: Vec<(String, f64)> = alert.metrics.into_iter().collect();
            metrics.extend(metric_of(&alert.labels, &alert.annotations));
            finish(
                &field,
                Draft {
                    fingerprint: alert.fingerprint.unwrap_or_default(),
                    source: AlertSource::Generic,
                    group_key: alert.group.unwrap_or_else(|| alert.name.clone()),
                    name: alert.name,
                    status,
                    severity: alert
                        .severity
                        .or_else(|| alert.labels.get("severity").cloned()),
                    summary: alert.summary,
                    starts_at: instant(alert.starts_at.as_deref(), &format!("{field}.startsAt"))?,
                    ends_at: instant(alert.ends_at.as_deref(), &format!("{field}.endsAt"))?,
                    generator_url: alert.generator_url,
                    labels: alert.labels,
                    annotations: alert.annotations,
                    metrics,
                },
            )
        })
        .collect()
}

struct Draft {
    fingerprint: String,
    source: AlertSource,
    name: String,
    status: AlertStatus,
    severity: Option<String>,
    summary: Option<String>,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    group_key: String,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    generator_url: Option<String>,
    metrics: Vec<(String, f64)>,
}

fn finish(field: &str, draft: Draft) -> AppResult<IncomingAlert> {
    // PostgreSQL's text cannot hold a NUL, and no monitoring system means one: refuse it
    // here rather than let the database fail the whole batch.
    let texts = [
        Some(&draft.name),
        Some(&draft.fingerprint),
        Some(&draft.group_key),
    ]
    .into_iter()
    .chain([
        draft.severity.as_ref(),
        draft.summary.as_ref(),
        draft.generator_url.as_ref(),
    ])
    .flatten()
    .chain(
        draft
            .labels
            .iter()
            .chain(&draft.annotations)
            .flat_map(|(k, v)| [k, v]),
    )
    .chain(draft.metrics.iter().map(|(k, _)| k));
    for text in texts {
        if text.contains('\0') {
            return Err(AppError::bad_input(
                field,
                "an alert's texts may not contain NUL characters",
            ));
        }
    }
    let name = draft.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::bad_input(
            format!("{field}.name"),
            "an alert needs a name (Alertmanager's `alertname` label) of 1 to 200 characters",
        ));
    }
    for (what, map) in [
        ("labels", &draft.labels),
        ("annotations", &draft.annotations),
    ] {
        if map.len() > MAX_LABELS
            || map
                .iter()
                .any(|(k, v)| k.chars().count() > 200 || v.chars().count() > MAX_VALUE_CHARS)
        {
            return Err(AppError::bad_input(
                format!("{field}.{what}"),
                format!(
                    "give at most {MAX_LABELS} {what}, names of up to 200 characters and values of up to {MAX_VALUE_CHARS}"
                ),
            ));
        }
    }
    if draft.metrics.iter().any(|(_, v)| !v.is_finite()) {
        return Err(AppError::bad_input(
            format!("{field}.metrics"),
            "metric values must be finite numbers",
        ));
    }
    let fingerprint = match draft.fingerprint.trim() {
        "" => fingerprint_of(draft.source, &name, &draft.labels),
        given if given.len() <= 128 => given.to_string(),
        _ => {
            return Err(AppError::bad_input(
                format!("{field}.fingerprint"),
                "a fingerprint has at most 128 characters",
            ));
        }
    };
    let clip = |text: String, most: usize| text.chars().take(most).collect::<String>();
    Ok(IncomingAlert {
        fingerprint,
        source: draft.source,
        severity: clip(
            draft
                .severity
                .unwrap_or_else(|| "none".into())
                .to_lowercase(),
            40,
        ),
        summary: clip(
            draft.summary.unwrap_or_else(|| name.clone()),
            MAX_VALUE_CHARS,
        ),
        name,
        status: draft.status,
        labels: draft.labels,
        annotations: draft.annotations,
        group_key: clip(draft.group_key, 1000),
        starts_at: draft.starts_at,
        ends_at: draft.ends_at,
        generator_url: draft.generator_url.map(|u| clip(u, 2000)),
        metrics: draft.metrics,
    })
}

fn check_count(count: usize) -> AppResult<()> {
    if count > MAX_ALERTS {
        return Err(AppError::bad_input(
            "alerts",
            format!("send at most {MAX_ALERTS} alerts at a time, not {count}"),
        ));
    }
    Ok(())
}

fn status_of(text: &str, field: &str) -> AppResult<AlertStatus> {
    match text.trim().to_ascii_lowercase().as_str() {
        "firing" | "problem" | "alerting" => Ok(AlertStatus::Firing),
        "resolved" | "ok" => Ok(AlertStatus::Resolved),
        other => Err(AppError::bad_input(
            format!("{field}.status"),
            format!("'{other}' is not a status: give firing or resolved"),
        )),
    }
}

/// An RFC 3339 instant; Alertmanager's zero time (`0001-01-01T00:00:00Z`, "not yet")
/// reads as none.
fn instant(text: Option<&str>, field: &str) -> AppResult<Option<DateTime<Utc>>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let at = DateTime::parse_from_rfc3339(text)
        .map_err(|_| AppError::bad_input(field, format!("'{text}' is not an RFC 3339 instant")))?
        .with_timezone(&Utc);
    Ok((at.timestamp() > 0).then_some(at))
}

/// A capacity value carried the Prometheus way: a `measure` label and the value in a
/// `value` annotation.
fn metric_of(
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> Vec<(String, f64)> {
    match (labels.get("measure"), annotations.get("value")) {
        (Some(measure), Some(value)) => value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(|v| vec![(measure.clone(), v)])
            .unwrap_or_default(),
        _ => vec![],
    }
}

/// The fingerprint of an alert that came without one: its name and labels, as
/// Alertmanager identifies an alert by its label set.
fn fingerprint_of(source: AlertSource, name: &str, labels: &BTreeMap<String, String>) -> String {
    let mut hash = Sha256::new();
    hash.update(source.as_str());
    hash.update([0]);
    hash.update(name);
    for (k, v) in labels {
        hash.update([0]);
        hash.update(k);
        hash.update([1]);
        hash.update(v);
    }
    hex::encode(&hash.finalize()[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alertmanager_webhook_reads_grouped_alerts() {
        let body = br#"{"version":"4","groupKey":"{}:{ci=\"web-1\"}","status":"firing","receiver":"desk",
            "groupLabels":{"ci":"web-1"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am",
            "alerts":[
              {"status":"firing","labels":{"alertname":"HighCPU","ci":"web-1","severity":"critical"},
               "annotations":{"summary":"CPU at 98%"},"startsAt":"2026-12-03T10:00:00Z",
               "endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom/graph","fingerprint":"abc123"},
              {"status":"resolved","labels":{"alertname":"DiskFull","ci":"web-1","measure":"disk"},
               "annotations":{"value":"91.5"},"startsAt":"2026-12-03T09:00:00Z",
               "endsAt":"2026-12-03T10:05:00Z","fingerprint":"def456"}]}"#;
        let alerts = from_alertmanager(body).unwrap();
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[0].name, "HighCPU");
        assert_eq!(alerts[0].status, AlertStatus::Firing);
        assert_eq!(alerts[0].severity, "critical");
        assert_eq!(alerts[0].summary, "CPU at 98%");
        assert_eq!(alerts[0].ends_at, None);
        assert_eq!(alerts[0].group_key, "{}:{ci=\"web-1\"}");
        assert_eq!(alerts[1].status, AlertStatus::Resolved);
        assert_eq!(alerts[1].metrics, vec![("disk".to_string(), 91.5)]);
        assert_eq!(
            alerts[1].ends_at,
            Some("2026-12-03T10:05:00Z".parse().unwrap())
        );
    }

    #[test]
    fn generic_alert_without_fingerprint_gets_a_stable_one() {
        let one = from_generic(br#"{"name":"Ping","labels":{"host":"db-1"}}"#).unwrap();
        let again = from_generic(
            br#"{"alerts":[{"name":"Ping","labels":{"host":"db-1"},"status":"resolved"}]}"#,
        )
        .unwrap();
        assert_eq!(one[0].fingerprint, again[0].fingerprint);
        assert_eq!(again[0].status, AlertStatus::Resolved);
        let other = from_generic(br#"{"name":"Ping","labels":{"host":"db-2"}}"#).unwrap();
        assert_ne!(one[0].fingerprint, other[0].fingerprint);
    }

    #[test]
    fn refusals_name_their_field() {
        let field = |r: AppResult<Vec<IncomingAlert>>| match r.unwrap_err() {
            AppError::BadUserInput { field, .. } => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(from_generic(br#"{"name":"X","status":"burning"}"#)),
            "alerts.0.status"
        );
        assert_eq!(field(from_generic(br#"{"name":" "}"#)), "alerts.0.name");
        assert_eq!(field(from_generic(b"[1,2")), "body");
        assert_eq!(
            field(from_generic(
                br#"{"name":"X","labels":{"host":"db\u0000"}}"#
            )),
            "alerts.0"
        );
        assert_eq!(field(from_alertmanager(br#"{"alerts":[{"status":"firing","labels":{"alertname":"X"},"startsAt":"yesterday"}]}"#)), "alerts.0.startsAt");
    }
}
