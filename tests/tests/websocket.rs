//! GraphQL over WebSocket (graphql-transport-ws): who may connect, and the protocol's
//! close codes.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, on_both_backends, ws::WsClient};

const WATCH_TOKENS: &str = "subscription { apiTokenChanged { kind apiToken { name scopes } } }";

async fn an_admin_sees_token_changes_live(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.token("root", &["admin"]);
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &admin).await;
    ws.subscribe("1", WATCH_TOKENS, Value::Null).await;
    // The subscription is registered once the server has seen the message; a query on
    // the same socket answers after it, in order.
    ws.subscribe("2", "{ viewer { name } }", Value::Null).await;
    let viewer = ws.next_message().await;
    assert_eq!(viewer["payload"]["data"]["viewer"]["name"], "root");
    assert_eq!(
        ws.next_message().await,
        json!({ "type": "complete", "id": "2" })
    );

    let created = server
        .gql(Some(&admin), "mutation { createApiToken(input: { name: \"Bridge\", scopes: [\"tickets:read\"] }) { apiToken { id } } }", Value::Null)
        .await;
    assert!(created.body.get("errors").is_none(), "{:#}", created.body);
    let event = tokio::time::timeout(Duration::from_secs(1), ws.next_message())
        .await
        .expect("within a second");
    assert_eq!(event["type"], "next");
    assert_eq!(event["id"], "1");
    assert_eq!(
        event["payload"]["data"]["apiTokenChanged"],
        json!({ "kind": "CREATED", "apiToken": { "name": "Bridge", "scopes": ["tickets:read"] } })
    );

    // The client ends the subscription; nothing more arrives for it.
    ws.send(json!({ "type": "complete", "id": "1" })).await;
    ws.answers_ping(1).await;
}

async fn who_may_not_listen_is_told_with_the_protocols_codes(backend: Backend) {
    let server =
        TestServer::start_with(backend, |s| s.ws_init_timeout_seconds = Some("1".into())).await;
    let admin = server.token("root", &["admin"]);

    // A bad token: 4403.
    let mut ws = WsClient::connect(&server.ws_url()).await;
    ws.send(
        json!({ "type": "connection_init", "payload": { "authorization": "Bearer nonsense" } }),
    )
    .await;
    let closed = ws.closed(Duration::from_secs(5)).await;
    assert_eq!(closed.code, 4403, "{closed:?}");
    // No token at all: 4403.
    let mut ws = WsClient::connect(&server.ws_url()).await;
    ws.send(json!({ "type": "connection_init" })).await;
    assert_eq!(ws.closed(Duration::from_secs(5)).await.code, 4403);
    // A subscribe before connection_init: 4401.
    let mut ws = WsClient::connect(&server.ws_url()).await;
    ws.subscribe("1", WATCH_TOKENS, Value::Null).await;
    assert_eq!(ws.closed(Duration::from_secs(5)).await.code, 4401);
    // No connection_init within the timeout: 4408.
    let mut ws = WsClient::connect(&server.ws_url()).await;
    assert_eq!(ws.closed(Duration::from_secs(5)).await.code, 4408);
    // Not JSON: 4400.
    let mut ws = WsClient::connect(&server.ws_url()).await;
    ws.send(json!("hello")).await;
    assert_eq!(ws.closed(Duration::from_secs(5)).await.code, 4400);
    // A second subscription with an id in use: 4409.
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &admin).await;
    ws.subscribe("same", WATCH_TOKENS, Value::Null).await;
    ws.subscribe("same", WATCH_TOKENS, Value::Null).await;
    assert_eq!(ws.closed(Duration::from_secs(5)).await.code, 4409);
    // A second connection_init: 4429.
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &admin).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {admin}") } })).await;
    assert_eq!(ws.closed(Duration::from_secs(5)).await.code, 4429);
}

async fn partner_tokens_need_the_events_scope(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.token("root", &["admin"]);
    let create = "mutation($scopes: [String!]!) { createApiToken(input: { name: \"p\", scopes: $scopes }) { secret apiToken { id } } }";
    let without = server
        .gql(Some(&admin), create, json!({ "scopes": ["tickets:read"] }))
        .await;
    let without = without.data()["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ws = WsClient::connect(&server.ws_url()).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {without}") } })).await;
    let closed = ws.closed(Duration::from_secs(5)).await;
    assert_eq!(closed.code, 4403);
    assert!(closed.reason.contains("events:subscribe"), "{closed:?}");

    let with = server
        .gql(
            Some(&admin),
            create,
            json!({ "scopes": ["events:subscribe"] }),
        )
        .await;
    let secret = with.data()["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let token_id = with.data()["createApiToken"]["apiToken"]["id"].clone();
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &secret).await;
    // Connected, but an admin's subscription is still refused, with a code.
    ws.subscribe("1", WATCH_TOKENS, Value::Null).await;
    let reply = ws.next_message().await;
    assert_eq!(
        reply["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{reply}"
    );

    // Revoking it closes its open socket, and it cannot connect again.
    server
        .gql(
            Some(&admin),
            "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { apiToken { id } } }",
            json!({ "id": token_id }),
        )
        .await
        .data();
    let closed = ws.closed(Duration::from_secs(5)).await;
    assert_eq!(closed.code, 4403);
    assert!(closed.reason.contains("revoked"), "{closed:?}");
    let mut ws = WsClient::connect(&server.ws_url()).await;
    ws.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {secret}") } })).await;
    let closed = ws.closed(Duration::from_secs(5)).await;
    assert_eq!(closed.code, 4403);
    assert!(closed.reason.contains("revoked"), "{closed:?}");
}

