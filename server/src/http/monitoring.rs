//! The alert intake: `POST /monitoring/alertmanager` takes Prometheus Alertmanager's
//! webhook as Alertmanager sends it (point a receiver's `webhook_configs` here, with
//! `http_config.authorization.credentials` an API token holding `alerts:ingest`), and
//! `POST /monitoring/alerts` the generic alert (one, or `{"alerts": [...]}`) for
//! Zabbix, Grafana or a script.
//!
//! The answer comes once the alerts are stored (a batch's commit), so a 200 means they
//! need not be sent again; a 503 asks the sender to retry, as Alertmanager does. Bad
//! input is a 400 with its `extensions.code` and the field.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{Server, request_id_of};
use crate::{
    domain::{
        events::Actor,
        monitoring::{self, IncomingAlert, intake},
    },
    error::{AppError, AppResult, app_error_to_client},
};

/// The largest body the intake reads: ten thousand alerts with their labels.
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

pub async fn alertmanager(
    State(server): State<Server>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    take(server, headers, request, intake::from_alertmanager).await
}

pub async fn generic(
    State(server): State<Server>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    take(server, headers, request, intake::from_generic).await
}

async fn take(
    server: Server,
    headers: HeaderMap,
    request: axum::extract::Request,
    read: fn(&[u8]) -> AppResult<Vec<IncomingAlert>>,
) -> Response {
    let request_id = request_id_of(request.extensions());
    let state = &server.state;
    let outcome = async {
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let caller = state.auth.authenticate(authorization).await?;
        monitoring::require_sender(&caller)?;
        let body: Bytes = axum::body::to_bytes(request.into_body(), MAX_BYTES)
            .await
            .map_err(|_| {
                AppError::bad_input(
                    "body",
                    format!("send at most {} MiB at a time", MAX_BYTES / (1024 * 1024)),
                )
            })?;
        let alerts = read(&body)?;
        state.metrics.alerts_received(alerts.len());
        state.alerts.submit(Actor::of(&caller), alerts).await
    }
    .await;
    match outcome {
        Ok(receipt) => (
            StatusCode::OK,
            axum::Json(json!({
                "received": receipt.received,
                "new": receipt.new,
                "changed": receipt.changed,
                "repeated": receipt.repeated,
            })),
        )
            .into_response(),
        Err(error) => {
            let status = match &error {
                AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                AppError::BadUserInput { .. } => StatusCode::BAD_REQUEST,
                AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            if status == StatusCode::SERVICE_UNAVAILABLE {
                tracing::warn!(%error, "alerts could not be taken in; the sender will retry");
            }
            let error = app_error_to_client(error, &request_id);
            (status, axum::Json(json!({ "errors": [error] }))).into_response()
        }
    }
}
