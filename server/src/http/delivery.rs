//! A subscription's messages to its socket: opening it (preparing the operation and
//! finding where its frames come from), then its frames as graphql-transport-ws
//! messages, the last one marked. The socket's [`super::writer::Writer`] polls them in
//! the connection's own task.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use futures::{
    Stream,
    stream::{AbortRegistration, Abortable},
};
use serde_json::json;

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

/// One subscription's messages to the socket, in order, the last one marked.
pub type Subscription = Pin<Box<dyn Stream<Item = Outgoing> + Send>>;

pub struct Outgoing {
    pub id: Arc<str>,
    pub message: Message,
    /// Set on a subscription's last message: whether it fell behind.
    pub last: Option<Ending>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Done,
    FellBehind,
}

/// A subscription from the moment the client asks for it, which `stop` ends early (the
/// client completed it). Preparing it may read the database; that runs as its stream's
/// first step, polled by the connection's task like any message, so the connection
/// stays free to read its client meanwhile and no task is spawned for it.
pub fn open(
    server: Server,
    id: String,
    request: async_graphql::Request,
    caller: Caller,
    outbox: Arc<Outbox>,
    stop: AbortRegistration,
    request_id: String,
) -> Subscription {
    let preparing = prepare(server, id, request, caller, outbox, request_id);
    Box::pin(Abortable::new(
        Opening::Preparing(Box::pin(preparing)),
        stop,
    ))
}

/// A subscription being prepared, then its messages. The preparation is boxed apart:
/// its futures are kilobytes, freed once it is open rather than kept for as long as the
/// subscription runs.
enum Opening {
    Preparing(Pin<Box<dyn Future<Output = Subscription> + Send>>),
    Open(Subscription),
}

impl Stream for Opening {
    type Item = Outgoing;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Outgoing>> {
        loop {
            match &mut *self {
                Opening::Preparing(preparing) => {
                    let open = ready!(preparing.as_mut().poll(cx));
                    *self = Opening::Open(open);
                }
                Opening::Open(messages) => return messages.as_mut().poll_next(cx),
            }
        }
    }
}

/// Prepares the operation and finds where its frames come from; a refused operation
/// is one error message.
async fn prepare(
    server: Server,
    id: String,
    request: async_graphql::Request,
    caller: Caller,
    outbox: Arc<Outbox>,
    request_id: String,
) -> Subscription {
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
            return Box::pin(futures::stream::iter([Outgoing {
                id,
                message: refused,
                last: Some(Ending::Done),
            }]));
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
    Box::pin(messages(id, source, held, server, request_id))
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
