//! Mail out: people are told by mail, through a real SMTP server the harness starts,
//! what happens to their tickets. A mailed request is acknowledged with its number and
//! the reply to that acknowledgement lands on the ticket; each step reaches whom it
//! concerns as they may see it, and not those who turned it off; a template an admin
//! changes is used, a broken one refused; a mail server away loses nothing; two
//! replicas send each notification once.

use std::time::Duration as StdDuration;

use chrono::Duration;
use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::{COMMENT, CREATE, TRANSITION},
    on_both_backends,
    server::sign_hs256,
    services::{Dovecot, Postgres, Smtp, header},
};

const WAIT: StdDuration = StdDuration::from_secs(15);
const NOTIFICATIONS: &str =
    "query($t: ID, $s: NotificationState) { notifications(ticketId: $t, state: $s, first: 50) {
    nodes { kind to subject text state attempts lastError messageId } } }";

/// Signs a desk person in again with an email address (the same subject and roles), so
/// that the desk has somewhere to write to them.
async fn with_email(server: &TestServer, sub: &str, roles: &[&str]) -> String {
    let now = chrono::Utc::now().timestamp();
    let token = sign_hs256(&json!({
        "sub": sub, "name": sub, "email": format!("{sub}@acme.test"),
        "roles": roles, "exp": now + 3600, "nbf": now - 10,
    }));
    server
        .must(&token, "{ viewer { nodeId } }", Value::Null)
        .await;
    token
}

fn mailed(server_smtp: &Smtp) -> impl FnOnce(&mut switchboard::Settings) + '_ {
    move |s| {
        s.smtp_url = Some(server_smtp.url());
        s.mail_from = Some("Acme Service Desk <desk@acme.test>".into());
    }
}

