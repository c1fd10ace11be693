//! The live desk at `/desk`: a small page that signs in with a token, shows one group's
//! queue with its SLA clocks counting down, and keeps it current from subscriptions. A
//! reference client for the API (its script, `server/assets/desk/desk.js`, is meant to
//! be read), served whole from the binary like GraphiQL.

use axum::{
    extract::Path,
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Response},
};

use super::assets::{self, Asset, CSS, JAVASCRIPT, Keep};

const FILES: [Asset; 3] = [
    Asset {
        name: "desk.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/desk/desk.js"),
    },
    Asset {
        name: "desk.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/desk/desk.css"),
    },
    Asset {
        name: "graphql-ws.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/desk/graphql-ws.min.js"),
    },
];

/// The page may load and call nothing but this server: its own scripts and styles, and
/// `/graphql` and `/graphql/ws` (`'self'` covers the WebSocket on the same host). A
/// script injected through some ticket's title could not send it anywhere else.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// The page, under the policy above.
pub async fn page() -> Response {
    (
        [
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(POLICY),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Html(include_str!("../../assets/desk/index.html")),
    )
        .into_response()
}

/// One of the page's script and styles. graphql-ws is pinned, but the page's own files
/// change with the server, and the three must match: none is kept without asking.
pub async fn asset(Path(name): Path<String>) -> Response {
    assets::serve(&FILES, &name, "live desk", Keep::Never)
}
