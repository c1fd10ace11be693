//! The sockets the server accepts, each with its [`Outbox`]: hyper reads and writes
//! through it, and a WebSocket handler finds it again (as the connection's
//! [`ConnectInfo`](axum::extract::ConnectInfo)) to hand subscriptions' renderings the
//! socket itself.

use std::{
    io::{self, IoSlice},
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{extract::connect_info::Connected, serve::IncomingStream};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpListener,
};

use super::outbox::Outbox;

/// A TCP listener whose connections are [`Socket`]s.
pub struct Sockets(pub TcpListener);

/// One accepted connection, as hyper reads and writes it.
pub struct Socket(Arc<Outbox>);

/// The connection a request came on: its outbox.
#[derive(Clone)]
pub struct Wire(pub Arc<Outbox>);

impl axum::serve::Listener for Sockets {
    type Io = Socket;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Socket, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((tcp, addr)) => return (Socket(Arc::new(Outbox::new(tcp))), addr),
                // The client gave up before it was accepted: nothing to do.
                Err(error) if is_connection_error(&error) => {}
                // Out of descriptors, say: accepting again at once would spin.
                Err(error) => {
                    tracing::error!(%error, "cannot accept a connection; trying again in a second");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

impl Connected<IncomingStream<'_, Sockets>> for Wire {
    fn connect_info(stream: IncomingStream<'_, Sockets>) -> Wire {
        Wire(stream.io().0.clone())
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let tcp = self.0.tcp();
        loop {
            ready!(tcp.poll_read_ready(cx))?;
            match tcp.try_read(buf.initialize_unfilled()) {
                Ok(read) => {
                    buf.advance(read);
                    return Poll::Ready(Ok(()));
                }
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => return Poll::Ready(Err(error)),
            }
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.poll_shutdown()
    }
}

impl Drop for Socket {
    /// hyper or the WebSocket is done with the connection: whoever else holds its outbox
    /// writes nothing more, and the client sees the end now.
    fn drop(&mut self) {
        self.0.close();
    }
}
