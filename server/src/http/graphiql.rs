//! GraphiQL, served whole from the binary: the page and every script and style it
//! loads, so that it works with no internet access. The assets are the published
//! production builds (see `server/assets/graphiql/README.md`).

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// Where the page finds its assets.
pub const ASSETS: &str = "/graphql/assets";

/// (file name, content type, bytes).
const FILES: [(&str, &str, &[u8]); 4] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
];

/// The page. Queries and mutations go to `/graphql` on the same host, subscriptions to
/// `/graphql/ws`; a token goes in the headers editor (`{"Authorization": "Bearer …"}`).
pub fn page() -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Switchboard GraphiQL</title>
  <link rel="stylesheet" href="{ASSETS}/graphiql.min.css">
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="{ASSETS}/react.production.min.js"></script>
  <script src="{ASSETS}/react-dom.production.min.js"></script>
  <script src="{ASSETS}/graphiql.min.js"></script>
  <script>
    // Subscriptions go over graphql-transport-ws. A browser cannot set headers on a
    // WebSocket: GraphiQL sends the headers editor's contents (the Authorization
    // header) as the connection_init payload, where the server reads the token.
    const wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql/ws";
    const fetcher = GraphiQL.createFetcher({{ url: "/graphql", subscriptionUrl: wsUrl }});
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{
        fetcher,
        isHeadersEditorEnabled: true,
        // A placeholder token would be sent, and refused, with the schema's
        // introspection: the headers start empty, the editor open.
        defaultEditorToolsVisibility: "headers",
      }})
    );
  </script>
</body>
</html>
"#
    ))
}

/// One of the page's assets. They never change within a build, so browsers may keep
/// them for a day.
pub async fn asset(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such GraphiQL asset").into_response(),
    }
}
