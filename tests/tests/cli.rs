//! The `switchboard` command line as a person runs it: a real process.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use switchboard_tests::services::free_port;

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard-under-test");

fn switchboard(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SWITCHBOARD_DATA_DIR", data_dir);
    command
}

#[test]
fn a_bad_setting_stops_start_up_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    for (variable, value, expected) in [
        (
            "SWITCHBOARD_BIND",
            "localhost",
            "SWITCHBOARD_BIND: 'localhost' is not an address and port",
        ),
        (
            "DATABASE_URL",
            "mysql://db/switchboard",
            "DATABASE_URL: 'mysql://db/switchboard' is neither",
        ),
        (
            "SWITCHBOARD_JWT_SECRET",
            "too-short",
            "SWITCHBOARD_JWT_SECRET: is 9 characters long",
        ),
        (
            "SWITCHBOARD_LOG_FORMAT",
            "yaml",
            "SWITCHBOARD_LOG_FORMAT: 'yaml' is neither",
        ),
    ] {
        let output = switchboard(dir.path())
            .arg("serve")
            .env(variable, value)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{variable}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            stderr.lines().count(),
            1,
            "one line for {variable}: {stderr}"
        );
        assert!(stderr.contains(expected), "{variable}: {stderr}");
    }
}

#[test]
fn export_schema_prints_the_committed_contract() {
    let dir = tempfile::tempdir().unwrap();
    let output = switchboard(dir.path())
        .arg("export-schema")
        .output()
        .unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql")).unwrap();
    assert!(
        String::from_utf8(output.stdout).unwrap() == committed,
        "schema.graphql is stale: regenerate it"
    );
}

