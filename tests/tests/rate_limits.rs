//! Rate limits as a partner's runaway script meets them: a burst, then 429 with
//! `Retry-After` and `RATE_LIMITED` for that caller alone, and room again once the time
//! has passed; across two replicas sharing Redis, one budget for the caller.

use serde_json::Value;
use switchboard_tests::{
    Backend, TestServer,
    services::{Postgres, Redis},
};

const QUERY: &str = "{ viewer { name } }";

/// The status, `Retry-After` and error code of one request.
async fn ask(server: &TestServer, token: &str) -> (u16, Option<String>, Option<String>) {
    let response = server
        .http()
        .post(server.url("/graphql"))
        .bearer_auth(token)
        .json(&serde_json::json!({ "query": QUERY }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body: Value = response.json().await.unwrap();
    let code = body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_string);
    (status, retry, code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_past_their_burst_waits_and_no_one_else_does() {
    let server = TestServer::start_with(Backend::Sqlite, |s| {
        s.rate_limit = Some("1".into());
        s.rate_burst = Some("3".into());
    })
    .await;
    let (ada, bob) = (
        server.token("ada", &["agent"]),
        server.token("bob", &["agent"]),
    );
    for n in 1..=3 {
        assert_eq!(
            ask(&server, &ada).await,
            (200, None, None),
            "request {n} of the burst"
        );
    }
    let (status, retry, code) = ask(&server, &ada).await;
    assert_eq!(status, 429);
    assert_eq!(code.as_deref(), Some("RATE_LIMITED"));
    let retry: u64 = retry.expect("Retry-After is sent").parse().unwrap();
    assert!((1..=2).contains(&retry), "one request a second: {retry}");
    assert_eq!(ask(&server, &bob).await.0, 200, "Bob's budget is his own");
    // Once a second has passed, Ada has one request again, and only one.
    server.advance(chrono::Duration::seconds(1));
    assert_eq!(ask(&server, &ada).await.0, 200);
    assert_eq!(ask(&server, &ada).await.0, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_redis_share_the_budget() {
    let redis = tokio::task::spawn_blocking(Redis::start).await.unwrap();
    let (_, url) = Postgres::shared().create_database();
    let replica = || {
        let (url, redis) = (url.clone(), redis.url());
        TestServer::start_with(Backend::Postgres, move |s| {
            s.database_url = Some(url);
            s.redis_url = Some(redis);
            s.rate_limit = Some("1".into());
            s.rate_burst = Some("4".into());
        })
    };
    let a = replica().await;
    let b = replica().await;
    let token = a.token("ada", &["agent"]);
    // Four between them, then neither answers: the budget is the desk's, not each
    // replica's.
    for server in [&a, &b, &a, &b] {
        assert_eq!(ask(server, &token).await.0, 200);
    }
    assert_eq!(ask(&a, &token).await.2.as_deref(), Some("RATE_LIMITED"));
    assert_eq!(ask(&b, &token).await.2.as_deref(), Some("RATE_LIMITED"));
}
