//! Faults under load, as production deals them. The database restarted while writers
//! work: meanwhile every request is answered 503 with `SERVICE_UNAVAILABLE` and
//! `Retry-After` (never a 500, never `INTERNAL`); afterwards the server recovers on its
//! own, and every write it acknowledged is there. A replica killed with SIGKILL while
//! it writes, delivers webhooks and sends mail: the other takes over its leases, and
//! nothing acknowledged is lost or reaches a receiver as a second message.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use switchboard_tests::{
    Backend, TestServer,
    desk::CREATE,
    receiver::Receiver,
    server::{JWT_SECRET, sign_hs256},
    services::{Postgres, Smtp, free_port, header},
};

const BINARY: &str = env!("CARGO_BIN_EXE_switchboard-under-test");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_is_an_outage_answered_503_and_loses_no_acknowledged_write() {
    // A PostgreSQL of its own: the shared one serves every other test.
    let postgres = Arc::new(tokio::task::spawn_blocking(Postgres::start).await.unwrap());
    let (_, url) = postgres.create_database();
    let server = Arc::new(
        TestServer::start_with(Backend::Postgres, |s| s.database_url = Some(url.clone())).await,
    );
    let desk = server.desk().await;
    let token = desk.agents[0].token.clone();

    // A writer creates tickets throughout, noting what was acknowledged and how every
    // other answer came.
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let refused: Arc<Mutex<Vec<(u16, Value)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (server, acknowledged, refused, stop) = (
            server.clone(),
            acknowledged.clone(),
            refused.clone(),
            stop.clone(),
        );
        let (token, group) = (token.clone(), desk.network_group_id.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let answer = server
                    .http()
                    .post(server.url("/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": CREATE, "variables": { "input": {
                        "kind": "INCIDENT", "title": format!("during the restart {n}"), "groupId": group } } }))
                    .send()
                    .await
                    .expect("the server answers even while its database is away");
                let status = answer.status().as_u16();
                let body: Value = answer.json().await.unwrap();
                match body["data"]["createTicket"]["ticket"]["number"].as_str() {
                    Some(number) => acknowledged.lock().unwrap().push(number.to_string()),
                    None => refused.lock().unwrap().push((status, body)),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    while acknowledged.lock().unwrap().len() < 10 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The database goes away; a request meanwhile is an outage, said as one.
    let stopping = postgres.clone();
    tokio::task::spawn_blocking(move || stopping.pause())
        .await
        .unwrap();
    let during = server
        .http()
        .post(server.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ tickets(first: 1) { nodes { id } } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(during.status(), 503);
    assert!(during.headers().contains_key("retry-after"));
    let body: Value = during.json().await.unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );

    // It comes back; the server recovers on its own.
    let starting = postgres.clone();
    tokio::task::spawn_blocking(move || starting.resume())
        .await
        .unwrap();
    let back = acknowledged.lock().unwrap().len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < back + 10 {
        assert!(
            Instant::now() < deadline,
            "writes succeed again after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();

    // Nothing was answered as our fault, and every acknowledged write is there.
    for (status, body) in refused.lock().unwrap().iter() {
        let code = body["errors"][0]["extensions"]["code"].as_str();
        assert!(
            *status < 500 || (*status == 503 && code == Some("SERVICE_UNAVAILABLE")),
            "{status}: {body}"
        );
        assert_ne!(code, Some("INTERNAL"), "{body}");
    }
    let manager = &desk.manager.token;
    let acknowledged = acknowledged.lock().unwrap().clone();
    for number in &acknowledged {
        let found = server
            .must(
                manager,
                "query($n: String!) { ticket(number: $n) { number } }",
                json!({ "n": number }),
            )
            .await;
        assert_eq!(found["ticket"]["number"], Value::from(number.as_str()));
    }
}

/// What both replicas are told: where webhooks and mail go, and the key that seals the
/// endpoints' signing secrets (the same on every replica, or one could not sign what
/// the other queued).
const SECRETS_KEY: &str = "replicas-share-this-key-0123456789abcdef";
const MAIL_FROM: &str = "Acme Service Desk <desk@acme.test>";

/// Two replicas share a PostgreSQL database, four webhook endpoints and a mail server;
/// one of them is a process of its own, killed with SIGKILL while both create tickets
/// and deliveries are in flight (each receiver holds every request a moment). Its
/// leases lapse (the survivor's clock is moved past them) and the survivor sends what
/// it held. Every ticket acknowledged by either is there; every endpoint received every
/// acknowledged ticket's `ticket.created`, in seq order; whatever reached a receiver
/// twice came under the same `webhook-id` with the same body, and every mail twice with
/// the same Message-ID, so a receiver that drops what it has seen sees each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_delivery_leaves_its_work_to_the_other_and_nothing_twice() {
    let smtp = Arc::new(tokio::task::spawn_blocking(Smtp::start).await.unwrap());
    let survivor = Arc::new(
        TestServer::start_with(Backend::Postgres, |s| {
            s.webhook_allow = Some("127.0.0.0/8".into());
            s.smtp_url = Some(smtp.url());
            s.mail_from = Some(MAIL_FROM.into());
            s.secrets_key = Some(SECRETS_KEY.into());
            s.webhook_timeout_seconds = Some("2".into());
        })
        .await,
    );
    let desk = survivor.desk().await;
    let now = chrono::Utc::now().timestamp();
    let requester = sign_hs256(
        &json!({ "sub": "rita", "name": "Rita", "email": "rita@customer.test", "roles": ["requester"], "exp": now + 3600 }),
    );
    let rita = survivor
        .must(&requester, "{ viewer { nodeId } }", Value::Null)
        .await["viewer"]["nodeId"]
        .clone();
    let mut receivers = Vec::new();
    for n in 0..4 {
        let receiver = Receiver::start().await;
        receiver.answer_slowly(Duration::from_millis(100));
        survivor
            .must(
                &desk.admin,
                "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { secret } }",
                json!({ "input": { "url": receiver.url, "description": format!("partner {n}"), "topics": ["ticket.created"] } }),
            )
            .await;
        receivers.push(receiver);
    }

    // The other replica: the real binary, as production runs it.
    let port = free_port();
    let data_dir = tempfile::tempdir().unwrap();
    let mut victim = std::process::Command::new(BINARY)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", survivor.database_url())
        .env("SWITCHBOARD_BIND", format!("127.0.0.1:{port}"))
        .env("SWITCHBOARD_DATA_DIR", data_dir.path())
        .env("SWITCHBOARD_JWT_SECRET", JWT_SECRET)
        .env("SWITCHBOARD_WEBHOOK_ALLOW", "127.0.0.0/8")
        .env("SWITCHBOARD_SMTP_URL", smtp.url())
        .env("SWITCHBOARD_MAIL_FROM", MAIL_FROM)
        .env("SWITCHBOARD_SECRETS_KEY", SECRETS_KEY)
        .env("SWITCHBOARD_WEBHOOK_TIMEOUT_SECONDS", "2")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let victim_url = format!("http://127.0.0.1:{port}");
    let ready = Instant::now();
    while !survivor
        .http()
        .get(format!("{victim_url}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(
            ready.elapsed() < Duration::from_secs(30),
            "the second replica did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // An agent creates tickets through each replica, noting what was acknowledged.
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    let token = desk.agents[0].token.clone();
    let mut writers = Vec::new();
    for (name, base) in [
        ("victim", victim_url.clone()),
        ("survivor", survivor.url("")),
    ] {
        let (acknowledged, survivor, token, group, rita) = (
            acknowledged.clone(),
            survivor.clone(),
            token.clone(),
            desk.network_group_id.clone(),
            rita.clone(),
        );
        writers.push(tokio::spawn(async move {
            for n in 0..15 {
                let sent = survivor
                    .http()
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": CREATE, "variables": { "input": {
                        "kind": "INCIDENT", "title": format!("through the {name} {n}"),
                        "groupId": group, "requesterId": rita } } }))
                    .send()
                    .await;
                let Ok(answer) = sent else { break };
                let body: Value = answer.json().await.unwrap_or_default();
                if let Some(number) = body["data"]["createTicket"]["ticket"]["number"].as_str() {
                    acknowledged.lock().unwrap().push(number.to_string());
                }
                tokio::time::sleep(Duration::from_millis(60)).await;
            }
        }));
    }

    // Once deliveries are flowing to every receiver, the victim dies mid-work.
    let flowing = Instant::now();
    while receivers.iter().any(|r| r.received().len() < 3) {
        assert!(
            flowing.elapsed() < Duration::from_secs(30),
            "deliveries did not start"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    victim.kill().unwrap();
    victim.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    // Its leases lapse: the webhook's after its timeout and half a minute, the mail's
    // after two minutes.
    survivor.advance(chrono::Duration::minutes(3));

    // Every acknowledged ticket is there, announced to every endpoint and mailed.
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 15, "{acknowledged:?}");
    for number in &acknowledged {
        let found = survivor
            .must(
                &desk.manager.token,
                "query($n: String!) { ticket(number: $n) { number } }",
                json!({ "n": number }),
            )
            .await;
        assert_eq!(found["ticket"]["number"], Value::from(number.as_str()));
    }
    let announced = |receiver: &Receiver| -> Vec<String> {
        receiver
            .received()
            .iter()
            .filter_map(|r| {
                r.json()["data"]["ticket"]["number"]
                    .as_str()
                    .map(String::from)
            })
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let missing: Vec<(usize, &String)> = receivers
            .iter()
            .enumerate()
            .flat_map(|(n, r)| {
                let seen = announced(r);
                acknowledged
                    .iter()
                    .filter(move |t| !seen.contains(t))
                    .map(move |t| (n, t))
            })
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not delivered after the victim's leases lapsed: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut resent = 0;
    for receiver in &receivers {
        let received = receiver.received();
        let mut first_seen: Vec<(i64, &str, &str)> = Vec::new();
        for delivery in &received {
            let body = delivery.json();
            let seq = body["data"]["seq"]
                .as_i64()
                .expect("a delivery names its seq");
            match first_seen.iter().find(|(s, _, _)| *s == seq) {
                Some((_, id, first_body)) => {
                    resent += 1;
                    assert_eq!(*id, delivery.id, "a resend keeps its webhook-id");
                    assert_eq!(*first_body, delivery.body, "a resend keeps its body");
                }
                None => first_seen.push((seq, &delivery.id, &delivery.body)),
            }
        }
        let seqs: Vec<i64> = first_seen.iter().map(|(s, _, _)| *s).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "an endpoint's events arrive in seq order: {seqs:?}"
        );
    }

    let mails = tokio::task::spawn_blocking({
        let (smtp, acknowledged) = (smtp.clone(), acknowledged.clone());
        move || {
            for number in &acknowledged {
                smtp.wait_for("rita@customer.test", number, Duration::from_secs(30));
            }
            smtp.messages()
        }
    })
    .await
    .unwrap();
    for number in &acknowledged {
        let ids: Vec<String> = mails
            .iter()
            .filter(|m| header(m, "Subject").starts_with(&format!("[{number}] Received")))
            .map(|m| header(m, "Message-ID"))
            .collect();
        assert!(!ids.is_empty(), "{number} was mailed");
        assert!(
            ids.iter().all(|id| *id == ids[0]),
            "{number}'s mail sent again keeps its Message-ID: {ids:?}"
        );
    }
    eprintln!(
        "killed mid-delivery: {} tickets acknowledged, {resent} webhook deliveries sent again under their own webhook-id",
        acknowledged.len()
    );
}
