//! Webhooks: a real HTTP receiver verifies the Standard Webhooks signature (through a
//! rotation too), failures are retried under the same `webhook-id` on the schedule, 410
//! disables, a restart loses nothing, two replicas send each event once, and internal
//! addresses are refused unless allowed.

use std::time::Duration as StdDuration;

use chrono::Duration;
use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer, desk::CREATE, on_both_backends, receiver::Receiver, services::Postgres,
};

const REGISTER: &str =
    "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
    secret webhookEndpoint { id version enabled topics } } }";
const ROTATE: &str =
    "mutation($input: RotateWebhookSecretInput!) { rotateWebhookSecret(input: $input) {
    secret webhookEndpoint { previousSecretValidUntil } } }";
const PING: &str = "mutation($input: WebhookEndpointIdInput!) { pingWebhookEndpoint(input: $input) { delivery { webhookId state } } }";
const LOG: &str = "query($id: ID!) { webhookEndpoint(id: $id) { enabled disabledReason
    deliveries(first: 20) { nodes { webhookId topic seq state attemptCount lastStatus attempts { statusCode error responseExcerpt } } } } }";

/// A server that may post to the loopback receiver.
async fn allowing_loopback(backend: Backend) -> TestServer {
    TestServer::start_with(backend, |s| s.webhook_allow = Some("127.0.0.0/8".into())).await
}

/// Registers the receiver for ticket creations; returns the endpoint's id and secret.
async fn register(server: &TestServer, admin: &str, receiver: &Receiver) -> (Value, String) {
    let created = server
        .must(admin, REGISTER, json!({ "input": { "url": receiver.url, "description": "Partner CRM", "topics": ["ticket.created"] } }))
        .await;
    let endpoint = &created["createWebhookEndpoint"];
    (
        endpoint["webhookEndpoint"]["id"].clone(),
        endpoint["secret"].as_str().unwrap().to_string(),
    )
}

