//! Faults under load, as production deals them: the database restarted while writers
//! work. Meanwhile every request is answered 503 with `SERVICE_UNAVAILABLE` and
//! `Retry-After` (never a 500, never `INTERNAL`); afterwards the server recovers on its
//! own, and every write it acknowledged is there.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, desk::CREATE, services::Postgres};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_is_an_outage_answered_503_and_loses_no_acknowledged_write() {
    // A PostgreSQL of its own: the shared one serves every other test.
    let postgres = Arc::new(tokio::task::spawn_blocking(Postgres::start).await.unwrap());
    let (_, url) = postgres.create_database();
    let server = Arc::new(
        TestServer::start_with(Backend::Postgres, |s| s.database_url = Some(url.clone())).await,
    );
    let desk = server.desk().await;
    let token = desk.agents[0].token.clone();

    // A writer creates tickets throughout, noting what was acknowledged and how every
    // other answer came.
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let refused: Arc<Mutex<Vec<(u16, Value)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (server, acknowledged, refused, stop) = (
            server.clone(),
            acknowledged.clone(),
            refused.clone(),
            stop.clone(),
        );
        let (token, group) = (token.clone(), desk.network_group_id.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let answer = server
                    .http()
                    .post(server.url("/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": CREATE, "variables": { "input": {
                        "kind": "INCIDENT", "title": format!("during the restart {n}"), "groupId": group } } }))
                    .send()
                    .await
                    .expect("the server answers even while its database is away");
                let status = answer.status().as_u16();
                let body: Value = answer.json().await.unwrap();
                match body["data"]["createTicket"]["ticket"]["number"].as_str() {
                    Some(number) => acknowledged.lock().unwrap().push(number.to_string()),
                    None => refused.lock().unwrap().push((status, body)),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    while acknowledged.lock().unwrap().len() < 10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The database goes away; a request meanwhile is an outage, said as one.
    let stopping = postgres.clone();
    tokio::task::spawn_blocking(move || stopping.pause())
        .await
        .unwrap();
    let during = server
        .http()
        .post(server.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ tickets(first: 1) { nodes { id } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(during.status(), 503);
    assert!(during.headers().contains_key("retry-after"));
    let body: Value = during.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );

    // It comes back; the server recovers on its own.
    let starting = postgres.clone();
    tokio::task::spawn_blocking(move || starting.resume())
        .await
        .unwrap();
    let back = acknowledged.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < back + 10 {
        assert!(
            Instant::now() < deadline,
            "writes succeed again after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();

    // Nothing was answered as our fault, and every acknowledged write is there.
    for (status, body) in refused.lock().unwrap().iter() {
        let code = body["errors"][0]["extensions"]["code"].as_str();
        assert!(
            *status < 500 || (*status == 503 && code == Some("SERVICE_UNAVAILABLE")),
            "{status}: {body}"
        );
        assert_ne!(code, Some("INTERNAL"), "{body}");
    }
    let manager = &desk.manager.token;
    for number in acknowledged.lock().unwrap().iter() {
        let found = server
            .must(
                manager,
                "query($n: String!) { ticket(number: $n) { number } }",
                json!({ "n": number }),
            )
            .await;
        assert_eq!(found["ticket"]["number"], Value::from(number.as_str()));
    }
}
