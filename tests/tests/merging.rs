//! Merging a duplicate, as a desk does it: the duplicate's comments and files move to
//! the survivor, its requester follows the survivor and is told once, its number finds
//! the survivor and a mail reply to it threads there; a manager undoes it and what moved
//! goes back.

use std::time::Duration as StdDuration;

use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{CREATE, Desk},
    on_both_backends,
    server::sign_hs256,
    services::Smtp,
};

on_both_backends!(a_merged_duplicate_moves_over_and_comes_back);

const TICKET: &str =
    "query($n: String!) { ticket(number: $n) { id number status version resolutionCode
    mergedInto { number }
    comments(first: 20) { edges { node { body movedFromTicketId } } }
    attachments { filename } } }";
const NOTIFICATIONS: &str =
    "query($t: ID) { notifications(ticketId: $t, first: 50) { nodes { kind to } } }";

async fn rita(server: &TestServer) -> (String, Value) {
    let now = chrono::Utc::now().timestamp();
    let token = sign_hs256(&json!({
        "sub": "rita.dup", "name": "Rita", "email": "rita.dup@acme.test",
        "roles": ["requester"], "exp": now + 3600, "nbf": now - 10,
    }));
    let id = server
        .must(&token, "{ viewer { nodeId } }", Value::Null)
        .await["viewer"]["nodeId"]
        .clone();
    (token, id)
}

async fn incident(server: &TestServer, desk: &Desk, title: &str, requester: &Value) -> Value {
    let input = json!({ "kind": "INCIDENT", "title": title, "impact": "LOW", "urgency": "LOW",
        "groupId": desk.network_group_id, "requesterId": requester });
    server
        .must(&desk.agents[0].token, CREATE, json!({ "input": input }))
        .await["createTicket"]["ticket"]
        .clone()
}

