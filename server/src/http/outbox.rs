//! One client socket's way out. Until a WebSocket takes the socket it is plain HTTP:
//! hyper writes and waits for the kernel as with any stream. Once it carries a
//! WebSocket, a subscription's rendering writes its frames into the socket itself, a
//! system call per frame from the one task that rendered it, with no task of the
//! socket's woken on the way; the socket's own messages (acknowledgements, pongs, the
//! close) come through the WebSocket library to the same place. Every write is a whole
//! frame, in order: what the kernel does not take at once waits here, and the socket's
//! writer hands it over as the kernel makes room. A client that stops reading fills
//! this queue, and its subscriptions are then told to resume later, as before.

use std::{
    collections::VecDeque,
    io::{self, IoSlice},
    sync::Mutex,
    task::{Context, Poll, ready},
};

use bytes::{Buf, Bytes};
use tokio::{net::TcpStream, sync::Notify};

/// Bytes a client may leave unread before its subscriptions are behind, whatever the
/// number of frames: a few large responses must not hold megabytes a socket.
const MAX_QUEUED_BYTES: usize = 1024 * 1024;

/// One accepted socket and what waits to be written into it.
pub struct Outbox {
    tcp: TcpStream,
    queue: Mutex<Queue>,
    /// Wakes the socket's writer when bytes wait for the kernel.
    waiting: Notify,
}

#[derive(Default)]
struct Queue {
    /// Set once a WebSocket carries the socket: writes are then whole frames, queued
    /// when the kernel is full, instead of waiting for it.
    framed: bool,
    /// Frames a subscription may leave waiting before it is behind (SWITCHBOARD_WS_QUEUE).
    limit: usize,
    /// What the kernel has not taken yet, frame by frame, oldest first.
    waiting: VecDeque<Bytes>,
    waiting_bytes: usize,
    /// No more frames from subscriptions: the connection is closing.
    sealed: bool,
    /// The socket failed (the client went): nothing more can be written.
    broken: bool,
}

impl Queue {
    fn full(&self) -> bool {
        self.waiting.len() >= self.limit || self.waiting_bytes >= MAX_QUEUED_BYTES
    }

    fn keep(&mut self, bytes: Bytes) {
        self.waiting_bytes += bytes.len();
        self.waiting.push_back(bytes);
    }

    /// The socket failed: what waits will never go out.
    fn fail(&mut self) {
        self.broken = true;
        self.waiting.clear();
        self.waiting_bytes = 0;
    }
}

/// What became of a frame offered by a subscription.
#[derive(Debug, PartialEq, Eq)]
pub enum Offer {
    /// Written, or waiting its turn: the client will have it.
    Taken,
    /// The client has left too much unread: the subscription is behind.
    Full,
    /// The connection is closing or gone.
    Gone,
}

impl Outbox {
    pub fn new(tcp: TcpStream) -> Outbox {
        Outbox {
            tcp,
            queue: Mutex::default(),
            waiting: Notify::new(),
        }
    }

    /// The socket, for reading.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// From now on the socket carries a WebSocket: whole frames, at most `limit` waiting.
    pub fn carry_frames(&self, limit: usize) {
        let mut queue = self.lock();
        queue.framed = true;
        queue.limit = limit.max(1);
    }

    /// Takes no more frames from subscriptions; the connection's own messages (its close
    /// among them) still go out.
    pub fn seal(&self) {
        self.lock().sealed = true;
    }

    /// A subscription's frame, given in parts that are written as one: into the socket
    /// now if nothing is waiting before it and the kernel takes it, else queued.
    pub fn offer(&self, parts: &[&[u8]]) -> Offer {
        let mut queue = self.lock();
        if queue.broken || queue.sealed || !queue.framed {
            return Offer::Gone;
        }
        if queue.full() {
            return Offer::Full;
        }
        match self.write_whole(&mut queue, parts) {
            Ok(()) => Offer::Taken,
            Err(_) => Offer::Gone,
        }
    }

