//! The live scenarios (`--live`): how fast and how lightly a change reaches many
//! subscribers.
//!
//! - Fan-out: N graphql-transport-ws sockets (1,000, 5,000, 10,000), each holding one
//!   `queueChanged(groupId)` subscription asking for `kind` and `event { seq ticketNumber }`,
//!   then five rounds (`--rounds`) of one `createTicket` into that queue. Per round:
//!   the latency from sending the mutation to each socket's message (first, p50, p99,
//!   max: the first is the pipeline's own delay, the rest the spread of the fan-out) and
//!   the sockets that got nothing within ten seconds. The server's memory is read idle
//!   and with the N subscribers held, and their difference divided by N is the cost of
//!   a subscriber. Each round also prints the CPU time the server spent on it, and the
//!   generator's own: they share the machine's two cores, and receiving the messages
//!   costs CPU too. Before each size, the same rounds with raw sockets and nothing else
//!   (`floor`) show what the machine's kernel alone allows.
//!   The sockets belong to twenty managers: people who may see the same, sharing one
//!   rendering, as a desk's wallboards and supervisors do.
//! - Across replicas (PostgreSQL and Redis): fifty subscribers on replica B, a ticket
//!   created on replica A, twenty rounds; the latency from sending the mutation to each
//!   message on B.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::{SinkExt, StreamExt};
use serde_json::json;
use switchboard::config::Settings;
use switchboard_tests::{
    server::global_id,
    services::{Postgres, Redis, free_port},
};
use tokio_tungstenite::tungstenite::{
    Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
};

use super::{Options, percentile_ms, post, rss_mib, seed, start_server, token, wait_until_up};

const QUEUE: &str =
    "subscription($g: ID!) { queueChanged(groupId: $g) { kind event { seq ticketNumber } } }";
const CREATE: &str =
    "mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket { number } } }";
/// Sockets opened at once while connecting.
const OPENING: usize = 100;
/// People the sockets belong to (each may hold many).
const WATCHERS: usize = 20;

/// A message's arrival: the ticket it was about, and when.
type Arrival = (String, Instant);

/// Where the sockets note their messages' arrivals, for the round to collect. A list
/// under a lock rather than a channel: a channel wakes its reader for nearly every
/// message, and those wake-ups took CPU from the two cores the server runs on (five
/// rounds at 10,000 made 20,000 `futex` calls with the channel, 7,000 with the list).
type Arrivals = Arc<Mutex<Vec<Arrival>>>;

pub async fn run(backend: &str, options: &Options) {
    let data_dir = tempfile::tempdir().expect("a temporary directory");
    let mut settings = Settings {
        data_dir: Some(data_dir.path().display().to_string()),
        ..Default::default()
    };
    if backend == "postgres" {
        let (_, url) = Postgres::shared().create_database();
        settings.database_url = Some(url);
    }
    let config = switchboard::Config::from_settings(&settings).expect("valid settings");
    let seeded = seed(&config.database, 1_000).await;
    let group = global_id("Group", seeded.group_ids[0]);
    // Redis as the issue measured it: the bus several replicas would share.
    let redis = (backend == "postgres").then(Redis::start);
    let with_redis = redis.as_ref().map(Redis::url);
    let rounds = options.rounds;
    println!("\n== {backend}: live, one queue, {rounds} rounds of one createTicket");
    println!(
        "{:<28} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7} {:>10} {:>8} {:>8}",
        "subscribers",
        "round",
        "first ms",
        "p50 ms",
        "p99 ms",
        "max ms",
        "missed",
        "RSS MiB",
        "CPU ms",
        "gen CPU"
    );
    for &n in &options.subscribers {
        print_floor(n, rounds);
        let port = free_port();
        let mut env = vec![("SWITCHBOARD_WS_MAX_CONNECTIONS", n.to_string())];
        if let Some(url) = &with_redis {
            env.push(("REDIS_URL", url.clone()));
        }
        let mut server = start_server(options, &settings, port, &env);
        let base = format!("http://127.0.0.1:{port}/graphql");
        wait_until_up(&base).await;
        let client = reqwest::Client::new();
        let manager = token("bench-manager", &["manager"]);
        // The watchers exist before their sockets open, as people do.
        for w in 0..WATCHERS {
            let watcher = token(&format!("bench-watcher-{w}"), &["manager"]);
            post(
                &client,
                &base,
                &watcher,
                &json!({ "query": "{ viewer { id } }" }),
            )
            .await
            .expect("the watcher signs in");
        }
        let idle = rss_mib(&server);
        let ws_url = format!("ws://127.0.0.1:{port}/graphql/ws");
        let arrivals = Arrivals::default();
        let opened = futures::stream::iter(0..n)
            .map(|i| {
                let watcher = token(&format!("bench-watcher-{}", i % WATCHERS), &["manager"]);
                subscribe(ws_url.clone(), watcher, group.clone(), arrivals.clone())
            })
            .buffer_unordered(OPENING)
            .collect::<Vec<_>>()
            .await;
        let failed = opened.iter().filter(|ok| !**ok).count();
        wait_for_subscriptions(&client, port, n - failed).await;
        let held = rss_mib(&server);
        println!(
            "{:<28} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7} {:>10.1}",
            format!("{n} (idle server)"),
            "",
            "",
            "",
            "",
            "",
            failed,
            idle
        );
        for round in 1..=rounds {
            let (cpu, generator_cpu) = (cpu_ms(server.id()), cpu_ms(std::process::id()));
            let sent = Instant::now();
            let number = create_in_queue(
                &client,
                &base,
                &manager,
                &group,
                &format!("Fan-out {round}"),
            )
            .await;
            let mut latencies = collect(&arrivals, &number, n, sent).await;
            latencies.sort_unstable();
            let at = |p: f64| percentile_ms(&latencies, p);
            println!(
                "{:<28} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>7} {:>10.1} {:>8.0} {:>8.0}",
                format!("{n} subscribers"),
                round,
                at(0.0),
                at(0.5),
                at(0.99),
                at(1.0),
                n - latencies.len(),
                rss_mib(&server),
                cpu_ms(server.id()) - cpu,
                cpu_ms(std::process::id()) - generator_cpu,
            );
        }
        println!(
            "{:<28} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7} {:>10.1}",
            format!("  {:.1} KB a subscriber", (held - idle) * 1024.0 / n as f64),
            "",
            "",
            "",
            "",
            "",
            "",
            held
        );
        let _ = server.kill();
        let _ = server.wait();
        // Let the client side of the sockets wind down before the next size.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    if let Some(redis) = &redis {
        across_replicas(options, &settings, &group, redis).await;
    }
}