async fn a_merged_duplicate_moves_over_and_comes_back(backend: Backend) {
    let smtp = Smtp::start();
    let server = TestServer::start_with(backend, |s| {
        s.smtp_url = Some(smtp.url());
        s.mail_from = Some("Acme Service Desk <desk@acme.test>".into());
    })
    .await;
    let desk = server.desk().await;
    let agent = &desk.agents[0].token;
    let (rita, rita_id) = rita(&server).await;
    let survivor = incident(&server, &desk, "Wi-Fi down on floor 3", &desk.requester.id).await;
    let duplicate = incident(&server, &desk, "No wireless on 3rd floor", &rita_id).await;
    let (s_number, d_number) = (
        survivor["number"].as_str().unwrap().to_string(),
        duplicate["number"].as_str().unwrap().to_string(),
    );
    // Rita can see her ticket and not the survivor, yet.
    let before = server
        .gql(Some(&rita), TICKET, json!({ "n": s_number }))
        .await;
    assert_eq!(before.error_code(), "NOT_FOUND");
    server
        .must(&rita, "mutation($t: ID!) { addComment(input: { ticketId: $t, body: \"Since 9am, all laptops.\" }) { comment { id } } }", json!({ "t": duplicate["id"] }))
        .await;
    let response = server
        .http()
        .post(server.url(&format!(
            "/attachments?ticket={}&filename=signal.txt",
            duplicate["id"].as_str().unwrap()
        )))
        .bearer_auth(&rita)
        .body("no bars")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    // Wait for the mail the new ticket and comment set off, so that what follows counts
    // only what the merge sends.
    smtp.wait_for("rita.dup@acme.test", &d_number, StdDuration::from_secs(15));
    let sent_before = smtp.messages().len();

    let merged = server
        .must(
            agent,
            "mutation($d: ID!, $v: Int!, $s: ID!) { mergeTickets(input: { duplicateId: $d, version: $v, survivorId: $s }) {
                movedComments movedAttachments duplicate { status resolutionCode mergedInto { number } } survivor { number } } }",
            json!({ "d": duplicate["id"], "v": duplicate["version"], "s": survivor["id"] }),
        )
        .await["mergeTickets"]
        .clone();
    assert_eq!(merged["movedComments"], 1);
    assert_eq!(merged["movedAttachments"], 1);
    assert_eq!(merged["duplicate"]["status"], "CLOSED");
    assert_eq!(merged["duplicate"]["resolutionCode"], "MERGED");
    assert_eq!(
        merged["duplicate"]["mergedInto"]["number"],
        s_number.as_str()
    );

    // The survivor has what moved, each saying where it came from.
    let shown = server.must(agent, TICKET, json!({ "n": s_number })).await["ticket"].clone();
    let comments = shown["comments"]["edges"].as_array().unwrap();
    let moved = comments
        .iter()
        .find(|c| c["node"]["body"] == "Since 9am, all laptops.")
        .expect("Rita's comment is on the survivor");
    assert_eq!(moved["node"]["movedFromTicketId"], duplicate["id"]);
    assert_eq!(shown["attachments"][0]["filename"], "signal.txt");

    // Rita follows the survivor now: her old number finds it.
    let found = server.must(&rita, TICKET, json!({ "n": d_number })).await["ticket"].clone();
    assert_eq!(
        found["number"],
        s_number.as_str(),
        "the duplicate's number finds the survivor"
    );

    // She is told once; nothing is sent for what moved.
    let told = smtp.wait_for(
        "rita.dup@acme.test",
        "Merged into",
        StdDuration::from_secs(15),
    );
    assert!(told.contains(&s_number), "{told}");
    tokio::time::sleep(StdDuration::from_secs(1)).await;
    let after: Vec<String> = smtp.messages()[sent_before..].to_vec();
    assert_eq!(
        after.len(),
        1,
        "one line to the duplicate's requester, no flood: {after:#?}"
    );
    let queued = server
        .must(&desk.admin, NOTIFICATIONS, json!({ "t": duplicate["id"] }))
        .await["notifications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "TICKET_MERGED")
        .count();
    assert_eq!(queued, 1);

    // A mail reply to the old number threads into the survivor.
    let gateway = server
        .must(&desk.admin, "mutation { createApiToken(input: { name: \"Postfix\", scopes: [\"mail:ingest\"] }) { secret } }", Value::Null)
        .await["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = format!(
        "From: Rita <rita.dup@acme.test>\r\nTo: desk@acme.test\r\nSubject: Re: [{d_number}] No wireless on 3rd floor\r\nMessage-ID: <reply-merged@mail.acme.test>\r\n\r\nStill down at noon.\r\n"
    );
    let outcome: Value = server
        .http()
        .post(server.url("/mail/inbound"))
        .bearer_auth(&gateway)
        .body(reply)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(outcome["state"], "COMMENTED", "{outcome}");
    assert_eq!(outcome["ticketNumber"], s_number.as_str());

    // Undoing it is a manager's; what moved goes back.
    let closed = server
        .must(
            agent,
            "query($id: ID!) { node(id: $id) { ... on Ticket { version } } }",
            json!({ "id": duplicate["id"] }),
        )
        .await;
    let version = closed["node"]["version"].clone();
    let unmerge = "mutation($id: ID!, $v: Int!) { unmergeTicket(input: { id: $id, version: $v }) { ticket { status mergedInto { number } } } }";
    let refused = server
        .gql(
            Some(agent),
            unmerge,
            json!({ "id": duplicate["id"], "v": version }),
        )
        .await;
    assert_eq!(refused.error_code(), "FORBIDDEN");
    let undone = server
        .must(
            &desk.manager.token,
            unmerge,
            json!({ "id": duplicate["id"], "v": version }),
        )
        .await["unmergeTicket"]["ticket"]
        .clone();
    assert_eq!(undone["status"], "NEW", "the status it had");
    assert!(undone.get("mergedInto").is_some());
    assert_eq!(undone["mergedInto"], Value::Null);
    let back = server.must(&rita, TICKET, json!({ "n": d_number })).await["ticket"].clone();
    assert_eq!(back["number"], d_number.as_str());
    let bodies: Vec<&str> = back["comments"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["node"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Since 9am, all laptops."], "her own comment, back");
    assert_eq!(back["attachments"][0]["filename"], "signal.txt");
    let gone = server
        .gql(Some(&rita), TICKET, json!({ "n": s_number }))
        .await;
    assert_eq!(
        gone.error_code(),
        "NOT_FOUND",
        "she no longer follows the survivor"
    );
}