async fn raise(server: &TestServer, token: &str, group: &Value, title: &str) -> String {
    let input = json!({ "kind": "INCIDENT", "title": title, "impact": "LOW", "urgency": "LOW", "groupId": group });
    server.must(token, CREATE, json!({ "input": input })).await["createTicket"]["ticket"]["number"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn log(server: &TestServer, admin: &str, id: &Value) -> Value {
    server.must(admin, LOG, json!({ "id": id })).await["webhookEndpoint"].clone()
}

/// Waits until the newest delivery's log shows `count` attempts: the sender has
/// scheduled the next one, so moving the clock now moves it past that.
async fn attempts_recorded(server: &TestServer, admin: &str, id: &Value, count: usize) {
    log_when(server, admin, id, |e| {
        e["deliveries"]["nodes"][0]["attempts"]
            .as_array()
            .is_some_and(|a| a.len() >= count)
    })
    .await;
}

/// The endpoint's log once `done` holds of it (the sender records an attempt just
/// after the receiver answers it), waiting up to 5 s.
async fn log_when(
    server: &TestServer,
    admin: &str,
    id: &Value,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let mut endpoint = log(server, admin, id).await;
    for _ in 0..100 {
        if done(&endpoint) {
            return endpoint;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
        endpoint = log(server, admin, id).await;
    }
    panic!("the delivery log never got there: {endpoint:#}");
}

async fn a_receiver_verifies_every_message_through_a_secret_rotation(backend: Backend) {
    let server = allowing_loopback(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let receiver = Receiver::start().await;
    let (id, secret) = register(&server, &desk.admin, &receiver).await;

    let number = raise(&server, ada, &desk.network_group_id, "VPN down").await;
    let first = receiver.wait_for(1).await.remove(0);
    assert!(
        first.signed_with(&secret),
        "signature does not verify: {first:?}"
    );
    assert!(first.id.starts_with("msg_"));
    let body = first.json();
    assert_eq!(body["type"], "ticket.created");
    assert_eq!(body["data"]["ticket"]["number"], number.as_str());
    assert_eq!(body["data"]["ticket"]["title"], "VPN down");
    assert_eq!(body["data"]["actor"]["name"], "ada");
    assert_eq!(body["data"]["actor"]["id"], desk.agents[0].id);
    assert!(body["data"]["seq"].as_i64().unwrap() > 0);

    // Rotation: for the overlap, each message carries both signatures.
    let rotated = server
        .must(
            &desk.admin,
            ROTATE,
            json!({ "input": { "id": id, "overlapMinutes": 60 } }),
        )
        .await;
    let new_secret = rotated["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_secret, secret);
    raise(&server, ada, &desk.network_group_id, "Printer jammed").await;
    let second = receiver.wait_for(2).await.remove(1);
    assert!(second.signed_with(&new_secret) && second.signed_with(&secret));
    assert!(!second.signed_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    // After the overlap, only the new secret signs.
    server.advance(Duration::minutes(61));
    server
        .must(&desk.admin, PING, json!({ "input": { "id": id } }))
        .await;
    let ping = receiver.wait_for(3).await.remove(2);
    assert_eq!(ping.json()["type"], "webhook.ping");
    assert!(ping.signed_with(&new_secret) && !ping.signed_with(&secret));
}

async fn a_failing_receiver_gets_the_event_again_under_the_same_id(backend: Backend) {
    let server = allowing_loopback(backend).await;
    let desk = server.desk().await;
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 503, 502]);
    let (id, secret) = register(&server, &desk.admin, &receiver).await;
    raise(
        &server,
        &desk.agents[0].token,
        &desk.network_group_id,
        "Disk full",
    )
    .await;
    receiver.wait_for(1).await;
    attempts_recorded(&server, &desk.admin, &id, 1).await;
    // The schedule: 5 s, then 5 min, then 30 min (each stretched by up to a tenth).
    for (wait, count) in [
        (Duration::seconds(6), 2),
        (Duration::minutes(6), 3),
        (Duration::minutes(34), 4),
    ] {
        server.advance(wait);
        receiver.wait_for(count).await;
        attempts_recorded(&server, &desk.admin, &id, count).await;
    }
    let received = receiver.received();
    assert_eq!(received.len(), 4);
    assert!(
        received
            .iter()
            .all(|r| r.id == received[0].id && r.body == received[0].body)
    );
    assert!(received.iter().all(|r| r.signed_with(&secret)));
    let endpoint = log_when(&server, &desk.admin, &id, |e| {
        e["deliveries"]["nodes"][0]["state"] == "DELIVERED"
    })
    .await;
    let delivery = &endpoint["deliveries"]["nodes"][0];
    assert_eq!(delivery["attemptCount"], 4);
    assert_eq!(delivery["webhookId"], received[0].id.as_str());
    let statuses: Vec<i64> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["statusCode"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 503, 502, 200]);
    assert_eq!(delivery["attempts"][0]["responseExcerpt"], "answered 500");
}

async fn gone_disables_the_endpoint_and_says_why(backend: Backend) {
    let server = allowing_loopback(backend).await;
    let desk = server.desk().await;
    let receiver = Receiver::start().await;
    receiver.answer(&[410]);
    let (id, _) = register(&server, &desk.admin, &receiver).await;
    raise(
        &server,
        &desk.agents[0].token,
        &desk.network_group_id,
        "Old system",
    )
    .await;
    receiver.wait_for(1).await;
    let endpoint = log_when(&server, &desk.admin, &id, |e| e["enabled"] == false).await;
    assert!(endpoint["disabledReason"].as_str().unwrap().contains("410"));
    assert_eq!(endpoint["deliveries"]["nodes"][0]["state"], "FAILED");
    // Nothing more is sent to it, however long one waits.
    raise(
        &server,
        &desk.agents[0].token,
        &desk.network_group_id,
        "Another",
    )
    .await;
    server.advance(Duration::hours(1));
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 1);
}

async fn a_restart_in_the_middle_of_the_schedule_delivers_the_rest(backend: Backend) {
    let mut first = allowing_loopback(backend).await;
    let desk = first.desk().await;
    let receiver = Receiver::start().await;
    receiver.answer(&[500]);
    register(&first, &desk.admin, &receiver).await;
    raise(
        &first,
        &desk.agents[0].token,
        &desk.network_group_id,
        "Flaky link",
    )
    .await;
    receiver.wait_for(1).await;
    first.stop().await;
    let url = first.database_url();
    let second = TestServer::start_with(backend, |s| {
        s.database_url = Some(url);
        s.webhook_allow = Some("127.0.0.0/8".into());
    })
    .await;
    second.advance(Duration::seconds(6));
    let received = receiver.wait_for(2).await;
    assert_eq!(received[1].id, received[0].id);
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        2,
        "delivered once after the restart"
    );
}

async fn an_internal_address_is_refused_without_the_allow_list(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let receiver = Receiver::start().await;
    for url in [
        receiver.url.as_str(),
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/x",
        "http://10.0.0.7/hook",
    ] {
        let refused = server
            .gql(
                Some(&desk.admin),
                REGISTER,
                json!({ "input": { "url": url } }),
            )
            .await;
        assert_eq!(refused.error_code(), "BAD_USER_INPUT", "{url}");
        assert!(
            refused
                .error_message()
                .contains("SWITCHBOARD_WEBHOOK_ALLOW"),
            "{}",
            refused.error_message()
        );
    }
    let not_http = server
        .gql(
            Some(&desk.admin),
            REGISTER,
            json!({ "input": { "url": "file:///etc/passwd" } }),
        )
        .await;
    assert_eq!(not_http.error_code(), "BAD_USER_INPUT");
    // Agents do not manage webhooks.
    let agent = server
        .gql(
            Some(&desk.agents[0].token),
            REGISTER,
            json!({ "input": { "url": "https://example.com/hook" } }),
        )
        .await;
    assert_eq!(agent.error_code(), "FORBIDDEN");
}

async fn retry_after_is_honoured_and_persistent_failure_disables(backend: Backend) {
    let server = allowing_loopback(backend).await;
    let desk = server.desk().await;
    let receiver = Receiver::start().await;
    receiver.answer_later(429, "120");
    receiver.answer(&[500; 9]);
    let (id, _) = register(&server, &desk.admin, &receiver).await;
    raise(
        &server,
        &desk.agents[0].token,
        &desk.network_group_id,
        "Rate limited",
    )
    .await;
    receiver.wait_for(1).await;
    attempts_recorded(&server, &desk.admin, &id, 1).await;
    // The receiver asked for two minutes: the schedule's 5 seconds do not apply.
    server.advance(Duration::seconds(10));
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    assert_eq!(receiver.received().len(), 1);
    server.advance(Duration::seconds(115));
    receiver.wait_for(2).await;
    attempts_recorded(&server, &desk.admin, &id, 2).await;
    // Then the schedule, to its end: about three days of failures.
    let waits = [
        5 * 60,
        30 * 60,
        2 * 3600,
        5 * 3600,
        10 * 3600,
        14 * 3600,
        20 * 3600,
        24 * 3600,
    ];
    for (n, wait) in waits.iter().enumerate() {
        server.advance(Duration::seconds(wait + wait / 10 + 1));
        receiver.wait_for(n + 3).await;
        attempts_recorded(&server, &desk.admin, &id, n + 3).await;
    }
    let endpoint = log_when(&server, &desk.admin, &id, |e| e["enabled"] == false).await;
    let reason = endpoint["disabledReason"].as_str().unwrap();
    assert!(
        reason.contains("10 attempts") && reason.contains("HTTP 500"),
        "{reason}"
    );
    let delivery = &endpoint["deliveries"]["nodes"][0];
    assert_eq!(
        (
            delivery["state"].as_str(),
            delivery["attemptCount"].as_i64()
        ),
        (Some("FAILED"), Some(10))
    );
    assert_eq!(
        server
            .metric("switchboard_webhook_attempts_total{outcome=\"gave_up\"}")
            .await,
        Some(1.0)
    );
    assert_eq!(receiver.received().len(), 10);
}

async fn tokens_manage_their_own_endpoints_and_see_what_they_may(backend: Backend) {
    let server = allowing_loopback(backend).await;
    let desk = server.desk().await;
    let token = |scopes: Value| {
        let server = &server;
        let admin = desk.admin.clone();
        async move {
            server
                .must(&admin, "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { secret } }", json!({ "input": { "name": "Partner", "scopes": scopes } }))
                .await["createApiToken"]["secret"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let blind = token(json!(["webhooks:manage"])).await;
    let reader = token(json!(["webhooks:manage", "tickets:read"])).await;
    let (blind_hooks, reader_hooks) = (Receiver::start().await, Receiver::start().await);
    let (blind_id, _) = register(&server, &blind, &blind_hooks).await;
    let only_p1 = server
        .must(&reader, REGISTER, json!({ "input": { "url": reader_hooks.url, "topics": ["ticket.created"], "filter": { "priorities": ["P1"] } } }))
        .await;
    let reader_id = only_p1["createWebhookEndpoint"]["webhookEndpoint"]["id"].clone();
    let ada = &desk.agents[0].token;
    raise(&server, ada, &desk.network_group_id, "Low one").await;
    let p1 = json!({ "kind": "INCIDENT", "title": "Critical one", "impact": "HIGH", "urgency": "HIGH", "groupId": desk.network_group_id });
    let number =
        server.must(ada, CREATE, json!({ "input": p1 })).await["createTicket"]["ticket"]["number"]
            .clone();
    let got = reader_hooks.wait_for(1).await;
    assert_eq!(
        got[0].json()["data"]["ticket"]["number"],
        number,
        "only the P1 passes the filter"
    );
    // The token without tickets:read is sent no ticket, but its ping arrives.
    server
        .must(&blind, PING, json!({ "input": { "id": blind_id } }))
        .await;
    let pinged = blind_hooks.wait_for(1).await;
    assert_eq!(pinged.len(), 1);
    assert_eq!(pinged[0].json()["type"], "webhook.ping");
    assert_eq!(reader_hooks.received().len(), 1);
    // Each token sees its own endpoints; an admin sees all.
    let other = server
        .gql(Some(&blind), LOG, json!({ "id": reader_id }))
        .await;
    assert_eq!(other.error_code(), "NOT_FOUND");
    let all = server
        .must(
            &desk.admin,
            "{ webhookEndpoints(first: 10) { nodes { id } } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        all["webhookEndpoints"]["nodes"].as_array().unwrap().len(),
        2
    );
    let mine = server
        .must(
            &reader,
            "{ webhookEndpoints(first: 10) { nodes { id } } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        mine["webhookEndpoints"]["nodes"],
        json!([{ "id": reader_id }])
    );
    let by_node = server
        .must(
            &desk.admin,
            "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { url } } }",
            json!({ "id": reader_id }),
        )
        .await;
    assert_eq!(by_node["node"]["url"], reader_hooks.url.as_str());
}

async fn an_event_is_redelivered_under_its_id(backend: Backend) {
    let server = allowing_loopback(backend).await;
    let desk = server.desk().await;
    let receiver = Receiver::start().await;
    let (id, secret) = register(&server, &desk.admin, &receiver).await;
    raise(
        &server,
        &desk.agents[0].token,
        &desk.network_group_id,
        "Once more",
    )
    .await;
    let first = receiver.wait_for(1).await.remove(0);
    let seq = first.json()["data"]["seq"].clone();
    server
        .must(&desk.admin, "mutation($input: RedeliverWebhookEventInput!) { redeliverWebhookEvent(input: $input) { delivery { webhookId state } } }", json!({ "input": { "id": id, "seq": seq } }))
        .await;
    let again = receiver.wait_for(2).await.remove(1);
    assert_eq!(again.id, first.id);
    assert_eq!(again.json()["data"], first.json()["data"]);
    assert!(again.signed_with(&secret));
    let missing = server
        .gql(Some(&desk.admin), "mutation($input: RedeliverWebhookEventInput!) { redeliverWebhookEvent(input: $input) { delivery { webhookId } } }", json!({ "input": { "id": id, "seq": 999999 } }))
        .await;
    assert_eq!(missing.error_code(), "NOT_FOUND");
}

/// An endpoint registered where the allow-list opened loopback, delivered by a server
/// where it does not: refused after resolving the name, and the log says why.
async fn delivery_refuses_an_address_the_guard_does_not_allow(backend: Backend) {
    let mut first = allowing_loopback(backend).await;
    let desk = first.desk().await;
    let receiver = Receiver::start().await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    let created = first
        .must(
            &desk.admin,
            REGISTER,
            json!({ "input": { "url": by_name, "topics": ["ticket.created"] } }),
        )
        .await;
    let id = created["createWebhookEndpoint"]["webhookEndpoint"]["id"].clone();
    first.stop().await;
    let url = first.database_url();
    let second = TestServer::start_with(backend, |s| s.database_url = Some(url)).await;
    raise(
        &second,
        &desk.agents[0].token,
        &desk.network_group_id,
        "Sneaky",
    )
    .await;
    let endpoint = log_when(&second, &desk.admin, &id, |e| {
        e["deliveries"]["nodes"][0]["attempts"][0].is_object()
    })
    .await;
    let attempt = &endpoint["deliveries"]["nodes"][0]["attempts"][0];
    assert!(attempt["statusCode"].is_null());
    let error = attempt["error"].as_str().unwrap();
    assert!(
        error.contains("loopback") && error.contains("SWITCHBOARD_WEBHOOK_ALLOW"),
        "{error}"
    );
    assert!(receiver.received().is_empty());
}

on_both_backends!(
    retry_after_is_honoured_and_persistent_failure_disables,
    tokens_manage_their_own_endpoints_and_see_what_they_may,
    an_event_is_redelivered_under_its_id,
    delivery_refuses_an_address_the_guard_does_not_allow,
    a_receiver_verifies_every_message_through_a_secret_rotation,
    a_failing_receiver_gets_the_event_again_under_the_same_id,
    gone_disables_the_endpoint_and_says_why,
    a_restart_in_the_middle_of_the_schedule_delivers_the_rest,
    an_internal_address_is_refused_without_the_allow_list,
);

/// Two replicas on one PostgreSQL, both sending: each event reaches the receiver once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_deliver_each_event_once() {
    let (_, url) = Postgres::shared().create_database();
    let allow = |s: &mut switchboard::Settings| {
        s.database_url = Some(url.clone());
        s.webhook_allow = Some("127.0.0.0/8".into());
    };
    let a = TestServer::start_with(Backend::Postgres, allow).await;
    let b = TestServer::start_with(Backend::Postgres, allow).await;
    let desk = a.desk().await;
    let receiver = Receiver::start().await;
    register(&a, &desk.admin, &receiver).await;
    for n in 0..10 {
        let server = if n % 2 == 0 { &a } else { &b };
        raise(
            server,
            &desk.agents[0].token,
            &desk.network_group_id,
            &format!("Alarm {n}"),
        )
        .await;
    }
    let received = receiver.wait_for(10).await;
    tokio::time::sleep(StdDuration::from_millis(800)).await;
    let received_now = receiver.received();
    assert_eq!(received_now.len(), 10, "{received:#?}");
    let mut ids: Vec<&str> = received_now.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10);
    // In seq order, as the endpoint's queue is.
    let seqs: Vec<i64> = received_now
        .iter()
        .map(|r| r.json()["data"]["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
}
