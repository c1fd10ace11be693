//! GraphQL over HTTP, as its specification says: POST with `application/json`, GET for
//! queries only, `application/graphql-response+json` with meaningful status codes, and
//! GraphiQL for a browser.

use async_graphql::{
    ParseRequestError, Request, ServerError, http::MultipartOptions, parser::types::OperationType,
};
use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{Server, execute, request_id_of};
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use crate::{
    db,
    domain::attachments::{MAX_FILES_PER_REQUEST, store::human},
    error::{AppError, app_error_to_client, edge_error},
    graphql::loaders::Lasting,
};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";
/// The GraphQL multipart request specification's media type: operations, a map, files.
const MULTIPART: &str = "multipart/form-data";

/// The media type the client will get: the spec's own, or plain JSON for older clients.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Media {
    GraphqlResponseJson,
    Json,
}

impl Media {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        })
    }
}

fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Media::Json);
    };
    let types: Vec<&str> = accept
        .split(',')
        .map(|part| part.split(';').next().unwrap_or("").trim())
        .collect();
    if types.contains(&GRAPHQL_RESPONSE_JSON) {
        Some(Media::GraphqlResponseJson)
    } else if types
        .iter()
        .any(|t| matches!(*t, JSON | "application/*" | "*/*"))
    {
        Some(Media::Json)
    } else {
        None
    }
}

fn wants_graphiql(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

pub async fn get(
    State(server): State<Server>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let request_id = request_id_of(request.extensions());
    let query = query.unwrap_or_default();
    if query.is_empty() && wants_graphiql(&headers) {
        return super::graphiql::page().into_response();
    }
    let Some(media) = negotiate(&headers) else {
        return not_acceptable(&request_id);
    };
    let parsed = match parse_query_string(&query) {
        Ok(parsed) => parsed,
        Err(error) => {
            let message = format!("The query string is not a GraphQL request: {error}");
            return reply_error(
                media,
                StatusCode::BAD_REQUEST,
                edge_error(message, "BAD_REQUEST", &request_id),
            );
        }
    };
    run(server, parsed, &headers, media, &request_id, true).await
}

pub async fn post(
    State(server): State<Server>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let request_id = request_id_of(request.extensions());
    let Some(media) = negotiate(&headers) else {
        return not_acceptable(&request_id);
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == MULTIPART {
        let content_type = content_type.to_string();
        return match multipart(&server, &content_type, request).await {
            Ok(parsed) => run(server, parsed, &headers, media, &request_id, false).await,
            Err((status, message)) => reply_error(
                media,
                status,
                edge_error(message, "BAD_REQUEST", &request_id),
            ),
        };
    }
    if essence != JSON {
        let message = format!(
            "Send the request as {JSON} (or {MULTIPART} with files), not {}",
            if essence.is_empty() {
                "without a Content-Type"
            } else {
                &essence
            }
        );
        return reply_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            edge_error(message, "BAD_REQUEST", &request_id),
        );
    }
    let body = match axum::body::to_bytes(
        request.into_body(),
        server.state.config.limits.max_body_bytes,
    )
    .await
    {
        Ok(body) => body,
        Err(_) => {
            let message = format!(
                "The request body is larger than {} bytes (SWITCHBOARD_MAX_BODY_BYTES)",
                server.state.config.limits.max_body_bytes
            );
            return reply_error(
                media,
                StatusCode::PAYLOAD_TOO_LARGE,
                edge_error(message, "BAD_REQUEST", &request_id),
            );
        }
    };
    let parsed = match parse_body(&body) {
        Ok(parsed) => parsed,
        Err(message) => {
            return reply_error(
                media,
                StatusCode::BAD_REQUEST,
                edge_error(message, "BAD_REQUEST", &request_id),
            );
        }
    };
    run(server, parsed, &headers, media, &request_id, false).await
}

/// Reads a request of the GraphQL multipart request specification (what
/// apollo-upload-client, urql and graphql-upload send): each file streamed to a
/// temporary file as it arrives, never whole in memory, and refused past the
/// attachment limit before anything is kept.
async fn multipart(
    server: &Server,
    content_type: &str,
    request: axum::extract::Request,
) -> Result<Request, (StatusCode, String)> {
    use futures::TryStreamExt;
    use tokio_util::compat::TokioAsyncReadCompatExt;

    let limit = server.state.config.limits.attachments.per_file;
    let options = MultipartOptions::default()
        .max_file_size(usize::try_from(limit).unwrap_or(usize::MAX))
        .max_num_files(MAX_FILES_PER_REQUEST);
    let body = request
        .into_body()
        .into_data_stream()
        .map_err(std::io::Error::other);
    let mut reader = tokio_util::io::StreamReader::new(body).compat();
    let received =
        async_graphql::http::receive_body(Some(content_type), &mut reader, options).await;
    if matches!(received, Err(ParseRequestError::PayloadTooLarge)) {
        super::attachments::drain(reader.get_mut(), limit).await;
    }
    received.map_err(|error| match error {
            ParseRequestError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "A file is larger than {}, the most the desk takes (SWITCHBOARD_MAX_ATTACHMENT_BYTES)",
                    human(limit)
                ),
            ),
            ParseRequestError::UnsupportedBatch => (
                StatusCode::BAD_REQUEST,
                "Batched requests are not supported: send one operation per request".into(),
            ),
            other => (
                StatusCode::BAD_REQUEST,
                format!("The request is not a GraphQL multipart request: {other}"),
            ),
        })
}

