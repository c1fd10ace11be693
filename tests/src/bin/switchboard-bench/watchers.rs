//! The fan-out's subscribers, read as the floor's sockets are: each socket speaks
//! graphql-transport-ws over a WebSocket (the upgrade, `connection_init`, the
//! acknowledgement and `subscribe`, over tokio), and is then read with epoll by a thread a
//! core, its frames parsed by hand. The server's side of the comparison is then the only
//! one that differs from the floor's: a WebSocket library and a task a socket in this
//! process took as much of the two shared cores as the server's whole delivery did.

use std::{
    io::{ErrorKind, Read, Write},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use mio::{Events, Interest, Poll, Token};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::fanout::{Arrivals, QUEUE, ticket_number};

/// A socket whose subscription is running, not yet read.
pub struct Opened(std::net::TcpStream);

/// Opens a socket on `port` as `token`, and subscribes to the group's queue.
pub async fn open(port: u16, token: &str, group: &str) -> std::io::Result<Opened> {
    let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    socket.set_nodelay(true)?;
    let upgrade = format!(
        "GET /graphql/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c3dpdGNoYm9hcmQtYmVuY2g=\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
    );
    socket.write_all(upgrade.as_bytes()).await?;
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        let byte = socket.read_u8().await?;
        head.push(byte);
        if head.len() > 4096 {
            return Err(refused("an endless upgrade response"));
        }
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return Err(refused(&String::from_utf8_lossy(&head)));
    }
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket.write_all(&client_frame(&init.to_string())).await?;
    let ack = read_frame(&mut socket).await?;
    if !ack.contains("connection_ack") {
        return Err(refused(&ack));
    }
    let subscribe = json!({ "id": "q", "type": "subscribe", "payload": { "query": QUEUE, "variables": { "g": group } } });
    socket
        .write_all(&client_frame(&subscribe.to_string()))
        .await?;
    Ok(Opened(socket.into_std()?))
}

fn refused(what: &str) -> std::io::Error {
    std::io::Error::other(format!("the server refused the subscriber: {what}"))
}

/// A text frame as a client must send it: masked (RFC 6455, 5.3).
fn client_frame(text: &str) -> Vec<u8> {
    const MASK: [u8; 4] = [0x5b, 0x17, 0xa9, 0x3e];
    let mut frame = vec![0x81];
    match text.len() {
        length @ 0..126 => frame.push(0x80 | length as u8),
        length => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(length as u16).to_be_bytes());
        }
    }
    frame.extend_from_slice(&MASK);
    frame.extend(text.bytes().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    frame
}

/// One whole frame's text, read from a socket still in tokio's hands.
async fn read_frame(socket: &mut tokio::net::TcpStream) -> std::io::Result<String> {
    let mut header = [0u8; 2];
    socket.read_exact(&mut header).await?;
    let length = match header[1] & 0x7f {
        126 => socket.read_u16().await? as usize,
        127 => socket.read_u64().await? as usize,
        short => short as usize,
    };
    let mut payload = vec![0u8; length];
    socket.read_exact(&mut payload).await?;
    Ok(String::from_utf8_lossy(&payload).into_owned())
}

/// The frames' texts at the start of `buffer`, and how many bytes they took: a frame
/// cut short stays for the next read.
fn frames(buffer: &[u8]) -> (Vec<&str>, usize) {
    let mut texts = vec![];
    let mut at = 0;
    loop {
        let rest = &buffer[at..];
        if rest.len() < 2 {
            break;
        }
        let (length, header) = match rest[1] & 0x7f {
            126 if rest.len() >= 4 => (u16::from_be_bytes([rest[2], rest[3]]) as usize, 4),
            127 if rest.len() >= 10 => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(&rest[2..10]);
                (u64::from_be_bytes(bytes) as usize, 10)
            }
            126 | 127 => break,
            short => (short as usize, 2),
        };
        if rest.len() < header + length {
            break;
        }
        if rest[0] & 0x0f == 1 {
            texts.push(std::str::from_utf8(&rest[header..header + length]).unwrap_or(""));
        }
        at += header + length;
    }
    (texts, at)
}

/// The sockets being read, until dropped.
pub struct Reading {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Drop for Reading {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Reads `sockets` with a thread a core, noting each queue message's arrival.
pub fn read(sockets: Vec<Opened>, arrivals: Arrivals) -> std::io::Result<Reading> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut shares: Vec<Vec<mio::net::TcpStream>> = (0..threads).map(|_| vec![]).collect();
    for (i, Opened(socket)) in sockets.into_iter().enumerate() {
        socket.set_nonblocking(true)?;
        shares[i % threads].push(mio::net::TcpStream::from_std(socket));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut reading = Reading {
        stop: stop.clone(),
        threads: vec![],
    };
    for share in shares {
        let (stop, arrivals) = (stop.clone(), arrivals.clone());
        let poll = Poll::new()?;
        reading.threads.push(std::thread::spawn(move || {
            if let Err(error) = read_share(poll, share, &stop, &arrivals) {
                eprintln!("a subscribers' reader stopped: {error}");
            }
        }));
    }
    Ok(reading)
}

fn read_share(
    mut poll: Poll,
    mut sockets: Vec<mio::net::TcpStream>,
    stop: &AtomicBool,
    arrivals: &Arrivals,
) -> std::io::Result<()> {
    for (i, socket) in sockets.iter_mut().enumerate() {
        poll.registry()
            .register(socket, Token(i), Interest::READABLE)?;
    }
    // What each socket has read of a frame not yet whole.
    let mut partial: Vec<Vec<u8>> = vec![vec![]; sockets.len()];
    let mut events = Events::with_capacity(1024);
    let mut buffer = [0u8; 512];
    while !stop.load(Ordering::Acquire) {
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for event in events.iter() {
            let i = event.token().0;
            // Edge-triggered: read until there is nothing more.
            loop {
                match sockets[i].read(&mut buffer) {
                    Ok(0) => break,
                    Ok(read) => {
                        let at = Instant::now();
                        let pending = &mut partial[i];
                        pending.extend_from_slice(&buffer[..read]);
                        let (texts, taken) = frames(pending);
                        let mut answer_ping = false;
                        for text in texts {
                            if let Some(number) = ticket_number(text) {
                                arrivals
                                    .lock()
                                    .expect("arrivals poisoned")
                                    .push((number.to_string(), at));
                            } else if text.contains(r#""type":"ping""#) {
                                answer_ping = true;
                            }
                        }
                        pending.drain(..taken);
                        if answer_ping {
                            let _ = sockets[i].write_all(&client_frame(r#"{"type":"pong"}"#));
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::frames;

    #[test]
    fn frames_cut_short_wait_for_the_rest() {
        let mut bytes = vec![0x81, 3, b'a', b'b', b'c', 0x81, 126, 0, 200];
        bytes.extend(std::iter::repeat_n(b'x', 100));
        let (texts, taken) = frames(&bytes);
        assert_eq!(texts, vec!["abc"]);
        assert_eq!(taken, 5);
    }
}
