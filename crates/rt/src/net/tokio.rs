//! The tokio-shaped API: the method names of `tokio::net`, `AsyncRead` /
//! `AsyncWrite` on [`TcpStream`]. Works on any runtime (the host wakes task
//! wakers from its own thread), including the daemon's own runtime thread.

use super::host::Host;
use super::sock::Sock;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A TCP listener.
pub struct TcpListener {
    sock: Sock,
}

impl TcpListener {
    /// bind(2) + listen(2).
    pub async fn bind(host: &impl AsRef<Host>, addr: SocketAddr) -> io::Result<TcpListener> {
        Ok(TcpListener { sock: Sock::tcp_listen(host.as_ref(), addr)? })
    }

    /// accept(2).
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (s, peer) = poll_fn(|cx| self.sock.poll_accept(cx)).await?;
        Ok((TcpStream { sock: s }, peer))
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }
}

/// A TCP connection.
pub struct TcpStream {
    sock: Sock,
}

impl TcpStream {
    /// connect(2).
    pub async fn connect(host: &impl AsRef<Host>, addr: SocketAddr) -> io::Result<TcpStream> {
        let sock = Sock::tcp_connect_start(host.as_ref(), addr)?;
        poll_fn(|cx| sock.poll_connected(cx)).await?;
        Ok(TcpStream { sock })
    }

    /// getpeername(2).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.peer_addr()
    }

    /// getsockname(2).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// TCP_NODELAY.
    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.sock.set_nodelay(on)
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let n = match self.sock.poll_read(cx, buf.initialize_unfilled()) {
            Poll::Ready(Ok(n)) => n,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.sock.poll_write(cx, data)
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.sock.shutdown(Shutdown::Write))
    }
}

/// A UDP socket.
pub struct UdpSocket {
    sock: Sock,
}

impl UdpSocket {
    /// bind(2).
    pub async fn bind(host: &impl AsRef<Host>, addr: SocketAddr) -> io::Result<UdpSocket> {
        Ok(UdpSocket { sock: Sock::udp_bind(host.as_ref(), addr)? })
    }

    /// connect(2).
    pub async fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.sock.udp_connect(addr)
    }

    /// sendto(2).
    pub async fn send_to(&self, data: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.sock.send_to(data, Some(to))
    }

    /// send(2).
    pub async fn send(&self, data: &[u8]) -> io::Result<usize> {
        self.sock.send_to(data, None)
    }

    /// recvfrom(2).
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.sock.poll_recv_from(cx, buf)).await
    }

    /// recv(2).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.recv_from(buf).await?.0)
    }

    /// getsockname(2).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }
}