/// A GET request's parameters, named as GraphQL over HTTP names them (`operationName`,
/// which urql and Relay send; async-graphql's own parser reads `operation_name`).
#[derive(serde::Deserialize)]
struct GetParams {
    #[serde(default)]
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

fn parse_query_string(input: &str) -> Result<Request, String> {
    let params: GetParams = axum::extract::Query::try_from_uri(
        &format!("/?{input}").parse().map_err(|e| format!("{e}"))?,
    )
    .map(|q| q.0)
    .map_err(|e| e.body_text())?;
    let json = |name: &str, text: Option<String>| -> Result<serde_json::Value, String> {
        match text.filter(|t| !t.is_empty()) {
            Some(text) => {
                serde_json::from_str(&text).map_err(|e| format!("{name} is not JSON: {e}"))
            }
            None => Ok(serde_json::Value::Null),
        }
    };
    let mut request = Request::new(params.query).variables(async_graphql::Variables::from_json(
        json("variables", params.variables)?,
    ));
    request.operation_name = params.operation_name.filter(|n| !n.is_empty());
    if let serde_json::Value::Object(extensions) = json("extensions", params.extensions)? {
        for (key, value) in extensions {
            let value = async_graphql::Value::from_json(value).map_err(|e| e.to_string())?;
            request.extensions.insert(key, value);
        }
    }
    Ok(request)
}

fn parse_body(body: &Bytes) -> Result<Request, String> {
    let mut value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("The request body is not valid JSON: {e}"))?;
    if value.is_array() {
        return Err("Batched requests are not supported: send one operation per request".into());
    }
    // A persisted query is sent by its hash alone (see `documents`).
    let by_hash = value
        .pointer("/extensions/persistedQuery/sha256Hash")
        .is_some_and(|h| h.is_string());
    if by_hash && value.get("query").is_none_or(|q| q.is_null()) {
        value["query"] = serde_json::Value::String(String::new());
    }
    if !value.get("query").is_some_and(|q| q.is_string()) {
        return Err("The request body must be a JSON object with a 'query' string".into());
    }
    serde_json::from_value(value)
        .map_err(|e| format!("The request body is not a GraphQL request: {e}"))
}

