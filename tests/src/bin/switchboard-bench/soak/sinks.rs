//! The receivers the soak's desk sends to: a webhook endpoint and a mail server, each
//! counting what arrives (and the mail server each distinct Message-ID).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, atomic::Ordering},
};

use axum::{Router, extract::State, routing::post as route_post};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::Counts;

/// Receives webhook deliveries on loopback, answering 200 to each.
pub async fn webhook_sink(counts: Arc<Counts>) -> String {
    async fn receive(State(counts): State<Arc<Counts>>, body: axum::body::Bytes) -> &'static str {
        counts.webhooks.fetch_add(1, Ordering::Relaxed);
        let event: Value = serde_json::from_slice(&body).unwrap_or_default();
        if event["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("sla."))
        {
            counts.sla_alerts.fetch_add(1, Ordering::Relaxed);
        }
        "ok"
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hooks", route_post(receive))
        .with_state(counts);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// The least SMTP server that accepts mail: enough of RFC 5321 for the desk's client,
/// counting each message and keeping its Message-ID (to tell a resend from a new mail).
pub async fn smtp_sink(counts: Arc<Counts>) -> (u16, Arc<Mutex<HashSet<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let ids: Arc<Mutex<HashSet<String>>> = Arc::default();
    let kept = ids.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (counts, ids) = (counts.clone(), ids.clone());
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 soak ESMTP\r\n").await;
                let mut in_data = false;
                let mut message_id = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            counts.mails.fetch_add(1, Ordering::Relaxed);
                            if let Some(id) = message_id.take() {
                                ids.lock().unwrap().insert(id);
                            }
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else if message_id.is_none()
                            && line.to_ascii_lowercase().starts_with("message-id:")
                        {
                            message_id = Some(line[11..].trim().to_string());
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    if write.write_all(answer).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, kept)
}
