//! GraphQL over WebSocket with the graphql-transport-ws protocol (the `graphql-ws`
//! library's), written here so that the close codes are the protocol's own: 4400 bad
//! message, 4401 subscribe before the handshake, 4403 refused, 4408 no handshake in time,
//! 4409 duplicate subscription id, 4429 a second handshake.

use std::{pin::pin, time::Duration};

use axum::{
    Extension,
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{Message, Utf8Bytes, WebSocket},
    },
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use futures::{StreamExt, stream::AbortHandle};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::{sync::broadcast::error::RecvError, time::Instant};
use tower_http::request_id::RequestId;
use tracing::Instrument;

use super::{
    Server,
    delivery::{self, close_message},
    listener::Wire,
    outbox::Outbox,
    seats::Seat,
    writer::{Ended, FELL_BEHIND, Writer},
};
use crate::{
    Config,
    auth::{Caller, Scope},
    domain::events::Topic,
    metrics::Held,
};

pub const PROTOCOL: &str = "graphql-transport-ws";

/// How long a client that has stopped reading gets to take what is queued for it and
/// the close; after that its connection is dropped without one.
const CLOSE_GRACE: Duration = Duration::from_secs(30);

/// The largest message a socket may send before `connection_init` is acknowledged: a
/// handshake carries a token, not megabytes. Past it the socket is closed with 4400.
const PRE_INIT_MAX_BYTES: usize = 16 * 1024;

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    ConnectionInit {
        payload: Option<Value>,
    },
    Ping {
        payload: Option<Value>,
    },
    Pong {},
    Subscribe {
        id: String,
        payload: async_graphql::Request,
    },
    Complete {
        id: String,
    },
}

struct Close(u16, String);

/// A completed handshake: until when its credential holds, if it expires.
struct Handshake {
    expires: Option<Instant>,
}

pub async fn upgrade(
    State(server): State<Server>,
    Extension(request_id): Extension<RequestId>,
    ConnectInfo(Wire(outbox)): ConnectInfo<Wire>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let request_id = request_id
        .header_value()
        .to_str()
        .unwrap_or("-")
        .to_string();
    // Partner systems may authenticate the upgrade itself; browsers cannot set headers
    // and use the connection_init payload instead.
    let header_auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    // A message is bounded like an HTTP body, so that no socket can make the server
    // buffer more than that for it.
    let max_bytes = server.state.config.limits.max_body_bytes;
    // A client offering only other subprotocols (the legacy `graphql-ws` of
    // subscriptions-transport-ws) would get a 101 without one and drop the connection
    // before it could read a close code: refuse it before the upgrade, saying why.
    let offered_protocols = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok());
    if let Some(offered) = offered_protocols
        && !offered.split(',').any(|p| p.trim() == PROTOCOL)
    {
        let message = format!(
            "This endpoint speaks the {PROTOCOL} subprotocol (the graphql-ws library's); you offered '{}'. The legacy subscriptions-transport-ws protocol is not supported.",
            offered.chars().take(100).collect::<String>()
        );
        return (
            axum::http::StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "application/json")],
            json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST", "requestId": request_id } }] }).to_string(),
        )
            .into_response();
    }
    // Sized for an idle dashboard, not for throughput: axum's defaults (128 KiB each way)
    // cost more than the rest of a subscriber put together. Client messages are few and
    // small (the buffer grows to a message's size when it must; a read takes at most
    // this much), and each server message is written out whole as it is sent.
    let ws = ws
        .read_buffer_size(128)
        .write_buffer_size(0)
        .protocols([PROTOCOL])
        .max_message_size(max_bytes)
        .max_frame_size(max_bytes);
    let offered = ws.selected_protocol().is_some();
    // The connection outlives the upgrade request's span; give it one with the same id.
    let span = tracing::info_span!("websocket", %request_id);
    ws.on_upgrade(move |socket| {
        async move {
            if offered {
                // From here the socket carries whole frames, which subscriptions'
                // renderings may write into it themselves.
                outbox.carry_frames(server.state.config.ws_queue);
                Connection::new(server, request_id, header_auth, outbox)
                    .run(socket)
                    .await;
            } else {
                let mut socket = socket;
                let _ = socket
                    .send(close_message(
                        4406,
                        "Subprotocol not acceptable: use graphql-transport-ws",
                    ))
                    .await;
            }
        }
        .instrument(span)
    })
}

