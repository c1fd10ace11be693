//! The schema fuzzer, longer (`--fuzz CASES`): the suite's fuzzer
//! (`switchboard_tests::fuzz`) against the release server on the seeded database, with
//! as many cases per field and caller as asked (`--seed` to draw others). It prints what
//! it sent, how long it took, every answer that broke the rules (a 5xx, `INTERNAL`, an
//! error without a code), whether the server is still up, and any panic in its log.

use std::time::Instant;

use serde_json::json;
use switchboard::config::Settings;
use switchboard_tests::services::{Postgres, free_port};

use super::{Options, post, rss_mib, seed, server_command, token, wait_until_up};

pub async fn run(backend: &str, options: &Options, cases: usize) {
    let data_dir = tempfile::tempdir().expect("a temporary directory");
    let mut settings = Settings {
        data_dir: Some(data_dir.path().display().to_string()),
        ..Default::default()
    };
    if backend == "postgres" {
        settings.database_url = Some(Postgres::shared().create_database().1);
    }
    let config = switchboard::Config::from_settings(&settings).expect("valid settings");
    seed(&config.database, options.tickets).await;

    // The server's log is kept, to look for panics in it afterwards.
    let log = data_dir.path().join("server.log");
    let port = free_port();
    let mut server = server_command(options, &settings, port, &[])
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("the server starts");
    let url = format!("http://127.0.0.1:{port}/graphql");
    wait_until_up(&url).await;
    let http = reqwest::Client::new();

    let admin = token("fuzz-admin", &["admin"]);
    let narrow = post(
        &http,
        &url,
        &admin,
        &json!({ "query": "mutation { createApiToken(input: { name: \"fuzz\", scopes: [\"cmdb:read\"] }) { secret } }" }),
    )
    .await
    .expect("an admin makes a token")["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let callers = [
        ("admin", admin),
        ("agent", token("user1", &["agent"])),
        ("requester", token("user1500", &["requester"])),
        ("narrow token", narrow),
    ];
    println!(
        "\n== {backend}: fuzzing, {cases} cases per field and caller, seed {}",
        options.fuzz_seed
    );
    let started = Instant::now();
    let outcome =
        switchboard_tests::fuzz::run(&http, &url, &callers, cases, options.fuzz_seed).await;
    let alive = http
        .post(&url)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    let panics = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("panicked"))
        .count();
    println!(
        "sent {} requests in {:.0} s ({:.0}/s): {} answered badly; server {} (RSS {:.1} MiB), {} panics in its log",
        outcome.sent,
        started.elapsed().as_secs_f64(),
        outcome.sent as f64 / started.elapsed().as_secs_f64(),
        outcome.failures.len(),
        if alive { "up" } else { "DOWN" },
        rss_mib(&server),
        panics
    );
    for failure in outcome.failures.iter().take(20) {
        println!("  {failure}");
    }
    let _ = server.kill();
    let _ = server.wait();
}