async fn run(
    server: Server,
    request: Request,
    headers: &HeaderMap,
    media: Media,
    request_id: &str,
    via_get: bool,
) -> Response {
    let limits = server.state.config.limits;
    let span = tracing::Span::current();
    let mut request = request;
    if let Err(error) = server.state.documents.resolve(&mut request, request_id) {
        return reply_error(media, request_error_status(media), error);
    }
    server.state.documents.reuse(&mut request);
    let mut prepared = match execute::prepare(request, &limits, request_id) {
        Ok(prepared) => prepared,
        Err(error) => return reply_error(media, request_error_status(media), error),
    };
    server.state.documents.remember(&mut prepared.request);
    execute::record_operation(&span, &prepared);
    match prepared.operation {
        OperationType::Mutation if via_get => {
            let error = edge_error(
                "Mutations must be sent with POST",
                "BAD_REQUEST",
                request_id,
            );
            let mut response = reply_error(media, StatusCode::METHOD_NOT_ALLOWED, error);
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return response;
        }
        OperationType::Subscription => {
            let error = edge_error(
                "Subscriptions run over the WebSocket at /graphql/ws (graphql-transport-ws)",
                "BAD_REQUEST",
                request_id,
            );
            return reply_error(media, request_error_status(media), error);
        }
        _ => {}
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let caller = match server.state.auth.authenticate(authorization).await {
        Ok(caller) => caller,
        Err(error) => return unauthenticated(media, error, request_id),
    };
    let now_ms = server.state.clock.now().timestamp_millis();
    if let Err(wait) = server.state.rate_limiter.check(&caller, now_ms).await {
        return rate_limited(media, wait, request_id);
    }
    let statements = Arc::new(AtomicU64::new(0));
    let plans = &server.state.plans;
    let query_operation = prepared.operation == OperationType::Query;
    if query_operation
        && let Some(response) =
            planned(&server, &prepared.request, &caller, media, &statements).await
    {
        return response;
    }
    // Only queries are planned: a mutation's text need not take a place among the plans.
    let candidate = if query_operation {
        plans.candidate(&mut prepared.request)
    } else {
        crate::graphql::planned::Candidate::none()
    };
    let query = prepared.request.query.clone();
    let operation_name = prepared.request.operation_name.clone();
    let root_keys = match prepared.request.parsed_query() {
        Ok(doc) => execute::root_keys(doc, operation_name.as_deref()),
        Err(_) => Vec::new(),
    };
    let request = crate::graphql::attach(
        prepared.request,
        caller,
        &server.state,
        &statements,
        Lasting::Once,
    );
    let mut executed = db::counted(statements.clone(), server.schema.execute(request)).await;
    execute::in_selection_order(&mut executed.data, &root_keys);
    let ran = execute::Ran {
        query: &query,
        operation_name: operation_name.as_deref(),
        types: &server.field_types,
    };
    let (response, request_error) = execute::finish(executed, &ran, &limits, request_id);
    execute::record_errors(&span, &response.errors);
    if response.errors.is_empty() {
        plans.proven_by(candidate);
    }
    // Nothing ran because the database is out of reach (503) or its disk is full (507):
    // said in the status too, so that a proxy or a client's retry logic treats it as the
    // outage it is.
    let outage = if response.data == async_graphql::Value::Null && !response.errors.is_empty() {
        let codes = execute::error_codes(&response.errors);
        if codes.iter().all(|code| code == "SERVICE_UNAVAILABLE") {
            Some(StatusCode::SERVICE_UNAVAILABLE)
        } else if codes.iter().all(|code| code == "STORAGE_FULL") {
            Some(StatusCode::INSUFFICIENT_STORAGE)
        } else {
            None
        }
    } else {
        None
    };
    let status = if let Some(status) = outage {
        status
    } else if request_error {
        request_error_status(media)
    } else {
        StatusCode::OK
    };
    let mut response = reply(media, status, &response);
    if outage == Some(StatusCode::SERVICE_UNAVAILABLE) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    timed(response, &statements, false)
}

/// The response from the request's proven plan (`graphql::planned`), if it has one and
/// the request fits it: data, no errors. None sends it the ordinary way.
async fn planned(
    server: &Server,
    request: &Request,
    caller: &crate::auth::Caller,
    media: Media,
    statements: &Arc<AtomicU64>,
) -> Option<Response> {
    let plan = server.state.plans.proven(request)?;
    let answer = crate::graphql::planned::answer(&plan, request, caller, &server.state);
    match db::counted(statements.clone(), answer).await {
        Ok(body) => {
            server.state.metrics.planned_read("answered");
            let response = (
                StatusCode::OK,
                [(header::CONTENT_TYPE, media.content_type())],
                body,
            )
                .into_response();
            Some(timed(response, statements, true))
        }
        Err(why) => {
            server.state.metrics.planned_read("ordinary");
            tracing::debug!(why = why.0, "a planned read goes the ordinary way");
            None
        }
    }
}

/// For developers and the tests: what this request cost the database, and whether the
/// planned path answered it.
fn timed(mut response: Response, statements: &AtomicU64, planned: bool) -> Response {
    let timing = format!(
        "sql;desc=\"{} statements\"{}",
        statements.load(Ordering::Relaxed),
        if planned { ", planned" } else { "" }
    );
    if let Ok(value) = header::HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}

/// Under the spec's media type a request error is a 400; plain JSON clients expect 200.
fn request_error_status(media: Media) -> StatusCode {
    match media {
        Media::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        Media::Json => StatusCode::OK,
    }
}

fn reply(media: Media, status: StatusCode, body: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(body)
        .unwrap_or_else(|_| b"{\"errors\":[{\"message\":\"unserialisable response\"}]}".to_vec());
    (status, [(header::CONTENT_TYPE, media.content_type())], body).into_response()
}

/// Answers with one error, noted in the log line and the metrics like any other.
fn reply_error(media: Media, status: StatusCode, error: ServerError) -> Response {
    execute::record_errors(&tracing::Span::current(), std::slice::from_ref(&error));
    reply(media, status, &json!({ "errors": [error] }))
}

fn unauthenticated(media: Media, error: AppError, request_id: &str) -> Response {
    let status = match error {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let mut response = reply_error(media, status, app_error_to_client(error, request_id));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    response
}

/// 429 with `Retry-After` (whole seconds, rounded up) and `RATE_LIMITED`.
fn rate_limited(media: Media, wait: std::time::Duration, request_id: &str) -> Response {
    let seconds = wait.as_millis().div_ceil(1000).max(1);
    let error = edge_error(
        format!(
            "Too many requests from this caller: try again in {seconds} s (SWITCHBOARD_RATE_LIMIT)"
        ),
        "RATE_LIMITED",
        request_id,
    );
    let mut response = reply_error(media, StatusCode::TOO_MANY_REQUESTS, error);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds as u64));
    response
}

fn not_acceptable(request_id: &str) -> Response {
    let error = edge_error(
        format!(
            "This endpoint answers {GRAPHQL_RESPONSE_JSON} or {JSON}: say so in the Accept header"
        ),
        "BAD_REQUEST",
        request_id,
    );
    reply_error(Media::Json, StatusCode::NOT_ACCEPTABLE, error)
}
