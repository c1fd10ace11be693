//! The load generator: `./bench.sh` (see BENCHMARKS.md).
//!
//! For each backend it makes a database of its own, fills it with bulk SQL (100,000
//! tickets over 2,000 users, 50 groups and 100 organizations unless told otherwise),
//! starts the release server against it as a child process, and drives each scenario
//! from many connections for a fixed time. Every response is checked: a non-200, or a
//! 200 whose body carries `errors`, counts as a failure. It reports throughput,
//! p50/p99 latency and the server's resident memory after the scenario; on PostgreSQL
//! it also runs the page's SQL through `pgbench` with prepared statements, the floor
//! the page is measured against (and the bare page's, for what the relations cost the
//! database itself), and the same page through PostGraphile 5 on the same rows (see
//! `postgraphile`), the product it is compared with.
//!
//! With `--live` it runs the live scenarios instead (see `fanout`, its floor in
//! `floor`, and `alerts` for the SLA engine on PostgreSQL). With `--soak MINUTES` it
//! holds a mixed desk for that long and samples what the server keeps (see `soak`);
//! with `--fuzz CASES` it runs the schema fuzzer that long (see `fuzzing`).

mod alerts;
mod fanout;
mod floor;
mod fuzzing;
mod postgraphile;
mod soak;
mod storm;
mod uploads;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use switchboard::{
    config::{DatabaseConfig, Settings},
    db::Db,
};
use switchboard_tests::{
    server::sign_hs256,
    services::{Postgres, free_port},
};

const JWT_SECRET: &str = switchboard_tests::server::JWT_SECRET;

/// The page a dashboard lists: 50 tickets with the four people and places around them.
const PAGE: &str = "{ tickets(first: 50) { edges { node { id number title status priority
    requester { name } assignee { name } group { name } organization { name } } } } }";
/// The same page without its relations: what the relations cost is the difference.
const PAGE_BARE: &str =
    "{ tickets(first: 50) { edges { node { id number title status priority } } } }";
/// The page with each ticket's SLA clocks.
const PAGE_SLA: &str = "{ tickets(first: 50) { edges { node { id number title status priority
    requester { name } assignee { name } group { name } organization { name }
    slaClocks { metric state dueAt } } } } }";
const CREATE: &str =
    "mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket { id number } } }";
const READ_VERSION: &str = "query($n: String!) { ticket(number: $n) { id version } }";
const UPDATE: &str =
    "mutation($input: UpdateTicketInput!) { updateTicket(input: $input) { ticket { version } } }";

struct Options {
    backends: Vec<String>,
    tickets: u64,
    seconds: u64,
    server: PathBuf,
    /// Run the live scenarios instead of the request ones.
    live: bool,
    /// How many subscribers the fan-out scenario holds, one size after another.
    subscribers: Vec<usize>,
    /// How many tickets the fan-out scenario creates at each size, one a round (more
    /// rounds give a profiler something to look at).
    rounds: usize,
    /// Run the soak for this many minutes instead of the scenarios.
    soak: Option<u64>,
    /// How often the soak samples the server.
    sample_seconds: u64,
    /// Where the soak draws its series (an SVG); `soak-<backend>.svg` unless given.
    plot: Option<PathBuf>,
    /// Run the schema fuzzer with this many cases per field and caller instead.
    fuzz: Option<usize>,
    /// The fuzzer's seed.
    fuzz_seed: u64,
}

