//! The wall clock jumping, as it does when a host's time is corrected: forward past a
//! target, the breach fires once, at once; back again, nothing fires a second time and
//! nothing already fired is undone; forward once more, the next target is not skipped.

use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, desk::CREATE, on_both_backends, services::Postgres};

on_both_backends!(sla_alerts_fire_once_however_the_clock_jumps);

const POLICY: &str =
    "mutation($input: SaveSlaPolicyInput!) { saveSlaPolicy(input: $input) { slaPolicy { id } } }";

/// The alerts on the event log for one ticket: (warnings, breaches) per metric.
async fn alerts(conn: &DatabaseConnection, ticket: i64, metric: &str) -> (i64, i64) {
    let count = |topic: &str| {
        format!(
            "SELECT COUNT(*) FROM events WHERE topic = '{topic}' AND entity_id = {ticket} AND CAST(payload AS TEXT) LIKE '%\"metric\":%\"{metric}\"%'"
        )
    };
    let mut out = [0i64; 2];
    for (i, topic) in ["sla.warning", "sla.breached"].into_iter().enumerate() {
        out[i] = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                count(topic),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
    }
    (out[0], out[1])
}

/// Waits until the ticket's alerts for `metric` are `expected`, or fails saying what
/// they are.
async fn until(conn: &DatabaseConnection, ticket: i64, metric: &str, expected: (i64, i64)) {
    let deadline = Instant::now() + StdDuration::from_secs(15);
    loop {
        let now = alerts(conn, ticket, metric).await;
        if now == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{metric}: (warnings, breaches) are {now:?}, not {expected:?}"
        );
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
}

async fn sla_alerts_fire_once_however_the_clock_jumps(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("desk.db").display()),
        Backend::Postgres => Postgres::shared().create_database().1,
    };
    let server = TestServer::start_with(backend, |s| s.database_url = Some(url.clone())).await;
    let conn = Database::connect(&url).await.unwrap();
    let desk = server.desk().await;
    server
        .must(
            &desk.admin,
            POLICY,
            json!({ "input": { "name": "Jumps", "position": 1,
        "responseMinutes": 30, "resolutionMinutes": 240, "warnPercents": [50] } }),
        )
        .await;
    let ticket = server
        .must(
            &desk.agents[0].token,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": "Clock jumps",
            "groupId": desk.network_group_id, "requesterId": desk.requester.id } }),
        )
        .await["createTicket"]["ticket"]
        .clone();
    let ticket_id: i64 = {
        use base64::Engine;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(ticket["id"].as_str().unwrap())
            .unwrap();
        String::from_utf8(raw)
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };

    // Forward 40 minutes at once: the response's warning and breach, once each.
    server.advance(Duration::minutes(40));
    until(&conn, ticket_id, "RESPONSE", (1, 1)).await;
    // Back 25 minutes (to 15 after the start): nothing fires again, nothing is undone.
    server.advance(Duration::minutes(-25));
    tokio::time::sleep(StdDuration::from_secs(2)).await;
    assert_eq!(alerts(&conn, ticket_id, "RESPONSE").await, (1, 1));
    let clocks = server
        .must(&desk.admin, "query($id: ID!) { node(id: $id) { ... on Ticket { slaClocks { metric breachedAt } } } }", json!({ "id": ticket["id"] }))
        .await;
    let response = clocks["node"]["slaClocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "RESPONSE")
        .unwrap()
        .clone();
    assert!(
        response.get("breachedAt").is_some_and(Value::is_string),
        "still breached: {response}"
    );
    // Forward past the resolution target: its warning and breach are not skipped, and
    // the response's are not repeated.
    server.advance(Duration::minutes(300));
    until(&conn, ticket_id, "RESOLUTION", (1, 1)).await;
    tokio::time::sleep(StdDuration::from_secs(1)).await;
    assert_eq!(alerts(&conn, ticket_id, "RESPONSE").await, (1, 1));
    assert_eq!(alerts(&conn, ticket_id, "RESOLUTION").await, (1, 1));
}
