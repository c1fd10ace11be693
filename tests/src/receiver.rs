//! A webhook receiver for the tests: a real HTTP server on a free loopback port that
//! records every request, answers with the statuses a test scripts, and verifies
//! signatures the way the Standard Webhooks specification says a receiver must.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::post,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// One request as the receiver got it.
#[derive(Clone, Debug)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("webhook bodies are JSON")
    }

    /// Whether one of the signatures is `secret`'s, by the specification's algorithm:
    /// HMAC-SHA256 over `id.timestamp.body`, keyed with the base64 after `whsec_`.
    pub fn signed_with(&self, secret: &str) -> bool {
        let key = STANDARD
            .decode(secret.strip_prefix("whsec_").expect("secrets start whsec_"))
            .expect("secrets are base64");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.body).as_bytes());
        let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
        self.signature.split(' ').any(|s| s == expected)
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    /// Statuses to answer with, in order; 200 once they run out.
    script: VecDeque<(u16, Option<String>)>,
    /// How long to hold each request before answering: a receiver busy enough that
    /// deliveries are in flight when a test strikes.
    delay: Duration,
}

/// The receiver; dropped, it stops.
pub struct Receiver {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (status, retry_after, delay) = {
        let mut inner = inner.lock().unwrap();
        inner.received.push(Received {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let (status, retry_after) = inner.script.pop_front().unwrap_or((200, None));
        (status, retry_after, inner.delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let mut response = (
        StatusCode::from_u16(status).unwrap(),
        format!("answered {status}"),
    )
        .into_response();
    if let Some(after) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", after.parse().unwrap());
    }
    response
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/hooks", post(receive))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver { url, inner, task }
    }

    /// Answers the next requests with these statuses, in order.
    pub fn answer(&self, statuses: &[u16]) {
        let mut inner = self.inner.lock().unwrap();
        inner.script.extend(statuses.iter().map(|s| (*s, None)));
    }

    /// Holds every request from now on for `delay` before answering it.
    pub fn answer_slowly(&self, delay: Duration) {
        self.inner.lock().unwrap().delay = delay;
    }

    /// Answers the next request with a status and a `Retry-After`.
    pub fn answer_later(&self, status: u16, retry_after: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner
            .script
            .push_back((status, Some(retry_after.to_string())));
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits (up to 10 s) until `count` requests came, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "expected {count} webhook requests, got {}: {received:#?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
