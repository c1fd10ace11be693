//! The live desk at /desk, in a real browser (headless Chromium over WebDriver): it loads
//! from this server alone, shows a group's queue as it changes, counts SLA clocks down
//! without asking the server, shows SLA warnings as they happen, and comes back after a
//! restart with what changed while it was away.
//!
//! SQLite only: the page talks to the API, which is tested on both databases elsewhere.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    browser::Browser,
    desk::{CREATE, Desk},
};

/// Fifteen minutes to respond to a P1, round the clock: a countdown that moves every
/// second, and a 75% warning after 11¼ minutes.
const P1_POLICY: &str = "mutation { saveSlaPolicy(input: { name: \"P1\", position: 1, priority: P1, responseMinutes: 15 }) { slaPolicy { id } } }";
const ASSIGN: &str =
    "mutation($input: AssignTicketInput!) { assignTicket(input: $input) { ticket { version } } }";

/// An incident in the Network queue: P1 when `critical`, P4 otherwise.
async fn incident(server: &TestServer, desk: &Desk, title: &str, critical: bool) -> Value {
    let level = if critical { "HIGH" } else { "LOW" };
    let input = json!({ "kind": "INCIDENT", "title": title, "impact": level, "urgency": level,
        "groupId": desk.network_group_id, "requesterId": desk.requester.id });
    server
        .must(&desk.agents[0].token, CREATE, json!({ "input": input }))
        .await["createTicket"]["ticket"]
        .clone()
}

/// Opens the Network queue as Ada, the token in the link as the demo prints it, and
/// waits until the page is live.
async fn open_queue(server: &TestServer, desk: &Desk) -> Browser {
    let browser = Browser::start().await;
    let group = desk.network_group_id.as_str().unwrap();
    let token = &desk.agents[0].token;
    browser
        .goto(&server.url(&format!("/desk?group={group}#token={token}")))
        .await;
    browser
        .wait_until(
            "the page connects",
            Duration::from_secs(10),
            &connection("live"),
        )
        .await;
    browser
}

/// Whether the connection badge says `state` (`live`, `lost`).
fn connection(state: &str) -> String {
    format!("document.querySelector('#connection').dataset.state === '{state}'")
}

/// The queue's row for a ticket, as the page shows it; null while it is not there.
fn row(number: &Value) -> String {
    format!("document.querySelector('#queue tr[data-number={number}]')?.innerText ?? null")
}

/// The text of one of a row's SLA clocks.
fn clock(number: &Value, metric: &str) -> String {
    format!(
        "document.querySelector('#queue tr[data-number={number}] .clock[data-metric={metric}]')?.textContent ?? null"
    )
}

/// The number on the dashboard's tile of that label.
fn count(label: &str) -> String {
    format!("document.querySelector('#counts .count[data-label=\"{label}\"] b')?.textContent")
}

/// `text` (a JavaScript expression) when `test` holds of it, otherwise null.
fn when(text: &str, test: &str) -> String {
    format!("(text => text && ({test}) ? text : null)({text})")
}

/// In JavaScript: the countdown `text` (`m:ss`, `h:mm:ss`) in seconds.
const SECONDS: &str = "text.split(':').reduce((total, part) => total * 60 + Number(part), 0)";

