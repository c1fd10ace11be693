//! The soak (`--soak MINUTES`): a whole desk's day, compressed and held, to show that
//! nothing the server keeps grows with time.
//!
//! On the seeded database, for the minutes asked, at a steady pace rather than flat out:
//! four dashboards reading the ticket page, two agents creating tickets for seeded
//! requesters (each a `TICKET_RECEIVED` mail), two managers commenting on them (a mail to the
//! requester), forty live subscribers each holding a queue or the SLA alerts for ten to
//! sixty seconds and then coming back on a new socket, a webhook endpoint receiving every
//! event, and an SLA policy of one minute to respond and two to resolve, so that clocks
//! warn and breach all through. On PostgreSQL the server also has Redis, as replicas do.
//!
//! Every `--sample-seconds` (60 unless told) it samples the server's resident memory,
//! its open file descriptors, the database's size on disk, the pool's connections in
//! use, the relay's lag and backlog, the sockets open, and what the workload did in the
//! interval. At the end it prints the table, the bounds after warm-up (the first fifth
//! of the run) with whether each held, and draws the series into an SVG (`--plot`).
//! The bounds are written in `report::BOUNDS`; growth of the database is judged per ticket
//! written, since a desk that records work must grow by what it records.

use std::{
    path::PathBuf,
    process::Child,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard::config::Settings;
use switchboard_tests::{
    server::global_id,
    services::{Postgres, Redis, free_port},
};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use super::{Options, PAGE, post, rss_mib, seed, start_server, token, wait_until_up};

mod report;
mod sinks;

use report::{Sample, draw, judge, print_header, print_row};
use sinks::{smtp_sink, webhook_sink};

const CREATE: &str =
    "mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket { id } } }";
const COMMENT: &str =
    "mutation($input: AddCommentInput!) { addComment(input: $input) { comment { id } } }";
const QUEUE: &str = "subscription($g: ID!) { queueChanged(groupId: $g) { kind event { seq } } }";
const SLA_ALERTS: &str = "subscription { slaAlerts { kind metric seq } }";

const READERS: usize = 4;
const CREATORS: usize = 2;
const COMMENTERS: usize = 2;
const SUBSCRIBERS: usize = 40;
/// Each reader's and writer's pause between requests: the pace, not the limit.
const READ_PAUSE: Duration = Duration::from_millis(40);
const WRITE_PAUSE: Duration = Duration::from_millis(250);

/// What the workload has done so far; the sampler reads the differences.
#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    failures: AtomicU64,
    tickets: AtomicU64,
    comments: AtomicU64,
    subscriptions: AtomicU64,
    messages: AtomicU64,
    webhooks: AtomicU64,
    /// Webhook deliveries of SLA warnings and breaches: the clocks firing.
    sla_alerts: AtomicU64,
    mails: AtomicU64,
    /// The first failure of each kind of work, to print at the end.
    first_failures: Mutex<Vec<(&'static str, String)>>,
}

impl Counts {
    fn failed(&self, kind: &'static str, error: String) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_failures.lock().unwrap();
        if !first.iter().any(|(k, _)| *k == kind) {
            first.push((kind, error));
        }
    }
}

/// What every worker of the workload shares.
struct Desk {
    client: reqwest::Client,
    graphql: String,
    ws_url: String,
    manager: String,
    agent: String,
    counts: Arc<Counts>,
    stop: AtomicBool,
    /// The newest tickets' ids, for the commenters.
    recent: Mutex<Vec<String>>,
}

impl Desk {
    /// Runs `step` with 1, 2, 3… at this worker's pace until the soak ends.
    async fn paced<Step: Future<Output = ()>>(
        &self,
        pause: Duration,
        mut step: impl FnMut(u64) -> Step,
    ) {
        let mut n = 0;
        while !self.stop.load(Ordering::Relaxed) {
            n += 1;
            step(n).await;
            tokio::time::sleep(pause).await;
        }
    }

    /// Sends one operation as `token`, counting it; its data, or none when it failed.
    async fn send(&self, kind: &'static str, token: &str, body: &Value) -> Option<Value> {
        match post(&self.client, &self.graphql, token, body).await {
            Ok(data) => {
                self.counts.requests.fetch_add(1, Ordering::Relaxed);
                Some(data)
            }
            Err(e) => {
                self.counts.failed(kind, e);
                None
            }
        }
    }
}

pub async fn run(backend: &str, options: &Options, minutes: u64) {
    let data_dir = tempfile::tempdir().expect("a temporary directory");
    let mut settings = Settings {
        data_dir: Some(data_dir.path().display().to_string()),
        ..Default::default()
    };
    let mut pg_database = None;
    if backend == "postgres" {
        let (name, url) = Postgres::shared().create_database();
        settings.database_url = Some(url);
        pg_database = Some(name);
    }
    let config = switchboard::Config::from_settings(&settings).expect("valid settings");
    seed(&config.database, options.tickets).await;

    let counts = Arc::new(Counts::default());
    let webhook_url = webhook_sink(counts.clone()).await;
    let (smtp_port, message_ids) = smtp_sink(counts.clone()).await;
    let redis = (backend == "postgres").then(Redis::start);
    let mut env = vec![
        ("SWITCHBOARD_WEBHOOK_ALLOW", "127.0.0.0/8".to_string()),
        (
            "SWITCHBOARD_SMTP_URL",
            format!("smtp://127.0.0.1:{smtp_port}"),
        ),
        ("SWITCHBOARD_MAIL_FROM", "Soak Desk <desk@soak.test>".into()),
    ];
    if let Some(redis) = &redis {
        env.push(("REDIS_URL", redis.url()));
    }
    let port = free_port();
    let mut server = start_server(options, &settings, port, &env);
    let base = format!("http://127.0.0.1:{port}");
    wait_until_up(&format!("{base}/graphql")).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();

    let admin = token("soak-admin", &["admin"]);
    let graphql = format!("{base}/graphql");
    let setup = [
        (
            "mutation($input: SaveSlaPolicyInput!) { saveSlaPolicy(input: $input) { slaPolicy { id } } }",
            json!({ "input": { "name": "Soak: minutes", "position": 1, "responseMinutes": 1, "resolutionMinutes": 2 } }),
        ),
        (
            "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }",
            json!({ "input": { "url": webhook_url, "description": "soak" } }),
        ),
    ];
    for (query, variables) in setup {
        post(
            &client,
            &graphql,
            &admin,
            &json!({ "query": query, "variables": variables }),
        )
        .await
        .unwrap_or_else(|e| panic!("soak setup failed: {e}"));
    }

    println!(
        "\n== {backend}: soak for {minutes} min, sampled every {} s ({} tickets seeded)",
        options.sample_seconds, options.tickets
    );
    let desk = Arc::new(Desk {
        client: client.clone(),
        graphql: graphql.clone(),
        ws_url: format!("ws://127.0.0.1:{port}/graphql/ws"),
        manager: token("soak-manager", &["manager"]),
        agent: token("soak-agent", &["agent"]),
        counts: counts.clone(),
        stop: AtomicBool::new(false),
        recent: Mutex::default(),
    });
    let mut workers = Vec::new();
    for _ in 0..READERS {
        let desk = desk.clone();
        workers.push(tokio::spawn(async move {
            let (desk, page) = (&desk, &json!({ "query": PAGE }));
            desk.paced(READ_PAUSE, |_| async move {
                desk.send("page", &desk.manager, page).await;
            })
            .await
        }));
    }
    for worker in 0..CREATORS {
        let desk = desk.clone();
        workers.push(tokio::spawn(async move {
            let desk = &desk;
            desk.paced(WRITE_PAUSE, |n| async move {
                // Seeded requesters are users 201 to 2,000, each with an address.
                let requester = 201 + (spread(worker as u64, n) % 1800) as i64;
                let body = json!({ "query": CREATE, "variables": { "input": {
                    "kind": "INCIDENT", "title": format!("Soak {worker}-{n}"), "impact": "MEDIUM",
                    "urgency": "MEDIUM", "requesterId": global_id("User", requester),
                } } });
                if let Some(data) = desk.send("createTicket", &desk.agent, &body).await {
                    desk.counts.tickets.fetch_add(1, Ordering::Relaxed);
                    let id = data["createTicket"]["ticket"]["id"].as_str().unwrap();
                    let mut recent = desk.recent.lock().unwrap();
                    recent.push(id.to_string());
                    if recent.len() > 200 {
                        recent.remove(0);
                    }
                }
            })
            .await
        }));
    }
    // A duty manager answers on whatever queue the ticket was routed to.
    for worker in 0..COMMENTERS {
        let desk = desk.clone();
        workers.push(tokio::spawn(async move {
            let desk = &desk;
            desk.paced(WRITE_PAUSE, |n| async move {
                let ticket = {
                    let recent = desk.recent.lock().unwrap();
                    (!recent.is_empty()).then(|| {
                        recent[(spread(7 + worker as u64, n) as usize) % recent.len()].clone()
                    })
                };
                if let Some(ticket) = ticket {
                    let body = json!({ "query": COMMENT, "variables": { "input": {
                        "ticketId": ticket, "body": format!("Looking at it ({worker}-{n})."),
                    } } });
                    if desk
                        .send("addComment", &desk.manager, &body)
                        .await
                        .is_some()
                    {
                        desk.counts.comments.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
            .await
        }));
    }
    for worker in 0..SUBSCRIBERS {
        let desk = desk.clone();
        workers.push(tokio::spawn(async move {
            let desk = &desk;
            desk.paced(Duration::ZERO, |n| async move {
                let hold = Duration::from_secs(10 + spread(worker as u64, n) % 50);
                let group = 1 + (spread(worker as u64 + 100, n) % 50) as i64;
                let (query, variables) = if worker % 4 == 0 {
                    (SLA_ALERTS, json!({}))
                } else {
                    (QUEUE, json!({ "g": global_id("Group", group) }))
                };
                // Supervisors' wallboards: a manager may watch every queue.
                if let Err(e) = subscribe_for(desk, query, variables, hold).await {
                    desk.counts.failed("subscription", e);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            })
            .await
        }));
    }

    // The sampler.
    let started = Instant::now();
    let deadline = started + Duration::from_secs(minutes * 60);
    let interval = Duration::from_secs(options.sample_seconds);
    let mut samples: Vec<Sample> = Vec::new();
    let mut last = (Instant::now(), 0u64);
    print_header();
    while Instant::now() < deadline {
        tokio::time::sleep(interval.min(deadline - Instant::now())).await;
        let now = Instant::now();
        let requests = counts.requests.load(Ordering::Relaxed);
        let metrics = scrape(&client, &base).await;
        let metric = |name: &str| {
            metrics
                .iter()
                .find(|(n, _)| n == name)
                .map_or(f64::NAN, |(_, v)| *v)
        };
        let sample = Sample {
            minute: started.elapsed().as_secs_f64() / 60.0,
            rss_mib: rss_mib(&server),
            fds: open_descriptors(&server),
            db_mib: database_mib(data_dir.path(), pg_database.as_deref()),
            pool_in_use: metric("switchboard_db_pool_connections{state=\"in_use\"}"),
            relay_lag_s: metric("switchboard_relay_lag_seconds"),
            relay_backlog: metric("switchboard_relay_backlog_events"),
            sockets: metric("switchboard_websocket_connections"),
            requests_per_s: (requests - last.1) as f64 / (now - last.0).as_secs_f64(),
            failures: counts.failures.load(Ordering::Relaxed),
            tickets: counts.tickets.load(Ordering::Relaxed),
            webhooks: counts.webhooks.load(Ordering::Relaxed),
            mails: counts.mails.load(Ordering::Relaxed),
            sla_alerts: counts.sla_alerts.load(Ordering::Relaxed),
        };
        last = (now, requests);
        print_row(&sample);
        samples.push(sample);
    }
    desk.stop.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.await;
    }

    let mails = counts.mails.load(Ordering::Relaxed);
    let distinct = message_ids.lock().unwrap().len() as u64;
    println!(
        "workload: {} requests, {} tickets, {} comments, {} subscriptions ({} messages), {} webhooks, {} mails ({} distinct Message-IDs), {} failed",
        counts.requests.load(Ordering::Relaxed),
        counts.tickets.load(Ordering::Relaxed),
        counts.comments.load(Ordering::Relaxed),
        counts.subscriptions.load(Ordering::Relaxed),
        counts.messages.load(Ordering::Relaxed),
        counts.webhooks.load(Ordering::Relaxed),
        mails,
        distinct,
        counts.failures.load(Ordering::Relaxed),
    );
    for (kind, failure) in counts.first_failures.lock().unwrap().iter() {
        println!(
            "  first failure of {kind}: {}",
            failure.chars().take(300).collect::<String>()
        );
    }
    judge(&samples);
    let plot = options
        .plot
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("soak-{backend}.svg")));
    draw(&samples, backend, &plot);
    println!("plotted: {}", plot.display());
    let _ = server.kill();
    let _ = server.wait();
}

/// A number that looks random enough to spread work, the same for the same inputs.
fn spread(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 29)
}

/// Holds one subscription on a socket of its own for `hold`, counting what arrives.
async fn subscribe_for(
    desk: &Desk,
    query: &str,
    variables: Value,
    hold: Duration,
) -> Result<(), String> {
    let (token, counts, stop) = (&desk.manager, &desk.counts, &desk.stop);
    let mut request = desk
        .ws_url
        .as_str()
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| format!("websocket: {e}"))?;
    let send = |v: Value| Message::Text(v.to_string().into());
    socket
        .send(send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })))
        .await
        .map_err(|e| e.to_string())?;
    socket
        .send(send(json!({ "id": "1", "type": "subscribe", "payload": { "query": query, "variables": variables } })))
        .await
        .map_err(|e| e.to_string())?;
    counts.subscriptions.fetch_add(1, Ordering::Relaxed);
    let until = tokio::time::Instant::now() + hold;
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        match tokio::time::timeout_at(
            until.min(tokio::time::Instant::now() + Duration::from_secs(1)),
            socket.next(),
        )
        .await
        {
            Err(_) if tokio::time::Instant::now() >= until => break,
            Err(_) => continue,
            Ok(None) => return Err("the server closed a subscriber's socket".into()),
            Ok(Some(Err(e))) => return Err(format!("websocket: {e}")),
            Ok(Some(Ok(Message::Text(text)))) => {
                let message: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                match message["type"].as_str() {
                    Some("next") if message["payload"].get("errors").is_none() => {
                        counts.messages.fetch_add(1, Ordering::Relaxed);
                    }
                    Some("next" | "error") => return Err(format!("subscription: {message}")),
                    Some("ping") => {
                        let _ = socket.send(send(json!({ "type": "pong" }))).await;
                    }
                    _ => {}
                }
            }
            Ok(Some(Ok(_))) => {}
        }
    }
    let _ = socket
        .send(send(json!({ "id": "1", "type": "complete" })))
        .await;
    let _ = socket.close(None).await;
    Ok(())
}

/// Every series of /metrics with its labels as written there, and its value.
async fn scrape(client: &reqwest::Client, base: &str) -> Vec<(String, f64)> {
    let Ok(response) = client.get(format!("{base}/metrics")).send().await else {
        return Vec::new();
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect()
}

fn open_descriptors(server: &Child) -> f64 {
    std::fs::read_dir(format!("/proc/{}/fd", server.id())).map_or(f64::NAN, |d| d.count() as f64)
}

/// The database's size on disk: SQLite's file with its write-ahead log, or what
/// PostgreSQL reports for the database.
fn database_mib(data_dir: &std::path::Path, pg_database: Option<&str>) -> f64 {
    let bytes = match pg_database {
        Some(name) => Postgres::shared()
            .psql(name, "SELECT pg_database_size(current_database())")
            .parse::<f64>()
            .unwrap_or(f64::NAN),
        None => ["switchboard.db", "switchboard.db-wal", "switchboard.db-shm"]
            .iter()
            .filter_map(|f| std::fs::metadata(data_dir.join(f)).ok())
            .map(|m| m.len() as f64)
            .sum(),
    };
    bytes / (1024.0 * 1024.0)
}
