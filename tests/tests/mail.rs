//! Mail in through `switchboard mail-gateway`, the real command a mail server pipes to:
//! a message becomes a ticket for its sender, a reply a comment on its ticket (reopening
//! it when resolved), the same message twice one ticket, a malformed one set aside with
//! its reason between two good ones, an auto-reply nothing, a stranger's mail set aside.

use std::{
    io::Write,
    process::{Command, Stdio},
};

use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer, on_both_backends, server::sign_hs256, services::Dovecot,
};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard-under-test");
const TICKET: &str = "query($n: String!) { ticket(number: $n) { title description channel status
    requester { id } comments(first: 10) { nodes { body internal author { id } } } } }";
const MESSAGES: &str = "query($s: MailMessageState) { mailMessages(state: $s, first: 20) { nodes { sender subject state reason ticketId } } }";

/// A requester whose token carries an email address, signed in once.
async fn requester_with_email(server: &TestServer, sub: &str, email: &str) -> (String, Value) {
    let now = chrono::Utc::now().timestamp();
    let token = sign_hs256(
        &json!({ "sub": sub, "name": sub, "email": email, "roles": ["requester"], "exp": now + 3600 }),
    );
    let id = server
        .must(&token, "{ viewer { nodeId } }", Value::Null)
        .await["viewer"]["nodeId"]
        .clone();
    (token, id)
}

async fn gateway_token(server: &TestServer, admin: &str) -> String {
    server
        .must(admin, "mutation { createApiToken(input: { name: \"Postfix\", scopes: [\"mail:ingest\"] }) { secret } }", Value::Null)
        .await["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Pipes a message to `switchboard mail-gateway`, as a mail server does; its exit code
/// and what it printed.
fn pipe(server: &TestServer, token: &str, message: &str) -> (i32, Value) {
    let mut child = Command::new(BINARY)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["mail-gateway", "--url", &server.url(""), "--token", token])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the gateway runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let printed = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), printed)
}

fn mail(id: &str, from: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: desk@acme.test\r\nSubject: {subject}\r\nMessage-ID: <{id}@mail.acme.test>\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n"
    )
}

async fn a_message_becomes_a_ticket_and_a_reply_its_comment(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (rita, rita_id) = requester_with_email(&server, "rita.mail", "Rita@Acme.test").await;
    let token = gateway_token(&server, &desk.admin).await;

    let (code, answer) = pipe(
        &server,
        &token,
        &mail(
            "m1",
            "Rita <rita@acme.test>",
            "Printer on 3rd floor jams",
            "It jams on every page.",
        ),
    );
    assert_eq!(code, 0, "{answer}");
    assert_eq!(answer["state"], "TICKET_CREATED");
    let number = answer["ticketNumber"].as_str().unwrap().to_string();
    let ticket = server.must(&rita, TICKET, json!({ "n": number })).await["ticket"].clone();
    assert_eq!(ticket["title"], "Printer on 3rd floor jams");
    assert_eq!(ticket["description"], "It jams on every page.");
    assert_eq!(ticket["channel"], "EMAIL");
    assert_eq!(ticket["requester"]["id"], rita_id);

    // The same message again (a mail server retrying): one ticket.
    let (code, again) = pipe(
        &server,
        &token,
        &mail(
            "m1",
            "Rita <rita@acme.test>",
            "Printer on 3rd floor jams",
            "It jams on every page.",
        ),
    );
    assert_eq!(
        (
            code,
            again["duplicate"].as_bool(),
            again["ticketNumber"].as_str()
        ),
        (0, Some(true), Some(number.as_str()))
    );

    // A reply, by the number in its subject: a public comment by Rita.
    let reply = mail(
        "m2",
        "rita@acme.test",
        &format!("Re: [{number}] Printer on 3rd floor jams"),
        "Now it smokes too.",
    );
    let (_, answered) = pipe(&server, &token, &reply);
    assert_eq!(answered["state"], "COMMENTED");
    let ticket = server.must(&rita, TICKET, json!({ "n": number })).await["ticket"].clone();
    let comment = &ticket["comments"]["nodes"][0];
    assert_eq!(
        (comment["body"].as_str(), comment["internal"].as_bool()),
        (Some("Now it smokes too."), Some(false))
    );
    assert_eq!(comment["author"]["id"], rita_id);

    // Resolved, a reply reopens it (within the reopen window).
    let mona = &desk.manager.token;
    let id = server
        .must(
            mona,
            "query($n: String!) { ticket(number: $n) { id version } }",
            json!({ "n": number }),
        )
        .await["ticket"]
        .clone();
    server
        .must(mona, "mutation($input: TransitionTicketInput!) { transitionTicket(input: $input) { ticket { status } } }", json!({ "input": { "id": id["id"], "version": id["version"], "status": "RESOLVED", "resolutionCode": "FIXED", "resolutionNotes": "New drum." } }))
        .await;
    let (_, reopened) = pipe(
        &server,
        &token,
        &mail(
            "m3",
            "rita@acme.test",
            &format!("Re: [{number}] fixed?"),
            "Still smoking.",
        ),
    );
    assert_eq!(reopened["state"], "COMMENTED");
    let ticket = server.must(&rita, TICKET, json!({ "n": number })).await["ticket"].clone();
    assert_eq!(ticket["status"], "IN_PROGRESS");
}