fn options() -> Options {
    let mut options = Options {
        backends: vec!["postgres".into(), "sqlite".into()],
        tickets: 100_000,
        seconds: 10,
        server: Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/switchboard"),
        live: false,
        subscribers: vec![1_000, 5_000, 10_000],
        rounds: 5,
        soak: None,
        sample_seconds: 60,
        plot: None,
        fuzz: None,
        fuzz_seed: 0x5157_C4B0_A12D,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--backend" => options.backends = vec![value()],
            "--tickets" => options.tickets = value().parse().expect("--tickets is a number"),
            "--seconds" => options.seconds = value().parse().expect("--seconds is a number"),
            "--server" => options.server = value().into(),
            "--live" => options.live = true,
            "--subscribers" => {
                options.subscribers = value()
                    .split(',')
                    .map(|n| {
                        n.trim()
                            .parse()
                            .expect("--subscribers is a list of numbers")
                    })
                    .collect()
            }
            "--rounds" => options.rounds = value().parse().expect("--rounds is a number"),
            "--soak" => {
                options.soak = Some(value().parse().expect("--soak is a number of minutes"))
            }
            "--sample-seconds" => {
                options.sample_seconds = value().parse().expect("--sample-seconds is a number")
            }
            "--plot" => options.plot = Some(value().into()),
            "--fuzz" => options.fuzz = Some(value().parse().expect("--fuzz is a number of cases")),
            "--seed" => options.fuzz_seed = value().parse().expect("--seed is a number"),
            other => panic!(
                "unknown argument {other}: use --backend postgres|sqlite, --tickets N, --seconds S, --server PATH, --live, --subscribers N,N, --rounds N, --soak MINUTES, --sample-seconds S, --plot FILE.svg, --fuzz CASES, --seed N"
            ),
        }
    }
    options
}

