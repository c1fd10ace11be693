//! What a quiet server holds. On SQLite every connection is a thread of the driver's with
//! its own copy of the schema and its own page cache, so a desk nobody is using should not
//! keep the readers a burst needed: the background tasks, which read every second, go
//! through a small pool of their own and leave the requests' pool alone.

use std::time::Duration;

use switchboard_tests::{Backend, TestServer};

/// The requests' readers open now (in use and idle), as `/metrics` reports them.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_sqlite_desk_keeps_one_reader_open() {
    let server = TestServer::start(Backend::Sqlite).await;
    // Every background task (the hub's catch-up, the relay, the SLA engine, the jobs,
    // automation, webhooks, availability) starts at once and reads each second; three
    // seconds give each a few rounds.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let open = readers_open(&server).await;
    assert!(
        (1.0..=2.0).contains(&open),
        "a quiet desk holds {open} reading connections; the one opened at start and the \
         scrape's own were expected"
    );
    // The pool is still there for requests: a reading request is answered.
    let token = server.token("idle-agent", &["agent"]);
    let reply = server
        .gql(
            Some(&token),
            "{ tickets(first: 5) { nodes { number } } }",
            serde_json::json!({}),
        )
        .await;
    let nodes = reply.data()["tickets"]["nodes"].as_array();
    assert_eq!(nodes.map(Vec::len), Some(0), "{:#}", reply.body);
}