/// The same fan-out with nothing but raw sockets (see `floor`), a row a round.
fn print_floor(n: usize, rounds: usize) {
    // Blocking, on this thread: nothing else runs meanwhile.
    let measured = tokio::task::block_in_place(|| super::floor::measure(n, rounds));
    let results = match measured {
        Ok(results) => results,
        Err(error) => {
            println!(
                "{n} floor: cannot measure it ({error}); is ulimit -n at least {n} plus a few?"
            );
            return;
        }
    };
    for (
        round,
        super::floor::Round {
            mut latencies,
            cpu_ms,
        },
    ) in results.into_iter().enumerate()
    {
        latencies.sort_unstable();
        let at = |p: f64| percentile_ms(&latencies, p);
        println!(
            "{:<28} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>7} {:>10} {:>8} {:>8.0}",
            format!("{n} floor (raw TCP)"),
            round + 1,
            at(0.0),
            at(0.5),
            at(0.99),
            at(1.0),
            n - latencies.len(),
            "",
            cpu_ms,
            ""
        );
    }
}

/// Fifty subscribers on replica B, twenty tickets created on replica A.
async fn across_replicas(options: &Options, settings: &Settings, group: &str, redis: &Redis) {
    let env = [("REDIS_URL", redis.url())];
    let (port_a, port_b) = (free_port(), free_port());
    let mut a = start_server(options, settings, port_a, &env);
    let mut b = start_server(options, settings, port_b, &env);
    let base_a = format!("http://127.0.0.1:{port_a}/graphql");
    wait_until_up(&base_a).await;
    wait_until_up(&format!("http://127.0.0.1:{port_b}/graphql")).await;
    let client = reqwest::Client::new();
    let manager = token("bench-manager", &["manager"]);
    let arrivals = Arrivals::default();
    const SUBSCRIBERS: usize = 50;
    const ROUNDS: usize = 20;
    for _ in 0..SUBSCRIBERS {
        let watcher = token("bench-watcher-0", &["manager"]);
        let url = format!("ws://127.0.0.1:{port_b}/graphql/ws");
        assert!(subscribe(url, watcher, group.to_string(), arrivals.clone()).await);
    }
    wait_for_subscriptions(&client, port_b, SUBSCRIBERS).await;
    let mut latencies = vec![];
    for round in 0..ROUNDS {
        let sent = Instant::now();
        let title = format!("Across {round}");
        let number = create_in_queue(&client, &base_a, &manager, group, &title).await;
        latencies.extend(collect(&arrivals, &number, SUBSCRIBERS, sent).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    latencies.sort_unstable();
    let at = |p: f64| percentile_ms(&latencies, p);
    println!(
        "\n== postgres + Redis: created on replica A, {SUBSCRIBERS} subscribers on B, {ROUNDS} rounds"
    );
    println!(
        "deliveries {} of {}, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (from sending the mutation)",
        latencies.len(),
        SUBSCRIBERS * ROUNDS,
        at(0.5),
        at(0.99),
        at(1.0)
    );
    for server in [&mut a, &mut b] {
        let _ = server.kill();
        let _ = server.wait();
    }
}

/// Creates a ticket in the queue through `base`; its number.
async fn create_in_queue(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    group: &str,
    title: &str,
) -> String {
    let input = json!({ "kind": "INCIDENT", "title": title, "groupId": group, "impact": "LOW", "urgency": "LOW" });
    let created = post(
        client,
        base,
        token,
        &json!({ "query": CREATE, "variables": { "input": input } }),
    )
    .await
    .expect("the ticket is created");
    created["createTicket"]["ticket"]["number"]
        .as_str()
        .expect("the ticket has a number")
        .to_string()
}

/// Opens a socket, subscribes to the queue, and reports every message's arrival until
/// the socket closes. Says whether the subscription was taken.
async fn subscribe(url: String, token: String, group: String, arrivals: Arrivals) -> bool {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    // Small buffers: ten thousand sockets in this process too. tungstenite zeroes the
    // whole read buffer before every read; the messages are about 120 bytes.
    let config = WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(0);
    let Ok((mut socket, _)) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), false).await
    else {
        return false;
    };
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    let subscribe = json!({ "id": "q", "type": "subscribe", "payload": { "query": QUEUE, "variables": { "g": group } } });
    if socket
        .send(Message::Text(init.to_string().into()))
        .await
        .is_err()
    {
        return false;
    }
    match socket.next().await {
        Some(Ok(Message::Text(text))) if text.contains("connection_ack") => {}
        _ => return false,
    }
    if socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .is_err()
    {
        return false;
    }
    tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            // Read without parsing the whole message: the generator shares the machine
            // with the server, and ten thousand parses a round would be its time, not
            // the server's.
            if text.contains(r#""type":"ping""#) {
                let pong = json!({ "type": "pong" }).to_string();
                let _ = socket.send(Message::Text(pong.into())).await;
                continue;
            }
            let Some(number) = ticket_number(&text) else {
                continue;
            };
            let at = Instant::now();
            arrivals
                .lock()
                .expect("arrivals poisoned")
                .push((number.to_string(), at));
        }
    });
    true
}

