//! `/readyz` tells a load balancer whether this replica can work: its database answers,
//! and Redis when configured. Each test here owns its servers, to stop and start them.

use std::time::{Duration, Instant};

use serde_json::Value;
use switchboard_tests::{
    Backend, TestServer,
    services::{Postgres, Redis},
};

async fn readiness(server: &TestServer) -> (u16, Value) {
    let reply = server
        .http()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap();
    (reply.status().as_u16(), reply.json().await.unwrap())
}

/// Polls until `/readyz` answers `status`, within 15 s.
async fn until_ready_is(server: &TestServer, status: u16) -> Value {
    let start = Instant::now();
    loop {
        let (now, body) = readiness(server).await;
        if now == status {
            return body;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "/readyz stayed {now}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_postgres_and_redis() {
    let pg = tokio::task::spawn_blocking(Postgres::start).await.unwrap();
    let redis = tokio::task::spawn_blocking(Redis::start).await.unwrap();
    let (_, url) = pg.create_database();
    let redis_url = redis.url();
    let server = TestServer::start_with(Backend::Postgres, |s| {
        s.database_url = Some(url);
        s.redis_url = Some(redis_url);
    })
    .await;
    let body = until_ready_is(&server, 200).await;
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["redis"], "ok");

    pg.pause();
    let body = until_ready_is(&server, 503).await;
    assert!(
        body["checks"]["database"]
            .as_str()
            .unwrap()
            .starts_with("failing"),
        "{body}"
    );
    // The process itself is still up.
    let health = server
        .http()
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    // A request that needs the database is an outage said as one: 503 and
    // SERVICE_UNAVAILABLE; the driver's error and any SQL stay in the log.
    let token = server.token("carol", &["agent"]);
    let reply = server
        .gql(Some(&token), "{ viewer { id } }", Value::Null)
        .await;
    assert_eq!(
        (reply.status, reply.error_code()),
        (503, "SERVICE_UNAVAILABLE"),
        "{:#}",
        reply.body
    );
    assert!(
        reply.error_message().contains("Try again"),
        "{}",
        reply.error_message()
    );
    let body = reply.body.to_string().to_lowercase();
    assert!(
        !body.contains("select") && !body.contains("database:") && !body.contains("connect"),
        "{body}"
    );
    pg.resume();
    until_ready_is(&server, 200).await;

    redis.pause();
    let body = until_ready_is(&server, 503).await;
    assert!(
        body["checks"]["redis"]
            .as_str()
            .unwrap()
            .starts_with("failing"),
        "{body}"
    );
    assert_eq!(body["checks"]["database"], "ok");
    redis.resume();
    until_ready_is(&server, 200).await;
}
