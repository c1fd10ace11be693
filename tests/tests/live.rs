//! Live subscriptions over graphql-transport-ws: changes arrive as they commit, on every
//! replica, to those who may see them; a client that drops off gets back what it missed.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{COMMENT, CREATE},
    on_both_backends,
    services::{Postgres, Redis},
    ws::WsClient,
};

const FOLLOW: &str = "subscription($id: ID!, $after: Int) { ticketUpdated(id: $id, after: $after) { seq action actorName changes { field newValue } } }";
const UPDATE: &str =
    "mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { ticket { version } } }";

/// A ticket in the Network queue, raised by an agent for Rita.
async fn ticket(server: &TestServer, token: &str, desk: &switchboard_tests::desk::Desk) -> Value {
    let input = json!({ "kind": "INCIDENT", "title": "Wifi down", "groupId": desk.network_group_id, "requesterId": desk.requester.id });
    server.must(token, CREATE, json!({ "input": input })).await["createTicket"]["ticket"].clone()
}

/// Renames the ticket `count` times, returning the version after.
async fn rename(
    server: &TestServer,
    token: &str,
    ticket: &Value,
    version: i64,
    count: usize,
    prefix: &str,
) -> i64 {
    let mut version = version;
    for n in 0..count {
        let input =
            json!({ "id": ticket["id"], "version": version, "title": format!("{prefix} {n}") });
        version = server.must(token, UPDATE, json!({ "input": input })).await["updateTicket"]["ticket"]["version"].as_i64().unwrap();
    }
    version
}

/// The next event after the ticket's creation. A subscription without `after` starts
/// where this replica's hub stands, which may be just before the creation it was
/// published after.
async fn next_event(ws: &mut WsClient) -> Value {
    loop {
        let message = ws.next_message().await;
        assert_eq!(message["type"], "next", "{message}");
        assert!(message["payload"].get("errors").is_none(), "{message}");
        let event = message["payload"]["data"]["ticketUpdated"].clone();
        if event["action"] != "ticket.created" {
            return event;
        }
    }
}

async fn a_subscriber_receives_a_change_within_a_second(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    let t = ticket(&server, &ada, &desk).await;
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &ada).await;
    ws.subscribe("1", FOLLOW, json!({ "id": t["id"] })).await;
    // From the moment the server counts it, the subscription hears every change.
    server.subscriptions_running(1).await;
    let sent = Instant::now();
    rename(&server, &ada, &t, 1, 1, "Wifi down on floor").await;
    let event = tokio::time::timeout(Duration::from_secs(1), next_event(&mut ws))
        .await
        .expect("within a second");
    assert!(sent.elapsed() < Duration::from_secs(1));
    assert_eq!(event["action"], "ticket.updated");
    assert_eq!(
        event["changes"],
        json!([{ "field": "title", "newValue": "Wifi down on floor 0" }])
    );
    assert_eq!(event["actorName"], "ada");
}

async fn reconnecting_with_after_gets_exactly_what_was_missed(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    let t = ticket(&server, &ada, &desk).await;
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &ada).await;
    ws.subscribe("1", FOLLOW, json!({ "id": t["id"] })).await;
    server.subscriptions_running(1).await;
    let version = rename(&server, &ada, &t, 1, 1, "seen").await;
    let seen = next_event(&mut ws).await["seq"].as_i64().unwrap();
    drop(ws);

    // Three changes while away, and changes to other tickets in between.
    let other = ticket(&server, &ada, &desk).await;
    let version = rename(&server, &ada, &t, version, 3, "missed").await;
    rename(&server, &ada, &other, 1, 2, "elsewhere").await;

    let mut ws = WsClient::connect_with_token(&server.ws_url(), &ada).await;
    ws.subscribe("2", FOLLOW, json!({ "id": t["id"], "after": seen }))
        .await;
    let mut seqs = vec![];
    for n in 0..3 {
        let event = next_event(&mut ws).await;
        assert_eq!(event["changes"][0]["newValue"], format!("missed {n}"));
        seqs.push(event["seq"].as_i64().unwrap());
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]) && seqs[0] > seen);
    // Then live again, with nothing repeated.
    rename(&server, &ada, &t, version, 1, "live").await;
    let event = next_event(&mut ws).await;
    assert_eq!(event["changes"][0]["newValue"], "live 0");
    assert!(event["seq"].as_i64().unwrap() > seqs[2]);
}

