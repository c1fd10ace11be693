//! Upgrading as a desk that has run for a while meets it: a database made by the
//! previous release (round two's demo desk, kept in `tests/fixtures/upgrade`, built by
//! that release's own binary) migrates forward with every ticket, comment and event
//! intact, and goes on working; a database a newer version migrated is refused.

use std::process::Command;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};
use switchboard_tests::{Backend, TestServer, desk::CREATE, on_both_backends, services::Postgres};

on_both_backends!(a_previous_release_desk_migrates_forward_with_its_data);

const SQLITE_FIXTURE: &str = include_str!("../fixtures/upgrade/round-two.sqlite.sql");
const POSTGRES_FIXTURE: &str = include_str!("../fixtures/upgrade/round-two.postgres.sql");

/// A database holding the previous release's desk, and its URL.
async fn previous_release(backend: Backend, dir: &std::path::Path) -> (DatabaseConnection, String) {
    let (url, fixture) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}?mode=rwc", dir.join("switchboard.db").display()),
            SQLITE_FIXTURE,
        ),
        Backend::Postgres => (Postgres::shared().create_database().1, POSTGRES_FIXTURE),
    };
    let loading = Database::connect(&url).await.unwrap();
    loading.execute_unprepared(fixture).await.unwrap();
    // pg_dump's script empties the search path of the session that ran it.
    drop(loading);
    (Database::connect(&url).await.unwrap(), url)
}

async fn numbers(conn: &DatabaseConnection, sql: &str) -> Vec<i64> {
    conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<i64>(0).unwrap())
        .collect()
}

async fn a_previous_release_desk_migrates_forward_with_its_data(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (conn, url) = previous_release(backend, dir.path()).await;
    // What the old desk held, read from its own tables.
    let tickets = numbers(&conn, "SELECT COUNT(*) FROM tickets").await[0];
    let comments = numbers(&conn, "SELECT COUNT(*) FROM comments").await[0];
    let events = numbers(&conn, "SELECT seq FROM events ORDER BY seq").await;
    assert!(
        tickets > 5 && comments > 0 && events.len() > 20,
        "the fixture is a working desk: {tickets} tickets, {comments} comments, {} events",
        events.len()
    );
    let migrations = numbers(&conn, "SELECT COUNT(*) FROM seaql_migrations").await[0];
    assert_eq!(migrations, 12, "round two's twelve migrations, no more");

    // This version starts on it, and migrates it forward.
    let server = TestServer::start_with(backend, |s| s.database_url = Some(url.clone())).await;
    let after = numbers(&conn, "SELECT COUNT(*) FROM seaql_migrations").await[0];
    assert!(after > migrations, "the later migrations ran");
    let manager = server.token("demo.morgan", &["manager"]);
    let counted = server
        .must(&manager, "{ ticketCounts { total } }", Value::Null)
        .await;
    assert_eq!(
        counted["ticketCounts"]["total"], tickets,
        "every ticket is there"
    );
    let first = server
        .must(&manager, "{ ticket(number: \"INC0000001\") { title status comments(first: 100) { nodes { body } } slaClocks { metric } } }", Value::Null)
        .await["ticket"]
        .clone();
    assert!(first.get("title").is_some_and(Value::is_string), "{first}");
    let stored_comments = numbers(&conn, "SELECT COUNT(*) FROM comments").await[0];
    assert_eq!(stored_comments, comments, "every comment is there");
    // The event log kept every event in order, with no gap. (The new server appends
    // events of its own as it starts, the old desk's SLA clocks breaching among them;
    // one the relay has not numbered yet has no seq, and is not the old log's.)
    let kept = numbers(
        &conn,
        "SELECT seq FROM events WHERE seq IS NOT NULL ORDER BY seq",
    )
    .await;
    assert_eq!(&kept[..events.len()], &events[..]);
    assert!(
        kept.windows(2).all(|w| w[1] == w[0] + 1),
        "the event log is gap-free: {kept:?}"
    );

    // And the desk goes on: a new incident takes the next number.
    let group = server
        .must(&manager, "{ groups { id } }", Value::Null)
        .await["groups"][0]["id"]
        .clone();
    let made = server
        .must(&manager, CREATE, json!({ "input": { "kind": "INCIDENT", "title": "After the upgrade", "groupId": group } }))
        .await["createTicket"]["ticket"]
        .clone();
    let highest = numbers(
        &conn,
        "SELECT COUNT(*) FROM tickets WHERE kind = 'INCIDENT'",
    )
    .await[0];
    assert_eq!(made["number"], format!("INC{highest:07}"), "{made}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_a_newer_version_migrated_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, url) = previous_release(Backend::Sqlite, dir.path()).await;
    conn.execute_unprepared(
        "INSERT INTO seaql_migrations VALUES ('m20991231_000099_from_the_future', 0)",
    )
    .await
    .unwrap();
    drop(conn);
    let output = Command::new(env!("CARGO_BIN_EXE_switchboard-under-test"))
        .arg("migrate")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &url)
        .env("SWITCHBOARD_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the database is newer than this Switchboard")
            && stderr.contains("m20991231_000099_from_the_future"),
        "{stderr}"
    );
}
