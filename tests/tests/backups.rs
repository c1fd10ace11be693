//! Backup and restore as an operator meets them: `switchboard backup` taken while writers
//! keep creating tickets, `switchboard restore` into a fresh database, and a server on
//! it that has every ticket acknowledged before the backup began, with an event log
//! that has no gap.

use std::{
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, desk::CREATE, on_both_backends, services::Postgres};

on_both_backends!(a_backup_taken_under_load_restores_everything_acknowledged);

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard-under-test");

/// Runs the command line against a database; panics with its output when it fails.
fn switchboard(url: &str, data_dir: &std::path::Path, args: &[&str]) {
    let output = Command::new(BINARY)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("SWITCHBOARD_DATA_DIR", data_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "switchboard {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn a_backup_taken_under_load_restores_everything_acknowledged(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (url, restored_url) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("live.db").display()),
            format!("sqlite://{}", dir.path().join("restored.db").display()),
        ),
        Backend::Postgres => (
            Postgres::shared().create_database().1,
            Postgres::shared().create_database().1,
        ),
    };
    let server = TestServer::start_with(backend, |s| s.database_url = Some(url.clone())).await;
    let desk = server.desk().await;
    let server = Arc::new(server);

    // Two writers create tickets until told to stop, noting when each was acknowledged.
    let acknowledged: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..2 {
        let (server, acknowledged, stop) = (server.clone(), acknowledged.clone(), stop.clone());
        let token = desk.agents[0].token.clone();
        let group = desk.network_group_id.clone();
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let input = json!({ "input": { "kind": "INCIDENT", "title": format!("writer {w} ticket {n}"), "groupId": group } });
                let reply = server.gql(Some(&token), CREATE, input).await;
                if let Some(number) = reply.body["data"]["createTicket"]["ticket"]["number"].as_str() {
                    acknowledged.lock().unwrap().push((number.to_string(), Instant::now()));
                }
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 20 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The backup, while they write.
    let backup = dir.path().join("desk.backup");
    let began = Instant::now();
    let (u, d, b) = (
        url.clone(),
        dir.path().to_path_buf(),
        backup.display().to_string(),
    );
    tokio::task::spawn_blocking(move || switchboard(&u, &d, &["backup", "--out", &b]))
        .await
        .unwrap();
    let written_after = acknowledged.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    let before: Vec<String> = acknowledged
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(number, _)| number.clone())
        .collect();
    assert!(
        before.len() >= 20 && acknowledged.lock().unwrap().len() > written_after,
        "writes went on around the backup"
    );
    // A backup never overwrites a file.
    let again = Command::new(BINARY)
        .args(["backup", "--out", &backup.display().to_string()])
        .env_clear()
        .env("DATABASE_URL", &url)
        .env("SWITCHBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!again.status.success());

    // Restored into a fresh database, a server on it has every ticket acknowledged
    // before the backup began.
    let (u, d, b) = (
        restored_url.clone(),
        dir.path().to_path_buf(),
        backup.display().to_string(),
    );
    tokio::task::spawn_blocking(move || switchboard(&u, &d, &["restore", "--from", &b]))
        .await
        .unwrap();
    let restored =
        TestServer::start_with(backend, |s| s.database_url = Some(restored_url.clone())).await;
    let manager = &desk.manager.token;
    for number in &before {
        let found = restored
            .gql(
                Some(manager),
                "query($n: String!) { ticket(number: $n) { number } }",
                json!({ "n": number }),
            )
            .await;
        assert_eq!(
            found.body["data"]["ticket"]["number"],
            Value::from(number.as_str()),
            "{number}: {:#}",
            found.body
        );
    }
    // Its event log has no gap, and every restored ticket's creation is in it.
    let conn = Database::connect(&restored_url).await.unwrap();
    let numbers = |sql: &'static str| {
        let conn = &conn;
        async move {
            conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
                .await
                .unwrap()
                .iter()
                .map(|row| row.try_get_by_index::<i64>(0).unwrap())
                .collect::<Vec<i64>>()
        }
    };
    let seqs = numbers("SELECT seq FROM events WHERE seq IS NOT NULL ORDER BY seq").await;
    assert!(
        seqs.first() == Some(&1) && seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "the restored event log is gap-free"
    );
    let tickets = numbers("SELECT COUNT(*) FROM tickets").await[0];
    let created = numbers("SELECT COUNT(*) FROM events WHERE topic = 'ticket.created'").await[0];
    assert_eq!(
        created, tickets,
        "each ticket's creation is logged, and no more"
    );
}
