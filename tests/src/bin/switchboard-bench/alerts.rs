//! The SLA scenario (`--live`, PostgreSQL): how late a warning reaches its subscriber
//! after its instant, with a million open clocks.
//!
//! It seeds 500,000 tickets and gives each both clocks (a million, running, their next
//! warning two weeks away), starts the server, subscribes to `slaAlerts` as a manager,
//! and then, twenty times, moves one clock so that its 50% warning falls 1.5 s ahead,
//! straight in the database as another replica's write would. It prints the delay from
//! each warning's instant to its arrival: the engine must have read the new instant
//! (it looks again at least every second) and slept until exactly then.

use std::time::{Duration, Instant};

use chrono::Utc;
use futures::{SinkExt, StreamExt};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use switchboard::{config::Settings, db::Db};
use switchboard_tests::services::{Postgres, free_port};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use super::{Options, percentile_ms, seed, start_server, token, wait_until_up};

const TICKETS: u64 = 500_000;
/// A month: the clocks' target, so that the seeded ones stay quiet.
const TARGET_SECONDS: i64 = 30 * 86_400;
const ROUNDS: usize = 20;

pub async fn run(options: &Options) {
    let data_dir = tempfile::tempdir().expect("a temporary directory");
    let (_, url) = Postgres::shared().create_database();
    let settings = Settings {
        data_dir: Some(data_dir.path().display().to_string()),
        database_url: Some(url),
        ..Default::default()
    };
    let config = switchboard::Config::from_settings(&settings).expect("valid settings");
    let seeding = Instant::now();
    seed(&config.database, TICKETS).await;
    let db = Db::connect(&config.database)
        .await
        .expect("the database opens");
    let conn = db.conn();
    for statement in [
        "INSERT INTO sla_policies (name, position, active, warn_percents, pause_reasons, response_minutes, resolution_minutes, created_at)
         VALUES ('Bench', 1, true, '[50, 75]', '[]', 43200, 43200, now())"
            .to_string(),
        format!(
            "INSERT INTO sla_clocks (ticket_id, metric, policy_id, calendar_id, target_seconds, warn_percents,
                state, elapsed_ms, running_since, due_at, next_alert_at, alerts_sent, created_at)
             SELECT t.id, m.metric, (SELECT max(id) FROM sla_policies), NULL, {TARGET_SECONDS}, '[50, 75]',
                'RUNNING', 0, now(), now() + interval '30 days', now() + interval '15 days', 0, now()
             FROM tickets t CROSS JOIN (VALUES ('RESPONSE'), ('RESOLUTION')) AS m(metric)"
        ),
        "ANALYZE".to_string(),
    ] {
        conn.execute_unprepared(&statement)
            .await
            .unwrap_or_else(|e| panic!("seeding the clocks failed: {e}\n{statement}"));
    }
    let clocks: Vec<(i64, String)> = {
        use entity::sla_clock::{Column, Entity};
        use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
        Entity::find()
            .select_only()
            .column(Column::Id)
            .column(Column::Metric)
            .order_by_asc(Column::Id)
            .limit(ROUNDS as u64)
            .into_tuple()
            .all(conn)
            .await
            .unwrap()
    };
    let open: i64 = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT count(*) AS n FROM sla_clocks WHERE state = 'RUNNING'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    println!(
        "\n== postgres: SLA warnings, {open} open clocks (seeded in {:.0} s), {ROUNDS} rounds",
        seeding.elapsed().as_secs_f64()
    );

    let port = free_port();
    let mut server = start_server(options, &settings, port, &[]);
    wait_until_up(&format!("http://127.0.0.1:{port}/graphql")).await;
    let mut request = format!("ws://127.0.0.1:{port}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the socket opens");
    let manager = token("bench-manager", &["manager"]);
    for message in [
        json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {manager}") } }),
        json!({ "id": "a", "type": "subscribe", "payload": { "query": "subscription { slaAlerts { kind metric instant } }" } }),
    ] {
        socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    let mut delays = vec![];
    for (clock, metric) in &clocks {
        // Its 50% warning 1.5 s from now: running for half the target, less 1.5 s.
        let instant = Utc::now() + chrono::Duration::milliseconds(1_500);
        let since = instant - chrono::Duration::seconds(TARGET_SECONDS / 2);
        let due = since + chrono::Duration::seconds(TARGET_SECONDS);
        conn.execute_unprepared(&format!(
            "UPDATE sla_clocks SET running_since = '{}', next_alert_at = '{}', due_at = '{}'
             WHERE id = {clock}",
            since.to_rfc3339(),
            instant.to_rfc3339(),
            due.to_rfc3339()
        ))
        .await
        .unwrap();
        let arrived = loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
                .await
                .expect("the warning arrives within ten seconds")
                .expect("the socket is open")
                .expect("a frame");
            let Message::Text(text) = frame else { continue };
            let value: Value = serde_json::from_str(&text).unwrap();
            let alert = &value["payload"]["data"]["slaAlerts"];
            if alert["metric"] == metric.as_str() && alert["kind"] == "WARNING" {
                break Utc::now();
            }
        };
        delays.push((arrived - instant).num_microseconds().unwrap_or(0).max(0));
    }
    delays.sort_unstable();
    let delays: Vec<u64> = delays.into_iter().map(|us| us as u64).collect();
    let at = |p: f64| percentile_ms(&delays, p);
    println!(
        "from a warning's instant to its subscriber: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        at(0.5),
        at(0.99),
        at(1.0)
    );
    let _ = server.kill();
    let _ = server.wait();
}
