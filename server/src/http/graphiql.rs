//! GraphiQL, served whole from the binary: the page and every script and style it
//! loads, so that it works with no internet access. The assets are the published
//! production builds (see `server/assets/graphiql/README.md`).

use axum::{
    extract::Path,
    response::{Html, Response},
};

use super::assets::{self, Asset, CSS, JAVASCRIPT, Keep};

/// Where the page finds its assets.
pub const ASSETS: &str = "/graphql/assets";

const FILES: [Asset; 4] = [
    Asset {
        name: "graphiql.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.js"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: CSS,
        bytes: include_bytes!("../../assets/graphiql/graphiql.min.css"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/react.production.min.js"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: JAVASCRIPT,
        bytes: include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    },
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

/// One of the page's assets: published builds, kept by browsers for a day.
pub async fn asset(Path(name): Path<String>) -> Response {
    assets::serve(&FILES, &name, "GraphiQL", Keep::ADay)
}
