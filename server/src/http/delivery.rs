//! Writing to one WebSocket: the connection's own messages (acknowledgements, pongs,
//! pings, the close) and its subscriptions' frames, from one task that polls the
//! subscriptions itself, and hands the kernel what the socket's [`Outbox`] holds as it
//! makes room. A shared stream of events is written into the socket by its rendering
//! (see [`super::renderings`]); only its last message passes through here. Other
//! subscriptions' frames reach the socket with one task woken per socket, and an idle
//! subscription is a few hundred bytes of stream state, not a task.
//!
//! A client that stops reading blocks only this writer. Its subscriptions then fall
//! behind their renderings (which never wait for anyone), and once the client reads
//! again each learns where to resume (`RATE_LIMITED` with `resumeAfter`, the last event
//! it was sent) and the socket is closed with 1013.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::{Arc, Mutex},
};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::{
    SinkExt, Stream, StreamExt,
    stream::{AbortHandle, Abortable, SelectAll, SplitSink},
};
use serde_json::json;
use tokio::sync::mpsc;

use super::{
    Server, execute,
    outbox::Outbox,
    renderings::{Frame, Source, Taken},
};
use crate::{
    auth::Caller,
    error::{AppError, app_error_to_client},
    graphql::audience::{Sharing, sharing},
    metrics::Held,
};

/// What the connection asks its writer to do.
pub enum Out {
    /// Send this message; a close frame is the last. Boxed: the queue's first block holds
    /// 32 of these in every connection, and the connection's own messages are rare.
    Send(Box<Message>),
    /// Start sending this subscription's frames.
    Start(Subscription),
}

impl Out {
    pub fn send(message: Message) -> Out {
        Out::Send(Box::new(message))
    }
}

/// The subscriptions a connection runs, by id, each with the handle that stops it.
pub type Running = Arc<Mutex<HashMap<String, AbortHandle>>>;

/// One subscription's messages to the socket, in order, the last one marked.
pub type Subscription = Pin<Box<dyn Stream<Item = Outgoing> + Send>>;

pub struct Outgoing {
    id: Arc<str>,
    message: Message,
    /// Set on a subscription's last message: whether it fell behind.
    last: Option<Ending>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    Done,
    FellBehind,
}

/// Writes until the connection stops asking (or sends its close), the client goes, or a
/// subscription falls behind, after whose notice it closes the socket with 1013.
pub async fn write(
    mut sink: SplitSink<WebSocket, Message>,
    mut asked: mpsc::Receiver<Out>,
    running: Running,
    outbox: Arc<Outbox>,
) {
    let mut live: SelectAll<Subscription> = SelectAll::new();
    loop {
        tokio::select! {
            // The connection's own messages first: a close must not wait behind frames.
            biased;
            out = asked.recv() => match out {
                Some(Out::Send(message)) => {
                    let closing = matches!(*message, Message::Close(_));
                    if closing {
                        outbox.seal();
                    }
                    if sink.send(*message).await.is_err() || closing {
                        break;
                    }
                }
                Some(Out::Start(subscription)) => live.push(subscription),
                None => break,
            },
            flushed = outbox.flush() => if flushed.is_err() {
                return;
            },
            // A subscription's frame waits for room as it would for the kernel: a client
            // that does not read holds a bounded queue.
            Ok(outgoing) = next_with_room(&mut live, &outbox), if !live.is_empty() => {
                let Some(outgoing) = outgoing else { continue };
                if outgoing.last == Some(Ending::FellBehind) {
                    outbox.seal();
                }
                if sink.send(outgoing.message).await.is_err() {
                    return;
                }
                match outgoing.last {
                    None => {}
                    Some(Ending::Done) => {
                        running.lock().expect("subscriptions poisoned").remove(&*outgoing.id);
                    }
                    Some(Ending::FellBehind) => {
                        // Told in the subscription's last message; it resumes with `after`.
                        let close = close_message(1013, "Fell too far behind: reconnect and resume with after");
                        let _ = sink.send(close).await;
                        break;
                    }
                }
            }
        }
    }
    // What the kernel has not taken yet (the close, often) goes before the writer ends;
    // the connection gives it a grace period.
    let _ = outbox.drained().await;
}

/// A subscription's next message, once the socket has room for it.
async fn next_with_room(
    live: &mut SelectAll<Subscription>,
    outbox: &Outbox,
) -> std::io::Result<Option<Outgoing>> {
    outbox.room().await?;
    Ok(live.next().await)
}

