//! Subscriptions rendered once for everyone who asked the same thing and may see the
//! same. A thousand dashboards watching one queue need one filter, one ticket read and
//! one JSON rendering per event, not a thousand: sockets whose subscriptions have the
//! same document, operation, variables and [`Audience`] share one rendering, and each
//! socket is handed its bytes. A subscription that cannot be shared (one replaying from
//! `after`, say) is rendered the same way, for itself alone.
//!
//! A shared stream of events goes further: its rendering writes each frame into its
//! members' sockets itself (see [`super::outbox`]), one system call a socket from the
//! one task, as the raw-TCP floor of the live benchmark does, and each member's writer
//! is woken only for its last message. A stream of states, or one rendered alone, is
//! passed to the socket's writer instead.

use std::{
    collections::HashMap,
    pin::Pin,
    sync::{Arc, Mutex, Weak},
};

use async_graphql::Request;
use futures::{Stream, StreamExt, task::AtomicWaker};
use tokio::{
    sync::broadcast::{self, error::RecvError},
    task::AbortHandle,
};

use super::{
    Server, execute,
    outbox::{Offer, Outbox},
};
use crate::{
    auth::Caller,
    graphql::{
        audience::{Audience, Sharing},
        live::{Position, StartAfter},
        loaders::Lasting,
    },
    metrics::Held,
};

/// One response of a subscription, rendered once.
pub enum Frame {
    /// A response. `seq` is the event behind it; none for a state (a dashboard's counts).
    Next { seq: Option<i64>, payload: String },
    /// The last response: the stream fell behind, and the response says where to resume.
    Behind { payload: String },
    /// The operation was refused before it produced anything: the errors, as JSON.
    Refused { errors: String },
    /// The stream ended.
    Complete,
}

impl Frame {
    fn is_last(&self) -> bool {
        !matches!(self, Frame::Next { .. })
    }
}

/// What a shared rendering is known by.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    query: String,
    operation_name: Option<String>,
    variables: String,
    audience: Audience,
    sharing: Sharing,
}

/// The renderings running on this replica, by what they render.
#[derive(Default)]
pub struct Renderings(Mutex<HashMap<Key, Weak<Rendering>>>);

/// One operation running for everyone who shares it; it stops when the last leaves.
pub struct Rendering {
    key: Key,
    registry: Weak<Renderings>,
    frames: broadcast::Sender<Arc<Frame>>,
    /// For a stream of states, the newest, which a newcomer starts from.
    latest: Arc<Mutex<Option<Arc<Frame>>>>,
    /// Set, under the registry's lock, once the last frame is sent: nobody joins after.
    ended: Arc<std::sync::atomic::AtomicBool>,
    /// For a stream of events, the subscriptions it writes to directly.
    members: Arc<Members>,
    task: AbortHandle,
}

/// The subscriptions a rendering writes its frames to.
#[derive(Default)]
struct Members(Mutex<Vec<Arc<Member>>>);

impl Members {
    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Member>>> {
        self.0.lock().expect("members poisoned")
    }
}

/// One subscription written to by its rendering: its socket, and how far it has got.
pub struct Member {
    outbox: Arc<Outbox>,
    /// `{"type":"next","id":<its id>,"payload":`, written before every response.
    prefix: Box<[u8]>,
    /// Events up to this one had been passed on when it joined: alone, it would not have
    /// been sent them.
    joined_after: i64,
    progress: Mutex<Progress>,
    /// Its writer, waiting for the last message.
    writer: AtomicWaker,
}

#[derive(Default)]
struct Progress {
    /// The event behind the last response handed to its socket.
    sent: Option<i64>,
    /// How it ended, once it has; taken by its writer.
    end: Option<End>,
    /// Whether the writer has taken the end.
    taken: bool,
}

enum End {
    /// The rendering's last frame.
    Last(Arc<Frame>),
    /// The client left too much unread.
    Missed,
    /// The socket is closing or gone.
    Gone,
}

