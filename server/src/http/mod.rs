//! The HTTP surface: /graphql (HTTP and GraphiQL), /graphql/ws, /desk (the live desk),
//! /healthz, /readyz, /metrics and /mail/inbound.

mod assets;
mod attachments;
mod calendar;
mod delivery;
mod desk;
pub mod documents;
mod execute;
mod graphiql;
mod graphql_http;
mod health;
pub mod listener;
mod mail;
mod monitoring;
mod nulls;
mod observe;
mod outbox;
mod renderings;
mod reports;
pub mod seats;
mod survey;
mod writer;
pub mod ws;

use std::time::Duration;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderName, HeaderValue, Method, Request, header},
    routing::get,
};
use rand::RngCore;
use tower_http::{
    LatencyUnit,
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};

use crate::{config::CorsOrigins, graphql::AppSchema, state::AppState};

/// What every handler gets: the shared state and the executable schema. A pointer, so
/// that every connection and subscription holding it costs eight bytes, not three
/// hundred and fifty.
#[derive(Clone)]
pub struct Server(std::sync::Arc<Parts>);

pub struct Parts {
    pub state: AppState,
    pub schema: AppSchema,
    /// The subscriptions rendered on this replica, shared where they may be.
    renderings: std::sync::Arc<renderings::Renderings>,
    /// Every field's type, for putting failed fields' nulls where the spec says.
    field_types: std::sync::Arc<nulls::FieldTypes>,
}

impl std::ops::Deref for Server {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

pub fn router(state: AppState, schema: AppSchema) -> Router {
    let limits = state.config.limits;
    let cors = cors_layer(&state.config.cors_origins);
    let request_id_header = HeaderName::from_static("x-request-id");
    let field_types = std::sync::Arc::new(nulls::FieldTypes::from_sdl(&schema.sdl()));
    let server = Server(std::sync::Arc::new(Parts {
        state,
        schema,
        renderings: Default::default(),
        field_types,
    }));
    Router::new()
        .route("/graphql", get(graphql_http::get).post(graphql_http::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/graphql/assets/{file}", get(graphiql::asset))
        .route("/desk", get(desk::page))
        .route("/desk/assets/{file}", get(desk::asset))
        .route("/survey/{token}", get(survey::page).post(survey::answer))
        .route(
            "/attachments",
            axum::routing::post(attachments::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/calendar/releases.ics", get(calendar::releases))
        .route(
            "/monitoring/alertmanager",
            axum::routing::post(monitoring::alertmanager).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/monitoring/alerts",
            axum::routing::post(monitoring::generic).layer(DefaultBodyLimit::disable()),
        )
        .route("/attachments/{id}", get(attachments::download))
        .route("/attachments/{id}/{name}", get(attachments::download_named))
        .route("/reports/{subject}/{file}", get(reports::report))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route(
            "/mail/inbound",
            axum::routing::post(mail::inbound).layer(DefaultBodyLimit::max(
                crate::domain::mail::inbound::MAX_BYTES + 1024,
            )),
        )
        .with_state(server.clone())
        .layer(axum::middleware::from_fn_with_state(server, observe::layer))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(request_id_header.clone()))
        // One line per request at `info`, when it is answered: method, path, status,
        // duration and request id, and for GraphQL the operation and error codes, which
        // the handler records into the span. Headers (and so tokens) are never logged.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let request_id = request_id_of(request.extensions());
                    tracing::info_span!(
                        "request",
                        %request_id,
                        method = %request.method(),
                        path = %request.uri().path(),
                        operation_type = tracing::field::Empty,
                        operation_name = tracing::field::Empty,
                        error_codes = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(LatencyUnit::Millis),
                )
                .on_failure(()),
        )
        .layer(SetRequestIdLayer::new(request_id_header, RandomRequestId))
}

/// The request id given to a request (or sent by the client in `x-request-id`).
pub fn request_id_of(extensions: &axum::http::Extensions) -> String {
    extensions
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-")
        .to_string()
}

#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let mut bytes = [0u8; 8];
        rand::rng().fill_bytes(&mut bytes);
        HeaderValue::from_str(&hex::encode(bytes))
            .ok()
            .map(RequestId::new)
    }
}

fn cors_layer(origins: &CorsOrigins) -> CorsLayer {
    let allow_origin = match origins {
        CorsOrigins::None => return CorsLayer::new(),
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => {
            AllowOrigin::list(list.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
        }
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .max_age(Duration::from_secs(600))
}
