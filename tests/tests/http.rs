//! GraphQL over HTTP as its specification says, the limits, health and the contract.

use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer};

async fn post_raw(
    server: &TestServer,
    content_type: &str,
    accept: &str,
    body: &str,
) -> (u16, String, Value) {
    let response = server
        .http()
        .post(server.url("/graphql"))
        .header("content-type", content_type)
        .header("accept", accept)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, media, response.json().await.unwrap_or(Value::Null))
}

const SPEC: &str = "application/graphql-response+json";

#[tokio::test]
async fn requests_get_the_specs_status_codes() {
    let server = TestServer::start(Backend::Sqlite).await;
    // A body that is not JSON: 400, with a clear error.
    let (status, media, body) = post_raw(&server, "application/json", SPEC, "{\"query\": ").await;
    assert_eq!(status, 400);
    assert!(media.starts_with(SPEC));
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );
    // JSON that is not a GraphQL request.
    let (status, _, body) = post_raw(&server, "application/json", SPEC, "{\"mutation\": 1}").await;
    assert_eq!(status, 400);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("'query'")
    );
    // Not JSON at all: 415.
    let (status, _, body) = post_raw(&server, "text/plain", SPEC, "{ viewer { id } }").await;
    assert_eq!(status, 415);
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    // A document that does not parse: 400 under the spec's media type, 200 under plain JSON.
    let broken = json!({ "query": "{ viewer { id " }).to_string();
    let (status, _, body) = post_raw(&server, "application/json", SPEC, &broken).await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].as_str()),
        (400, Some("GRAPHQL_PARSE_FAILED"))
    );
    let (status, media, body) =
        post_raw(&server, "application/json", "application/json", &broken).await;
    assert_eq!(status, 200);
    assert!(media.starts_with("application/json"));
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_PARSE_FAILED"
    );
    // A field that does not exist: a validation error.
    let unknown = json!({ "query": "{ nosuchfield }" }).to_string();
    let (status, _, body) = post_raw(&server, "application/json", SPEC, &unknown).await;
    assert_eq!(
        (status, body["errors"][0]["extensions"]["code"].as_str()),
        (400, Some("GRAPHQL_VALIDATION_FAILED"))
    );
    // An Accept the server cannot answer: 406.
    let (status, _, _) = post_raw(&server, "application/json", "application/xml", &unknown).await;
    assert_eq!(status, 406);
    // A body over the limit: 413.
    let huge =
        json!({ "query": format!("{{ viewer {{ id }} }} #{}", "x".repeat(2 * 1024 * 1024)) })
            .to_string();
    let (status, _, _) = post_raw(&server, "application/json", SPEC, &huge).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn get_runs_queries_but_not_mutations() {
    let server = TestServer::start(Backend::Sqlite).await;
    let token = server.token("alice", &["admin"]);
    let query = server
        .http()
        .get(server.url("/graphql"))
        .query(&[("query", "{ viewer { name } }")])
        .bearer_auth(&token)
        .header("accept", SPEC)
        .send()
        .await
        .unwrap();
    assert_eq!(query.status().as_u16(), 200);
    let body: Value = query.json().await.unwrap();
    assert_eq!(body["data"]["viewer"]["name"], "alice");

    let mutation = server
        .http()
        .get(server.url("/graphql"))
        .query(&[(
            "query",
            "mutation { revokeApiToken(input: { id: \"x\" }) { apiToken { id } } }",
        )])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(mutation.status().as_u16(), 405);
    assert_eq!(mutation.headers()["allow"], "POST");
}

#[tokio::test]
async fn a_browser_gets_graphiql() {
    let server = TestServer::start(Backend::Sqlite).await;
    let page = server
        .http()
        .get(server.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("graphiql"), "{html}");
    assert!(html.contains("/graphql/ws"));
}

#[tokio::test]
async fn query_limits_are_enforced_with_clear_errors() {
    let server = TestServer::start_with(Backend::Sqlite, |s| {
        s.max_depth = Some("3".into());
        s.max_complexity = Some("50".into());
        s.max_aliases = Some("3".into());
    })
    .await;
    let token = server.token("alice", &["admin"]);
    let within = server
        .gql(
            Some(&token),
            "{ a: viewer { id } b: viewer { id } c: viewer { name } }",
            Value::Null,
        )
        .await;
    assert_eq!(within.data()["c"]["name"], "alice");

    let reply = server
        .gql(
            Some(&token),
            "{ users(first: 1) { edges { node { id } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.error_code(), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        reply.error_message().contains("SWITCHBOARD_MAX_DEPTH"),
        "{}",
        reply.error_message()
    );

    let reply = server
        .gql(
            Some(&token),
            "{ a: viewer { id } b: viewer { id } c: viewer { id } d: viewer { id } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.error_code(), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        reply.error_message().contains("SWITCHBOARD_MAX_ALIASES"),
        "{}",
        reply.error_message()
    );

    // A page of 100 multiplies what is asked of each item.
    let reply = server
        .gql(
            Some(&token),
            "{ users(first: 100) { nodes { id name } } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.error_code(), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        reply.error_message().contains("SWITCHBOARD_MAX_COMPLEXITY"),
        "{}",
        reply.error_message()
    );
    let reply = server
        .gql(
            Some(&token),
            "{ users(first: 10) { nodes { id name } } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.data()["users"]["nodes"][0]["name"], "alice");
}

#[tokio::test]
async fn health_readiness_request_ids_and_cors() {
    let server = TestServer::start_with(Backend::Sqlite, |s| {
        s.cors_origins = Some("https://desk.example.com".into())
    })
    .await;
    let health = server
        .http()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let ready = server
        .http()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "ok");
    // Every response carries a request id, the client's own when it sent one.
    let reply = server
        .http()
        .get(server.url("/healthz"))
        .header("x-request-id", "abc123")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.headers()["x-request-id"], "abc123");
    let reply = server
        .http()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.headers()["x-request-id"].len(), 16);
    // A single-page frontend on an allowed origin passes the preflight; others do not.
    let preflight = |origin: &'static str| {
        server
            .http()
            .request(reqwest::Method::OPTIONS, server.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://desk.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://desk.example.com"
    );
    let other = preflight("https://evil.example.com").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn bad_arguments_name_their_field_and_carry_the_request_id() {
    let server = TestServer::start(Backend::Sqlite).await;
    let token = server.token("alice", &["admin"]);
    let reply = server
        .gql(
            Some(&token),
            "{ node(id: \"not-an-id\") { id } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT");
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "id");
    assert!(reply.body["errors"][0]["extensions"]["requestId"].is_string());
    let reply = server
        .gql(
            Some(&token),
            "{ users(first: 1000) { edges { cursor } } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.error_code(), "BAD_USER_INPUT");
    assert_eq!(reply.body["errors"][0]["extensions"]["field"], "first");
}

#[test]
fn schema_graphql_is_the_exported_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
    let committed =
        std::fs::read_to_string(path).expect("schema.graphql exists at the repository root");
    let exported = switchboard::graphql::sdl();
    assert!(
        committed == exported,
        "schema.graphql differs from the code's schema: run `cargo run -p switchboard -- export-schema --out schema.graphql` and review the diff"
    );
}