struct Connection {
    server: Server,
    request_id: String,
    header_auth: Option<String>,
    caller: Option<Caller>,
    /// The credential the handshake presented, to check again when the connection may
    /// have missed its revocation.
    credential: Option<String>,
    /// This connection's place among its holder's connections; freed when dropped.
    seat: Option<Seat>,
    /// The socket's way out, shared with the renderings that write to it.
    outbox: std::sync::Arc<Outbox>,
}

impl Connection {
    fn new(
        server: Server,
        request_id: String,
        header_auth: Option<String>,
        outbox: std::sync::Arc<Outbox>,
    ) -> Connection {
        Connection {
            server,
            request_id,
            header_auth,
            caller: None,
            credential: None,
            seat: None,
            outbox,
        }
    }

    async fn run(mut self, socket: WebSocket) {
        let opened = Instant::now();
        let _open = Held::new(&self.server.state.metrics.websocket_connections);
        let (sink, mut incoming) = socket.split();
        let mut writer = Writer::new(sink, self.outbox.clone());
        let config = self.server.state.config.clone();
        let mut deadlines = Deadlines::new(opened, &config);
        let mut timer = pin!(tokio::time::sleep_until(deadlines.next()));
        let mut shutting_down = pin!(stopping(self.server.state.shutting_down.clone()));
        // Every replica hears of a revocation through the event log: a revoked token's
        // socket closes wherever it is.
        let mut revocations = self.server.state.hub.subscribe();

        let close = loop {
            tokio::select! {
                message = incoming.next() => match message {
                    Some(Ok(Message::Text(text))) if self.caller.is_none() && text.len() > PRE_INIT_MAX_BYTES => {
                        break Some(Close(4400, format!("Send connection_init first; before it a message may hold at most {PRE_INIT_MAX_BYTES} bytes")));
                    }
                    Some(Ok(Message::Text(text))) => {
                        // Boxed: handling a message (authenticating, checking a token) holds
                        // database futures several kilobytes large, which would otherwise
                        // be part of every idle connection's state.
                        match Box::pin(self.handle(&text, &mut writer)).await {
                            Ok(Some(handshake)) => {
                                deadlines.handshake_done(handshake.expires);
                                timer.as_mut().reset(deadlines.next());
                            }
                            Ok(None) => {}
                            Err(close) => break Some(close),
                        }
                    }
                    Some(Ok(Message::Binary(_))) => break Some(Close(4400, "Binary messages are not part of graphql-transport-ws".into())),
                    Some(Err(error)) if error.to_string().contains("Space limit exceeded") => {
                        let limit = self.server.state.config.limits.max_body_bytes;
                        break Some(Close(1009, format!("Message too big: at most {limit} bytes (SWITCHBOARD_MAX_BODY_BYTES)")));
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                    Some(Ok(_)) => {} // WebSocket-level ping and pong are answered for us.
                },
                // The socket's writing is over: the client went, or fell behind and its
                // close went out (the line below says so; nothing is sent twice).
                written = writer.turn() => match written {
                    Ok(()) => {}
                    Err(Ended::Gone) => break None,
                    Err(Ended::Closed) => break Some(Close(1013, FELL_BEHIND.into())),
                },
                _ = &mut timer => {
                    match deadlines.due(Instant::now()) {
                        Some(Due::Handshake) => break Some(Close(4408, "Connection initialisation timeout".into())),
                        Some(Due::Expiry) => break Some(Close(4403, "Forbidden: the credential has expired".into())),
                        Some(Due::Ping) => {
                            let _ = writer.send_if_reading(text(json!({ "type": "ping" }))).await;
                        }
                        None => {}
                    }
                    timer.as_mut().reset(deadlines.next());
                }
                event = revocations.recv(), if self.partner_token().is_some() => match event {
                    Ok(event) if event.topic == Topic::ApiTokenRevoked
                        && Some(event.entity_id) == self.partner_token() => {
                        break Some(Close(4403, "Forbidden: the API token was revoked".into()));
                    }
                    Ok(_) => {}
                    // Events passed while this loop was busy: one of them may have been
                    // the revocation. Never guess: ask again whether the token holds.
                    Err(RecvError::Lagged(_)) => {
                        if let Err(close) = Box::pin(self.recheck()).await {
                            break Some(close);
                        }
                    }
                    Err(RecvError::Closed) => {}
                },
                _ = &mut shutting_down => {
                    break Some(Close(1001, "The server is shutting down: reconnect".into()));
                }
            }
        };
        // One line per connection at its end, under the upgrade's request id.
        let seconds = opened.elapsed().as_secs_f64();
        match &close {
            Some(Close(code, reason)) => {
                tracing::info!(code, reason = %reason, seconds, "websocket closed by the server")
            }
            None => tracing::info!(seconds, "websocket closed by the client"),
        }
        let close = close.map(|Close(code, reason)| close_message(code, &reason));
        if !writer.finish(close, CLOSE_GRACE).await {
            tracing::info!("the client took nothing for {CLOSE_GRACE:?}; dropped its connection");
        }
    }

    /// Authenticates the handshake's credential again: a revoked or expired token is
    /// refused now, whatever this connection may have missed.
    async fn recheck(&self) -> Result<(), Close> {
        match self
            .server
            .state
            .auth
            .authenticate(self.credential.as_deref())
            .await
        {
            Ok(Caller::Anonymous) | Err(_) => Err(Close(
                4403,
                "Forbidden: the credential is no longer valid".into(),
            )),
            Ok(_) => Ok(()),
        }
    }

    fn partner_token(&self) -> Option<i64> {
        match &self.caller {
            Some(Caller::Partner(partner)) => Some(partner.token_id),
            _ => None,
        }
    }

    /// Handles one client message. Returns the handshake once it is done, or the close
    /// the message calls for.
    async fn handle(&mut self, raw: &str, writer: &mut Writer) -> Result<Option<Handshake>, Close> {
        let message: ClientMessage = serde_json::from_str(raw)
            .map_err(|e| Close(4400, format!("Invalid message received: {e}")))?;
        match message {
            ClientMessage::ConnectionInit { payload } => {
                if self.caller.is_some() {
                    return Err(Close(4429, "Too many initialisation requests".into()));
                }
                let caller = self.authenticate(payload).await?;
                let expires_at = match &caller {
                    Caller::Person(person) => Some(person.expires_at),
                    Caller::Partner(partner) => partner.expires_at,
                    Caller::Anonymous => None,
                };
                let holder = match &caller {
                    Caller::Person(person) => format!("user:{}", person.user_id),
                    Caller::Partner(partner) => format!("token:{}", partner.token_id),
                    Caller::Anonymous => String::new(),
                };
                let limit = self.server.state.config.ws_max_connections;
                self.seat = Some(self.server.state.ws_seats.take(holder, limit).ok_or_else(|| {
                    Close(4429, format!("Too many connections: {limit} per person or token (SWITCHBOARD_WS_MAX_CONNECTIONS)"))
                })?);
                self.caller = Some(caller);
                let _ = writer.send(text(json!({ "type": "connection_ack" }))).await;
                Ok(Some(Handshake {
                    expires: expires_at.map(instant_at),
                }))
            }
            ClientMessage::Ping { payload } => {
                let pong = match payload {
                    Some(payload) => json!({ "type": "pong", "payload": payload }),
                    None => json!({ "type": "pong" }),
                };
                // Never queue behind what a client has not read.
                let _ = writer.send_if_reading(text(pong)).await;
                Ok(None)
            }
            ClientMessage::Pong {} => Ok(None),
            ClientMessage::Subscribe { id, payload } => {
                let Some(caller) = self.caller.clone() else {
                    return Err(Close(4401, "Unauthorized".into()));
                };
                // An API token can be revoked at any moment; every new subscription
                // checks it afresh rather than trusting the handshake.
                if matches!(caller, Caller::Partner(_)) {
                    self.recheck().await?;
                }
                if writer.runs(&id) {
                    return Err(Close(4409, format!("Subscriber for {id} already exists")));
                }
                let limit = self.server.state.config.ws_max_subscriptions;
                if writer.running() >= limit {
                    let error = crate::error::edge_error(
                        format!(
                            "This connection runs {limit} subscriptions already (SWITCHBOARD_WS_MAX_SUBSCRIPTIONS): complete one first"
                        ),
                        "RATE_LIMITED",
                        &self.request_id,
                    );
                    self.server.state.metrics.count_errors(["RATE_LIMITED"]);
                    let _ = writer
                        .send_if_reading(text(
                            json!({ "type": "error", "id": id, "payload": [error] }),
                        ))
                        .await;
                    return Ok(None);
                }
                let (stop, registration) = AbortHandle::new_pair();
                let subscription = delivery::open(
                    self.server.clone(),
                    id.clone(),
                    payload,
                    caller,
                    self.outbox.clone(),
                    registration,
                    self.request_id.clone(),
                );
                writer.start(id, stop, subscription);
                Ok(None)
            }
            ClientMessage::Complete { id } => {
                writer.stop(&id);
                Ok(None)
            }
        }
    }

    async fn authenticate(&mut self, payload: Option<Value>) -> Result<Caller, Close> {
        let from_payload = payload.as_ref().and_then(|p| {
            p.get("authorization")
                .or_else(|| p.get("Authorization"))
                .and_then(Value::as_str)
                .map(String::from)
        });
        let authorization = from_payload.or_else(|| self.header_auth.clone());
        self.credential = authorization.clone();
        let caller = self
            .server
            .state
            .auth
            .authenticate(authorization.as_deref())
            .await
            .map_err(|error| Close(4403, format!("Forbidden: {error}")))?;
        match &caller {
            Caller::Anonymous => Err(Close(
                4403,
                "Forbidden: send {\"authorization\": \"Bearer <token>\"} in connection_init".into(),
            )),
            Caller::Partner(partner) => partner
                .require_scope(Scope::EventsSubscribe)
                .map(|_| caller.clone())
                .map_err(|error| Close(4403, format!("Forbidden: {error}"))),
            Caller::Person(_) => Ok(caller),
        }
    }
}

/// A connection's deadlines behind its one timer (a subscriber holds one, not three):
/// the handshake's, the credential's expiry, and the next keep-alive ping.
struct Deadlines {
    /// Until the handshake is done.
    handshake: Option<Instant>,
    expiry: Option<Instant>,
    ping: Instant,
    every: Duration,
}

/// Which deadline has come.
enum Due {
    Handshake,
    Expiry,
    Ping,
}

impl Deadlines {
    fn new(opened: Instant, config: &Config) -> Deadlines {
        Deadlines {
            handshake: Some(opened + config.ws_init_timeout),
            expiry: None,
            ping: opened + config.ws_keepalive,
            every: config.ws_keepalive,
        }
    }