/// The notifications about a ticket, once `done` holds of them.
async fn notifications_when(
    server: &TestServer,
    admin: &str,
    ticket: &Value,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = std::time::Instant::now();
    loop {
        let got = server
            .must(admin, NOTIFICATIONS, json!({ "t": ticket }))
            .await["notifications"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if done(&got) {
            return got;
        }
        assert!(start.elapsed() < WAIT, "notifications: {got:#?}");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

async fn a_mailed_request_is_acknowledged_and_the_reply_lands_on_it(backend: Backend) {
    let smtp = Smtp::start();
    let dovecot = Dovecot::start();
    let imap = dovecot.url();
    let server = TestServer::start_with(backend, |s| {
        mailed(&smtp)(s);
        s.imap_url = Some(imap);
        s.imap_poll_seconds = Some("1".into());
    })
    .await;
    let _desk = server.desk().await;
    let rita = with_email(&server, "rita", &["requester"]).await;

    dovecot.deliver(
        "From: Rita <rita@acme.test>\r\nTo: desk@acme.test\r\nSubject: Projector dead\r\nMessage-ID: <p1@mail.acme.test>\r\n\r\nThe projector in room 4 shows nothing.\r\n",
    );
    let ack = smtp.wait_for("rita@acme.test", "Projector dead", WAIT);
    let subject = header(&ack, "Subject");
    let number = subject
        .split(['[', ']'])
        .nth(1)
        .expect("the ticket's number in the subject")
        .to_string();
    assert!(number.starts_with("INC"), "{subject}");
    assert!(
        ack.contains(&format!("recorded your request as {number}")),
        "{ack}"
    );
    assert_eq!(
        header(&ack, "From"),
        "\"Acme Service Desk\" <desk@acme.test>"
    );
    assert_eq!(header(&ack, "Auto-Submitted"), "auto-generated");
    let message_id = header(&ack, "Message-ID");
    assert!(
        message_id.starts_with(&format!("<{number}.")),
        "{message_id}"
    );

    // Rita answers from her mail program, which keeps only the thread's headers.
    dovecot.deliver(&format!(
        "From: rita@acme.test\r\nTo: desk@acme.test\r\nSubject: Re: Projector\r\nMessage-ID: <p2@mail.acme.test>\r\nIn-Reply-To: {message_id}\r\nReferences: {message_id}\r\n\r\nIt is the one by the window.\r\n"
    ));
    let start = std::time::Instant::now();
    loop {
        let ticket = server
            .must(
                &rita,
                "query($n: String!) { ticket(number: $n) { comments(first: 5) { nodes { body internal } } } }",
                json!({ "n": number }),
            )
            .await["ticket"]
            .clone();
        if ticket["comments"]["nodes"]
            == json!([{ "body": "It is the one by the window.", "internal": false }])
        {
            break;
        }
        assert!(start.elapsed() < WAIT, "{ticket}");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    // Her own comment is not mailed back to her: the acknowledgement is all she got.
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    let to_rita = smtp
        .messages()
        .into_iter()
        .filter(|m| header(m, "X-RcptTo").contains("rita@acme.test"))
        .count();
    assert_eq!(to_rita, 1);
}

async fn each_step_reaches_whom_it_concerns_as_they_may_see_it(backend: Backend) {
    let smtp = Smtp::start();
    let server = TestServer::start_with(backend, mailed(&smtp)).await;
    let desk = server.desk().await;
    let rita = with_email(&server, "rita", &["requester"]).await;
    with_email(&server, "ada", &["agent"]).await;
    with_email(&server, "bob", &["agent"]).await;
    let created = server
        .must(
            &rita,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": "VPN drops", "impact": "LOW", "urgency": "LOW" } }),
        )
        .await["createTicket"]["ticket"]
        .clone();
    let id = created["id"].clone();
    let number = created["number"].as_str().unwrap().to_string();
    smtp.wait_for("rita@acme.test", &format!("[{number}] Received"), WAIT);

    // Routing gave it to one agent, who was told; the admin gives it to the other,
    // who is told too.
    let routed_to = created["assignee"]["id"].clone();
    let (first, other) = if routed_to == desk.agents[0].id {
        ("ada", 1)
    } else {
        ("bob", 0)
    };
    let (other_name, agent) = (["ada", "bob"][other], desk.agents[other].token.clone());
    smtp.wait_for(
        &format!("{first}@acme.test"),
        &format!("[{number}] Assigned to you"),
        WAIT,
    );
    server
        .must(
            &desk.admin,
            "mutation($i: AssignTicketInput!) { assignTicket(input: $i) { ticket { version } } }",
            json!({ "i": { "id": id, "version": created["version"], "assigneeId": desk.agents[other].id } }),
        )
        .await;
    let to_other = smtp.wait_for(
        &format!("{other_name}@acme.test"),
        &format!("[{number}] Assigned to you"),
        WAIT,
    );
    assert!(to_other.contains("VPN drops"), "{to_other}");

    // An internal note reaches nobody outside the desk; a public answer reaches Rita.
    for (body, internal) in [
        ("Checking the concentrator logs", true),
        ("Which client version do you run?", false),
    ] {
        server
            .must(
                &agent,
                COMMENT,
                json!({ "input": { "ticketId": id, "body": body, "internal": internal } }),
            )
            .await;
    }
    let answer = smtp.wait_for("rita@acme.test", "Which client version", WAIT);
    assert!(
        header(&answer, "Subject").contains(&format!("{other_name} commented")),
        "{answer}"
    );
    assert!(!smtp.messages().iter().any(|m| m.contains("concentrator")));

    // Rita turns comment mail off; the next answer is not mailed to her.
    let prefs = server
        .must(
            &rita,
            "mutation { setNotificationPreference(input: { kind: TICKET_COMMENTED, enabled: false }) { preferences { kind enabled } } }",
            Value::Null,
        )
        .await;
    assert!(
        prefs["setNotificationPreference"]["preferences"]
            .as_array()
            .unwrap()
            .contains(&json!({ "kind": "TICKET_COMMENTED", "enabled": false }))
    );
    let version = server
        .must(&agent, COMMENT, json!({ "input": { "ticketId": id, "body": "Never mind, found it.", "internal": false } }))
        .await["addComment"]["ticket"]["version"]
        .clone();

    // The admin rewrites the resolution mail; a misspelt name is refused with its line.
    let refused = server
        .gql(
            Some(&desk.admin),
            "mutation { updateNotificationTemplate(input: { kind: TICKET_RESOLVED, subject: \"[{{ ticket.number }}] Done\", text: \"Hi\\n{{ tikcet.title }}\" }) { notificationTemplate { kind } } }",
            Value::Null,
        )
        .await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT");
    assert!(
        refused.error_message().contains("line 2"),
        "{}",
        refused.error_message()
    );
    server
        .must(
            &desk.admin,
            "mutation { updateNotificationTemplate(input: { kind: TICKET_RESOLVED, subject: \"[{{ ticket.number }}] Done: {{ ticket.title }}\", text: \"{{ recipient.name }}, we fixed it: {{ ticket.resolution_notes }}\" }) { notificationTemplate { customized } } }",
            Value::Null,
        )
        .await;
    server
        .must(
            &agent,
            TRANSITION,
            json!({ "input": { "id": id, "version": version, "status": "RESOLVED", "resolutionCode": "FIXED", "resolutionNotes": "Updated the client." } }),
        )
        .await;
    let resolved = smtp.wait_for(
        "rita@acme.test",
        &format!("[{number}] Done: VPN drops"),
        WAIT,
    );
    assert!(
        resolved.contains("rita, we fixed it: Updated the client."),
        "{resolved}"
    );

    // The record: every notification, sent, and the turned-off one never queued.
    let record = notifications_when(&server, &desk.admin, &id, |n| {
        n.len() == 5 && n.iter().all(|m| m["state"] == "SENT")
    })
    .await;
    let kinds: Vec<&str> = record.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "TICKET_RESOLVED",
            "TICKET_COMMENTED",
            "TICKET_ASSIGNED",
            "TICKET_ASSIGNED",
            "TICKET_RECEIVED"
        ]
    );
    assert!(!smtp.messages().iter().any(|m| m.contains("Never mind")));
    // Notifications are the admins' to read.
    let denied = server
        .gql(Some(&rita), NOTIFICATIONS, json!({ "t": id }))
        .await;
    assert_eq!(denied.error_code(), "FORBIDDEN");
}

async fn a_mail_server_away_loses_nothing(backend: Backend) {
    let smtp = Smtp::start();
    let server = TestServer::start_with(backend, mailed(&smtp)).await;
    let desk = server.desk().await;
    let rita = with_email(&server, "rita", &["requester"]).await;
    smtp.pause();
    let created = server
        .must(
            &rita,
            CREATE,
            json!({ "input": { "kind": "INCIDENT", "title": "Mail is down", "impact": "LOW", "urgency": "LOW" } }),
        )
        .await["createTicket"]["ticket"]
        .clone();
    let failed = notifications_when(&server, &desk.admin, &created["id"], |n| {
        n.len() == 1 && n[0]["attempts"] == 1 && n[0]["lastError"].is_string()
    })
    .await;
    assert_eq!(
        failed[0]["state"], "PENDING",
        "a temporary failure is tried again"
    );
    assert!(
        server
            .metric("switchboard_mail_attempts_total{outcome=\"retry\"}")
            .await
            >= Some(1.0)
    );
    smtp.resume();
    // The first retry is a minute (and up to a tenth more) after the failure.
    server.advance(Duration::seconds(70));
    smtp.wait_for("rita@acme.test", "Mail is down", WAIT);
    let sent = notifications_when(&server, &desk.admin, &created["id"], |n| {
        n.len() == 1 && n[0]["state"] == "SENT"
    })
    .await;
    assert_eq!(sent[0]["attempts"], 2);
}

on_both_backends!(
    a_mailed_request_is_acknowledged_and_the_reply_lands_on_it,
    each_step_reaches_whom_it_concerns_as_they_may_see_it,
    a_mail_server_away_loses_nothing,
);

/// Two replicas on one PostgreSQL, both sending through one SMTP server: each
/// notification arrives once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_send_each_notification_once() {
    let smtp = Smtp::start();
    let (_, url) = Postgres::shared().create_database();
    let settings = |s: &mut switchboard::Settings| {
        mailed(&smtp)(s);
        s.database_url = Some(url.clone());
    };
    let a = TestServer::start_with(Backend::Postgres, settings).await;
    let b = TestServer::start_with(Backend::Postgres, settings).await;
    a.desk().await;
    let rita = with_email(&a, "rita", &["requester"]).await;
    for n in 0..10 {
        let server = if n % 2 == 0 { &a } else { &b };
        server
            .must(
                &rita,
                CREATE,
                json!({ "input": { "kind": "INCIDENT", "title": format!("Outage {n}"), "impact": "LOW", "urgency": "LOW" } }),
            )
            .await;
    }
    for n in 0..10 {
        smtp.wait_for("rita@acme.test", &format!("Received: Outage {n}"), WAIT);
    }
    tokio::time::sleep(StdDuration::from_millis(800)).await;
    let mut ids: Vec<String> = smtp
        .messages()
        .iter()
        .map(|m| header(m, "Message-ID"))
        .collect();
    assert_eq!(ids.len(), 10, "{ids:#?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10);
}
