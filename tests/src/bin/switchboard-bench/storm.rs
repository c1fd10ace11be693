//! The alert storm: monitoring sends alerts as fast as 16 connections can post batches
//! of 100 (the generic intake; 5,000 distinct alerts on 50 items, each sent again and
//! again, a quarter of them resolving and firing), while a dashboard reads the desk's
//! ticket page from 8 connections. It prints the page's latency without the storm and
//! during it, the alerts taken in a second, and checks that the desk kept one row per
//! alert and counted every delivery.

use std::{
    process::Child,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use super::{PAGE, Request, drive, rss_mib};

const DISTINCT: usize = 5_000;
const ITEMS: usize = 50;
const BATCH: usize = 100;
const SENDERS: usize = 16;

async fn graphql(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    let reply: Value = client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(reply.get("errors").is_none(), "{reply}");
    reply["data"].clone()
}

pub async fn run(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    reader: &str,
    server: &Child,
    seconds: u64,
) {
    let secret = graphql(client, base, admin,
        "mutation { createApiToken(input: { name: \"bench monitoring\", scopes: [\"alerts:ingest\"] }) { secret } }", Value::Null)
        .await["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let classes = graphql(
        client,
        base,
        admin,
        "{ ciClasses { id name } }",
        Value::Null,
    )
    .await;
    let server_class = classes["ciClasses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Server")
        .unwrap()["id"]
        .clone();
    for n in 0..ITEMS {
        graphql(client, base, admin,
            "mutation($input: CreateConfigurationItemInput!) { createConfigurationItem(input: $input) { configurationItem { id } } }",
            json!({ "input": { "classId": server_class, "name": format!("storm-host-{n}") } }))
            .await;
    }
    // Firing alerts become incidents, one per item: the storm exercises the rules too.
    graphql(client, base, admin,
        "mutation { createAutomationRule(input: { name: \"Storm incidents\", trigger: ALERT_FIRING, actions: [{ type: RAISE_INCIDENT }] }) { automationRule { id } } }",
        Value::Null)
        .await;

    let duration = Duration::from_secs(seconds);
    let page = Arc::new(json!({ "query": PAGE }));
    let calm = drive(client, &format!("{base}/graphql"), reader, 8, duration, {
        let page = page.clone();
        move |_, _| Request::Once(page.clone())
    })
    .await;
    calm.print("page, 4 relations, no storm", 8, rss_mib(server));

    let storming = Arc::new(AtomicBool::new(true));
    let delivered = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        let (client, url, secret) = (
            client.clone(),
            format!("{base}/monitoring/alerts"),
            secret.clone(),
        );
        let (storming, delivered, failed) = (storming.clone(), delivered.clone(), failed.clone());
        senders.push(tokio::spawn(async move {
            let mut round = 0usize;
            while storming.load(Ordering::Relaxed) {
                let alerts: Vec<Value> = (0..BATCH)
                    .map(|i| {
                        let n = (sender * 7919 + round * BATCH + i) % DISTINCT;
                        // A quarter of the alerts go up and down; the rest keep firing.
                        let status = if n % 4 == 0 && round % 2 == 1 { "resolved" } else { "firing" };
                        json!({ "name": format!("Check{}", n / ITEMS), "status": status, "severity": "warning",
                                "labels": { "ci": format!("storm-host-{}", n % ITEMS) } })
                    })
                    .collect();
                let reply = client.post(&url).bearer_auth(&secret).json(&json!({ "alerts": alerts })).send().await;
                match reply {
                    Ok(r) if r.status().is_success() => {
                        delivered.fetch_add(BATCH as u64, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
                round += 1;
            }
        }));
    }
    let during = drive(
        client,
        &format!("{base}/graphql"),
        reader,
        8,
        duration,
        move |_, _| Request::Once(page.clone()),
    )
    .await;
    storming.store(false, Ordering::Relaxed);
    for sender in senders {
        sender.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    during.print("page, 4 relations, during storm", 8, rss_mib(server));
    let delivered = delivered.load(Ordering::Relaxed);
    println!(
        "{:<34} {:>6} {:>9.0} {:>9} {:>9} {:>8} {:>9.1}",
        "alerts taken in (100 a request)",
        SENDERS,
        delivered as f64 / elapsed,
        "",
        "",
        failed.load(Ordering::Relaxed),
        rss_mib(server)
    );

    // One row per alert, every delivery counted.
    let mut rows = 0u64;
    let mut counted = 0u64;
    let mut after: Option<String> = None;
    loop {
        let page = graphql(client, base, reader,
            "query($after: String) { alerts(first: 100, after: $after) { nodes { receivedCount } pageInfo { hasNextPage endCursor } } }",
            json!({ "after": after }))
            .await["alerts"]
            .clone();
        for alert in page["nodes"].as_array().unwrap() {
            rows += 1;
            counted += alert["receivedCount"].as_u64().unwrap();
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    println!(
        "  {delivered} alerts delivered: {rows} stored (of {DISTINCT} distinct), {counted} counted"
    );
    assert_eq!(counted, delivered, "every delivery is counted");
    assert!(rows as usize <= DISTINCT, "one row per alert");
}