/// The CPU time a process (the server, or the generator itself) has used so far, user
/// and system, in milliseconds: what a round cost each of the two sharing the cores.
pub fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses: utime is the 12th, stime
    // the 13th, in clock ticks of 10 ms.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) * 10.0
}

/// The `ticketNumber` a queue message carries.
fn ticket_number(text: &str) -> Option<&str> {
    const KEY: &str = r#""ticketNumber":""#;
    let start = text.find(KEY)? + KEY.len();
    let length = text[start..].find('"')?;
    Some(&text[start..start + length])
}

/// The latencies, from `sent`, of the first `expected` arrivals about `number`, waiting
/// at most ten seconds for them. Looks every two milliseconds: each arrival's time was
/// taken by its socket, so looking late changes no figure.
async fn collect(arrivals: &Arrivals, number: &str, expected: usize, sent: Instant) -> Vec<u64> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut latencies = Vec::with_capacity(expected);
    while latencies.len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let arrived = std::mem::take(&mut *arrivals.lock().expect("arrivals poisoned"));
        latencies.extend(
            arrived
                .into_iter()
                .filter(|(about, _)| about == number)
                .map(|(_, at)| at.duration_since(sent).as_micros() as u64),
        );
    }
    latencies.truncate(expected);
    latencies
}

/// Waits until the server runs `expected` subscriptions (its /metrics says so).
async fn wait_for_subscriptions(client: &reqwest::Client, port: u16, expected: usize) {
    let url = format!("http://127.0.0.1:{port}/metrics");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut running = 0;
    while Instant::now() < deadline {
        let text = client.get(&url).send().await.unwrap().text().await.unwrap();
        running = text
            .lines()
            .find_map(|line| {
                line.strip_prefix("switchboard_subscriptions ")?
                    .parse()
                    .ok()
            })
            .unwrap_or(0);
        if running >= expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("only {running} of {expected} subscriptions started");
}