async fn a_requester_never_hears_of_others_tickets_or_internal_notes(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    let rita_ticket = ticket(&server, &ada, &desk).await;
    let input = json!({ "kind": "INCIDENT", "title": "Otto's", "groupId": desk.network_group_id, "requesterId": desk.other_requester.id });
    let otto_ticket =
        server.must(&ada, CREATE, json!({ "input": input })).await["createTicket"]["ticket"]
            .clone();

    let mut ws = WsClient::connect_with_token(&server.ws_url(), &desk.requester.token).await;
    // Another requester's ticket: refused.
    ws.subscribe("theirs", FOLLOW, json!({ "id": otto_ticket["id"] }))
        .await;
    let refused = ws.next_message().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{refused}"
    );
    assert_eq!(ws.next_message().await["type"], "complete");
    // Her own, from the beginning: an internal note never arrives, the public reply does.
    ws.subscribe(
        "mine",
        FOLLOW,
        json!({ "id": rita_ticket["id"], "after": 0 }),
    )
    .await;
    let created = ws.next_message().await;
    assert_eq!(
        created["payload"]["data"]["ticketUpdated"]["action"],
        "ticket.created"
    );
    server.must(&ada, COMMENT, json!({ "input": { "ticketId": rita_ticket["id"], "body": "VIP, handle with care", "internal": true } })).await;
    server
        .must(
            &ada,
            COMMENT,
            json!({ "input": { "ticketId": otto_ticket["id"], "body": "For Otto" } }),
        )
        .await;
    server
        .must(
            &ada,
            COMMENT,
            json!({ "input": { "ticketId": rita_ticket["id"], "body": "We are on it" } }),
        )
        .await;
    let next = ws.next_message().await;
    let event = &next["payload"]["data"]["ticketUpdated"];
    assert_eq!(event["action"], "ticket.commented");
    assert!(
        !next.to_string().contains("VIP") && !next.to_string().contains("Otto"),
        "{next}"
    );
    // The agent, following the same ticket from the start, sees the note.
    let mut agent = WsClient::connect_with_token(&server.ws_url(), &ada).await;
    agent
        .subscribe("a", FOLLOW, json!({ "id": rita_ticket["id"], "after": 0 }))
        .await;
    let actions: Vec<String> = {
        let mut actions = vec![];
        for _ in 0..3 {
            let m = agent.next_message().await;
            actions.push(
                m["payload"]["data"]["ticketUpdated"]["action"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        actions
    };
    assert_eq!(
        actions,
        ["ticket.created", "ticket.commented", "ticket.commented"]
    );
}

on_both_backends!(
    each_event_shows_the_relations_as_they_are_then,
    a_commit_wakes_the_relay_without_waiting_for_a_poll,
    shared_renderings_show_each_subscriber_what_it_would_see_alone,
    a_subscriber_that_stops_reading_falls_behind_alone_and_resumes,
    a_subscriber_rendered_alone_that_stops_reading_falls_behind_and_resumes,
    a_queue_and_a_dashboard_follow_their_tickets,
    sla_alerts_reach_their_subscribers_with_the_clock,
    a_subscriber_receives_a_change_within_a_second,
    reconnecting_with_after_gets_exactly_what_was_missed,
    a_requester_never_hears_of_others_tickets_or_internal_notes,
    a_load_read_after_the_log_position_misses_no_change,
);

/// A client that reads `eventLogPosition`, then loads its queue, then subscribes `after`
/// the position, hears of a ticket created between the read and the subscription; it
/// counts down against `serverTime`, which is the server's clock, moved or not.
async fn a_load_read_after_the_log_position_misses_no_change(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    let start = "{ eventLogPosition serverTime }";
    assert_eq!(
        server.gql(None, start, Value::Null).await.error_code(),
        "UNAUTHENTICATED"
    );
    let read = server.must(&ada, start, Value::Null).await;
    let position = read["eventLogPosition"].as_i64().unwrap();

    // A ticket arrives while the client is still loading: it has not subscribed yet.
    let created = ticket(&server, &ada, &desk).await;
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &ada).await;
    ws.subscribe(
        "queue",
        "subscription($g: ID!, $after: Int) { queueChanged(groupId: $g, after: $after) { kind event { seq ticket { number } } } }",
        json!({ "g": desk.network_group_id, "after": position }),
    )
    .await;
    let change = ws.next_message().await;
    let change = &change["payload"]["data"]["queueChanged"];
    assert_eq!(change["kind"], "ENTERED");
    assert_eq!(change["event"]["ticket"]["number"], created["number"]);
    assert!(change["event"]["seq"].as_i64().unwrap() > position);

    let before =
        chrono::DateTime::parse_from_rfc3339(read["serverTime"].as_str().unwrap()).unwrap();
    server.advance(chrono::Duration::hours(1));
    let again = server.must(&ada, start, Value::Null).await;
    let later =
        chrono::DateTime::parse_from_rfc3339(again["serverTime"].as_str().unwrap()).unwrap();
    assert!(
        later - before >= chrono::Duration::hours(1),
        "{before} then {later}"
    );
    assert!(
        again["eventLogPosition"].as_i64() >= change["event"]["seq"].as_i64(),
        "the position has moved past the ticket's creation: {again}"
    );
}

/// Two replicas on one PostgreSQL and one Redis: a change made through A reaches a
/// subscriber on B within a second; with Redis stopped in the middle of a stream of
/// changes and started again, every event still arrives, in order, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_changes_through_redis_and_lose_nothing_when_it_stops() {
    let redis = tokio::task::spawn_blocking(Redis::start).await.unwrap();
    let (_, url) = Postgres::shared().create_database();
    let (a, b) = tokio::join!(
        TestServer::start_with(Backend::Postgres, |s| {
            s.database_url = Some(url.clone());
            s.redis_url = Some(redis.url());
        }),
        TestServer::start_with(Backend::Postgres, |s| {
            s.database_url = Some(url.clone());
            s.redis_url = Some(redis.url());
        }),
    );
    let desk = a.desk().await;
    let ada = desk.agents[0].token.clone();
    let t = ticket(&a, &ada, &desk).await;
    let mut ws = WsClient::connect_with_token(&b.ws_url(), &ada).await;
    ws.subscribe("1", FOLLOW, json!({ "id": t["id"] })).await;
    b.subscriptions_running(1).await;

    let sent = Instant::now();
    let version = rename(&a, &ada, &t, 1, 1, "first").await;
    let event = tokio::time::timeout(Duration::from_secs(1), next_event(&mut ws))
        .await
        .expect("B hears of A's change within a second");
    assert!(sent.elapsed() < Duration::from_secs(1));
    assert_eq!(event["changes"][0]["newValue"], "first 0");

    let version = rename(&a, &ada, &t, version, 5, "before").await;
    redis.pause();
    let version = rename(&a, &ada, &t, version, 5, "during").await;
    // Queries and mutations keep working while Redis is down.
    assert_eq!(
        a.must(
            &ada,
            "query($n: String!) { ticket(number: $n) { version } }",
            json!({ "n": t["number"] })
        )
        .await["ticket"]["version"],
        version
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.resume();
    rename(&a, &ada, &t, version, 5, "after").await;
    let mut titles = vec![];
    let mut seqs: Vec<i64> = vec![];
    for _ in 0..15 {
        let event = tokio::time::timeout(Duration::from_secs(10), next_event(&mut ws))
            .await
            .expect("every event arrives");
        titles.push(
            event["changes"][0]["newValue"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        seqs.push(event["seq"].as_i64().unwrap());
    }
    let expected: Vec<String> = ["before", "during", "after"]
        .iter()
        .flat_map(|p| (0..5).map(move |n| format!("{p} {n}")))
        .collect();
    assert_eq!(titles, expected, "in order, once");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
}

/// A thousand subscribers on one replica (fifty sockets with twenty subscriptions each)
/// each receive one broadcast change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_subscribers_each_receive_a_broadcast_change() {
    let server = TestServer::start(Backend::Sqlite).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    let t = ticket(&server, &ada, &desk).await;
    let mut sockets = Vec::new();
    for _ in 0..50 {
        let mut ws = WsClient::connect_with_token(&server.ws_url(), &ada).await;
        for n in 0..20 {
            ws.subscribe(&n.to_string(), FOLLOW, json!({ "id": t["id"] }))
                .await;
        }
        sockets.push(ws);
    }
    server.subscriptions_running(1000).await;
    rename(&server, &ada, &t, 1, 1, "broadcast").await;
    let received = futures::future::join_all(sockets.iter_mut().map(|ws| async move {
        let mut ids = std::collections::BTreeSet::new();
        while ids.len() < 20 {
            let message = ws.next_message().await;
            let event = &message["payload"]["data"]["ticketUpdated"];
            if event["action"] == "ticket.updated" {
                assert_eq!(event["changes"][0]["newValue"], "broadcast 0");
                assert!(
                    ids.insert(message["id"].as_str().unwrap().to_string()),
                    "each subscriber once"
                );
            }
        }
        ids.len()
    }))
    .await;
    assert_eq!(received.iter().sum::<usize>(), 1000);
}

async fn a_queue_and_a_dashboard_follow_their_tickets(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &ada).await;
    ws.subscribe(
        "queue",
        "subscription($g: ID!) { queueChanged(groupId: $g) { kind position event { seq action ticketNumber } } }",
        json!({ "g": desk.network_group_id }),
    )
    .await;
    ws.subscribe(
        "counts",
        "subscription { dashboard { total byStatus { status count } } }",
        Value::Null,
    )
    .await;
    let first = ws.next_message().await;
    assert_eq!(
        (
            first["id"].as_str(),
            first["payload"]["data"]["dashboard"]["total"].as_i64()
        ),
        (Some("counts"), Some(0))
    );
    server.subscriptions_running(2).await;

    // A ticket enters the queue: the queue says so, the dashboard counts it.
    let t = ticket(&server, &ada, &desk).await;
    let (mut kinds, mut total) = (vec![], 0);
    while kinds.is_empty() || total != 1 {
        let message = ws.next_message().await;
        match message["id"].as_str() {
            Some("queue") => kinds.push(
                message["payload"]["data"]["queueChanged"]["kind"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            _ => {
                total = message["payload"]["data"]["dashboard"]["total"]
                    .as_i64()
                    .unwrap()
            }
        }
    }
    // Escalated to tier 2, it leaves Ada's queue, and her dashboard, whose scope is her groups.
    let escalate = "mutation($input: EscalateTicketInput!) { escalateTicket(input: $input) { ticket { version } } }";
    server.must(&ada, escalate, json!({ "input": { "id": t["id"], "version": 1, "level": "FUNCTIONAL", "reason": "tier 2" } })).await;
    while kinds.len() < 2 || total != 0 {
        let message = ws.next_message().await;
        match message["id"].as_str() {
            Some("queue") => kinds.push(
                message["payload"]["data"]["queueChanged"]["kind"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            _ => {
                total = message["payload"]["data"]["dashboard"]["total"]
                    .as_i64()
                    .unwrap()
            }
        }
    }
    assert_eq!(kinds, ["ENTERED", "LEFT"]);
    // A requester may not watch a queue.
    let mut rita = WsClient::connect_with_token(&server.ws_url(), &desk.requester.token).await;
    rita.subscribe(
        "q",
        "subscription($g: ID!) { queueChanged(groupId: $g) { kind } }",
        json!({ "g": desk.network_group_id }),
    )
    .await;
    let refused = rita.next_message().await;
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
}

async fn sla_alerts_reach_their_subscribers_with_the_clock(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    server
        .must(&desk.admin, "mutation { saveSlaPolicy(input: { name: \"P1\", position: 1, priority: P1, responseMinutes: 15 }) { slaPolicy { id } } }", Value::Null)
        .await;
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &ada).await;
    ws.subscribe("p1", "subscription { slaAlerts(filter: { priority: P1 }) { kind metric percent dueAt remainingSeconds event { ticketNumber } } }", Value::Null).await;
    server.subscriptions_running(1).await;
    let input = json!({ "kind": "INCIDENT", "title": "Core switch down", "impact": "HIGH", "urgency": "HIGH", "groupId": desk.network_group_id, "requesterId": desk.requester.id });
    let number = server.must(&ada, CREATE, json!({ "input": input })).await["createTicket"]["ticket"]["number"].clone();
    server.advance(chrono::Duration::minutes(12));
    let alert = ws.next_message().await;
    let alert = &alert["payload"]["data"]["slaAlerts"];
    assert_eq!(
        (
            alert["kind"].as_str(),
            alert["metric"].as_str(),
            alert["percent"].as_i64()
        ),
        (Some("WARNING"), Some("RESPONSE"), Some(75))
    );
    assert_eq!(alert["event"]["ticketNumber"], number);
    assert!(alert["dueAt"].is_string());
    let remaining = alert["remainingSeconds"].as_i64().unwrap();
    assert!(
        (170..=181).contains(&remaining),
        "about three minutes left: {remaining}"
    );
}

/// A subscriber that stops reading falls behind on its own: the other subscriber of the
/// same ticket, sharing its rendering (whose frames it writes into both sockets itself),
/// keeps receiving; it is told where to resume, is closed with 1013, and resuming from
/// there gives it exactly what it missed.
async fn a_subscriber_that_stops_reading_falls_behind_alone_and_resumes(backend: Backend) {
    let follow = "subscription($id: ID!) { ticketUpdated(id: $id) { seq action ticket { description d2: description d3: description } } }";
    falls_behind_alone_and_resumes(backend, follow, 1).await;
}

/// The same for subscriptions rendered each for itself (asking with `after`), whose
/// frames pass through their sockets' writers.
async fn a_subscriber_rendered_alone_that_stops_reading_falls_behind_and_resumes(backend: Backend) {
    falls_behind_alone_and_resumes(backend, FOLLOW_AFTER, 0).await;
}

/// Following one ticket with its description three times (each message 60 KB), from
/// `after` when given.
const FOLLOW_AFTER: &str = "subscription($id: ID!, $after: Int) { ticketUpdated(id: $id, after: $after) { seq action ticket { description d2: description d3: description } } }";

async fn falls_behind_alone_and_resumes(backend: Backend, follow: &str, renderings_running: i64) {
    // A backlog of 32 frames: slack enough for a reader on a busy machine, little enough
    // that the stalled one falls behind well before the 300 changes are over.
    let server = TestServer::start_with(backend, |s| s.ws_queue = Some("32".into())).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    // A long description, asked for three times, makes every message large (60 KB), so
    // that the queue fills well before the change is over, whatever the kernel buffers.
    let input = json!({ "kind": "INCIDENT", "title": "Wifi down", "description": "x".repeat(20_000), "groupId": desk.network_group_id, "requesterId": desk.requester.id });
    let t = server.must(&ada, CREATE, json!({ "input": input })).await["createTicket"]["ticket"]
        .clone();
    let mut stalled = WsClient::connect_with_small_window(&server.ws_url(), &ada).await;
    stalled
        .subscribe("s", follow, json!({ "id": t["id"] }))
        .await;
    let mut reading = WsClient::connect_with_token(&server.ws_url(), &ada).await;
    reading
        .subscribe("r", follow, json!({ "id": t["id"] }))
        .await;
    server.subscriptions_running(2).await;
    // Shared renderings only are counted: one for the pair, or none when each is alone.
    let (running, _) = renderings(&server).await;
    assert_eq!(
        running,
        Some(renderings_running as f64),
        "renderings running"
    );

    // The reading subscriber takes every change as it comes, while the other reads nothing.
    const CHANGES: usize = 300;
    let reader = tokio::spawn(async move {
        let mut seqs = vec![];
        while seqs.len() < CHANGES {
            let message = reading.next_message().await;
            assert_eq!(message["type"], "next", "{message}");
            let event = &message["payload"]["data"]["ticketUpdated"];
            assert_eq!(
                event["ticket"]["description"].as_str().map(str::len),
                Some(20_000),
                "{message}"
            );
            if event["action"] == "ticket.updated" {
                seqs.push(event["seq"].as_i64().unwrap());
            }
        }
        seqs
    });
    rename(&server, &ada, &t, 1, CHANGES, "busy").await;
    let all = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the reading subscriber is never held up by the stalled one")
        .unwrap();

    // Now the stalled client reads: what was queued, then the notice, then the close.
    let mut received = vec![];
    let resume_after = loop {
        let message = stalled.next_message().await;
        assert_eq!(message["type"], "next", "{message}");
        if let Some(error) = message["payload"]["errors"].get(0) {
            assert_eq!(error["extensions"]["code"], "RATE_LIMITED", "{message}");
            break error["extensions"]["resumeAfter"]
                .as_i64()
                .expect("resumeAfter");
        }
        let event = &message["payload"]["data"]["ticketUpdated"];
        if event["action"] == "ticket.updated" {
            received.push(event["seq"].as_i64().unwrap());
        }
    };
    let closed = stalled.closed(Duration::from_secs(10)).await;
    assert_eq!(closed.code, 1013, "{closed:?}");
    assert!(
        received.len() < CHANGES,
        "the stalled client fell behind: {received:?}"
    );
    assert_eq!(received, all[..received.len()], "what it got came in order");
    assert!(resume_after >= received.last().copied().unwrap_or(0));

    // Resuming from where it was told gives it exactly what it missed.
    let missed: Vec<i64> = all.iter().copied().filter(|&s| s > resume_after).collect();
    assert!(!missed.is_empty());
    let mut resumed = WsClient::connect_with_token(&server.ws_url(), &ada).await;
    resumed
        .subscribe(
            "again",
            FOLLOW_AFTER,
            json!({ "id": t["id"], "after": resume_after }),
        )
        .await;
    let mut replayed = vec![];
    while replayed.len() < missed.len() {
        let message = resumed.next_message().await;
        assert_eq!(message["type"], "next", "{message}");
        replayed.push(
            message["payload"]["data"]["ticketUpdated"]["seq"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(replayed, missed);
}

/// The subscription renderings and the subscriptions running on the server, as
/// /metrics reports them.
async fn renderings(server: &TestServer) -> (Option<f64>, Option<f64>) {
    (
        server.metric("switchboard_subscription_renderings").await,
        server.metric("switchboard_subscriptions").await,
    )
}

fn total(message: &Value) -> Option<i64> {
    message["payload"]["data"]["dashboard"]["total"].as_i64()
}

fn action(message: &Value) -> Option<&str> {
    message["payload"]["data"]["ticketUpdated"]["action"].as_str()
}

/// Sockets asking the same thing, who may see the same, share one rendering, and each
/// still receives exactly what it would alone: Ada's two sockets share hers and match
/// one of hers rendered apart; Rita's two share hers, and never hear of the internal
/// note Ada's hear of, nor count Otto's ticket, which Ada's and Otto's own do.
async fn shared_renderings_show_each_subscriber_what_it_would_see_alone(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    let t = ticket(&server, &ada, &desk).await;
    let counts = "subscription { dashboard { total } }";
    let events = "subscription($id: ID!) { ticketUpdated(id: $id) { action changes { field } } }";
    let mut sockets = vec![];
    for (who, token, counts) in [
        ("ada", &ada, counts.to_string()),
        ("ada", &ada, counts.to_string()),
        // The same question spelled differently is rendered apart: the control.
        ("ada apart", &ada, format!("{counts} ")),
        ("rita", &desk.requester.token, counts.to_string()),
        ("rita", &desk.requester.token, counts.to_string()),
        ("otto", &desk.other_requester.token, counts.to_string()),
    ] {
        let mut ws = WsClient::connect_with_token(&server.ws_url(), token).await;
        ws.subscribe("counts", &counts, Value::Null).await;
        ws.subscribe("events", events, json!({ "id": t["id"] }))
            .await;
        sockets.push((who, ws));
    }
    // Everyone's dashboard starts from what they see now; Otto may not follow Rita's
    // ticket, and is told so, as he would be alone.
    for (who, ws) in &mut sockets {
        let (mut first, mut refused) = (None, *who != "otto");
        while first.is_none() || !refused {
            let message = ws.next_message().await;
            if message["id"] == "counts" {
                first = total(&message);
            } else {
                let text = message.to_string();
                assert!(
                    *who == "otto" && text.contains("NOT_FOUND"),
                    "{who}: {text}"
                );
                refused = true;
            }
        }
        let expected = if *who == "otto" { 0 } else { 1 };
        assert_eq!(first, Some(expected), "{who}");
    }
    // Ada's sockets share two renderings and her apart one more, Rita's two, Otto one.
    server.subscriptions_running(11).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while renderings(&server).await != (Some(6.0), Some(11.0)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(renderings(&server).await, (Some(6.0), Some(11.0)));

    // An internal note, then a public rename, then a ticket of Otto's in the same queue.
    server.must(&ada, COMMENT, json!({ "input": { "ticketId": t["id"], "body": "VIP, handle with care", "internal": true } })).await;
    let version = server
        .must(
            &ada,
            "query($id: ID!) { node(id: $id) { ... on Ticket { version } } }",
            json!({ "id": t["id"] }),
        )
        .await["node"]["version"]
        .as_i64()
        .unwrap();
    let version = rename(&server, &ada, &t, version, 1, "Wifi down again").await;
    let input = json!({ "kind": "INCIDENT", "title": "Printer", "groupId": desk.network_group_id, "requesterId": desk.other_requester.id });
    server.must(&ada, CREATE, json!({ "input": input })).await;

    for (who, ws) in &mut sockets {
        let (mut actions, mut totals) = (vec![], vec![]);
        let (wanted_actions, wanted_total): (&[&str], i64) = match *who {
            "rita" => (&["ticket.updated"], 1),
            "otto" => (&[], 1),
            _ => (&["ticket.commented", "ticket.updated"], 2),
        };
        // Rita's count never moves: she is done once she has heard of the rename.
        while actions.len() < wanted_actions.len()
            || (*who != "rita" && totals.last() != Some(&wanted_total))
        {
            let message = ws.next_message().await;
            // The creation may come first: the hub may not have passed it on yet when
            // the subscription started, alone or shared.
            if let Some(action) = action(&message).filter(|&a| a != "ticket.created") {
                actions.push(action.to_string());
            }
            if let Some(total) = total(&message) {
                totals.push(total);
            }
        }
        assert_eq!(actions, wanted_actions, "{who}");
        assert!(
            totals.iter().all(|&t| t <= wanted_total),
            "{who}: {totals:?}"
        );
    }
    // One more public change: it is the very next thing Rita's sockets hear, so no
    // count of Otto's ticket reached them in between.
    rename(&server, &ada, &t, version, 1, "Wifi fixed").await;
    for (who, ws) in &mut sockets {
        if *who == "rita" {
            let message = ws.next_message().await;
            assert_eq!(action(&message), Some("ticket.updated"), "{who}: {message}");
        }
    }
}

/// A commit wakes the relay: with its safety-net poll an hour apart, a change still
/// reaches its subscriber, and the relay's counters say a commit woke it.
async fn a_commit_wakes_the_relay_without_waiting_for_a_poll(backend: Backend) {
    let server =
        TestServer::start_with(backend, |s| s.relay_poll_seconds = Some("3600".into())).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    let t = ticket(&server, &ada, &desk).await;
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &ada).await;
    ws.subscribe("1", FOLLOW, json!({ "id": t["id"] })).await;
    server.subscriptions_running(1).await;
    rename(&server, &ada, &t, 1, 1, "woken").await;
    let event = next_event(&mut ws).await;
    assert_eq!(event["changes"][0]["newValue"], "woken 0");
    // A counter the relay has never bumped is not in the scrape yet: none is zero.
    let commit = server
        .metric(r#"switchboard_relay_rounds_total{woken_by="commit"}"#)
        .await
        .unwrap_or(0.0);
    let poll = server
        .metric(r#"switchboard_relay_rounds_total{woken_by="poll"}"#)
        .await
        .unwrap_or(0.0);
    assert!(commit >= 1.0, "rounds woken by a commit: {commit}");
    assert_eq!(poll, 0.0, "rounds woken by the poll");
}

/// A subscription lasts: each event shows the ticket's relations as they are then, not
/// as the first event found them (its loaders remember nothing between events).
async fn each_event_shows_the_relations_as_they_are_then(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    let t = ticket(&server, &ada, &desk).await;
    let mut ws = WsClient::connect_with_token(&server.ws_url(), &ada).await;
    ws.subscribe(
        "1",
        "subscription($id: ID!) { ticketUpdated(id: $id) { changes { newValue } ticket { problems { title } } } }",
        json!({ "id": t["id"] }),
    )
    .await;
    server.subscriptions_running(1).await;
    let renamed_to = |event: &Value, title: &str| event["changes"][0]["newValue"] == title;
    let mut version = rename(&server, &ada, &t, 1, 1, "first").await;
    let first = loop {
        let event = ws.next_message().await["payload"]["data"]["ticketUpdated"].clone();
        if renamed_to(&event, "first 0") {
            break event;
        }
    };
    assert_eq!(first["ticket"]["problems"], json!([]));

    server
        .must(&ada, "mutation($i: ID!) { createProblem(input: { title: \"Wifi drops hourly\", incidentIds: [$i] }) { problem { id } } }", json!({ "i": t["id"] }))
        .await;
    let now = server
        .must(
            &ada,
            "query($id: ID!) { node(id: $id) { ... on Ticket { version } } }",
            json!({ "id": t["id"] }),
        )
        .await;
    version = now["node"]["version"].as_i64().unwrap_or(version);
    rename(&server, &ada, &t, version, 1, "second").await;
    let second = loop {
        let event = ws.next_message().await["payload"]["data"]["ticketUpdated"].clone();
        if renamed_to(&event, "second 0") {
            break event;
        }
    };
    assert_eq!(
        second["ticket"]["problems"],
        json!([{ "title": "Wifi drops hourly" }])
    );
}
