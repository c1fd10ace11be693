//! The clients people already have, on first contact: Relay and codegen sending one
//! named operation without `operationName`, urql sending named queries by GET, GraphiQL
//! and codegen introspecting under the default limits, Relay's unique ids and nullable
//! `node`, a legacy subscriptions client told clearly why it cannot connect, and an
//! operator scraping `/metrics` with a Prometheus parser.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, ws::WsClient};

/// The introspection query GraphiQL, graphql-codegen and graphql-inspector send
/// (graphql-js `getIntrospectionQuery()` with descriptions, as of graphql 16).
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description
    args { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_named_operation_runs_without_operation_name() {
    let server = TestServer::start(Backend::Sqlite).await;
    let token = server.token("ada", &["agent"]);
    let reply = server
        .gql(Some(&token), "query Me { viewer { name } }", Value::Null)
        .await;
    assert_eq!(reply.data()["viewer"]["name"], "ada");
    // Two operations still need their name.
    let reply = server
        .gql(
            Some(&token),
            "query A { viewer { name } } query B { viewer { kind } }",
            Value::Null,
        )
        .await;
    assert_eq!(reply.error_code(), "GRAPHQL_VALIDATION_FAILED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_honours_operation_name_as_urql_sends_it() {
    let server = TestServer::start(Backend::Sqlite).await;
    let token = server.token("ada", &["agent"]);
    let response = server
        .http()
        .get(server.url("/graphql"))
        .bearer_auth(&token)
        .query(&[
            ("query", "query A { viewer { name } } query B($k: Boolean!) { viewer { kind @include(if: $k) } }"),
            ("operationName", "B"),
            ("variables", r#"{"k": true}"#),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["data"],
        json!({ "viewer": { "kind": "USER" } }),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_introspection_query_runs_under_the_default_limits() {
    let server = TestServer::start(Backend::Sqlite).await;
    let reply = server.gql(None, INTROSPECTION, Value::Null).await;
    let types = reply.data()["__schema"]["types"].as_array().unwrap();
    assert!(
        types.iter().any(|t| t["name"] == "Ticket"),
        "{} types",
        types.len()
    );
    // The depth limit still holds for ordinary fields.
    let token = server.token("mona", &["manager"]);
    let deep = "{ groups { manager { organization { name } } escalationGroup { escalationGroup { escalationGroup { escalationGroup { escalationGroup { escalationGroup { escalationGroup { escalationGroup { escalationGroup { escalationGroup { escalationGroup { name } } } } } } } } } } } } }";
    let reply = server.gql(Some(&token), deep, Value::Null).await;
    assert_eq!(reply.error_code(), "GRAPHQL_VALIDATION_FAILED");
    assert!(reply.error_message().contains("SWITCHBOARD_MAX_DEPTH"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_ids_are_unique_and_node_is_nullable() {
    let server = TestServer::start(Backend::Sqlite).await;
    let desk = server.desk().await;
    let viewer = server
        .must(&desk.manager.token, "{ viewer { id nodeId } }", Value::Null)
        .await;
    let users = server
        .must(
            &desk.manager.token,
            "{ users(first: 50) { edges { node { id } } } }",
            Value::Null,
        )
        .await;
    let user_ids: Vec<&Value> = users["users"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"]["id"])
        .collect();
    assert!(user_ids.contains(&&viewer["viewer"]["nodeId"]));
    assert!(
        !user_ids.contains(&&viewer["viewer"]["id"]),
        "viewer.id repeats a User id"
    );

    // An unknown id: node is null with an error, the rest of the response stays.
    let missing = switchboard_tests::server::global_id("Ticket", 999_999);
    let reply = server
        .gql(
            Some(&desk.manager.token),
            "query($id: ID!) { node(id: $id) { id } viewer { name } }",
            json!({ "id": missing }),
        )
        .await;
    // Present and null: serde_json reads a missing key as Null too, so look for the key.
    let node = reply.body["data"].get("node");
    assert_eq!(node, Some(&Value::Null), "{:#}", reply.body);
    assert_eq!(reply.body["data"]["viewer"]["name"], "mona");
    assert_eq!(reply.error_code(), "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_subscriptions_client_is_refused_before_the_upgrade() {
    use tokio_tungstenite::tungstenite::{client::IntoClientRequest, http::HeaderValue};
    let server = TestServer::start(Backend::Sqlite).await;
    let mut request = server.ws_url().into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-ws"),
    );
    let error = tokio_tungstenite::connect_async(request)
        .await
        .expect_err("the upgrade is refused");
    match error {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            assert_eq!(response.status(), 400);
            let body = String::from_utf8(response.body().clone().unwrap_or_default()).unwrap();
            assert!(body.contains("graphql-transport-ws"), "{body}");
        }
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_is_served_whole_from_the_binary() {
    let server = TestServer::start(Backend::Sqlite).await;
    let page = server
        .http()
        .get(server.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("GraphiQL"), "{page}");
    // Every script and style it loads is on this server.
    let mut sources = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for part in page.split(attribute).skip(1) {
            sources.push(part.split('"').next().unwrap().to_string());
        }
    }
    assert_eq!(sources.len(), 4, "{sources:?}");
    for source in &sources {
        assert!(
            source.starts_with("/graphql/assets/"),
            "{source} is on another host"
        );
        let response = server.http().get(server.url(source)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{source}");
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            kind.starts_with("text/javascript") || kind.starts_with("text/css"),
            "{kind}"
        );
        let body = response.bytes().await.unwrap();
        assert!(body.len() > 10_000, "{source} is only {} bytes", body.len());
        assert!(
            !String::from_utf8_lossy(&body).contains("sourceMappingURL"),
            "{source} would make the browser ask for a map the server does not have"
        );
    }
    let missing = server
        .http()
        .get(server.url("/graphql/assets/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// The scrape as Prometheus reads it.
async fn scrape(server: &TestServer) -> prometheus_parse::Scrape {
    let response = server
        .http()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let text = response.text().await.unwrap();
    let lines = text.lines().map(|line| Ok(line.to_string()));
    prometheus_parse::Scrape::parse(lines).expect("the scrape parses as Prometheus text")
}

/// The value of the one sample named `metric` whose labels include `labels`; for a
/// histogram, how many observations it counted.
fn sample(scrape: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect();
    assert_eq!(found.len(), 1, "one {metric} with {labels:?}: {found:?}");
    match &found[0].value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => *v,
        prometheus_parse::Value::Histogram(buckets) => buckets
            .iter()
            .find(|b| b.less_than.is_infinite())
            .map(|b| b.count)
            .expect("a +Inf bucket"),
        other => panic!("{metric} is {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_errors_and_open_sockets() {
    let server = TestServer::start(Backend::Sqlite).await;
    let desk = server.desk().await;
    let named = [
        ("route", "/graphql"),
        ("operation_type", "query"),
        ("operation_name", "DeskCheck"),
    ];
    let duration = "switchboard_http_request_duration_seconds";

    let before = scrape(&server).await;
    assert!(
        before
            .samples
            .iter()
            .all(|s| s.metric != duration || s.labels.get("operation_name") != Some("DeskCheck"))
    );
    server
        .must(
            &desk.manager.token,
            "query DeskCheck { viewer { name } }",
            Value::Null,
        )
        .await;
    let refused = server
        .gql(Some(&desk.manager.token), "{ viewer {", Value::Null)
        .await;
    assert_eq!(refused.error_code(), "GRAPHQL_PARSE_FAILED");

    let mut ws = WsClient::connect_with_token(&server.ws_url(), &desk.agents[0].token).await;
    ws.subscribe(
        "q",
        "subscription($g: ID!) { queueChanged(groupId: $g) { kind } }",
        json!({ "g": desk.network_group_id }),
    )
    .await;
    // An event reaches the subscriber: relayed, passed on by the hub.
    let input = json!({ "kind": "INCIDENT", "title": "Scraped", "groupId": desk.network_group_id });
    server
        .must(
            &desk.agents[0].token,
            switchboard_tests::desk::CREATE,
            json!({ "input": input }),
        )
        .await;
    assert_eq!(ws.next_message().await["type"], "next");

    let after = scrape(&server).await;
    assert_eq!(
        sample(&after, duration, &named),
        1.0,
        "the named query was timed"
    );
    let parse_errors = |scrape: &prometheus_parse::Scrape| {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == "switchboard_graphql_errors_total")
            .filter(|s| s.labels.get("code") == Some("GRAPHQL_PARSE_FAILED"))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum::<f64>()
    };
    assert_eq!(parse_errors(&after) - parse_errors(&before), 1.0);
    assert_eq!(
        sample(&after, "switchboard_websocket_connections", &[]),
        1.0
    );
    assert_eq!(sample(&after, "switchboard_subscriptions", &[]), 1.0);
    assert!(sample(&after, "switchboard_sql_statements_total", &[]) > 0.0);
    assert!(sample(&after, "switchboard_db_pool_max_connections", &[]) >= 1.0);
    assert!(
        sample(&after, "switchboard_hub_last_sequence", &[]) >= 1.0,
        "the desk's set-up made events"
    );

    // The socket closed, the gauges come down.
    drop(ws);
    let mut open = 1.0;
    for _ in 0..100 {
        let now = scrape(&server).await;
        open = sample(&now, "switchboard_websocket_connections", &[])
            + sample(&now, "switchboard_subscriptions", &[]);
        if open == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(open, 0.0, "a closed socket is still counted");
}

/// Every type, field, argument, input field and enum value a client can see has a
/// description for the person building a frontend (the built-in scalars and the
/// introspection types describe themselves).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_schema_element_is_described() {
    let server = TestServer::start(Backend::Sqlite).await;
    let reply = server.gql(None, INTROSPECTION, Value::Null).await;
    let described = |value: &Value| {
        value["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty())
    };
    let mut missing = Vec::new();
    for ty in reply.data()["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        // The introspection types, and the scalars the GraphQL spec itself defines.
        if name.starts_with("__") || ["ID", "String", "Int", "Float", "Boolean"].contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_string());
        }
        let fields = ty["fields"].as_array().into_iter().flatten();
        for field in fields
            .clone()
            .chain(ty["inputFields"].as_array().into_iter().flatten())
        {
            if !described(field) {
                missing.push(format!("{name}.{}", field["name"].as_str().unwrap()));
            }
        }
        for field in fields {
            for arg in field["args"].as_array().into_iter().flatten() {
                if !described(arg) {
                    missing.push(format!(
                        "{name}.{}({})",
                        field["name"].as_str().unwrap(),
                        arg["name"].as_str().unwrap()
                    ));
                }
            }
        }
        for value in ty["enumValues"].as_array().into_iter().flatten() {
            if !described(value) {
                missing.push(format!("{name}.{}", value["name"].as_str().unwrap()));
            }
        }
    }
    // The custom scalar says which format it follows, as `@specifiedBy` does in the SDL.
    let date_time = server
        .gql(
            None,
            "{ __type(name: \"DateTime\") { specifiedByURL description } }",
            Value::Null,
        )
        .await;
    let date_time = &date_time.data()["__type"];
    assert!(
        date_time["specifiedByURL"]
            .as_str()
            .unwrap()
            .contains("rfc3339")
    );
    assert!(
        date_time["description"]
            .as_str()
            .unwrap()
            .contains("RFC 3339")
    );
    assert!(
        missing.is_empty(),
        "{} schema elements have no description:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