    /// Writes one whole frame, given in parts: into the socket now if nothing waits
    /// before it, and what the kernel does not take waits, in order, for the writer.
    fn write_whole(&self, queue: &mut Queue, parts: &[&[u8]]) -> io::Result<()> {
        if !queue.waiting.is_empty() {
            queue.keep(Bytes::from(parts.concat()));
            return Ok(());
        }
        let total: usize = parts.iter().map(|part| part.len()).sum();
        let slices: Vec<IoSlice> = parts.iter().map(|part| IoSlice::new(part)).collect();
        let written = match self.tcp.try_write_vectored(&slices) {
            Ok(written) => written,
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => 0,
            Err(error) => {
                queue.fail();
                return Err(error);
            }
        };
        if written < total {
            queue.keep(Bytes::from(parts.concat()).slice(written..));
            self.waiting.notify_one();
        }
        Ok(())
    }

    /// Hands what waits to the kernel as it makes room; returns when nothing waits, or
    /// when the socket fails. Waits for something to be queued first. The writer's.
    pub async fn flush(&self) -> io::Result<()> {
        if self.lock().waiting.is_empty() {
            // A permit left by `notify_one` is kept: a frame queued before this call
            // began is not missed.
            self.waiting.notified().await;
        }
        self.drained().await
    }

    /// Writes out what waits, registering for the kernel's room when it is full.
    fn poll_drain(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            {
                let mut queue = self.lock();
                if queue.broken {
                    return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
                }
                let Some(front) = queue.waiting.front_mut() else {
                    return Poll::Ready(Ok(()));
                };
                match self.tcp.try_write(front) {
                    Ok(written) => {
                        front.advance(written);
                        if front.is_empty() {
                            queue.waiting.pop_front();
                        }
                        queue.waiting_bytes -= written;
                        continue;
                    }
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                    Err(error) => {
                        queue.fail();
                        return Poll::Ready(Err(error));
                    }
                }
            }
            ready!(self.tcp.poll_write_ready(cx))?;
        }
    }

    /// A write through hyper, or the WebSocket library's (the connection's own messages,
    /// pongs among them, written from whichever task reads or writes the socket). Framed,
    /// it never waits: it is queued behind what waits, and only the socket's writer waits
    /// for the kernel (see [`Outbox::room`]), so that one task alone is woken by it.
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut queue = self.lock();
        if !queue.framed {
            drop(queue);
            return self.poll_write_plain(cx, &[IoSlice::new(buf)]);
        }
        if queue.broken {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        Poll::Ready(self.write_whole(&mut queue, &[buf]).map(|()| buf.len()))
    }

    /// Whether the client has left as much unread as it may.
    pub fn is_full(&self) -> bool {
        self.lock().full()
    }

    /// Waits, handing over what waits, until there is room for another frame. Only the
    /// socket's writer calls it (the kernel wakes one task for a socket's room).
    pub async fn room(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| {
            if !self.lock().full() {
                return Poll::Ready(Ok(()));
            }
            self.poll_drain(cx)
        })
        .await
    }

    /// Waits until everything queued is in the kernel: the writer's last act.
    pub async fn drained(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_drain(cx)).await
    }

    /// A write in parts: one frame, framed; as much as the kernel takes, as plain HTTP.
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut queue = self.lock();
        if !queue.framed {
            drop(queue);
            return self.poll_write_plain(cx, bufs);
        }
        if queue.broken {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let parts: Vec<&[u8]> = bufs.iter().map(|buf| &**buf).collect();
        let total = parts.iter().map(|part| part.len()).sum();
        Poll::Ready(self.write_whole(&mut queue, &parts).map(|()| total))
    }

    /// A write of plain HTTP: as much as the kernel takes, waiting for it as a stream does.
    fn poll_write_plain(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.tcp.poll_write_ready(cx))?;
            match self.tcp.try_write_vectored(bufs) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }

    /// Ends the sending side. Framed, the writer hands over what waits first and the
    /// connection's end closes the socket; nothing is cut short here.
    pub fn poll_shutdown(&self) -> Poll<io::Result<()>> {
        let queue = self.lock();
        if queue.framed && !queue.waiting.is_empty() {
            return Poll::Ready(Ok(()));
        }
        drop(queue);
        Poll::Ready(socket2::SockRef::from(&self.tcp).shutdown(std::net::Shutdown::Write))
    }

    /// The connection is over: whatever still holds this outbox (a subscription's
    /// rendering for a moment) writes nothing more, and the client sees the end now.
    pub fn close(&self) {
        self.lock().fail();
        let _ = socket2::SockRef::from(&self.tcp).shutdown(std::net::Shutdown::Both);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().expect("outbox poisoned")
    }
}
