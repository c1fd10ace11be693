//! The upload scenario: 25 MiB files, one after another, by the GraphQL multipart
//! request specification (as a browser's client sends them) and by the plain POST
//! partners use, each file different so that every one is hashed and kept. It reports
//! the throughput and the server's resident memory: before, at its highest while the
//! files arrive (sampled every 10 ms), and after. The server spools each file to disk as
//! it arrives, so the peak should stay far below the file's size.

use std::{
    process::Child,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use super::rss_mib;

const FILE_BYTES: usize = 25 * 1024 * 1024;
const FILES: usize = 8;

pub async fn run(client: &reqwest::Client, base: &str, token: &str, server: &Child) {
    for how in ["multipart", "plain POST"] {
        // A ticket of its own for each way: eight files stay under a ticket's total.
        let ticket: Value = client
            .post(format!("{base}/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": "mutation($input: CreateTicketInput!) { createTicket(input: $input) { ticket { id } } }",
                "variables": { "input": { "kind": "INCIDENT", "title": format!("Uploads, {how}"), "impact": "LOW", "urgency": "LOW" } } }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ticket_id = ticket["data"]["createTicket"]["ticket"]["id"]
            .as_str()
            .expect("a ticket for the uploads")
            .to_string();
        let before = rss_mib(server);
        let peak = Arc::new(AtomicU64::new(before.to_bits()));
        let sampling = Arc::new(AtomicBool::new(true));
        let sampler = {
            let (peak, sampling, pid) = (peak.clone(), sampling.clone(), server.id());
            tokio::spawn(async move {
                while sampling.load(Ordering::Relaxed) {
                    let now = rss_of(pid);
                    if now > f64::from_bits(peak.load(Ordering::Relaxed)) {
                        peak.store(now.to_bits(), Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
        };
        let started = Instant::now();
        let mut failed = 0;
        for n in 0..FILES {
            let mut bytes = vec![0u8; FILE_BYTES];
            for (i, b) in bytes.iter_mut().enumerate().step_by(4096) {
                *b = (i / 4096 + n * 7919) as u8;
            }
            bytes[0] = n as u8;
            let response = if how == "multipart" {
                let form = reqwest::multipart::Form::new()
                    .text("operations", json!({
                        "query": "mutation($t: ID!, $files: [Upload!]!) { attachFiles(input: { ticketId: $t, files: $files }) { attachments { id } } }",
                        "variables": { "t": ticket_id, "files": [null] } }).to_string())
                    .text("map", json!({ "0": ["variables.files.0"] }).to_string())
                    .part("0", reqwest::multipart::Part::bytes(bytes).file_name(format!("disk-{n}.img")));
                client
                    .post(format!("{base}/graphql"))
                    .bearer_auth(token)
                    .multipart(form)
                    .send()
                    .await
            } else {
                client
                    .post(format!(
                        "{base}/attachments?ticket={ticket_id}&filename=disk-{n}.img"
                    ))
                    .bearer_auth(token)
                    .body(bytes)
                    .send()
                    .await
            };
            let ok = match response {
                Ok(r) if r.status().is_success() => {
                    let body: Value = r.json().await.unwrap_or(Value::Null);
                    body.get("errors").is_none()
                }
                _ => false,
            };
            if !ok {
                failed += 1;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        sampling.store(false, Ordering::Relaxed);
        let _ = sampler.await;
        let peak = f64::from_bits(peak.load(Ordering::Relaxed));
        println!(
            "{:<34} {:>6} {:>9.1} {:>9} {:>9} {:>8} {:>9.1}   {:.0} MiB/s; RSS before {:.1}, peak {:.1} MiB",
            format!("upload 25 MiB, {how}"),
            1,
            FILES as f64 / elapsed,
            "",
            "",
            failed,
            rss_mib(server),
            (FILES * FILE_BYTES) as f64 / 1024.0 / 1024.0 / elapsed,
            before,
            peak
        );
    }
}

fn rss_of(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}