async fn a_credential_that_expires_ends_its_connection(backend: Backend) {
    let server = TestServer::start(backend).await;
    let now = chrono::Utc::now().timestamp();
    let token = switchboard_tests::server::sign_hs256(
        &json!({ "sub": "temp", "roles": ["admin"], "exp": now + 2 }),
    );
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &token).await;
    ws.subscribe("1", WATCH_TOKENS, Value::Null).await;
    let closed = ws.closed(Duration::from_secs(6)).await;
    assert_eq!(closed.code, 4403);
    assert!(closed.reason.contains("expired"), "{closed:?}");
}

/// A quiet connection hears the protocol's ping every keep-alive period, for as long as
/// it lasts; the handshake's deadline, long past, closes nothing once it was met.
async fn a_quiet_connection_is_pinged_every_period(backend: Backend) {
    let server = TestServer::start_with(backend, |s| {
        s.ws_keepalive_seconds = Some("1".into());
        s.ws_init_timeout_seconds = Some("1".into());
    })
    .await;
    let admin = server.token("root", &["admin"]);
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &admin).await;
    let start = std::time::Instant::now();
    let mut pings = Vec::new();
    while pings.len() < 3 {
        let message = ws.next_text(Duration::from_secs(3)).await;
        assert_eq!(
            message,
            json!({ "type": "ping" }),
            "only pings on a quiet socket"
        );
        pings.push(start.elapsed());
    }
    // A period apart (give or take the timer's and the machine's slack), not a burst.
    for pair in pings.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= Duration::from_millis(700),
            "pings {gap:?} apart: {pings:?}"
        );
    }
    // Still open, and it answers.
    ws.answers_ping(2).await;
}

/// A server shutting down tells its sockets to reconnect (1001) rather than dropping
/// them, and stops once they are closed.
async fn a_shutdown_closes_sockets_with_1001(backend: Backend) {
    let server = TestServer::start(backend).await;
    let admin = server.token("root", &["admin"]);
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &admin).await;
    ws.subscribe("1", WATCH_TOKENS, Value::Null).await;
    server.subscriptions_running(1).await;
    let stopping = tokio::spawn(server.shutdown());
    let closed = ws.closed(Duration::from_secs(10)).await;
    assert_eq!(closed.code, 1001, "{closed:?}");
    assert!(closed.reason.contains("reconnect"), "{closed:?}");
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the server stops once its sockets are closed")
        .expect("the shutdown completes");
}

/// One person holds at most the configured connections and subscriptions per connection.
async fn connections_and_subscriptions_are_limited(backend: Backend) {
    let server = TestServer::start_with(backend, |s| {
        s.ws_max_connections = Some("2".into());
        s.ws_max_subscriptions = Some("2".into());
    })
    .await;
    let admin = server.token("root", &["admin"]);
    let mut first = WsClient::connect_with_token(&server.ws_url(), &admin).await;
    let _second = WsClient::connect_with_token(&server.ws_url(), &admin).await;
    let mut third = WsClient::connect(&server.ws_url()).await;
    third.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {admin}") } })).await;
    let closed = third.closed(Duration::from_secs(5)).await;
    assert_eq!(closed.code, 4429);
    assert!(
        closed.reason.contains("SWITCHBOARD_WS_MAX_CONNECTIONS"),
        "{closed:?}"
    );
    first.subscribe("1", WATCH_TOKENS, Value::Null).await;
    first.subscribe("2", WATCH_TOKENS, Value::Null).await;
    first.subscribe("3", WATCH_TOKENS, Value::Null).await;
    let refused = first.next_message().await;
    assert_eq!(
        (refused["type"].as_str(), refused["id"].as_str()),
        (Some("error"), Some("3"))
    );
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    // A closed connection gives its seat back.
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    WsClient::connect_with_token(&server.ws_url(), &admin).await;
}

on_both_backends!(
    connections_and_subscriptions_are_limited,
    an_admin_sees_token_changes_live,
    who_may_not_listen_is_told_with_the_protocols_codes,
    partner_tokens_need_the_events_scope,
    a_credential_that_expires_ends_its_connection,
    a_quiet_connection_is_pinged_every_period,
    a_shutdown_closes_sockets_with_1001,
);
