//! What a request did, noted by its handler for the layer that times it: the GraphQL
//! operation (type and name) and the codes of the errors it answered with. The layer
//! feeds `/metrics`; the same notes go into the request's log line (`execute`).

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};

use super::Server;

tokio::task_local! {
    static NOTES: Arc<Mutex<Notes>>;
}

#[derive(Default)]
struct Notes {
    operation_type: &'static str,
    operation_name: Option<String>,
    error_codes: Vec<String>,
}

fn note(write: impl FnOnce(&mut Notes)) {
    // Outside a request (a WebSocket's subscriptions) there is nothing to note into.
    let _ = NOTES.try_with(|notes| write(&mut notes.lock().expect("never poisoned")));
}

/// The operation the request runs.
pub fn operation(kind: &'static str, name: Option<&str>) {
    note(|notes| {
        notes.operation_type = kind;
        notes.operation_name = name.map(String::from);
    });
}

/// Codes of errors the request answers with.
pub fn errors(codes: &[String]) {
    note(|notes| notes.error_codes.extend(codes.iter().cloned()));
}

/// Times every request and counts its errors, by route and operation.
pub async fn layer(State(server): State<Server>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let notes = Arc::new(Mutex::new(Notes::default()));
    let response = NOTES.scope(notes.clone(), next.run(request)).await;
    let notes = notes.lock().expect("never poisoned");
    let metrics = &server.state.metrics;
    metrics.observe_request(
        &route,
        notes.operation_type,
        notes.operation_name.as_deref(),
        started.elapsed(),
    );
    metrics.count_errors(notes.error_codes.iter().map(String::as_str));
    response
}
