//! The floor of a fan-out on this machine: what delivering one small message to each of
//! N loopback TCP sockets costs when nothing but the kernel is in the way. A writing
//! process writes a 129-byte text frame (a `queueChanged` message's size) to each of
//! its sockets, and this process reads them with epoll; each side has a thread a core,
//! as the server has workers. The writer is this binary again (`--floor-writer`):
//! the file limit here (20,000 a process) cannot hold both ends of 10,000 sockets in
//! one. No WebSocket, no GraphQL, no async runtime: no server and client sharing these
//! two cores can do better, so the fan-out scenario's figures are read against it, as
//! the read path's are against pgbench.

use std::{
    io::{BufRead, ErrorKind, Read, Write},
    net::{TcpListener, TcpStream},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use mio::{Events, Interest, Poll, Token};

use super::fanout::cpu_ms;

/// A text frame as a server sends it (unmasked): two bytes of header, 127 of payload.
fn frame() -> Vec<u8> {
    let payload = br#"{"type":"next","id":"q","payload":{"data":{"queueChanged":{"kind":"ADDED","event":{"seq":123456,"ticketNumber":"INC-12345"}}}}}"#;
    let mut frame = vec![0x81, payload.len() as u8];
    frame.extend_from_slice(payload);
    frame
}

/// The writing side, run as `switchboard-bench --floor-writer N`: accepts N
/// connections on a port it prints, then writes the frame to each of them whenever a
/// line comes on standard input, and prints a line when done.
pub fn writer(n: usize) -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let mut out = std::io::stdout();
    writeln!(out, "{}", listener.local_addr()?.port())?;
    out.flush()?;
    let mut sockets = Vec::with_capacity(n);
    for _ in 0..n {
        sockets.push(listener.accept()?.0);
    }
    let frame = frame();
    // As many writing threads as cores, each with its share of the sockets.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let share = n.div_ceil(threads);
    for line in std::io::stdin().lock().lines() {
        line?;
        std::thread::scope(|scope| {
            let writing: Vec<_> = sockets
                .chunks_mut(share)
                .map(|part| {
                    scope.spawn(|| {
                        part.iter_mut()
                            .try_for_each(|socket| socket.write_all(&frame))
                    })
                })
                .collect();
            writing
                .into_iter()
                .try_for_each(|thread| thread.join().expect("a writer panicked"))
        })?;
        writeln!(out, "written")?;
        out.flush()?;
    }
    Ok(())
}

/// What one round of the floor measured.
pub struct Round {
    /// Each socket's arrival, in microseconds from the round's start.
    pub latencies: Vec<u64>,
    /// CPU both processes took for the round, in milliseconds.
    pub cpu_ms: f64,
}

/// `rounds` fan-outs to `n` sockets.
pub fn measure(n: usize, rounds: usize) -> std::io::Result<Vec<Round>> {
    let mut writing = Command::new(std::env::current_exe()?)
        .args(["--floor-writer", &n.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut told = writing.stdin.take().expect("piped");
    let mut heard = std::io::BufReader::new(writing.stdout.take().expect("piped"));
    let measured = read_rounds(n, rounds, &mut told, &mut heard, writing.id());
    let _ = writing.kill();
    let _ = writing.wait();
    measured
}

/// Connects `n` sockets to the writer, whose port it `heard`, and runs the rounds: a
/// line `told` starts one.
fn read_rounds(
    n: usize,
    rounds: usize,
    told: &mut impl Write,
    heard: &mut impl BufRead,
    writer_pid: u32,
) -> std::io::Result<Vec<Round>> {
    let mut port = String::new();
    heard.read_line(&mut port)?;
    let port: u16 = port
        .trim()
        .parse()
        .map_err(|_| std::io::Error::other("the floor writer did not start"))?;
    // As many reading threads as cores, each with its share of the sockets.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut groups: Vec<(Poll, Vec<mio::net::TcpStream>)> = Vec::with_capacity(threads);
    for _ in 0..threads {
        groups.push((Poll::new()?, Vec::with_capacity(n.div_ceil(threads))));
    }
    for i in 0..n {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nonblocking(true)?;
        let mut stream = mio::net::TcpStream::from_std(stream);
        let (poll, readers) = &mut groups[i % threads];
        poll.registry()
            .register(&mut stream, Token(readers.len()), Interest::READABLE)?;
        readers.push(stream);
    }
    let mut results = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        std::thread::sleep(Duration::from_millis(200));
        let cpu = cpu_ms(std::process::id()) + cpu_ms(writer_pid);
        let started = Instant::now();
        writeln!(told, "go")?;
        told.flush()?;
        let latencies = std::thread::scope(|scope| {
            let reading: Vec<_> = groups
                .iter_mut()
                .map(|(poll, readers)| scope.spawn(move || read_once(poll, readers, started)))
                .collect();
            reading
                .into_iter()
                .map(|thread| thread.join().expect("a reader panicked"))
                .collect::<std::io::Result<Vec<_>>>()
        })?
        .concat();
        let mut done = String::new();
        heard.read_line(&mut done)?;
        let cpu_ms = cpu_ms(std::process::id()) + cpu_ms(writer_pid) - cpu;
        results.push(Round { latencies, cpu_ms });
    }
    Ok(results)
}

/// Reads one frame from each of `readers`: their arrivals, from `started`.
fn read_once(
    poll: &mut Poll,
    readers: &mut [mio::net::TcpStream],
    started: Instant,
) -> std::io::Result<Vec<u64>> {
    let mut events = Events::with_capacity(1024);
    let mut buffer = [0u8; 512];
    let mut latencies = Vec::with_capacity(readers.len());
    let deadline = started + Duration::from_secs(10);
    while latencies.len() < readers.len() && Instant::now() < deadline {
        poll.poll(&mut events, Some(Duration::from_millis(100)))?;
        for event in events.iter() {
            let reader = &mut readers[event.token().0];
            // Edge-triggered: read until there is nothing more.
            loop {
                match reader.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(_) => latencies.push(started.elapsed().as_micros() as u64),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(latencies)
}
