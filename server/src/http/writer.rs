//! A WebSocket's writing side, held by its connection's own task: one task a socket,
//! not a reader and a writer. It sends the connection's own messages (acknowledgements,
//! pongs, pings, the close), polls the subscriptions whose messages pass through it, and
//! hands the kernel what the socket's [`Outbox`] holds as the kernel makes room. A
//! shared stream of events writes into the outbox itself (see [`super::renderings`]);
//! only its last message passes through here.
//!
//! Nothing here waits for the client: a framed outbox queues what the kernel does not
//! take, so the connection's loop stays free to hear its client, revocations and
//! shutdown. A client that stops reading fills its outbox; its subscriptions then fall
//! behind their renderings (which never wait for anyone), and once it reads again each
//! learns where to resume (`RATE_LIMITED` with `resumeAfter`) and the socket is closed
//! with 1013.

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::extract::ws::{Message, WebSocket};
use futures::{
    SinkExt, StreamExt,
    stream::{AbortHandle, SelectAll, SplitSink},
};

use super::{
    delivery::{Ending, Outgoing, Subscription, close_message},
    outbox::Outbox,
};

/// The close's reason for a client that fell behind.
pub const FELL_BEHIND: &str = "Fell too far behind: reconnect and resume with after";

/// Why a socket's writing is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The client went: nothing more can be written.
    Gone,
    /// The close was sent; what waits before it still goes out.
    Closed,
}

pub struct Writer {
    sink: SplitSink<WebSocket, Message>,
    /// The messages of the subscriptions running, polled here: an idle subscription is a
    /// few hundred bytes of stream state, not a task.
    live: SelectAll<Subscription>,
    /// The subscriptions running, by id, each with the handle that stops it.
    running: HashMap<String, AbortHandle>,
    outbox: Arc<Outbox>,
    ended: Option<Ended>,
}

impl Writer {
    pub fn new(sink: SplitSink<WebSocket, Message>, outbox: Arc<Outbox>) -> Writer {
        Writer {
            sink,
            live: SelectAll::new(),
            running: HashMap::new(),
            outbox,
            ended: None,
        }
    }

    /// Whether a subscription runs under this id.
    pub fn runs(&self, id: &str) -> bool {
        self.running.contains_key(id)
    }

    /// How many subscriptions run.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Starts a subscription: its messages pass through here, and `stop` ends it.
    pub fn start(&mut self, id: String, stop: AbortHandle, subscription: Subscription) {
        self.running.insert(id, stop);
        self.live.push(subscription);
    }

    /// Stops a subscription the client completed; unknown ids are ignored, as the
    /// protocol asks.
    pub fn stop(&mut self, id: &str) {
        if let Some(stop) = self.running.remove(id) {
            stop.abort();
        }
    }

    /// Sends one of the connection's own messages; a close is the last. It never waits
    /// for the client: what the kernel does not take is queued in the outbox.
    pub async fn send(&mut self, message: Message) -> Result<(), Ended> {
        if let Some(ended) = self.ended {
            return Err(ended);
        }
        let closing = matches!(message, Message::Close(_));
        if closing {
            // Subscriptions' renderings write nothing after the close.
            self.outbox.seal();
        }
        if self.sink.send(message).await.is_err() {
            return Err(*self.ended.insert(Ended::Gone));
        }
        if closing {
            self.ended = Some(Ended::Closed);
        }
        Ok(())
    }

    /// As [`Writer::send`], unless the client has left its queue full: a keep-alive
    /// ping or a pong is then skipped rather than queued behind what it has not read.
    pub async fn send_if_reading(&mut self, message: Message) -> Result<(), Ended> {
        if self.outbox.is_full() {
            tracing::debug!("client is not reading; skipped a ping or pong");
            return Ok(());
        }
        self.send(message).await
    }

    /// One step of writing: hands the kernel what waits in the outbox, or sends a
    /// subscription's next message once there is room for it. An error says that the
    /// socket's writing is over (the client went, or fell behind and was closed).
    pub async fn turn(&mut self) -> Result<(), Ended> {
        if let Some(ended) = self.ended {
            // Nothing more to do here; the connection ends on its next turn.
            return Err(ended);
        }
        tokio::select! {
            biased;
            flushed = self.outbox.flush() => {
                if flushed.is_err() {
                    return Err(*self.ended.insert(Ended::Gone));
                }
                Ok(())
            }
            // A subscription's message waits for room as it would for the kernel: a
            // client that does not read holds a bounded queue.
            Ok(Some(outgoing)) = next_with_room(&mut self.live, &self.outbox), if !self.live.is_empty() => {
                self.deliver(outgoing).await
            }
        }
    }

    /// Sends a subscription's message, and acts on its end.
    async fn deliver(&mut self, outgoing: Outgoing) -> Result<(), Ended> {
        if outgoing.last == Some(Ending::FellBehind) {
            self.outbox.seal();
        }
        if self.sink.send(outgoing.message).await.is_err() {
            return Err(*self.ended.insert(Ended::Gone));
        }
        match outgoing.last {
            None => Ok(()),
            Some(Ending::Done) => {
                self.running.remove(&*outgoing.id);
                Ok(())
            }
            Some(Ending::FellBehind) => {
                // Told in the subscription's last message; it resumes with `after`.
                self.send(close_message(1013, FELL_BEHIND)).await?;
                Err(Ended::Closed)
            }
        }
    }

    /// The connection is over: stops every subscription, sends `close` unless a close
    /// went already, and gives the client `grace` to take what is queued. Returns
    /// whether it did.
    pub async fn finish(mut self, close: Option<Message>, grace: Duration) -> bool {
        for (_, stop) in self.running.drain() {
            stop.abort();
        }
        self.live.clear();
        if let Some(close) = close {
            let _ = self.send(close).await;
        }
        if self.ended == Some(Ended::Gone) {
            return true;
        }
        tokio::time::timeout(grace, self.outbox.drained())
            .await
            .is_ok()
    }
}

/// A subscription's next message, once the socket has room for it.
async fn next_with_room(
    live: &mut SelectAll<Subscription>,
    outbox: &Outbox,
) -> std::io::Result<Option<Outgoing>> {
    outbox.room().await?;
    Ok(live.next().await)
}