async fn wait_for_health(port: u16) {
    let start = Instant::now();
    let url = format!("http://127.0.0.1:{port}/healthz");
    while !reqwest::get(&url)
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The README's path: start with no set-up, get a dev token, ask who I am, stop with SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_starts_the_server_and_signs_in_with_a_dev_token() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = switchboard(dir.path())
        .env("SWITCHBOARD_BIND", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_health(port).await;
    assert!(
        dir.path().join("switchboard.db").exists(),
        "the SQLite file is in the data directory"
    );
    assert!(
        dir.path().join("jwt-secret").exists(),
        "a generated secret is kept in the data directory"
    );

    let output = switchboard(dir.path())
        .args(["token", "dev", "--role", "admin", "--sub", "alice"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_string();
    let reply: Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .bearer_auth(&token)
        .header("x-request-id", "newcomer-1")
        .json(&json!({ "query": "query WhoAmI { viewer { id roles name } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        reply["data"]["viewer"]["roles"],
        json!(["ADMIN"]),
        "{reply}"
    );
    assert_eq!(reply["data"]["viewer"]["name"], "alice");

    // SIGTERM: the server stops cleanly.
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = Instant::now();
    let exit = loop {
        if let Some(exit) = server.try_wait().unwrap() {
            break exit;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "exit status {exit}");
    let mut log = String::new();
    std::io::Read::read_to_string(server.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(
        log.contains("generated one and kept it in the data directory"),
        "{log}"
    );
    assert!(log.contains("shutting down"), "{log}");
    // One JSON line for the request, with its id, status and operation; no token.
    let line: Value = log
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["span"]["request_id"] == "newcomer-1")
        .unwrap_or_else(|| panic!("no log line for the request: {log}"));
    assert_eq!(line["fields"]["status"], 200, "{line}");
    assert_eq!(line["span"]["operation_type"], "query", "{line}");
    assert_eq!(line["span"]["operation_name"], "WhoAmI", "{line}");
    assert!(!log.contains(&token), "a token reached the log");
}

#[test]
fn api_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let output = switchboard(dir.path())
        .args([
            "token",
            "create",
            "--name",
            "CMDB discovery",
            "--scope",
            "cmdb:read",
            "--scope",
            "cmdb:write",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let secret = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert!(secret.starts_with("sbp_"));

    let list = switchboard(dir.path())
        .args(["token", "list"])
        .output()
        .unwrap();
    let listing = String::from_utf8(list.stdout).unwrap();
    assert!(
        listing.contains("CMDB discovery")
            && listing.contains("cmdb:read,cmdb:write")
            && listing.contains("active"),
        "{listing}"
    );
    assert!(
        !listing.contains(&secret),
        "the listing never shows the secret"
    );

    let revoke = switchboard(dir.path())
        .args(["token", "revoke", "1"])
        .output()
        .unwrap();
    assert!(revoke.status.success());
    let listing = String::from_utf8(
        switchboard(dir.path())
            .args(["token", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(listing.contains("revoked"), "{listing}");

    let bad = switchboard(dir.path())
        .args(["token", "create", "--name", "x", "--scope", "everything"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("'everything' is not a scope"));
}

/// `switchboard demo` loads a living desk through the API, and a second run leaves it
/// as it is: one copy of everything, tickets in every state, the desk's other records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_loads_a_living_desk_once() {
    use switchboard_tests::{Backend, TestServer, server::JWT_SECRET};
    let dir = tempfile::tempdir().unwrap();
    let demo = || {
        let output = switchboard(dir.path())
            .arg("demo")
            .env("SWITCHBOARD_JWT_SECRET", JWT_SECRET)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let first = demo();
    assert!(first.starts_with("The demo desk is loaded."), "{first}");
    let tokens = first.lines().filter(|l| l.starts_with("eyJ")).count();
    assert_eq!(
        tokens, 4,
        "an admin's, a manager's, an agent's, a requester's: {first}"
    );
    assert!(
        first.contains("http://127.0.0.1:8080/desk#token=eyJ"),
        "a link to the live desk: {first}"
    );
    let second = demo();
    assert!(
        second.starts_with("The demo desk is loaded already"),
        "{second}"
    );

    let database = dir.path().join("switchboard.db").display().to_string();
    let server = TestServer::start_with(Backend::Sqlite, |s| {
        s.database_url = Some(format!("sqlite://{database}"));
    })
    .await;
    let admin = server.token("demo.admin", &["admin"]);
    let desk = server
        .must(
            &admin,
            "{ organizations { name } groups { name }
               tickets(first: 50) { nodes { status timeSpentMinutes survey { rating } links { role } } }
               problems(first: 10) { nodes { status workaround } }
               changes(first: 10) { nodes { status } }
               articles(first: 10, status: [PUBLISHED]) { nodes { title } }
               configurationItems(first: 20) { nodes { name } }
               majorIncidents { status updates { body } ticket { priority } }
               releases { status steps { configurationItem { name } } }
               outages(ongoing: true) { nodes { kind configurationItem { name } } } }",
            Value::Null,
        )
        .await;
    assert_eq!(desk["organizations"].as_array().unwrap().len(), 3, "{desk}");
    assert_eq!(desk["groups"].as_array().unwrap().len(), 3, "{desk}");
    let mut statuses: Vec<&str> = desk["tickets"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 13, "{desk}");
    statuses.sort();
    statuses.dedup();
    for status in [
        "NEW",
        "ASSIGNED",
        "IN_PROGRESS",
        "PENDING",
        "RESOLVED",
        "CLOSED",
        "CANCELLED",
    ] {
        assert!(statuses.contains(&status), "{status} in {statuses:?}");
    }
    let tickets = desk["tickets"]["nodes"].as_array().unwrap();
    let minutes: i64 = tickets
        .iter()
        .filter_map(|t| t["timeSpentMinutes"].as_i64())
        .sum();
    assert_eq!(
        minutes,
        40 + 25 + 90 + 15,
        "time worked on four tickets: {desk}"
    );
    let ratings: Vec<&Value> = tickets
        .iter()
        .filter_map(|t| t["survey"].get("rating"))
        .filter(|r| !r.is_null())
        .collect();
    assert_eq!(ratings, [&json!(4)], "one survey answered: {desk}");
    let linked = tickets
        .iter()
        .filter(|t| t["links"].as_array().is_some_and(|l| !l.is_empty()))
        .count();
    assert_eq!(linked, 2, "two related tickets: {desk}");
    assert_eq!(desk["problems"]["nodes"][0]["status"], "KNOWN_ERROR");
    assert!(desk["problems"]["nodes"][0]["workaround"].is_string());
    assert_eq!(desk["changes"]["nodes"].as_array().unwrap().len(), 2);
    let outage = &desk["majorIncidents"][0];
    assert_eq!(
        outage["status"], "ACTIVE",
        "a major incident under way: {desk}"
    );
    assert_eq!(outage["ticket"]["priority"], "MAJOR");
    assert_eq!(outage["updates"].as_array().unwrap().len(), 1);
    let ongoing = &desk["outages"]["nodes"][0];
    assert_eq!(
        ongoing["kind"], "UNPLANNED",
        "the major incident is an outage: {desk}"
    );
    assert_eq!(ongoing["configurationItem"]["name"], "orders-db");
    let release = &desk["releases"][0];
    assert_eq!(release["status"], "PLANNING", "{desk}");
    assert_eq!(
        release["steps"][0]["configurationItem"]["name"], "orders-db",
        "the database first: {desk}"
    );
    assert_eq!(desk["articles"]["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(
        desk["configurationItems"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}