impl Member {
    /// Writes a response into the socket, unless the subscription has ended or the
    /// event came before it joined. A socket with too much unread, or gone, ends it.
    fn deliver(&self, seq: Option<i64>, payload: &str) {
        let mut progress = self.progress.lock().expect("progress poisoned");
        if progress.end.is_some() || progress.taken {
            return;
        }
        if seq.is_some_and(|seq| seq <= self.joined_after) {
            return;
        }
        let (header, size) = text_frame_header(self.prefix.len() + payload.len() + 1);
        let parts: [&[u8]; 4] = [&header[..size], &self.prefix, payload.as_bytes(), b"}"];
        let end = match self.outbox.offer(&parts) {
            Offer::Taken => {
                if seq.is_some() {
                    progress.sent = seq;
                }
                return;
            }
            Offer::Full => End::Missed,
            Offer::Gone => End::Gone,
        };
        progress.end = Some(end);
        drop(progress);
        self.writer.wake();
    }

    /// Ends the subscription with the rendering's last frame.
    fn finish(&self, frame: &Arc<Frame>) {
        let mut progress = self.progress.lock().expect("progress poisoned");
        if progress.end.is_none() && !progress.taken {
            progress.end = Some(End::Last(frame.clone()));
        }
        drop(progress);
        self.writer.wake();
    }

    fn poll_end(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Taken>> {
        self.writer.register(cx.waker());
        let mut progress = self.progress.lock().expect("progress poisoned");
        let Some(end) = progress.end.take() else {
            return std::task::Poll::Pending;
        };
        progress.taken = true;
        std::task::Poll::Ready(match end {
            End::Last(frame) => Some(Taken::Frame(frame)),
            End::Missed => Some(Taken::Missed),
            End::Gone => None,
        })
    }

    fn resume_after(&self) -> i64 {
        let progress = self.progress.lock().expect("progress poisoned");
        progress.sent.unwrap_or(self.joined_after)
    }
}

/// The header of an unmasked, final text frame of `length` bytes (RFC 6455, 5.2).
fn text_frame_header(length: usize) -> ([u8; 10], usize) {
    let mut header = [0u8; 10];
    header[0] = 0x81;
    if length < 126 {
        header[1] = length as u8;
        (header, 2)
    } else if let Ok(short) = u16::try_from(length) {
        header[1] = 126;
        header[2..4].copy_from_slice(&short.to_be_bytes());
        (header, 4)
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&(length as u64).to_be_bytes());
        (header, 10)
    }
}

/// A member's place in its rendering, given up when the subscription is dropped.
pub struct Joined {
    member: Arc<Member>,
    rendering: Arc<Rendering>,
}

impl Drop for Joined {
    fn drop(&mut self) {
        let mut members = self.rendering.members.list();
        if let Some(at) = members.iter().position(|m| Arc::ptr_eq(m, &self.member)) {
            members.swap_remove(at);
        }
    }
}

impl Drop for Rendering {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(registry) = self.registry.upgrade() {
            let mut shared = registry.0.lock().expect("renderings poisoned");
            // A newer rendering may have taken the key since; leave that one be.
            if shared.get(&self.key).is_some_and(|r| r.strong_count() == 0) {
                shared.remove(&self.key);
            }
        }
    }
}

/// Where one subscription's frames come from.
pub enum Source {
    Alone(Pin<Box<dyn Stream<Item = Arc<Frame>> + Send>>),
    Shared {
        /// Held so that the rendering runs while anyone wants it.
        _rendering: Arc<Rendering>,
        frames: broadcast::Receiver<Arc<Frame>>,
        /// A state to start from, sent before anything received.
        first: Option<Arc<Frame>>,
        /// Events up to this one had been passed on when the socket joined: alone, it
        /// would not have been sent them.
        joined_after: i64,
        sharing: Sharing,
    },
    /// Written to by its rendering; only its end passes through here.
    Direct(Joined),
}

/// What a source has next.
pub enum Taken {
    Frame(Arc<Frame>),
    /// The socket fell too far behind the shared rendering; frames were lost to it.
    Missed,
}