#[tokio::main]
async fn main() {
    // The floor's writing side (see `floor`), when this binary runs as it.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, n] = &args[..]
        && flag == "--floor-writer"
    {
        let n = n.parse().expect("--floor-writer takes a number of sockets");
        floor::writer(n).expect("the floor writer runs");
        return;
    }
    let options = options();
    assert!(
        options.server.exists(),
        "no server at {}: build it with `cargo build --release -p switchboard`",
        options.server.display()
    );
    println!(
        "switchboard-bench: {} tickets, {} s a scenario, {} cores",
        options.tickets,
        options.seconds,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for backend in &options.backends {
        if let Some(cases) = options.fuzz {
            fuzzing::run(backend, &options, cases).await;
        } else if let Some(minutes) = options.soak {
            soak::run(backend, &options, minutes).await;
        } else if options.live {
            fanout::run(backend, &options).await;
            if backend == "postgres" {
                alerts::run(&options).await;
            }
        } else {
            run_backend(backend, &options).await;
        }
    }
}

async fn run_backend(backend: &str, options: &Options) {
    let data_dir = tempfile::tempdir().expect("a temporary directory");
    let mut settings = Settings {
        data_dir: Some(data_dir.path().display().to_string()),
        ..Default::default()
    };
    let postgres = (backend == "postgres").then(Postgres::shared);
    let mut pg_database = None;
    if let Some(pg) = postgres {
        let (name, url) = pg.create_database();
        settings.database_url = Some(url);
        pg_database = Some(name);
    }
    let config = switchboard::Config::from_settings(&settings).expect("valid settings");
    let seeding = Instant::now();
    let seeded = seed(&config.database, options.tickets).await;
    println!(
        "\n== {backend}: seeded {} tickets in {:.1} s",
        options.tickets,
        seeding.elapsed().as_secs_f64()
    );

    let port = free_port();
    let mut server = start_server(options, &settings, port, &[]);
    let base = format!("http://127.0.0.1:{port}/graphql");
    wait_until_up(&base).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let manager = token("bench-manager", &["manager"]);
    let agent = token("bench-agent", &["agent"]);
    println!(
        "{:<34} {:>6} {:>9} {:>9} {:>9} {:>8} {:>9}",
        "scenario", "conns", "req/s", "p50 ms", "p99 ms", "failed", "RSS MiB"
    );
    let idle = rss_mib(&server);
    println!(
        "{:<34} {:>6} {:>9} {:>9} {:>9} {:>8} {:>9.1}",
        "idle server", "", "", "", "", "", idle
    );

    let duration = Duration::from_secs(options.seconds);
    let (mut page, mut page_at_8, mut bare) = (0.0, 0.0, 0.0);
    // The page at 8 connections too, on the same rows as at 32 (the storm's control runs
    // later, over the newest tickets createTicket made, whose relations are fewer):
    // whether fewer requests at once change what a page costs.
    for (name, query, connections) in [
        ("page, 4 relations", PAGE, 32),
        ("page, 4 relations, 8 connections", PAGE, 8),
        ("page, no relations", PAGE_BARE, 32),
        ("page, 4 relations + SLA clocks", PAGE_SLA, 32),
    ] {
        let query = Arc::new(json!({ "query": query }));
        let result = drive(
            &client,
            &base,
            &manager,
            connections,
            duration,
            move |_, _| Request::Once(query.clone()),
        )
        .await;
        result.print(name, connections, rss_mib(&server));
        match name {
            "page, 4 relations" => page = result.rate(),
            "page, 4 relations, 8 connections" => page_at_8 = result.rate(),
            "page, no relations" => bare = result.rate(),
            _ => {}
        }
    }

    // PostGraphile on the same rows, the same page, the same connections.
    let postgraphile_page = match settings.database_url.as_deref() {
        Some(url) => postgraphile::measure(&client, url, duration, page).await,
        None => None,
    };

    // pgbench's floors over the same rows as the pages above, before createTicket and
    // the storm add tickets: the newest of those have no assignee, group or
    // organization, and a page of them costs PostgreSQL a fraction of the seeded page.
    if let (Some(pg), Some(database)) = (postgres, &pg_database) {
        let floor = pgbench(pg, database, &page_sql(&seeded), "", options.seconds);
        println!(
            "{:<34} {:>6} {:>9.0}   page at {:.0}% of the floor (at 8 connections {:.0}%){}",
            "pgbench, the page's SQL (prepared)",
            4,
            floor,
            100.0 * page / floor,
            100.0 * page_at_8 / floor,
            postgraphile_page.map_or(String::new(), |p| format!(
                ", PostGraphile's at {:.0}%",
                100.0 * p / floor
            ))
        );
        // What the relations cost PostgreSQL itself: the bare page's statement alone, and
        // the page in one statement with its relations joined, as the planned path reads it.
        // The joined page twice: as PostgreSQL plans it by default, and as the server's
        // connections run it (no memoized lookups, see `db.rs`).
        let bare_floor = pgbench(pg, database, BARE_SQL, "", options.seconds);
        let joined_floor = pgbench(pg, database, JOINED_SQL, "", options.seconds);
        let unmemoized_floor = pgbench(
            pg,
            database,
            JOINED_SQL,
            "-c enable_memoize=off",
            options.seconds,
        );
        println!(
            "{:<34} {:>6} {:>9.0}",
            "pgbench, the bare page's SQL", 4, bare_floor,
        );
        println!(
            "{:<34} {:>6} {:>9.0}   relations cost the floor {:.0}% (joined {:.0}%), Switchboard {:.0}%",
            "pgbench, the page joined",
            4,
            joined_floor,
            100.0 * (1.0 - floor / bare_floor),
            100.0 * (1.0 - joined_floor / bare_floor),
            100.0 * (1.0 - page / bare)
        );
        println!(
            "{:<34} {:>6} {:>9.0}   relations cost the floor {:.0}% joined as the server runs it",
            "pgbench, the page joined, no memo",
            4,
            unmemoized_floor,
            100.0 * (1.0 - unmemoized_floor / bare_floor),
        );
    }

    let create = drive(&client, &base, &agent, 16, duration, |worker, n| {
        Request::Once(Arc::new(json!({ "query": CREATE, "variables": { "input": {
            "kind": "INCIDENT", "title": format!("Bench {worker}-{n}"), "impact": "MEDIUM", "urgency": "HIGH",
        } } })))
    })
    .await;
    create.print("createTicket", 16, rss_mib(&server));

    let hot = seeded.hot_ticket.clone();
    // A manager sees every queue: the hot ticket is the newest, whatever its group.
    let update = drive(&client, &base, &manager, 16, duration, move |worker, n| {
        Request::ReadThenWrite {
            number: hot.clone(),
            title: format!("Hot {worker}-{n}"),
        }
    })
    .await;
    update.print("updateTicket, one hot ticket", 16, rss_mib(&server));
    println!(
        "{:<34} {:>6} {:>9}",
        "  (version conflicts retried)", "", update.conflicts
    );

    uploads::run(
        &client,
        &format!("http://127.0.0.1:{port}"),
        &manager,
        &server,
    )
    .await;

    storm::run(
        &client,
        &format!("http://127.0.0.1:{port}"),
        &token("bench-admin", &["admin"]),
        &manager,
        &server,
        options.seconds,
    )
    .await;

    let _ = server.kill();
    let _ = server.wait();
}

/// What the seed made that the scenarios need.
struct Seeded {
    hot_ticket: String,
    /// The newest tickets' requester, assignee, group and organization ids, for pgbench.
    user_ids: Vec<i64>,
    group_ids: Vec<i64>,
    organization_ids: Vec<i64>,
}

/// Fills the database with bulk SQL: organizations, users (the first 200 agents), groups
/// of ten agents, and tickets spread over them.
async fn seed(database: &DatabaseConfig, tickets: u64) -> Seeded {
    use sea_orm::ConnectionTrait;
    let db = Db::connect(database).await.expect("the database opens");
    db.migrate().await.expect("migrations apply");
    let conn = db.conn();
    let postgres = matches!(database, DatabaseConfig::Postgres { .. });
    let (series, now, json) = if postgres {
        ("generate_series(1, {n}) AS s(n)", "now()", "::json")
    } else {
        ("s", "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')", "")
    };
    let from = |n: u64| {
        if postgres {
            series.replace("{n}", &n.to_string())
        } else {
            format!(
                "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) SELECT n FROM s) AS s"
            )
        }
    };
    let ago = |seconds: &str| {
        if postgres {
            format!("now() - ({seconds}) * interval '1 second'")
        } else {
            format!("strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '-' || ({seconds}) || ' seconds')")
        }
    };
    let statements = [
        format!(
            "INSERT INTO organizations (name, requesters_see_all_tickets, created_at)
             SELECT 'Organization ' || n, false, {now} FROM {}",
            from(100)
        ),
        format!(
            "INSERT INTO users (subject, name, email, roles, groups, created_at, updated_at, organization_id, available)
             SELECT 'user' || n, 'User ' || n, 'user' || n || '@example.com',
                    CASE WHEN n <= 200 THEN '[\"agent\"]'{json} ELSE '[\"requester\"]'{json} END,
                    '[]'{json}, {now}, {now}, 1 + n % 100, true
             FROM {}",
            from(2000)
        ),
        format!(
            "INSERT INTO groups (name, description, tier, created_at)
             SELECT 'Group ' || n, '', 1, {now} FROM {}",
            from(50)
        ),
        "INSERT INTO group_members (group_id, user_id) SELECT 1 + (id - 1) % 50, id FROM users WHERE id <= 200".to_string(),
        format!(
            "INSERT INTO tickets (number, kind, status, title, description, impact, urgency, priority,
                requester_id, organization_id, group_id, assignee_id, channel, escalation_level,
                search_text, internal_search_text, created_at, updated_at, version)
             SELECT 'BEN' || n, 'INCIDENT',
                    CASE n % 4 WHEN 0 THEN 'NEW' WHEN 1 THEN 'ASSIGNED' WHEN 2 THEN 'IN_PROGRESS' ELSE 'RESOLVED' END,
                    'Printer on floor ' || (n % 40) || ' is jammed',
                    'The printer shows an error and prints nothing. Ticket ' || n,
                    'MEDIUM', 'MEDIUM', 1 + n % 4,
                    201 + n % 1800, 1 + (201 + n % 1800) % 100, 1 + n % 50,
                    CASE WHEN n % 4 = 0 THEN NULL ELSE 1 + n % 200 END,
                    'PORTAL', 0,
                    'printer on floor ' || (n % 40) || ' is jammed', '',
                    {}, {}, 1
             FROM {}",
            ago(&format!("{tickets} - n")),
            ago(&format!("{tickets} - n")),
            from(tickets)
        ),
    ];
    for statement in statements {
        conn.execute_unprepared(&statement)
            .await
            .unwrap_or_else(|e| panic!("seeding failed: {e}\n{statement}"));
    }
    if postgres {
        conn.execute_unprepared("ANALYZE").await.unwrap();
    }
    // The newest page's tickets: who and what pgbench looks up for them.
    type Row = (Option<i64>, Option<i64>, Option<i64>, Option<i64>, String);
    let newest: Vec<Row> = {
        use entity::ticket::{Column, Entity};
        use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
        Entity::find()
            .select_only()
            .columns([
                Column::RequesterId,
                Column::AssigneeId,
                Column::GroupId,
                Column::OrganizationId,
                Column::Number,
            ])
            .order_by_desc(Column::Id)
            .limit(50)
            .into_tuple()
            .all(conn)
            .await
            .unwrap()
    };
    let distinct = |ids: Vec<Option<i64>>| {
        let mut ids: Vec<i64> = ids.into_iter().flatten().collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let user_ids = distinct(newest.iter().flat_map(|t| [t.0, t.1]).collect());
    let group_ids = distinct(newest.iter().map(|t| t.2).collect());
    let organization_ids = distinct(newest.iter().map(|t| t.3).collect());
    Seeded {
        hot_ticket: newest[0].4.clone(),
        user_ids,
        group_ids,
        organization_ids,
    }
}

fn start_server(
    options: &Options,
    settings: &Settings,
    port: u16,
    env: &[(&str, String)],
) -> Child {
    server_command(options, settings, port, env)
        .spawn()
        .expect("the server starts")
}

/// The release server's command for these settings and port, its output discarded
/// (a caller that wants its log sets `stderr`).
fn server_command(
    options: &Options,
    settings: &Settings,
    port: u16,
    env: &[(&str, String)],
) -> Command {
    let mut command = Command::new(&options.server);
    command.envs(env.iter().map(|(name, value)| (name, value)));
    command
        .env("SWITCHBOARD_BIND", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_JWT_SECRET", JWT_SECRET)
        .env(
            "SWITCHBOARD_DATA_DIR",
            settings.data_dir.as_deref().unwrap(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = &settings.database_url {
        command.env("DATABASE_URL", url);
    }
    command
}

async fn wait_until_up(base: &str) {
    let health = base.replace("/graphql", "/readyz");
    for _ in 0..200 {
        if reqwest::get(&health)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up at {health}");
}

fn token(sub: &str, roles: &[&str]) -> String {
    let now = chrono::Utc::now().timestamp();
    sign_hs256(
        &json!({ "sub": sub, "name": sub, "roles": roles, "exp": now + 86_400, "nbf": now - 10 }),
    )
}

fn rss_mib(server: &Child) -> f64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", server.id())).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

enum Request {
    Once(Arc<Value>),
    /// Reads the ticket's version and updates it, again on CONFLICT (someone else won).
    ReadThenWrite {
        number: String,
        title: String,
    },
}

#[derive(Default)]
struct Outcome {
    latencies_us: Vec<u64>,
    failures: u64,
    conflicts: u64,
    first_failure: Option<String>,
    elapsed: Duration,
}

impl Outcome {
    fn rate(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        percentile_ms(&self.latencies_us, p)
    }

    fn print(&self, name: &str, connections: usize, rss: f64) {
        println!(
            "{:<34} {:>6} {:>9.0} {:>9.1} {:>9.1} {:>8} {:>9.1}",
            name,
            connections,
            self.rate(),
            self.percentile(0.5),
            self.percentile(0.99),
            self.failures,
            rss
        );
        if let Some(failure) = &self.first_failure {
            println!(
                "  first failure: {}",
                failure.chars().take(300).collect::<String>()
            );
        }
    }
}

/// The `p` quantile (0 to 1) of sorted latencies in microseconds, in milliseconds; NaN
/// when there are none.
fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted_us.len() as f64 - 1.0) * p).round() as usize;
    sorted_us[index] as f64 / 1000.0
}

/// Runs `connections` workers for `duration`, each sending what `request` makes for its
/// n-th request, one at a time, and times every answer.
async fn drive(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    connections: usize,
    duration: Duration,
    request: impl Fn(usize, u64) -> Request + Send + Sync + Clone + 'static,
) -> Outcome {
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::new();
    for worker in 0..connections {
        let (client, base, token, request) = (
            client.clone(),
            base.to_string(),
            token.to_string(),
            request.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut outcome = Outcome::default();
            let mut n = 0;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let result = match request(worker, n) {
                    Request::Once(body) => post(&client, &base, &token, &body).await.map(|_| ()),
                    Request::ReadThenWrite { number, title } => loop {
                        let read = json!({ "query": READ_VERSION, "variables": { "n": number } });
                        let ticket = match post(&client, &base, &token, &read).await {
                            Ok(data) => data["ticket"].clone(),
                            Err(error) => break Err(error),
                        };
                        let write = json!({ "query": UPDATE, "variables": { "input": {
                            "id": ticket["id"], "version": ticket["version"], "title": title } } });
                        match post(&client, &base, &token, &write).await {
                            Err(error) if error.contains("CONFLICT") => outcome.conflicts += 1,
                            other => break other.map(|_| ()),
                        }
                    },
                };
                match result {
                    Ok(()) => outcome.latencies_us.push(sent.elapsed().as_micros() as u64),
                    Err(error) => {
                        outcome.failures += 1;
                        outcome.first_failure.get_or_insert(error);
                    }
                }
                n += 1;
            }
            outcome
        }));
    }
    let mut total = Outcome::default();
    for worker in workers {
        let outcome = worker.await.expect("a worker panicked");
        total.latencies_us.extend(outcome.latencies_us);
        total.failures += outcome.failures;
        total.conflicts += outcome.conflicts;
        if total.first_failure.is_none() {
            total.first_failure = outcome.first_failure;
        }
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    total
}