/// Opens a subscription: prepares the operation, finds where its frames come from, and
/// hands the writer its messages, which `stop` ends early (the client completed it).
#[allow(clippy::too_many_arguments)]
pub async fn open(
    server: Server,
    id: String,
    request: async_graphql::Request,
    caller: Caller,
    writer: mpsc::Sender<Out>,
    outbox: Arc<Outbox>,
    stop: futures::stream::AbortRegistration,
    request_id: String,
) {
    let limits = server.state.config.limits;
    let id: Arc<str> = id.into();
    // The same documents as over HTTP: a trusted-documents desk runs no other
    // subscription either.
    let mut request = request;
    let resolved = server.state.documents.resolve(&mut request, &request_id);
    server.state.documents.reuse(&mut request);
    let mut prepared = match resolved.and_then(|()| execute::prepare(request, &limits, &request_id))
    {
        Ok(prepared) => prepared,
        Err(error) => {
            let codes = execute::error_codes(std::slice::from_ref(&error));
            server
                .state
                .metrics
                .count_errors(codes.iter().map(String::as_str));
            let refused = error_message(&quoted(&id), &json!([error]).to_string());
            let last = futures::stream::once(async move {
                Outgoing {
                    id,
                    message: refused,
                    last: Some(Ending::Done),
                }
            });
            let _ = writer
                .send(Out::Start(Box::pin(Abortable::new(last, stop))))
                .await;
            return;
        }
    };
    server.state.documents.remember(&mut prepared.request);
    let name = prepared.request.operation_name.clone();
    let sharing = match prepared.request.parsed_query() {
        Ok(doc) => sharing(doc, name.as_deref()),
        Err(_) => Sharing::Alone,
    };
    let prefix = format!(r#"{{"type":"next","id":{},"payload":"#, quoted(&id));
    let source = server
        .renderings
        .source(
            &server,
            prepared.request,
            sharing,
            caller,
            &request_id,
            &outbox,
            &prefix,
        )
        .await;
    let held = Held::new(&server.state.metrics.subscriptions);
    let messages = messages(id, source, held, server, request_id);
    let _ = writer
        .send(Out::Start(Box::pin(Abortable::new(messages, stop))))
        .await;
}

/// What one subscription is while it runs: where its frames come from, and the last
/// event it was sent (where it would resume from).
struct Delivering {
    id: Arc<str>,
    /// The id as JSON, written once: every message to the socket carries it.
    quoted_id: String,
    source: Source,
    sent: Option<i64>,
    /// Counts it among the running subscriptions until it ends or is dropped.
    _held: Held,
    server: Server,
    request_id: String,
}

/// A subscription's frames as messages for its socket, ending with a marked last one.
fn messages(
    id: Arc<str>,
    source: Source,
    held: Held,
    server: Server,
    request_id: String,
) -> impl Stream<Item = Outgoing> + Send + 'static {
    let state = Delivering {
        quoted_id: quoted(&id),
        id,
        source,
        sent: None,
        _held: held,
        server,
        request_id,
    };
    futures::stream::unfold(Some(state), |state| async move {
        let mut state = state?;
        let id = state.id.clone();
        let quoted_id = &state.quoted_id;
        let (message, last) = match state.source.next().await {
            None => (complete_message(quoted_id), Some(Ending::Done)),
            Some(Taken::Missed) => {
                let after = state.sent.or(state.source.resume_after()).unwrap_or(0);
                (behind(&state, after), Some(Ending::FellBehind))
            }
            Some(Taken::Frame(frame)) => match &*frame {
                Frame::Next { seq, payload } => {
                    if seq.is_some() {
                        state.sent = *seq;
                    }
                    (next_message(quoted_id, payload), None)
                }
                Frame::Behind { payload } => {
                    (next_message(quoted_id, payload), Some(Ending::FellBehind))
                }
                Frame::Refused { errors } => (error_message(quoted_id, errors), Some(Ending::Done)),
                Frame::Complete => (complete_message(quoted_id), Some(Ending::Done)),
            },
        };
        if last == Some(Ending::FellBehind) {
            state.server.state.metrics.count_errors(["RATE_LIMITED"]);
        }
        let outgoing = Outgoing { id, message, last };
        Some((outgoing, last.is_none().then_some(state)))
    })
}

/// The notice for a subscription that fell behind: resume after `after`.
fn behind(state: &Delivering, after: i64) -> Message {
    let error = app_error_to_client(AppError::FellBehind(after), &state.request_id);
    next_message(
        &state.quoted_id,
        &json!({ "data": null, "errors": [error] }).to_string(),
    )
}

fn quoted(id: &str) -> String {
    serde_json::to_string(id).expect("ids serialize")
}

// Each takes the subscription's id already quoted as JSON.

fn next_message(id: &str, payload: &str) -> Message {
    Message::Text(format!(r#"{{"type":"next","id":{id},"payload":{payload}}}"#).into())
}

fn error_message(id: &str, errors: &str) -> Message {
    Message::Text(format!(r#"{{"type":"error","id":{id},"payload":{errors}}}"#).into())
}

fn complete_message(id: &str) -> Message {
    Message::Text(format!(r#"{{"type":"complete","id":{id}}}"#).into())
}

pub fn close_message(code: u16, reason: &str) -> Message {
    // A close frame's reason may hold at most 123 bytes.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(&reason[..end]),
    }))
}