impl Source {
    pub async fn next(&mut self) -> Option<Taken> {
        match self {
            Source::Alone(frames) => frames.next().await.map(Taken::Frame),
            Source::Shared {
                frames,
                first,
                joined_after,
                sharing,
                ..
            } => {
                if let Some(frame) = first.clone() {
                    *first = None;
                    return Some(Taken::Frame(frame));
                }
                loop {
                    match frames.recv().await {
                        Ok(frame) => match &*frame {
                            Frame::Next { seq: Some(seq), .. } if *seq <= *joined_after => {}
                            _ => return Some(Taken::Frame(frame)),
                        },
                        // A newer state follows: a dashboard misses nothing by skipping.
                        Err(RecvError::Lagged(_)) if *sharing == Sharing::Latest => {}
                        Err(RecvError::Lagged(_)) => return Some(Taken::Missed),
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
            Source::Direct(joined) => std::future::poll_fn(|cx| joined.member.poll_end(cx)).await,
        }
    }

    /// The event a subscriber that has been sent nothing through [`Source::next`] would
    /// resume after.
    pub fn resume_after(&self) -> Option<i64> {
        match self {
            Source::Alone(_) => None,
            Source::Shared { joined_after, .. } => Some(*joined_after),
            Source::Direct(joined) => Some(joined.member.resume_after()),
        }
    }
}

impl Renderings {
    /// The frames of `request` for `caller`: from a rendering shared with the sockets
    /// that ask the same and may see the same, or from one of its own. A shared stream
    /// of events writes to `outbox` itself, each response after `prefix`.
    #[allow(clippy::too_many_arguments)]
    pub async fn source(
        self: &Arc<Self>,
        server: &Server,
        request: Request,
        sharing: Sharing,
        caller: Caller,
        request_id: &str,
        outbox: &Arc<Outbox>,
        prefix: &str,
    ) -> Source {
        let state = &server.state;
        let accepted = state.hub.last_seq().await;
        let audience = match sharing {
            Sharing::Alone => None,
            // Could not tell who this is: render alone, and let the operation say why.
            _ => Audience::of(state.db.conn(), &caller).await.ok().flatten(),
        };
        let Some(audience) = audience else {
            return Source::Alone(Box::pin(frames(
                server, request, caller, request_id, accepted,
            )));
        };
        let key = Key {
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).unwrap_or_default(),
            audience,
            sharing,
        };
        // Read before joining: what is published after it reaches the member.
        let joined_after = match sharing {
            Sharing::Events => state.hub.last_seq().await,
            _ => 0,
        };
        let (rendering, receiver, first) = {
            let mut shared = self.0.lock().expect("renderings poisoned");
            let running = shared
                .get(&key)
                .and_then(Weak::upgrade)
                .filter(|rendering| !rendering.ended.load(std::sync::atomic::Ordering::Acquire));
            let rendering = match running {
                Some(rendering) => rendering,
                None => {
                    let rendering =
                        self.start(server, key.clone(), request, caller, request_id, accepted);
                    shared.insert(key, Arc::downgrade(&rendering));
                    rendering
                }
            };
            if sharing == Sharing::Events {
                let member = Arc::new(Member {
                    outbox: outbox.clone(),
                    prefix: prefix.as_bytes().into(),
                    joined_after,
                    progress: Mutex::default(),
                    writer: AtomicWaker::new(),
                });
                rendering.members.list().push(member.clone());
                return Source::Direct(Joined { member, rendering });
            }
            let receiver = rendering.frames.subscribe();
            let first = match sharing {
                Sharing::Latest => rendering.latest.lock().expect("latest poisoned").clone(),
                _ => None,
            };
            (rendering, receiver, first)
        };
        Source::Shared {
            frames: receiver,
            first,
            joined_after: state.hub.last_seq().await,
            sharing,
            _rendering: rendering,
        }
    }

    fn start(
        self: &Arc<Self>,
        server: &Server,
        key: Key,
        request: Request,
        caller: Caller,
        request_id: &str,
        accepted: i64,
    ) -> Arc<Rendering> {
        // The frames kept for sockets that are a little slow (SWITCHBOARD_WS_QUEUE): a
        // socket further behind is told to resume with `after` (events), or skips to the
        // newest (states).
        let (sender, _) = broadcast::channel(server.state.config.ws_queue);
        let latest = Arc::new(Mutex::new(None));
        let ended = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut rendered = Box::pin(frames(server, request, caller, request_id, accepted));
        let registry = Arc::downgrade(self);
        let (frames_tx, latest_tx, ended_tx) = (sender.clone(), latest.clone(), ended.clone());
        let members = Arc::new(Members::default());
        let members_tx = members.clone();
        let keeps_latest = key.sharing == Sharing::Latest;
        let live = server.state.metrics.renderings.clone();
        let task = tokio::spawn(async move {
            let _running = Held::new(&live);
            while let Some(frame) = rendered.next().await {
                if frame.is_last() {
                    // Under the registry's lock, so that nobody joins between this last
                    // frame and the rendering's end, and misses it.
                    let Some(registry) = registry.upgrade() else {
                        return;
                    };
                    let _joining = registry.0.lock().expect("renderings poisoned");
                    ended_tx.store(true, std::sync::atomic::Ordering::Release);
                    for member in members_tx.list().iter() {
                        member.finish(&frame);
                    }
                    let _ = frames_tx.send(frame);
                    return;
                }
                if let Frame::Next { seq, payload } = &*frame
                    && !members_tx.list().is_empty()
                {
                    // Written from a copy of the list: members come and go meanwhile.
                    let writing: Vec<Arc<Member>> = members_tx.list().clone();
                    for member in &writing {
                        member.deliver(*seq, payload);
                    }
                    continue;
                }
                if keeps_latest {
                    *latest_tx.lock().expect("latest poisoned") = Some(frame.clone());
                }
                // Nobody listening is fine: the last socket has just left.
                let _ = frames_tx.send(frame);
            }
        });
        Arc::new(Rendering {
            key,
            registry: Arc::downgrade(self),
            frames: sender,
            latest,
            ended,
            members,
            task: task.abort_handle(),
        })
    }
}

/// Runs `request` for `caller` and renders each response once, ending with a last frame.
fn frames(
    server: &Server,
    request: Request,
    caller: Caller,
    request_id: &str,
    accepted: i64,
) -> impl Stream<Item = Arc<Frame>> + Send + 'static {
    let state = server.state.clone();
    let limits = state.config.limits;
    let request_id = request_id.to_string();
    let position = Arc::new(Position::default());
    let ran = Arc::new((
        server.field_types.clone(),
        request.query.clone(),
        request.operation_name.clone(),
    ));
    let request = crate::graphql::attach(
        request.data(position.clone()).data(StartAfter(accepted)),
        caller,
        &state,
        // Counted for nothing: a stream has no response header to report it in.
        &Default::default(),
        Lasting::Stream,
    );
    let responses = server.schema.execute_stream(request);
    futures::stream::unfold(Some((responses, true)), move |running| {
        let (state, position, request_id) = (state.clone(), position.clone(), request_id.clone());
        let ran = ran.clone();
        async move {
            let (mut responses, first) = running?;
            let Some(response) = responses.next().await else {
                return Some((Arc::new(Frame::Complete), None));
            };
            let (types, query, operation_name) = &*ran;
            let ran = execute::Ran {
                query,
                operation_name: operation_name.as_deref(),
                types,
            };
            let (response, request_error) = execute::finish(response, &ran, &limits, &request_id);
            let codes = execute::error_codes(&response.errors);
            state.metrics.count_errors(codes.iter().map(String::as_str));
            if first && request_error {
                let errors = serde_json::to_string(&response.errors).expect("errors serialize");
                return Some((Arc::new(Frame::Refused { errors }), None));
            }
            let behind = response.errors.iter().any(|e| {
                e.extensions
                    .as_ref()
                    .is_some_and(|x| x.get("resumeAfter").is_some())
            });
            let payload = serde_json::to_string(&response).expect("responses serialize");
            if behind {
                return Some((Arc::new(Frame::Behind { payload }), None));
            }
            let frame = Frame::Next {
                seq: position.get(),
                payload,
            };
            Some((Arc::new(frame), Some((responses, false))))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::text_frame_header;

    #[test]
    fn a_frame_header_gives_the_length_in_as_few_bytes_as_the_protocol_allows() {
        let header = |length| {
            let (bytes, size) = text_frame_header(length);
            bytes[..size].to_vec()
        };
        assert_eq!(header(125), vec![0x81, 125]);
        assert_eq!(header(126), vec![0x81, 126, 0, 126]);
        assert_eq!(header(65_535), vec![0x81, 126, 0xff, 0xff]);
        assert_eq!(header(65_536), vec![0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }
}