/// Sends one operation; its `data`, or why it failed (a non-200, or any `errors`).
async fn post(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    body: &Value,
) -> Result<Value, String> {
    let response = client
        .post(base)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| e.to_string())?;
    if status != 200 || body.get("errors").is_some() {
        return Err(format!("{status}: {body}"));
    }
    Ok(body["data"].clone())
}

/// The bare page's statement: the newest tickets' own columns.
const BARE_SQL: &str = "SELECT id, number, kind, status, title, priority, requester_id, assignee_id, group_id, organization_id FROM tickets ORDER BY id DESC LIMIT 51;\n";

/// The page in one statement, its relations joined: the shape of the planned path's
/// read (which adds the caller's visibility condition; a manager's is none).
const JOINED_SQL: &str = "SELECT tickets.id, tickets.number, tickets.kind, tickets.status, tickets.title, tickets.priority, requester.name, assignee.name, \"group\".name, organization.name FROM tickets LEFT JOIN users AS requester ON requester.id = tickets.requester_id LEFT JOIN users AS assignee ON assignee.id = tickets.assignee_id LEFT JOIN groups AS \"group\" ON \"group\".id = tickets.group_id LEFT JOIN organizations AS organization ON organization.id = tickets.organization_id ORDER BY tickets.id DESC LIMIT 51;\n";

