//! A real browser: Debian's Chromium, headless, driven over WebDriver through its
//! chromedriver (both installed by `test.sh`). Each `Browser` has its own chromedriver,
//! on a free port, and its own empty profile; the same watchdog as the database servers
//! stops them when the test process ends, however it ends.

use std::{
    io::{Read, Write},
    time::Duration,
};

use serde_json::{Value, json};

use crate::services::{Watched, free_port, wait_until};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    http: reqwest::Client,
    port: u16,
    /// `http://127.0.0.1:<port>/session/<id>`.
    session: String,
    _driver: Watched,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing, and the live desk's tests need it: run `sudo apt-get install -y chromium chromium-driver` \
                 (the README's test command, ./test.sh, installs them for you)"
            );
        }
        let profile = tempfile::Builder::new()
            .prefix("switchboard-chromium-")
            .tempdir()
            .unwrap();
        let port = free_port();
        // Whatever Chromium is left when chromedriver stops is found by its profile.
        let at_exit = format!("pkill -f -- '--user-data-dir={}'", profile.path().display());
        let driver = Watched::spawn_stopped_by(
            "TERM",
            "env",
            &[],
            &format!("exec {CHROMEDRIVER} --port={port} --log-level=OFF"),
            &at_exit,
        );
        wait_until("chromedriver", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        // The flags this machine needs (root, no GPU, a closed network: without the
        // background-networking ones Chromium keeps calling Google's hosts).
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
            // Every request the page makes, read back by `requests`, and what its
            // console says, shown when a test fails.
            "goog:loggingPrefs": { "performance": "ALL", "browser": "ALL" },
        } } });
        let created: Value = http
            .post(format!("http://127.0.0.1:{port}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .unwrap();
        let id = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("Chromium did not start: {created:#}"));
        Browser {
            session: format!("http://127.0.0.1:{port}/session/{id}"),
            http,
            port,
            _driver: driver,
            _profile: profile,
        }
    }

    async fn command(&self, path: &str, body: Value) -> Value {
        let reply: Value = self
            .http
            .post(format!("{}{path}", self.session))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("WebDriver {path}: {e}"))
            .json()
            .await
            .unwrap();
        if let Some(error) = reply["value"]["error"].as_str() {
            panic!(
                "WebDriver {path}: {error}: {}",
                reply["value"]["message"].as_str().unwrap_or_default()
            );
        }
        reply["value"].clone()
    }

    /// Opens a page, waiting until it has loaded.
    pub async fn goto(&self, url: &str) {
        self.command("/url", json!({ "url": url })).await;
    }

    /// A PNG of what the window shows now.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let reply: Value = self
            .http
            .get(format!("{}/screenshot", self.session))
            .send()
            .await
            .expect("WebDriver screenshot")
            .json()
            .await
            .unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(reply["value"].as_str().expect("a screenshot"))
            .expect("a base64 PNG")
    }

    /// The value of a JavaScript expression evaluated in the page.
    pub async fn eval(&self, expression: &str) -> Value {
        let script = format!("return ({expression});");
        self.command("/execute/sync", json!({ "script": script, "args": [] }))
            .await
    }

    /// Evaluates `expression` every 20 ms until it is truthy, and returns its value;
    /// fails the test after `within`, saying what was awaited and what the page shows.
    pub async fn wait_until(&self, what: &str, within: Duration, expression: &str) -> Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let value = self.eval(expression).await;
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return value;
            }
            if tokio::time::Instant::now() >= deadline {
                let shown = self.eval("document.body.innerText").await;
                let console = self.command("/se/log", json!({ "type": "browser" })).await;
                let console: Vec<&str> = console
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|entry| entry["message"].as_str())
                    .collect();
                panic!(
                    "{what}: not within {within:?}. The page shows:\n{}\nIts console:\n{}",
                    shown.as_str().unwrap_or_default(),
                    console.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The URL of every request the browser has sent over the network since the last
    /// call (pages, scripts, styles, fetches, WebSocket handshakes), from Chromium's
    /// network log. Its own `chrome://` pages and `data:` URLs never leave the machine
    /// and are not counted.
    pub async fn requests(&self) -> Vec<String> {
        let entries = self
            .command("/se/log", json!({ "type": "performance" }))
            .await;
        let mut urls = Vec::new();
        for entry in entries.as_array().into_iter().flatten() {
            let Some(message) = entry["message"]
                .as_str()
                .and_then(|m| serde_json::from_str::<Value>(m).ok())
            else {
                continue;
            };
            let message = &message["message"];
            let url = match message["method"].as_str() {
                Some("Network.requestWillBeSent") => &message["params"]["request"]["url"],
                Some("Network.webSocketCreated") => &message["params"]["url"],
                _ => continue,
            };
            if let Some(url) = url.as_str() {
                let over_the_network = ["http://", "https://", "ws://", "wss://"]
                    .iter()
                    .any(|scheme| url.starts_with(scheme));
                if over_the_network {
                    urls.push(url.to_string());
                }
            }
        }
        urls
    }
}

impl Drop for Browser {
    /// Ends the session, so that chromedriver closes Chromium, before the watchdog stops
    /// chromedriver. Blocking, as a destructor must be: one local HTTP request, read up
    /// to the end of its answer (chromedriver keeps the connection open after it).
    fn drop(&mut self) {
        let path = self
            .session
            .split_once(&format!(":{}", self.port))
            .map(|(_, path)| path.to_string())
            .unwrap_or_default();
        let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\r\n",
            self.port
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return;
        }
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while let Ok(read @ 1..) = stream.read(&mut chunk) {
            answer.extend_from_slice(&chunk[..read]);
            if answer.ends_with(b"}") {
                break;
            }
        }
    }
}