    /// The handshake is done; its credential holds until `expiry`, if it expires.
    fn handshake_done(&mut self, expiry: Option<Instant>) {
        self.handshake = None;
        self.expiry = expiry;
    }

    /// The earliest deadline, for the timer.
    fn next(&self) -> Instant {
        [self.handshake, self.expiry]
            .into_iter()
            .flatten()
            .fold(self.ping, Instant::min)
    }

    /// What has come by `now`, the first one first; a ping is then due again a period
    /// later.
    fn due(&mut self, now: Instant) -> Option<Due> {
        if self.handshake.is_some_and(|at| at <= now) {
            Some(Due::Handshake)
        } else if self.expiry.is_some_and(|at| at <= now) {
            Some(Due::Expiry)
        } else if self.ping <= now {
            self.ping = now + self.every;
            Some(Due::Ping)
        } else {
            None
        }
    }
}

async fn stopping(mut shutting_down: tokio::sync::watch::Receiver<bool>) {
    let _ = shutting_down.wait_for(|stopping| *stopping).await;
}

fn instant_at(at: chrono::DateTime<chrono::Utc>) -> Instant {
    let remaining = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
    Instant::now() + remaining
}

fn text(value: Value) -> Message {
    Message::Text(Utf8Bytes::from(value.to_string()))
}