/// The page's statements: the bare page's, and one a relation for the people and
/// places around it, as a loader batches them.
fn page_sql(seeded: &Seeded) -> String {
    let list = |ids: &[i64]| {
        ids.iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{BARE_SQL}\
         SELECT id, name FROM users WHERE id IN ({});\n\
         SELECT id, name FROM groups WHERE id IN ({});\n\
         SELECT id, name FROM organizations WHERE id IN ({});\n",
        list(&seeded.user_ids),
        list(&seeded.group_ids),
        list(&seeded.organization_ids)
    )
}

/// A script of statements through pgbench, prepared, four clients, each session started
/// with `options` (as `PGOPTIONS` gives them, e.g. `-c enable_memoize=off`): what
/// PostgreSQL itself can serve of it. Returns transactions (runs of the script) a second.
fn pgbench(pg: &Postgres, database: &str, script: &str, options: &str, seconds: u64) -> f64 {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), script).unwrap();
    let output = Command::new(pg.tool("pgbench"))
        .args([
            "-n",
            "-M",
            "prepared",
            "-c",
            "4",
            "-j",
            "2",
            "-T",
            &seconds.to_string(),
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port.to_string(),
            "-U",
            "postgres",
            "-f",
        ])
        .arg(file.path())
        .arg(database)
        .env("PGOPTIONS", options)
        .output()
        .expect("pgbench runs");
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "pgbench said:\n{text}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}
