//! A real Switchboard server, started in this process on a free port.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use switchboard::{RunningServer, Settings, clock::OffsetClock};

use crate::services::Postgres;

pub const JWT_SECRET: &str = "switchboard-test-secret-0123456789abcdef";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub settings: Settings,
    /// The PostgreSQL database name, on the shared cluster, when the backend is PostgreSQL.
    pub pg_database: Option<String>,
    running: Option<RunningServer>,
    http: reqwest::Client,
    /// The server's clock: real time plus whatever the test has moved it forward.
    pub clock: Arc<OffsetClock>,
    _data_dir: tempfile::TempDir,
}

/// What the server answered: the status, the JSON body, and the SQL statements the
/// request ran (from its `Server-Timing` header).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub sql_statements: Option<u64>,
}

impl Reply {
    /// `data`, after checking there were no errors.
    pub fn data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {:#}",
            self.body
        );
        &self.body["data"]
    }

    /// The `extensions.code` of the first error, after checking there is one.
    pub fn error_code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("expected an error with a code, got {:#}", self.body))
    }

    pub fn error_message(&self) -> &str {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
    }
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        TestServer::start_with(backend, |_| {}).await
    }

    /// Starts a server after `adjust` has changed its settings.
    pub async fn start_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestServer {
        let data_dir = tempfile::Builder::new()
            .prefix("switchboard-test-")
            .tempdir()
            .unwrap();
        let mut settings = Settings {
            data_dir: Some(data_dir.path().display().to_string()),
            jwt_secret: Some(JWT_SECRET.to_string()),
            bind: Some("127.0.0.1:0".to_string()),
            ..Default::default()
        };
        let mut pg_database = None;
        if backend == Backend::Postgres {
            let (name, url) = Postgres::shared().create_database();
            settings.database_url = Some(url);
            pg_database = Some(name);
        }
        adjust(&mut settings);
        TestServer::start_on(settings, pg_database, data_dir).await
    }

    async fn start_on(
        settings: Settings,
        pg_database: Option<String>,
        data_dir: tempfile::TempDir,
    ) -> TestServer {
        let clock = Arc::new(OffsetClock::default());
        let running = launch(&settings, clock.clone()).await;
        TestServer {
            addr: running.addr,
            settings,
            pg_database,
            running: Some(running),
            clock,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            _data_dir: data_dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql/ws", self.addr)
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A JWT for a person, signed with the test secret, valid for an hour.
    pub fn token(&self, sub: &str, roles: &[&str]) -> String {
        let now = Utc::now().timestamp();
        sign_hs256(
            &json!({ "sub": sub, "name": sub, "roles": roles, "exp": now + 3600, "nbf": now - 10 }),
        )
    }

    /// POSTs a GraphQL operation as `application/json`, with a bearer token if given.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Reply {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let sql_statements = response
            .headers()
            .get("server-timing")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split('"').nth(1))
            .and_then(|desc| desc.split_whitespace().next())
            .and_then(|n| n.parse().ok());
        Reply {
            status,
            body: response.json().await.unwrap_or(Value::Null),
            sql_statements,
        }
    }

    /// Moves the server's clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        self.clock.advance(by);
    }

    /// SQL statements the server has run so far, from /metrics.
    pub async fn statements_run(&self) -> u64 {
        self.metric("switchboard_sql_statements_total")
            .await
            .expect("/metrics reports switchboard_sql_statements_total") as u64
    }

    /// One series' value as /metrics reports it now, named with its labels as they are
    /// written there (`switchboard_relay_rounds_total{woken_by="commit"}`); none when
    /// the scrape does not have it.
    pub async fn metric(&self, series: &str) -> Option<f64> {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|value| value.trim().parse().ok())
    }

    /// Waits until this replica runs at least `count` subscriptions (as
    /// `switchboard_subscriptions` counts them). From then on every change committed
    /// reaches them: no sleeping for "the moment it takes".
    pub async fn subscriptions_running(&self, count: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let running = self
                .metric("switchboard_subscriptions")
                .await
                .unwrap_or(0.0);
            if running >= count as f64 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{running} subscriptions running after 10 s, expected {count}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Stops the server (as a signal does) but keeps its data directory, so that
    /// another server can start on the same database.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.unwrap();
        }
    }

    /// Stops the server and starts it again on the same address, database and clock, as
    /// a restarted process would: clients that knew it reconnect to the same URL.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut settings = self.settings.clone();
        settings.bind = Some(self.addr.to_string());
        self.running = Some(launch(&settings, self.clock.clone()).await);
    }

    /// The database this server uses, for a second server to share.
    pub fn database_url(&self) -> String {
        match &self.settings.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}/switchboard.db",
                self.settings.data_dir.as_deref().unwrap()
            ),
        }
    }

    /// Stops the server the way a signal does, letting requests finish.
    pub async fn shutdown(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.unwrap();
        }
    }
}

/// Starts a server with these settings on this clock.
async fn launch(settings: &Settings, clock: Arc<OffsetClock>) -> RunningServer {
    let config = switchboard::Config::from_settings(settings).expect("test settings are valid");
    switchboard::telemetry::init_with(config.log_format, "warn");
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .unwrap_or_else(|error| panic!("binding {}: {error}", config.bind));
    switchboard::app::start_with_clock(config, listener, clock)
        .await
        .expect("the server starts")
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            // Tell it to stop; the runtime ends its task with the test.
            let _ = running.shutdown_handle().send(true);
        }
    }
}

pub fn sign_hs256(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

/// The global id the server gives a row of `type_name`: for asking about rows that
/// do not exist.
pub fn global_id(type_name: &str, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}
