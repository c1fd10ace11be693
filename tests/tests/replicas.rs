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

/// A file uploaded through one replica downloads through the other: the bytes are in
/// the database they share, and so is the key that signs the links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_through_one_replica_downloads_through_the_other() {
    use serde_json::json;
    use switchboard_tests::{
        desk::CREATE,
        upload::{File, PIXEL_PNG},
    };

    let (_, url) = Postgres::shared().create_database();
    let a = TestServer::start_with(Backend::Postgres, |s| s.database_url = Some(url.clone())).await;
    let b = TestServer::start_with(Backend::Postgres, |s| s.database_url = Some(url.clone())).await;
    let desk = a.desk().await;
    let input = json!({ "kind": "INCIDENT", "title": "Screen flickers", "impact": "LOW", "urgency": "LOW",
        "groupId": desk.network_group_id, "requesterId": desk.requester.id });
    let ticket = a
        .must(&desk.agents[0].token, CREATE, json!({ "input": input }))
        .await["createTicket"]["ticket"]
        .clone();
    let (status, body) = a
        .upload(
            &desk.requester.token,
            "mutation($t: ID!, $files: [Upload!]!) { attachFiles(input: { ticketId: $t, files: $files }) { attachments { id url } } }",
            json!({ "t": ticket["id"], "files": [null] }),
            vec![File { path: "files.0", name: "flicker.png", bytes: PIXEL_PNG.to_vec(), media_type: "image/png" }],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let made_on_a = body["data"]["attachFiles"]["attachments"][0]["url"]
        .as_str()
        .expect("a link")
        .to_string();
    // A's link, opened on B.
    let response = b.http().get(b.url(&made_on_a)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.bytes().await.unwrap().as_ref(), PIXEL_PNG);
    // B's own view and link.
    let seen = b
        .must(
            &desk.agents[0].token,
            "query($n: String!) { ticket(number: $n) { attachments { id url } } }",
            json!({ "n": ticket["number"] }),
        )
        .await;
    let on_b = seen["ticket"]["attachments"][0]["url"].as_str().unwrap();
    let response = b.http().get(b.url(on_b)).send().await.unwrap();
    assert_eq!(response.bytes().await.unwrap().as_ref(), PIXEL_PNG);
}
