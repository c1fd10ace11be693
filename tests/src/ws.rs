//! A graphql-transport-ws client, as the `graphql-ws` library speaks it.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How the server ended the connection.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

impl WsClient {
    pub async fn connect(url: &str) -> WsClient {
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (socket, response) = connect_async(request).await.expect("the WebSocket opens");
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some("graphql-transport-ws")
        );
        WsClient { socket }
    }

    /// Connects with a small receive window, as a phone on a poor network has, so that a
    /// client that stops reading fills the server's queue after a few messages rather
    /// than after the megabytes loopback would otherwise buffer.
    pub async fn connect_with_small_window(url: &str, token: &str) -> WsClient {
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let host = request.uri().host().unwrap().to_string();
        let port = request.uri().port_u16().unwrap();
        let address = tokio::net::lookup_host((host.as_str(), port))
            .await
            .unwrap()
            .next()
            .unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket
            .connect(address)
            .await
            .expect("the TCP connection opens");
        let (socket, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
            .await
            .expect("the WebSocket opens");
        let mut client = WsClient { socket };
        client.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })).await;
        assert_eq!(client.next_message().await["type"], "connection_ack");
        client
    }

    /// Connects and completes the handshake with this bearer token.
    pub async fn connect_with_token(url: &str, token: &str) -> WsClient {
        let mut client = WsClient::connect(url).await;
        client.send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } })).await;
        let ack = client.next_message().await;
        assert_eq!(
            ack["type"], "connection_ack",
            "expected connection_ack, got {ack}"
        );
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("the message is sent");
    }

    /// Sends a message the server may refuse by closing the socket while it is written.
    pub async fn try_send(&mut self, message: Value) -> Result<(), String> {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .map_err(|e| e.to_string())
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } })).await;
    }

    /// Asserts that the socket is open and answering: a ping carrying `n` comes back as
    /// its pong, next (nothing else may arrive before it).
    pub async fn answers_ping(&mut self, n: u64) {
        self.send(json!({ "type": "ping", "payload": { "n": n } }))
            .await;
        assert_eq!(
            self.next_message().await,
            json!({ "type": "pong", "payload": { "n": n } })
        );
    }

    /// The next protocol message (server pings are answered and skipped), within 10 s.
    pub async fn next_message(&mut self) -> Value {
        loop {
            let value = self.next_text(Duration::from_secs(10)).await;
            if value["type"] == "ping" {
                self.send(json!({ "type": "pong" })).await;
                continue;
            }
            return value;
        }
    }

    /// The next text message as it came, server pings included (and not answered),
    /// within `limit`.
    pub async fn next_text(&mut self, limit: Duration) -> Value {
        loop {
            let frame = tokio::time::timeout(limit, self.socket.next())
                .await
                .expect("a message in time")
                .expect("the socket is open")
                .expect("a well-formed frame");
            match frame {
                Message::Text(text) => {
                    return serde_json::from_str(&text).expect("JSON from the server");
                }
                Message::Close(frame) => panic!("the server closed the socket: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Waits for the server to close the socket, within `limit`, and says how.
    pub async fn closed(&mut self, limit: Duration) -> Closed {
        loop {
            let frame = tokio::time::timeout(limit, self.socket.next())
                .await
                .expect("the server closes in time");
            match frame {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return Closed {
                        code: frame.code.into(),
                        reason: frame.reason.to_string(),
                    };
                }
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => {
                    return Closed {
                        code: 1005,
                        reason: String::new(),
                    };
                }
                Some(Ok(_)) => continue,
            }
        }
    }
}
