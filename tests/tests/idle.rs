//! What a quiet server holds. On SQLite every connection is a thread of the driver's with
//! its own copy of the schema and its own page cache, so a desk nobody is using should not
//! keep the readers a burst needed: the background tasks, which read every second, go
//! through a small pool of their own and leave the requests' pool alone, and a reader
//! left unused for `SWITCHBOARD_SQLITE_READER_IDLE_SECONDS` is closed.

use std::time::{Duration, Instant};

use switchboard_tests::{Backend, TestServer};

/// The requests' readers open now (in use and idle), as `/metrics` reports them. The
/// scrape itself reads no table.
async fn readers_open(server: &TestServer) -> f64 {
    let mut open = 0.0;
    for state in ["in_use", "idle"] {
        let series = format!("switchboard_db_pool_connections{{state=\"{state}\"}}");
        open += server
            .metric(&series)
            .await
            .unwrap_or_else(|| panic!("/metrics reports {series}"));
    }
    open
}

/// A page of tickets as an agent: the desk's most common read.
async fn read_a_page(server: &TestServer, token: &str) {
    let reply = server
        .gql(
            Some(token),
            "{ tickets(first: 5) { nodes { number } } }",
            serde_json::json!({}),
        )
        .await;
    let nodes = reply.data()["tickets"]["nodes"].as_array();
    assert_eq!(nodes.map(Vec::len), Some(0), "{:#}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_tasks_leave_a_quiet_sqlite_desk_s_readers_alone() {
    let server = TestServer::start(Backend::Sqlite).await;
    // Every background task (the hub's catch-up, the relay, the SLA engine, the jobs,
    // automation, webhooks, availability) starts at once and reads each second; three
    // seconds give each a few rounds.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let open = readers_open(&server).await;
    assert!(
        (1.0..=2.0).contains(&open),
        "a quiet desk holds {open} reading connections; the one its pool opens on \
         connecting, and at most one more for start-up's own reads, were expected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_desk_closes_its_readers_once_quiet_and_opens_them_again() {
    let server = TestServer::start_with(Backend::Sqlite, |settings| {
        settings.sqlite_reader_idle_seconds = Some("1".into());
    })
    .await;
    let token = server.token("idle-agent", &["agent"]);
    // A burst: sixteen pages at once.
    let burst: Vec<_> = (0..16).map(|_| read_a_page(&server, &token)).collect();
    futures::future::join_all(burst).await;

    // Left alone, every reader goes, the one opened at start included.
    let quiet = Instant::now();
    let mut open = readers_open(&server).await;
    while open > 0.0 && quiet.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        open = readers_open(&server).await;
    }
    assert_eq!(open, 0.0, "readers still open 15 s after the last request");

    // The next request opens one again and is answered.
    read_a_page(&server, &token).await;
    assert!(readers_open(&server).await >= 1.0);
}