async fn a_bad_message_is_set_aside_between_two_good_ones(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    requester_with_email(&server, "rita.mail", "rita@acme.test").await;
    let token = gateway_token(&server, &desk.admin).await;
    let (_, first) = pipe(
        &server,
        &token,
        &mail("g1", "rita@acme.test", "VPN slow", "Very slow."),
    );
    let (code, bad) = pipe(
        &server,
        &token,
        "\u{1}\u{2} this is not mail at all, there is no header\r\n",
    );
    assert_eq!(
        code, 0,
        "a bad message is taken and set aside, not bounced back for ever"
    );
    assert_eq!(bad["state"], "SET_ASIDE");
    assert!(
        bad["reason"]
            .as_str()
            .unwrap()
            .contains("not a mail message"),
        "{bad}"
    );
    let (_, second) = pipe(
        &server,
        &token,
        &mail("g2", "rita@acme.test", "Mail slow", "Also slow."),
    );
    assert_eq!(
        (first["state"].as_str(), second["state"].as_str()),
        (Some("TICKET_CREATED"), Some("TICKET_CREATED"))
    );

    // An auto-reply opens nothing; a stranger's mail is set aside (the desk's default).
    let out_of_office = "From: rita@acme.test\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <ooo@mail.acme.test>\r\n\r\nBack Monday.\r\n";
    let (_, ignored) = pipe(&server, &token, out_of_office);
    assert_eq!(ignored["state"], "IGNORED");
    let (_, stranger) = pipe(
        &server,
        &token,
        &mail("s1", "eve@elsewhere.test", "Hello", "Who are you?"),
    );
    assert_eq!(stranger["state"], "SET_ASIDE");

    let aside = server
        .must(&desk.admin, MESSAGES, json!({ "s": "SET_ASIDE" }))
        .await;
    let reasons: Vec<&str> = aside["mailMessages"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].contains("eve@elsewhere.test") && reasons[0].contains("mailFromStrangers"));
    // When the desk takes mail from strangers, they become requesters.
    let settings = server.must(&desk.admin, "{ deskSettings { priorityMatrix reopenWindowDays autoCloseDays problemTrendIncidents problemTrendWindowHours } }", Value::Null).await;
    let mut input = settings["deskSettings"].clone();
    input["mailFromStrangers"] = json!(true);
    server.must(&desk.admin, "mutation($input: DeskSettingsInput!) { updateDeskSettings(input: $input) { mailFromStrangers } }", json!({ "input": input })).await;
    let (_, welcomed) = pipe(
        &server,
        &token,
        &mail("s2", "Eve <eve@elsewhere.test>", "Hello again", "Now?"),
    );
    assert_eq!(welcomed["state"], "TICKET_CREATED");
}

