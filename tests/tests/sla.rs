//! SLA clocks and the engine: warnings and breaches at the right instants, business
//! calendars, pauses and re-matching, exactly once across engines, catching up.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{COMMENT, CREATE, TRANSITION},
    on_both_backends,
    services::Postgres,
};

const POLICY: &str =
    "mutation($input: SaveSlaPolicyInput!) { saveSlaPolicy(input: $input) { slaPolicy { id } } }";
const CLOCKS: &str = "query($n: String!) { ticket(number: $n) { createdAt version slaClocks {
    metric state targetSeconds elapsedSeconds remainingSeconds dueAt nextChangeAt breachedAt stoppedAt
    policy { name } segments { running reason } } } }";
const HISTORY: &str = "query($n: String!) { ticket(number: $n) { history(first: 100) { nodes { action details } } } }";

async fn sla_events(server: &TestServer, token: &str, number: &str) -> Vec<Value> {
    let history = server.must(token, HISTORY, json!({ "n": number })).await;
    history["ticket"]["history"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["action"].as_str().unwrap().starts_with("sla.warning")
                || e["action"] == "sla.breached"
        })
        .cloned()
        .collect()
}

/// Waits (up to `limit`) until the ticket has `count` SLA alerts, and returns them.
async fn alerts(
    server: &TestServer,
    token: &str,
    number: &str,
    count: usize,
    limit: StdDuration,
) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let events = sla_events(server, token, number).await;
        if events.len() >= count {
            return events;
        }
        assert!(
            start.elapsed() < limit,
            "expected {count} SLA alerts within {limit:?}, got {events:#?}"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

async fn clocks(server: &TestServer, token: &str, number: &str) -> Value {
    server.must(token, CLOCKS, json!({ "n": number })).await["ticket"].clone()
}

fn at(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

async fn p1_policy(server: &TestServer, admin: &str) {
    server
        .must(admin, POLICY, json!({ "input": { "name": "P1 24x7", "position": 1, "priority": "P1", "responseMinutes": 15, "resolutionMinutes": 120 } }))
        .await;
}

/// A P1 incident an agent raises for Rita, in the given group's queue.
async fn p1_ticket(server: &TestServer, token: &str, group: &Value) -> String {
    let rita = server.person("rita", &["requester"]).await.id;
    let input = json!({ "kind": "INCIDENT", "title": "Payments down", "impact": "HIGH", "urgency": "HIGH", "groupId": group, "requesterId": rita });
    server.must(token, CREATE, json!({ "input": input })).await["createTicket"]["ticket"]["number"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn a_p1_warns_and_breaches_at_the_right_instants(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    p1_policy(&server, &desk.admin).await;
    let number = p1_ticket(&server, ada, &desk.network_group_id).await;

    let ticket = clocks(&server, ada, &number).await;
    let created = at(&ticket["createdAt"]);
    let response = &ticket["slaClocks"][0];
    assert_eq!(
        (response["metric"].as_str(), response["state"].as_str()),
        (Some("RESPONSE"), Some("RUNNING"))
    );
    assert_eq!(response["policy"]["name"], "P1 24x7");
    assert_eq!(at(&response["dueAt"]) - created, Duration::minutes(15));
    assert_eq!(
        at(&response["nextChangeAt"]) - created,
        Duration::seconds(675),
        "the 75% warning"
    );
    assert_eq!(
        at(&ticket["slaClocks"][1]["dueAt"]) - created,
        Duration::hours(2)
    );

    // Shortly before 75% of 15 minutes (11:15): nothing.
    server.advance(Duration::seconds(673));
    tokio::time::sleep(StdDuration::from_millis(600)).await;
    assert!(sla_events(&server, ada, &number).await.is_empty());
    // Just after: the warning (the jump wakes the engine), stamped with its exact instant.
    server.advance(Duration::seconds(3));
    let events = alerts(&server, ada, &number, 1, StdDuration::from_secs(3)).await;
    assert_eq!(events[0]["action"], "sla.warning");
    assert_eq!(events[0]["details"]["metric"], "RESPONSE");
    assert_eq!(events[0]["details"]["percent"], 75);
    assert_eq!(
        at(&events[0]["details"]["instant"]) - created,
        Duration::seconds(675)
    );
    // 90% at 13:30, the breach at 15:00.
    server.advance(Duration::seconds(135));
    let events = alerts(&server, ada, &number, 2, StdDuration::from_secs(3)).await;
    assert_eq!(
        (
            events[1]["action"].as_str(),
            events[1]["details"]["percent"].as_i64()
        ),
        (Some("sla.warning"), Some(90))
    );
    server.advance(Duration::seconds(90));
    let events = alerts(&server, ada, &number, 3, StdDuration::from_secs(3)).await;
    assert_eq!(events[2]["action"], "sla.breached");
    assert_eq!(
        at(&events[2]["details"]["instant"]) - created,
        Duration::minutes(15)
    );
    let ticket = clocks(&server, ada, &number).await;
    assert_eq!(ticket["slaClocks"][0]["state"], "BREACHED");
    assert!(ticket["slaClocks"][0]["remainingSeconds"].as_i64().unwrap() < 0);

    // The first response stops the response clock (breached); resolution runs on.
    server.must(ada, COMMENT, json!({ "input": { "ticketId": ticket_id(&server, ada, &number).await, "body": "Looking" } })).await;
    let ticket = clocks(&server, ada, &number).await;
    assert_eq!(ticket["slaClocks"][0]["state"], "BREACHED");
    assert!(
        ticket["slaClocks"][0]["stoppedAt"].is_string(),
        "the response stopped the clock"
    );
    assert_eq!(ticket["slaClocks"][0]["nextChangeAt"], Value::Null);
    assert_eq!(ticket["slaClocks"][1]["state"], "RUNNING");
    tokio::time::sleep(StdDuration::from_millis(600)).await;
    assert_eq!(
        sla_events(&server, ada, &number).await.len(),
        3,
        "each alert exactly once"
    );
}

async fn ticket_id(server: &TestServer, token: &str, number: &str) -> Value {
    server
        .must(
            token,
            "query($n: String!) { ticket(number: $n) { id } }",
            json!({ "n": number }),
        )
        .await["ticket"]["id"]
        .clone()
}

async fn a_business_calendar_gives_the_hand_computed_due_time(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    let office = vec!["09:00-12:00", "13:00-17:00"];
    let week = json!([office, office, office, office, office, [], []]);
    let calendar = server
        .must(
            &desk.admin,
            "mutation($week: [[String!]!]!) { saveCalendar(input: { name: \"Paris office\", timeZone: \"Europe/Paris\", week: $week, holidays: [\"2026-10-26\"] }) { calendar { id } } }",
            json!({ "week": week }),
        )
        .await["saveCalendar"]["calendar"]["id"]
        .clone();
    server
        .must(&desk.admin, POLICY, json!({ "input": { "name": "Office hours", "position": 1, "calendarId": calendar, "resolutionMinutes": 960 } }))
        .await;
    // Friday 23 October 2026, 16:00 in Paris, two days before clocks go back, three
    // before a holiday: 16 business hours later is Thursday 29th, 10:00 Paris time.
    let friday = "2026-10-23T14:00:00Z".parse::<DateTime<Utc>>().unwrap();
    server.advance(friday - Utc::now());
    let number = p1_ticket(&server, ada, &desk.network_group_id).await;
    let ticket = clocks(&server, ada, &number).await;
    let resolution = &ticket["slaClocks"][0];
    assert_eq!(resolution["metric"], "RESOLUTION");
    let due = at(&resolution["dueAt"]);
    assert_eq!(
        due - (at(&ticket["createdAt"]) - friday),
        "2026-10-29T09:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(resolution["state"], "RUNNING");
    // Two hours on, Friday 18:00: the office is closed until Tuesday 09:00 (08:00 UTC).
    server.advance(Duration::hours(2));
    let ticket = clocks(&server, ada, &number).await;
    let resolution = &ticket["slaClocks"][0];
    assert_eq!(resolution["state"], "OUTSIDE_BUSINESS_HOURS");
    // An hour, less the milliseconds between "Friday 16:00" and the ticket's creation.
    assert!(
        (3599..=3600).contains(&resolution["elapsedSeconds"].as_i64().unwrap()),
        "{resolution}"
    );
    assert_eq!(
        at(&resolution["nextChangeAt"])
            .format("%Y-%m-%dT%H:%M")
            .to_string(),
        "2026-10-27T08:00"
    );
}

async fn pauses_and_a_priority_change_keep_the_elapsed_time(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = &desk.agents[0].token;
    p1_policy(&server, &desk.admin).await;
    server
        .must(
            &desk.admin,
            POLICY,
            json!({ "input": { "name": "Standard", "position": 9, "resolutionMinutes": 480 } }),
        )
        .await;
    let input =
        json!({ "kind": "INCIDENT", "title": "Slow laptop", "groupId": desk.network_group_id });
    let created =
        server.must(ada, CREATE, json!({ "input": input })).await["createTicket"]["ticket"].clone();
    let number = created["number"].as_str().unwrap().to_string();
    let ticket = clocks(&server, ada, &number).await;
    assert_eq!(ticket["slaClocks"][0]["policy"]["name"], "Standard");

    server.advance(Duration::hours(1));
    let step = |status: &str, extra: Value| {
        let mut input = extra;
        input["status"] = json!(status);
        input
    };
    let mut version = ticket["version"].clone();
    for (status, extra) in [
        ("IN_PROGRESS", json!({})),
        ("PENDING", json!({ "pendingReason": "AWAITING_CUSTOMER" })),
    ] {
        let mut input = step(status, extra);
        input["id"] = created["id"].clone();
        input["version"] = version.clone();
        version = server
            .must(ada, TRANSITION, json!({ "input": input }))
            .await["transitionTicket"]["ticket"]["version"]
            .clone();
    }
    server.advance(Duration::hours(2));
    let paused = clocks(&server, ada, &number).await["slaClocks"][0].clone();
    assert_eq!(paused["state"], "PAUSED");
    assert_eq!(
        paused["elapsedSeconds"], 3600,
        "two hours awaiting the customer do not count"
    );
    assert_eq!(paused["dueAt"], Value::Null);

    let input = json!({ "id": created["id"], "version": version, "status": "IN_PROGRESS" });
    version = server
        .must(ada, TRANSITION, json!({ "input": input }))
        .await["transitionTicket"]["ticket"]["version"]
        .clone();
    server.advance(Duration::minutes(30));
    // Now it is a P1: the P1 policy's 2 hours apply, with the 90 minutes already elapsed.
    let update = "mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { ticket { priority } } }";
    let input =
        json!({ "id": created["id"], "version": version, "impact": "HIGH", "urgency": "HIGH" });
    assert_eq!(
        server.must(ada, update, json!({ "input": input })).await["updateTicket"]["ticket"]["priority"],
        "P1"
    );
    let ticket = clocks(&server, ada, &number).await;
    let resolution = ticket["slaClocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "RESOLUTION")
        .unwrap()
        .clone();
    assert_eq!(resolution["policy"]["name"], "P1 24x7");
    assert_eq!(resolution["targetSeconds"], 7200);
    assert_eq!(resolution["elapsedSeconds"], 5400);
    assert_eq!(resolution["remainingSeconds"], 1800);
    let reasons: Vec<(bool, &str)> = resolution["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["running"].as_bool().unwrap(),
                s["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            // Moving from NEW to IN_PROGRESS changes nothing for a running clock.
            (true, "ticket created"),
            (false, "ticket pending: awaiting customer"),
            (true, "ticket in progress"),
            (true, "policy changed to P1 24x7 (priority P3 → P1)"),
        ]
    );
    let history = server.must(ada, HISTORY, json!({ "n": number })).await;
    assert!(
        history["ticket"]["history"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "sla.policy_changed")
    );
}

async fn an_engine_started_after_a_stop_catches_up(backend: Backend) {
    let mut first = TestServer::start(backend).await;
    let desk = first.desk().await;
    let ada = desk.agents[0].token.clone();
    p1_policy(&first, &desk.admin).await;
    let number = p1_ticket(&first, &ada, &desk.network_group_id).await;
    first.stop().await;
    // Twenty minutes pass with no engine running; another comes up on the same database.
    let url = first.database_url();
    let second = TestServer::start_with(backend, |s| s.database_url = Some(url)).await;
    second.advance(Duration::minutes(20));
    let events = alerts(&second, &ada, &number, 3, StdDuration::from_secs(2)).await;
    let kinds: Vec<(&str, i64)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["details"]["percent"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("sla.warning", 75),
            ("sla.warning", 90),
            ("sla.breached", 100)
        ]
    );
    tokio::time::sleep(StdDuration::from_millis(600)).await;
    assert_eq!(sla_events(&second, &ada, &number).await.len(), 3);
}

/// The report's figures equal a fixture computed by hand: four P1 tickets (15 minutes to
/// respond, 2 hours to resolve), answered after 5, 10, 12 and 20 minutes, three of them
/// resolved after 60, 100 and 130 minutes.
async fn the_report_matches_a_hand_computed_fixture(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let ada = desk.agents[0].token.clone();
    p1_policy(&server, &desk.admin).await;
    let start = Utc::now() + (server.clock.now_offset());
    let mut tickets = Vec::new();
    for _ in 0..4 {
        let number = p1_ticket(&server, &ada, &desk.network_group_id).await;
        tickets.push(ticket_id(&server, &ada, &number).await);
    }
    let (t1, t2, t3, t4) = (&tickets[0], &tickets[1], &tickets[2], &tickets[3]);
    let mut minute = 0;
    let steps: [(i64, &Value, bool); 7] = [
        (5, t3, false),
        (10, t1, false),
        (12, t4, false),
        (20, t2, false),
        (60, t1, true),
        (100, t3, true),
        (130, t2, true),
    ];
    for (at_minute, ticket, resolve) in steps {
        server.advance(Duration::minutes(at_minute - minute));
        minute = at_minute;
        if resolve {
            let input = json!({ "id": ticket, "version": 1, "status": "RESOLVED", "resolutionCode": "FIXED" });
            server
                .must(&ada, TRANSITION, json!({ "input": input }))
                .await;
        } else {
            server
                .must(
                    &ada,
                    COMMENT,
                    json!({ "input": { "ticketId": ticket, "body": "On it" } }),
                )
                .await;
        }
    }
    let query = "query($input: SlaReportInput) { slaReport(input: $input) {
        tickets response { measured met attainment meanSeconds p90Seconds }
        resolution { measured met attainment meanSeconds p90Seconds }
        breaches { metric ticket { id } } } }";
    let period = json!({ "from": (start - Duration::hours(1)).to_rfc3339(), "to": (start + Duration::days(1)).to_rfc3339() });
    // At minute 130 the open t4 is past its two hours too: once the engine has looked
    // (every 250 ms) the report lists that breach as well. Wait for it, so that the
    // figures do not depend on whether the engine ran before the report was asked.
    let mut report = Value::Null;
    for _ in 0..100 {
        report = server
            .must(&desk.manager.token, query, json!({ "input": period }))
            .await["slaReport"]
            .clone();
        if report["breaches"].as_array().is_some_and(|b| b.len() >= 3) {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(report["tickets"], 4);
    let close = |value: &Value, expected: f64| (value.as_f64().unwrap() - expected).abs() < 1.0;
    let response = &report["response"];
    assert_eq!(
        (response["measured"].as_i64(), response["met"].as_i64()),
        (Some(4), Some(3))
    );
    assert_eq!(response["attainment"], 0.75);
    assert!(close(&response["meanSeconds"], 705.0), "{response}");
    assert!(close(&response["p90Seconds"], 1200.0), "{response}");
    let resolution = &report["resolution"];
    assert_eq!(
        (resolution["measured"].as_i64(), resolution["met"].as_i64()),
        (Some(3), Some(2))
    );
    assert!(close(&resolution["attainment"], 2.0 / 3.0));
    assert!(close(&resolution["meanSeconds"], 5800.0), "{resolution}");
    assert!(close(&resolution["p90Seconds"], 7800.0), "{resolution}");
    let breaches: Vec<(&str, &Value)> = report["breaches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["metric"].as_str().unwrap(), &b["ticket"]["id"]))
        .collect();
    assert_eq!(
        breaches,
        [("RESPONSE", t2), ("RESOLUTION", t2), ("RESOLUTION", t4)]
    );
    // A filter that matches none of them.
    let mut other = period.clone();
    other["priority"] = json!("P2");
    let none = server
        .must(&desk.manager.token, query, json!({ "input": other }))
        .await["slaReport"]
        .clone();
    assert_eq!(
        (
            none["tickets"].as_i64(),
            none["response"]["attainment"].is_null()
        ),
        (Some(0), true)
    );
    // Agents do not read reports.
    let refused = server
        .gql(Some(&ada), query, json!({ "input": period }))
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
}

on_both_backends!(
    a_p1_warns_and_breaches_at_the_right_instants,
    the_report_matches_a_hand_computed_fixture,
    a_business_calendar_gives_the_hand_computed_due_time,
    pauses_and_a_priority_change_keep_the_elapsed_time,
    an_engine_started_after_a_stop_catches_up,
);

/// Two engines on one PostgreSQL, both seeing the same due clocks: each alert once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_on_one_postgres_send_each_alert_once() {
    let (_, url) = Postgres::shared().create_database();
    let a = TestServer::start_with(Backend::Postgres, |s| s.database_url = Some(url.clone())).await;
    let b = TestServer::start_with(Backend::Postgres, |s| s.database_url = Some(url.clone())).await;
    let desk = a.desk().await;
    let ada = desk.agents[0].token.clone();
    p1_policy(&a, &desk.admin).await;
    let mut numbers = Vec::new();
    for _ in 0..20 {
        numbers.push(p1_ticket(&a, &ada, &desk.network_group_id).await);
    }
    a.advance(Duration::minutes(16));
    b.advance(Duration::minutes(16));
    for number in &numbers {
        alerts(&a, &ada, number, 3, StdDuration::from_secs(5)).await;
    }
    tokio::time::sleep(StdDuration::from_millis(800)).await;
    for number in &numbers {
        let events = sla_events(&b, &ada, number).await;
        let kinds: Vec<(&str, i64)> = events
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap(),
                    e["details"]["percent"].as_i64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("sla.warning", 75),
                ("sla.warning", 90),
                ("sla.breached", 100)
            ],
            "{number}"
        );
    }
}
