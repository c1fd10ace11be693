//! Several replicas share one PostgreSQL database.

use serde_json::Value;
use switchboard_tests::{Backend, TestServer, services::Postgres};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_once_and_share_users() {
    let (_, url) = Postgres::shared().create_database();
    let (a, b) = tokio::join!(
        TestServer::start_with(Backend::Postgres, |s| s.database_url = Some(url.clone())),
        TestServer::start_with(Backend::Postgres, |s| s.database_url = Some(url.clone())),
    );
    let token = a.token("alice", &["agent"]);
    let on_a = a.gql(Some(&token), "{ viewer { id } }", Value::Null).await;
    let on_b = b.gql(Some(&token), "{ viewer { id } }", Value::Null).await;
    assert_eq!(
        on_a.data()["viewer"]["id"],
        on_b.data()["viewer"]["id"],
        "one user row, seen by both replicas"
    );
}
