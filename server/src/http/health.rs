use std::time::Duration;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use super::Server;

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The process is up and serving HTTP.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// The process can do its work: the database answers, and Redis when configured. How
/// the IMAP mailbox's last fetch went is shown too.
pub async fn readyz(State(server): State<Server>) -> impl IntoResponse {
    let state = &server.state;
    let database = match tokio::time::timeout(CHECK_TIMEOUT, state.db.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err("no answer within 2 s".to_string()),
    };
    let mut checks = serde_json::Map::new();
    checks.insert("database".into(), describe(&database));
    let mut ready = database.is_ok();
    if let Some(client) = &state.redis {
        let redis = tokio::time::timeout(CHECK_TIMEOUT, async {
            let mut conn = client.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<String>(&mut conn).await
        })
        .await
        .map_err(|_| "no answer within 2 s".to_string())
        .and_then(|r| r.map(|_| ()).map_err(|e| e.to_string()));
        ready &= redis.is_ok();
        checks.insert("redis".into(), describe(&redis));
    }
    // The mailbox is reported, not required: the API serves while mail waits.
    if let Some(mailbox) = &state.mailbox {
        let detail = match mailbox.last() {
            None => json!("starting"),
            Some(last) => describe(&last),
        };
        checks.insert("mailbox".into(), detail);
    }
    if !ready {
        tracing::warn!(checks = %serde_json::Value::Object(checks.clone()), "not ready");
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({ "status": if ready { "ready" } else { "unavailable" }, "checks": checks });
    (status, Json(body))
}

fn describe(result: &Result<(), String>) -> serde_json::Value {
    match result {
        Ok(()) => json!("ok"),
        Err(error) => json!(format!("failing: {error}")),
    }
}

/// The OpenMetrics text Prometheus scrapes (see `crate::metrics`).
pub async fn metrics(State(server): State<Server>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        server.state.metrics.render(server.state.db.pool_status()),
    )
}