async fn the_gateway_needs_its_scope(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let reader = server
        .must(&desk.admin, "mutation { createApiToken(input: { name: \"Reader\", scopes: [\"tickets:read\"] }) { secret } }", Value::Null)
        .await["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, _) = pipe(&server, &reader, &mail("x1", "rita@acme.test", "Hi", "Hi"));
    assert_eq!(
        code, 77,
        "EX_NOPERM: the mail server keeps the message and says why"
    );
    let (code, _) = pipe(
        &server,
        "not-a-token",
        &mail("x1", "rita@acme.test", "Hi", "Hi"),
    );
    assert_eq!(code, 77);
}

/// The admin's view of the mail received, newest first.
async fn received(server: &TestServer, admin: &str) -> Vec<Value> {
    server.must(admin, MESSAGES, json!({ "s": null })).await["mailMessages"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits (up to 15 s) until `done` holds of the mail received.
async fn until_received(
    server: &TestServer,
    admin: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let start = std::time::Instant::now();
    loop {
        let now = received(server, admin).await;
        if done(&now) {
            return now;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(15),
            "mail received: {now:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn the_mailbox_is_fetched_once_per_message_and_through_an_outage(backend: Backend) {
    let dovecot = Dovecot::start();
    let url = dovecot.url();
    let server = TestServer::start_with(backend, |s| {
        s.imap_url = Some(url);
        s.imap_poll_seconds = Some("1".into());
    })
    .await;
    let desk = server.desk().await;
    let (rita, rita_id) = requester_with_email(&server, "rita.mail", "rita@acme.test").await;

    dovecot.deliver(&mail(
        "i1",
        "Rita <rita@acme.test>",
        "Scanner offline",
        "The scanner is offline.",
    ));
    let got = until_received(&server, &desk.admin, |m| {
        m.len() == 1 && m[0]["state"] == "TICKET_CREATED"
    })
    .await;
    let ticket_id = got[0]["ticketId"].clone();
    let ticket = server
        .must(&rita, "query($id: ID!) { node(id: $id) { ... on Ticket { title channel requester { id } } } }", json!({ "id": ticket_id }))
        .await["node"]
        .clone();
    assert_eq!(
        ticket,
        json!({ "title": "Scanner offline", "channel": "EMAIL", "requester": { "id": rita_id } })
    );

    // The same message delivered again (a retrying mail server): fetched, one ticket.
    dovecot.deliver(&mail(
        "i1",
        "Rita <rita@acme.test>",
        "Scanner offline",
        "The scanner is offline.",
    ));
    let start = std::time::Instant::now();
    while dovecot.unread_files() > 0 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(15),
            "the copy was never fetched"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(received(&server, &desk.admin).await.len(), 1);

    // The IMAP server goes away: /readyz says so, mail waits, and nothing is lost.
    dovecot.pause();
    let start = std::time::Instant::now();
    loop {
        let ready: Value = server
            .http()
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ready["checks"]["mailbox"]
            .as_str()
            .is_some_and(|m| m.starts_with("failing"))
        {
            assert_eq!(ready["status"], "ready", "the API serves while mail waits");
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(15),
            "{ready}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(server.metric("switchboard_mailbox_up").await, Some(0.0));
    dovecot.deliver(&mail(
        "i2",
        "rita@acme.test",
        "Scanner still offline",
        "Any news?",
    ));
    dovecot.resume();
    let got = until_received(&server, &desk.admin, |m| m.len() == 2).await;
    assert_eq!(
        (got[0]["subject"].as_str(), got[0]["state"].as_str()),
        (Some("Scanner still offline"), Some("TICKET_CREATED"))
    );
}

async fn a_reply_naming_someone_else_s_ticket_is_a_new_message(backend: Backend) {
    let server = TestServer::start(backend).await;
    let desk = server.desk().await;
    let (rita, _) = requester_with_email(&server, "rita.mail", "rita@acme.test").await;
    let (otto, otto_id) = requester_with_email(&server, "otto.mail", "otto@other.test").await;
    let token = gateway_token(&server, &desk.admin).await;
    let (_, first) = pipe(
        &server,
        &token,
        &mail(
            "r1",
            "rita@acme.test",
            "Badge broken",
            "My badge does not open doors.",
        ),
    );
    let number = first["ticketNumber"].as_str().unwrap().to_string();
    // Otto names Rita's ticket (and his mail program put a NUL in the subject).
    let (code, other) = pipe(
        &server,
        &token,
        &mail(
            "o1",
            "otto@other.test",
            &format!("Re: [{number}] Badge\u{0} broken"),
            "Mine too.",
        ),
    );
    assert_eq!(
        (code, other["state"].as_str()),
        (0, Some("TICKET_CREATED")),
        "{other}"
    );
    let his = other["ticketNumber"].as_str().unwrap();
    assert_ne!(his, number);
    let ticket = server.must(&otto, TICKET, json!({ "n": his })).await["ticket"].clone();
    assert_eq!(ticket["title"], format!("Re: [{number}] Badge broken"));
    assert_eq!(
        ticket["description"], "Mine too.",
        "nothing said of the ticket he named"
    );
    assert_eq!(ticket["requester"]["id"], otto_id);
    let hers = server.must(&rita, TICKET, json!({ "n": number })).await["ticket"].clone();
    assert_eq!(hers["comments"]["nodes"], json!([]));
}

on_both_backends!(
    a_reply_naming_someone_else_s_ticket_is_a_new_message,
    the_mailbox_is_fetched_once_per_message_and_through_an_outage,
    a_message_becomes_a_ticket_and_a_reply_its_comment,
    a_bad_message_is_set_aside_between_two_good_ones,
    the_gateway_needs_its_scope,
);

/// A desk that cannot be reached: the mail server is told to try again later.
#[test]
fn an_unreachable_desk_means_try_again_later() {
    let port = switchboard_tests::services::free_port();
    let mut child = Command::new(BINARY)
        .env_clear()
        .args([
            "mail-gateway",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--token",
            "t",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"From: a@b.test\r\n\r\nx\r\n")
        .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(75));
}
