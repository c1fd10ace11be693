//! The satisfaction survey's page at `/survey/{token}`: the link in the mail a requester
//! receives when their ticket is resolved. It works without signing in (the token is
//! the credential), answers once, and expires; from it the requester may also open the
//! ticket again. Plain HTML and a form: no script, so it works in any mail client's
//! browser.

use axum::{
    Form,
    extract::{Path, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;

use super::Server;
use crate::{
    domain::satisfaction::{self, Answer},
    error::AppError,
    html::escape,
};

/// No script, no outside resources, forms only back here, never framed; the token is
/// in the address, so no referrer is sent and nothing is cached.
const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

/// What the form sends.
#[derive(Deserialize)]
pub struct Answered {
    rating: Option<String>,
    #[serde(default)]
    comment: String,
    reopen: Option<String>,
}

/// The form, for a survey that may still be answered.
pub async fn page(State(server): State<Server>, Path(token): Path<String>) -> Response {
    let now = server.state.clock.now();
    let found = satisfaction::by_token(server.state.db.conn(), &token)
        .await
        .and_then(|(survey, ticket)| {
            satisfaction::still_open(&survey, now).map(|()| (survey, ticket))
        });
    let (survey, ticket) = match found {
        Ok(found) => found,
        Err(error) => return refusal(error),
    };
    let choices: String = (1..=5)
        .rev()
        .map(|n| {
            let label =
                ["very unhappy", "unhappy", "so-so", "happy", "very happy"][n as usize - 1];
            format!(
                "<label><input type=\"radio\" name=\"rating\" value=\"{n}\" required> {n}: {label}</label>"
            )
        })
        .collect();
    let body = format!(
        "<h1>How did we do?</h1><p>{number}: {title}</p>\
         <form method=\"post\">{choices}\
         <label for=\"comment\">Anything to tell us?</label>\
         <textarea id=\"comment\" name=\"comment\" maxlength=\"2000\"></textarea>\
         <label><input type=\"checkbox\" name=\"reopen\" value=\"yes\"> The problem is still there: open the ticket again</label>\
         <button type=\"submit\">Send</button></form>\
         <p class=\"small\">This link works once, until {expires}.</p>",
        number = escape(&ticket.number),
        title = escape(&ticket.title),
        expires = survey.expires_at.format("%Y-%m-%d"),
    );
    reply(StatusCode::OK, &body)
}

/// Records the answer, once.
pub async fn answer(
    State(server): State<Server>,
    Path(token): Path<String>,
    Form(form): Form<Answered>,
) -> Response {
    let Some(rating) = form
        .rating
        .as_deref()
        .and_then(|r| r.trim().parse::<i16>().ok())
    else {
        return refusal(AppError::bad_input(
            "rating",
            "choose a rating from 1 (very unhappy) to 5 (very happy)",
        ));
    };
    let answer = Answer {
        rating,
        comment: Some(form.comment),
        reopen: form.reopen.is_some(),
    };
    let now = server.state.clock.now();
    match satisfaction::answer_by_token(&server.state.db, now, &token, &answer).await {
        Ok(_) if answer.reopen => reply(
            StatusCode::OK,
            "<h1>Thank you</h1><p>We have your answer, and the ticket is open again: the desk will be back in touch.</p>",
        ),
        Ok(_) => reply(
            StatusCode::OK,
            "<h1>Thank you</h1><p>We have your answer.</p>",
        ),
        Err(error) => refusal(error),
    }
}

fn refusal(error: AppError) -> Response {
    let status = match &error {
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::BadUserInput { .. } | AppError::InvalidTransition { .. } => {
            StatusCode::BAD_REQUEST
        }
        AppError::Internal(detail) => {
            tracing::error!(error = %detail, "internal error answering a survey");
            return reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<h1>Sorry</h1><p>Something went wrong on our side; please try again later.</p>",
            );
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let message = match &error {
        AppError::BadUserInput { message, .. } => message.clone(),
        other => other.to_string(),
    };
    reply(
        status,
        &format!("<h1>Sorry</h1><p>{}</p>", escape(&message)),
    )
}

fn reply(status: StatusCode, body: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Service desk survey</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         label{{display:block;margin:.4rem 0}}textarea{{width:100%;min-height:6rem}}\
         button{{margin-top:1rem;padding:.5rem 1.5rem}}.small{{color:#555;font-size:.9rem}}\
         </style></head><body>{body}</body></html>"
    );
    (
        status,
        [
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(POLICY),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        Html(page),
    )
        .into_response()
}
