//! `POST /mail/inbound`: a mail server hands the desk one message (RFC 5322, as the body)
//! through `switchboard mail-gateway`, with an API token holding `mail:ingest`. The
//! answer says what became of it; a 503 tells the mail server to try again later (the
//! message was recorded, or not, and nothing is lost either way).

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::Server;
use crate::{
    auth::Scope,
    domain::mail::{inbound, types::Source},
    error::AppError,
};

pub async fn inbound(State(server): State<Server>, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = match server.state.auth.authenticate(authorization).await {
        Ok(caller) => caller,
        Err(error) => return refuse(error),
    };
    if let Err(error) = caller.require_role_or_scope(crate::auth::Role::Admin, Scope::MailIngest) {
        return refuse(error);
    }
    let now = server.state.clock.now();
    match inbound::receive(
        &server.state.db,
        &server.state.files,
        Source::Gateway,
        &body,
        now,
    )
    .await
    {
        Ok(outcome) => (
            StatusCode::OK,
            axum::Json(json!({
                "state": outcome.state.as_str(),
                "ticketNumber": outcome.ticket_number,
                "reason": outcome.reason,
                "duplicate": outcome.duplicate,
            })),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "a mail message could not be received");
            refuse(AppError::Internal(error.to_string()))
        }
    }
}

fn refuse(error: AppError) -> Response {
    let status = match &error {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let message = match &error {
        AppError::Internal(_) => "the desk cannot take mail just now; try again later".to_string(),
        other => other.to_string(),
    };
    (
        status,
        axum::Json(json!({ "error": { "code": error.code(), "message": message } })),
    )
        .into_response()
}
