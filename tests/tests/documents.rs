//! Documents known by their hash: Apollo's automatic persisted queries as Apollo Client
//! and urql send them (over POST and over GET), and a desk that runs only the trusted
//! documents its frontends listed, over HTTP and over the WebSocket.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use switchboard_tests::{Backend, TestServer, ws::WsClient};

const QUERY: &str = "query Me { viewer { name kind } }";

fn hash(query: &str) -> String {
    hex::encode(Sha256::digest(query.as_bytes()))
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(server: &TestServer, token: &str, body: Value) -> Value {
    server
        .http()
        .post(server.url("/graphql"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn code(reply: &Value) -> &str {
    reply["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code: {reply}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_persisted_by_its_hash_runs_by_the_hash_alone() {
    let server = TestServer::start(Backend::Sqlite).await;
    let token = server.token("ada", &["agent"]);
    let id = hash(QUERY);

    // The hash alone, before the desk has seen the query: the client is told to send it.
    let unknown = post(&server, &token, json!({ "extensions": persisted(&id) })).await;
    assert_eq!(code(&unknown), "PERSISTED_QUERY_NOT_FOUND", "{unknown}");
    assert!(
        unknown["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("PersistedQueryNotFound")
    );

    // A query sent with another query's hash is refused, and registers nothing.
    let forged = post(
        &server,
        &token,
        json!({ "query": "{ viewer { id } }", "extensions": persisted(&id) }),
    )
    .await;
    assert_eq!(code(&forged), "BAD_REQUEST", "{forged}");
    let still_unknown = post(&server, &token, json!({ "extensions": persisted(&id) })).await;
    assert_eq!(code(&still_unknown), "PERSISTED_QUERY_NOT_FOUND");

    // The query with its hash runs and registers it; then the hash alone runs it.
    let full = post(
        &server,
        &token,
        json!({ "query": QUERY, "extensions": persisted(&id) }),
    )
    .await;
    assert_eq!(full["data"]["viewer"]["name"], "ada", "{full}");
    let by_hash = post(
        &server,
        &token,
        json!({ "extensions": persisted(&id), "operationName": "Me" }),
    )
    .await;
    assert!(by_hash.get("errors").is_none(), "{by_hash}");
    assert_eq!(by_hash["data"], full["data"]);

    // urql sends persisted queries over GET, the hash in `extensions`.
    let extensions = serde_json::to_string(&persisted(&id)).unwrap();
    let url = reqwest::Url::parse_with_params(
        &server.url("/graphql"),
        &[("operationName", "Me"), ("extensions", extensions.as_str())],
    )
    .unwrap();
    let by_get: Value = server
        .http()
        .get(url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_get["data"], full["data"], "{by_get}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_with_trusted_documents_runs_only_those() {
    let listed = "subscription Queue($g: ID!) { queueChanged(groupId: $g) { kind } }";
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("trusted.json");
    std::fs::write(
        &manifest,
        json!({ hash(QUERY): QUERY, hash(listed): listed }).to_string(),
    )
    .unwrap();
    let path = manifest.display().to_string();
    let server = TestServer::start_with(Backend::Sqlite, |s| {
        s.trusted_documents = Some(path);
    })
    .await;
    let token = server.token("ada", &["agent"]);

    // Listed: by its text and by its hash.
    let by_text = post(&server, &token, json!({ "query": QUERY })).await;
    assert_eq!(by_text["data"]["viewer"]["name"], "ada", "{by_text}");
    let by_hash = post(
        &server,
        &token,
        json!({ "extensions": persisted(&hash(QUERY)) }),
    )
    .await;
    assert_eq!(by_hash["data"], by_text["data"], "{by_hash}");

    // Anything else is refused, by text or by hash, and cannot be registered.
    let other = "{ viewer { id } }";
    for body in [
        json!({ "query": other }),
        json!({ "extensions": persisted(&hash(other)) }),
        json!({ "query": other, "extensions": persisted(&hash(other)) }),
    ] {
        let refused = post(&server, &token, body).await;
        assert_eq!(code(&refused), "DOCUMENT_NOT_TRUSTED", "{refused}");
        assert!(refused.get("data").is_none_or(Value::is_null), "{refused}");
    }

    // The WebSocket runs the same list: the listed subscription starts, another does not.
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &token).await;
    ws.subscribe(
        "1",
        "subscription { queueChanged(groupId: \"R3JvdXA6MQ\") { kind } }",
        json!({}),
    )
    .await;
    let refused = ws.next_message().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "DOCUMENT_NOT_TRUSTED",
        "{refused}"
    );
    // The listed one gets past the list to its resolver, which answers for itself:
    // Ada does not work that group's queue.
    ws.subscribe("2", listed, json!({ "g": "R3JvdXA6MQ" }))
        .await;
    let ran = ws.next_message().await;
    assert_eq!(
        (&ran["id"], &ran["type"]),
        (&json!("2"), &json!("next")),
        "{ran}"
    );
    assert_eq!(
        ran["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{ran}"
    );
}
