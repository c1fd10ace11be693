//! The desk's IMAP mailbox: fetched every few seconds, each unseen message handed to
//! `inbound::receive` (the one path every message takes) and marked seen only once it
//! is recorded, so a message is never lost between fetching and processing, and one
//! fetched twice is found by its Message-ID. An unreachable or refusing server is tried
//! again with backoff for ever, and how it went last is kept for `/readyz` and metrics.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_imap::Client;
use futures::StreamExt;
use prometheus_client::metrics::gauge::Gauge;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
    sync::watch,
};

use super::{inbound, types::Source};
use crate::{clock::SharedClock, config::MailboxConfig, db::Db, domain::attachments::Files};

/// How the last fetch went: what `/readyz` shows.
#[derive(Default)]
pub struct MailboxStatus {
    last: Mutex<Option<Result<(), String>>>,
}

impl MailboxStatus {
    /// None before the first fetch; then whether it worked, and why not.
    pub fn last(&self) -> Option<Result<(), String>> {
        self.last.lock().expect("status lock").clone()
    }

    fn set(&self, outcome: Result<(), String>) {
        *self.last.lock().expect("status lock") = Some(outcome);
    }
}

/// Fetches until the server stops.
pub async fn run(
    config: MailboxConfig,
    db: Db,
    files: Arc<Files>,
    clock: SharedClock,
    status: Arc<MailboxStatus>,
    up: Gauge,
    mut stopping: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let wait = match fetch(&config, &db, &files, &clock).await {
            Ok(taken) => {
                if taken > 0 {
                    tracing::info!(taken, "mail fetched from the mailbox");
                }
                status.set(Ok(()));
                up.set(1);
                backoff = Duration::from_secs(1);
                config.every
            }
            Err(error) => {
                tracing::warn!(%error, retry_in_s = backoff.as_secs(), host = %config.host, "cannot fetch mail; trying again");
                status.set(Err(error));
                up.set(0);
                let wait = backoff;
                backoff = (backoff * 2).min(Duration::from_secs(60));
                wait
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}

/// One session: every unseen message received, then marked seen. How many it took.
async fn fetch(
    config: &MailboxConfig,
    db: &Db,
    files: &Files,
    clock: &SharedClock,
) -> Result<usize, String> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(10),
        TcpStream::connect((config.host.as_str(), config.port)),
    )
    .await
    .map_err(|_| format!("{}:{} did not answer", config.host, config.port))?
    .map_err(|e| format!("cannot connect to {}:{}: {e}", config.host, config.port))?;
    if config.tls {
        let tls = tls_connect(&config.host, tcp).await?;
        session(config, db, files, clock, tls).await
    } else {
        session(config, db, files, clock, tcp).await
    }
}

async fn tls_connect(
    host: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS cannot be set up: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| format!("{host} is not a server name: {e}"))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("TLS with {host} failed: {e}"))
}

async fn session<T>(
    config: &MailboxConfig,
    db: &Db,
    files: &Files,
    clock: &SharedClock,
    stream: T,
) -> Result<usize, String>
where
    T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    let mut client = Client::new(stream);
    client
        .read_response()
        .await
        .map_err(|e| format!("no greeting: {e}"))?;
    let mut session = client
        .login(&config.user, &config.password)
        .await
        .map_err(|(e, _)| format!("login as {} refused: {e}", config.user))?;
    session
        .select(&config.folder)
        .await
        .map_err(|e| format!("cannot open {}: {e}", config.folder))?;
    let mut unseen: Vec<u32> = session
        .uid_search("UNSEEN")
        .await
        .map_err(|e| format!("cannot search: {e}"))?
        .into_iter()
        .collect();
    unseen.sort_unstable();
    let mut taken = 0;
    let mut failed = None;
    for uid in unseen {
        let body = {
            let mut fetched = session
                .uid_fetch(uid.to_string(), "BODY.PEEK[]")
                .await
                .map_err(|e| format!("cannot fetch message {uid}: {e}"))?;
            let mut body = None;
            while let Some(item) = fetched.next().await {
                let item = item.map_err(|e| format!("cannot fetch message {uid}: {e}"))?;
                if let Some(bytes) = item.body() {
                    body = Some(bytes.to_vec());
                }
            }
            body
        };
        let Some(body) = body else { continue };
        // Recorded (whatever becomes of it) before it is marked seen: a crash between
        // the two fetches it again, and its Message-ID finds the record. One the desk
        // cannot take now stays unseen for the next fetch, and the rest go on.
        if let Err(error) = inbound::receive(db, files, Source::Imap, &body, clock.now()).await {
            tracing::warn!(%error, uid, "a fetched message could not be taken; it stays unseen");
            failed.get_or_insert(format!("the desk could not take message {uid}: {error}"));
            continue;
        }
        {
            let mut stored = session
                .uid_store(uid.to_string(), "+FLAGS (\\Seen)")
                .await
                .map_err(|e| format!("cannot mark message {uid} seen: {e}"))?;
            while stored.next().await.is_some() {}
        }
        taken += 1;
    }
    session.logout().await.ok();
    match failed {
        Some(error) => Err(error),
        None => Ok(taken),
    }
}
