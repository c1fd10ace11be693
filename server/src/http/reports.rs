//! The monthly service report over plain HTTP, for spreadsheets and browsers:
//! `GET /reports/{subject}/{YYYY-MM}.csv` and `….html`, where the subject is a service's
//! or an organization's global id. Opened by the signed link the GraphQL report gives
//! (`csvUrl`, `pageUrl`), or with `Authorization: Bearer` as a manager.

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{Server, attachments::refusal, request_id_of};
use crate::{
    domain::service_report::{self, Month, csv, page},
    error::AppError,
    graphql::{ids, service_report::signed_name},
};

/// A signed link's query.
#[derive(Deserialize)]
pub struct Signed {
    expires: Option<i64>,
    signature: Option<String>,
}

/// The page shows its own inline styles and SVG, and runs and loads nothing.
const PAGE_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

/// `GET /reports/{subject}/{file}`: the report as CSV or as its page.
pub async fn report(
    State(server): State<Server>,
    Path((subject, file)): Path<(String, String)>,
    Query(signed): Query<Signed>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let request_id = request_id_of(request.extensions());
    match render(&server, &subject, &file, signed, &headers).await {
        Ok(response) => response,
        Err(error) => refusal(error, &request_id),
    }
}

async fn render(
    server: &Server,
    subject: &str,
    file: &str,
    signed: Signed,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let state = &server.state;
    let (month, format) = file.rsplit_once('.').ok_or_else(|| {
        AppError::NotFound("ask for the report as YYYY-MM.csv or YYYY-MM.html".into())
    })?;
    if format != "csv" && format != "html" {
        return Err(AppError::NotFound(
            "a report is served as .csv or .html".into(),
        ));
    }
    let month = Month::parse(month)?;
    let id = async_graphql::ID::from(subject);
    let subject = match ids::decode(&id)?.0.as_str() {
        "Service" => service_report::Subject::Service(ids::decode_as(&id, "Service", "subject")?),
        _ => service_report::Subject::Organization(ids::decode_as(&id, "Organization", "subject")?),
    };
    let now = state.clock.now();
    let report = if let (Some(expires), Some(signature)) = (signed.expires, signed.signature) {
        // The link was made for a manager who could read this report.
        if !state
            .files
            .signer
            .verify_for(&signed_name(subject, month), expires, &signature, now)
        {
            return Err(AppError::Forbidden(
                "this link has expired or is not one the desk made: ask for the report again"
                    .into(),
            ));
        }
        service_report::compute(state.db.conn(), subject, month, now).await?
    } else {
        let caller = state
            .auth
            .authenticate(
                headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok()),
            )
            .await?;
        service_report::report(state.db.conn(), &caller, subject, month, now).await?
    };
    let filename = format!(
        "{}-{month}.{format}",
        report
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    );
    let (body, media_type) = if format == "csv" {
        (csv::render(&report), "text/csv; charset=utf-8")
    } else {
        // The desk signs its page as it signs its mail: the sender's display name.
        let desk = state
            .config
            .outbox
            .as_ref()
            .and_then(|o| o.from.split_once('<'))
            .map(|(name, _)| name.trim().trim_matches('"').to_string())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "Service Desk".into());
        (page::render(&report, &desk), "text/html; charset=utf-8")
    };
    let mut response = body.into_response();
    let set = response.headers_mut();
    set.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    let disposition = if format == "csv" {
        "attachment"
    } else {
        "inline"
    };
    if let Ok(value) = HeaderValue::from_str(&format!("{disposition}; filename=\"{filename}\"")) {
        set.insert(header::CONTENT_DISPOSITION, value);
    }
    set.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    set.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    set.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    set.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}
