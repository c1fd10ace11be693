//! The release calendar as an iCalendar feed, `GET /calendar/releases.ics`, that
//! Outlook, Google Calendar and Thunderbird subscribe to: releases, the windows of the
//! changes scheduled, and the freezes, from 30 days back to 180 ahead. Calendar
//! programs send no headers of their own, so the token may come in the address
//! (`?token=`, an API token with `tickets:read`, or a desk person's JWT) as well as in
//! `Authorization`.

use axum::{
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Duration;
use icalendar::{Calendar, Component, Event, EventLike, EventStatus};
use serde::Deserialize;
use serde_json::json;

use super::{Server, request_id_of};
use crate::{
    domain::releases,
    error::{AppError, app_error_to_client},
};

#[derive(Deserialize)]
pub struct Feed {
    token: Option<String>,
}

pub async fn releases(
    State(server): State<Server>,
    Query(feed): Query<Feed>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let request_id = request_id_of(request.extensions());
    let authorization = feed.token.map(|t| format!("Bearer {t}")).or_else(|| {
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let state = &server.state;
    let now = state.clock.now();
    let period = async {
        let caller = state.auth.authenticate(authorization.as_deref()).await?;
        releases::calendar(
            state.db.conn(),
            &caller,
            now - Duration::days(30),
            now + Duration::days(180),
        )
        .await
    }
    .await;
    let period = match period {
        Ok(period) => period,
        Err(error) => {
            let status = match error {
                AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
                AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let error = app_error_to_client(error, &request_id);
            return (status, axum::Json(json!({ "errors": [error] }))).into_response();
        }
    };
    let mut calendar = Calendar::new();
    calendar.name("Switchboard releases and changes");
    for row in &period.releases {
        let (Some(start), Some(end)) = (row.planned_start, row.planned_end) else {
            continue;
        };
        calendar.push(
            Event::new()
                .uid(&format!("release-{}@switchboard", row.id))
                .summary(&format!(
                    "{} {} ({})",
                    row.number, row.name, row.version_label
                ))
                .description(&format!(
                    "Release {}, {}, {}",
                    row.number, row.release_type, row.status
                ))
                .starts(start)
                .ends(end)
                .status(if row.status == "CANCELLED" {
                    EventStatus::Cancelled
                } else {
                    EventStatus::Confirmed
                })
                .done(),
        );
    }
    for (row, conflicts) in &period.changes {
        let (Some(start), Some(end)) = (row.planned_start, row.planned_end) else {
            continue;
        };
        let mut description = format!(
            "Change window of {}: {} ({})",
            row.number, row.title, row.status
        );
        if !conflicts.is_empty() {
            description.push_str(&format!("\nConflicts with {}", conflicts.join(", ")));
        }
        let mut event = Event::new();
        event
            .uid(&format!("change-{}@switchboard", row.id))
            .summary(&format!(
                "{}{} {}",
                if conflicts.is_empty() {
                    ""
                } else {
                    "CONFLICT: "
                },
                row.number,
                row.title
            ))
            .description(&description)
            .starts(start)
            .ends(end);
        calendar.push(event.done());
    }
    for freeze in &period.freezes {
        calendar.push(
            Event::new()
                .uid(&format!("freeze-{}@switchboard", freeze.id))
                .summary(&format!("Change freeze: {}", freeze.name))
                .starts(freeze.starts_at)
                .ends(freeze.ends_at)
                .done(),
        );
    }
    let mut response = calendar.done().to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=300"),
    );
    response
}