/// `m:ss` or `h:mm:ss` as seconds.
fn seconds(countdown: &Value) -> i64 {
    countdown
        .as_str()
        .unwrap()
        .split(':')
        .fold(0, |total, part| {
            total * 60 + part.trim().parse::<i64>().unwrap()
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_comes_from_this_server_alone_and_takes_new_tickets_live() {
    let server = TestServer::start(Backend::Sqlite).await;
    let desk = server.desk().await;
    let first = incident(&server, &desk, "Printer jammed", false).await;
    let browser = open_queue(&server, &desk).await;
    let shown = browser
        .wait_until(
            "the queue shows",
            Duration::from_secs(5),
            &row(&first["number"]),
        )
        .await;
    assert!(
        shown.as_str().unwrap().contains("Printer jammed"),
        "{shown}"
    );
    browser
        .wait_until(
            "the counts show one open ticket",
            Duration::from_secs(5),
            &format!("{} === '1'", count("open")),
        )
        .await;

    // A ticket raised elsewhere enters the queue without a reload, above the P4 (working
    // order: priority first), within a second of its creation.
    let second = incident(&server, &desk, "Core switch down", true).await;
    browser
        .wait_until(
            "the new ticket appears",
            Duration::from_secs(1),
            &row(&second["number"]),
        )
        .await;
    let order = browser
        .eval("[...document.querySelectorAll('#queue tbody tr')].map(r => r.dataset.number)")
        .await;
    assert_eq!(order, json!([second["number"], first["number"]]));
    browser
        .wait_until(
            "the counts follow",
            Duration::from_secs(5),
            &format!("{} === '2'", count("open")),
        )
        .await;

    // Everything it loaded and called came from this server: the page, its scripts and
    // styles, /graphql and the WebSocket.
    let origin = format!("{}", server.addr);
    let requests = browser.requests().await;
    let elsewhere: Vec<&String> = requests
        .iter()
        .filter(|url| {
            !url.starts_with(&format!("http://{origin}/"))
                && !url.starts_with(&format!("ws://{origin}/"))
        })
        .collect();
    assert!(
        elsewhere.is_empty(),
        "requests to other hosts: {elsewhere:?}"
    );
    // And the server says so: a browser running the page may call nothing else. Its
    // own files are asked for again after an upgrade, never run stale against a newer API.
    let page = server.http().get(server.url("/desk")).send().await.unwrap();
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("default-src 'none'") && policy.contains("connect-src 'self'"),
        "{policy}"
    );
    let script = server
        .http()
        .get(server.url("/desk/assets/desk.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.headers()["cache-control"], "no-cache");
    let missing = server
        .http()
        .get(server.url("/desk/assets/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    for path in [
        "/desk?",
        "/desk/assets/desk.js",
        "/desk/assets/graphql-ws.min.js",
        "/desk/assets/desk.css",
        "/graphql",
        "/graphql/ws",
    ] {
        assert!(
            requests
                .iter()
                .any(|url| url.contains(&format!("{origin}{path}"))),
            "{path} was not requested: {requests:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn countdowns_run_without_requests_and_sla_warnings_reach_the_feed() {
    let server = TestServer::start(Backend::Sqlite).await;
    let desk = server.desk().await;
    server.must(&desk.admin, P1_POLICY, Value::Null).await;
    let ticket = incident(&server, &desk, "Core switch down", true).await;
    let number = &ticket["number"];
    let browser = open_queue(&server, &desk).await;
    let before = browser
        .wait_until(
            "the response clock shows",
            Duration::from_secs(5),
            &clock(number, "RESPONSE"),
        )
        .await;
    let before_seconds = seconds(&before);
    assert!(
        (850..=900).contains(&before_seconds),
        "about 15 minutes: {before}"
    );

    // The clock moves on its own: nothing is asked of the server meanwhile.
    browser.requests().await;
    let after = browser
        .wait_until(
            "the countdown moves",
            Duration::from_secs(5),
            &when(&clock(number, "RESPONSE"), &format!("text !== {before}")),
        )
        .await;
    assert!(
        seconds(&after) < before_seconds,
        "counts down: {before} then {after}"
    );
    assert_eq!(browser.requests().await, Vec::<String>::new());

    // Twelve minutes on the server's clock: past the 75% warning, which reaches the feed,
    // and the row's clock is read afresh from the push (about three minutes left).
    server.advance(chrono::Duration::minutes(12));
    let warning = browser
        .wait_until(
            "the warning reaches the feed",
            Duration::from_secs(5),
            &format!(
                "document.querySelector('#feed li[data-kind=WARNING][data-ticket={number}]')?.innerText ?? null"
            ),
        )
        .await;
    assert!(
        warning.as_str().unwrap().contains("75%"),
        "the threshold is shown: {warning}"
    );
    let left = browser
        .wait_until(
            "the clock is read again",
            Duration::from_secs(5),
            &when(&clock(number, "RESPONSE"), &format!("{SECONDS} < 300")),
        )
        .await;
    assert!(
        (150..=181).contains(&seconds(&left)),
        "about three minutes: {left}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_page_shows_what_changed_while_it_was_away() {
    let mut server = TestServer::start(Backend::Sqlite).await;
    let desk = server.desk().await;
    let waiting = incident(&server, &desk, "Printer jammed", false).await;
    let browser = open_queue(&server, &desk).await;
    browser
        .wait_until(
            "the queue shows",
            Duration::from_secs(5),
            &row(&waiting["number"]),
        )
        .await;

    server.stop().await;
    browser
        .wait_until(
            "the page shows the connection lost",
            Duration::from_secs(10),
            &connection("lost"),
        )
        .await;

    // While it is down, another server on the same database takes a new ticket and
    // assigns the old one: the page cannot have heard of either.
    let url = server.database_url();
    let other = TestServer::start_with(Backend::Sqlite, |s| s.database_url = Some(url)).await;
    let arrived = incident(&other, &desk, "Core switch down", true).await;
    let input = json!({ "id": waiting["id"], "version": waiting["version"], "assigneeId": desk.agents[1].id });
    other
        .must(&desk.agents[0].token, ASSIGN, json!({ "input": input }))
        .await;
    other.shutdown().await;

    server.restart().await;
    browser
        .wait_until(
            "the page reconnects",
            Duration::from_secs(15),
            &connection("live"),
        )
        .await;
    browser
        .wait_until(
            "the ticket raised while away is in the queue",
            Duration::from_secs(5),
            &row(&arrived["number"]),
        )
        .await;
    let assigned = browser
        .wait_until(
            "the assignment made while away is shown",
            Duration::from_secs(5),
            &when(&row(&waiting["number"]), "!text.includes('unassigned')"),
        )
        .await;
    let bob = server
        .gql(
            Some(&desk.agents[1].token),
            "{ viewer { name } }",
            Value::Null,
        )
        .await;
    let bob = bob.data()["viewer"]["name"].as_str().unwrap().to_string();
    assert!(assigned.as_str().unwrap().contains(&bob), "{assigned}");
}
