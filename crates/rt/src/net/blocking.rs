//! The `std::net`-shaped blocking API: `TcpListener`, `TcpStream` (`Read +
//! Write`, also on `&TcpStream`), `UdpSocket`. Each call tries the stack
//! operation and, when it would block, parks the thread on the host's waker
//! registry. Read timeouts expire with `ErrorKind::WouldBlock`, as std's do
//! on Unix (SO_RCVTIMEO → EAGAIN).

use super::host::{block_on, Host};
use super::sock::Sock;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// A TCP listener on a via6 stack.
pub struct TcpListener {
    sock: Sock,
}

impl TcpListener {
    /// bind(2) + listen(2) on `host` (a `Node`, a lab node's `Host`, ...).
    pub fn bind(host: &impl AsRef<Host>, addr: SocketAddr) -> io::Result<TcpListener> {
        Ok(TcpListener { sock: Sock::tcp_listen(host.as_ref(), addr)? })
    }

    /// accept(2): blocks until a connection is established.
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (s, peer) = block_on(&self.sock.host, None, |cx| self.sock.poll_accept(cx))?;
        Ok((TcpStream { sock: Arc::new(s) }, peer))
    }

    /// An endless iterator over accepted connections.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }
}

/// See [`TcpListener::incoming`].
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

/// A TCP connection on a via6 stack. Clones made by [`try_clone`](Self::try_clone)
/// share the connection (and its timeouts); it closes when the last drops.
pub struct TcpStream {
    sock: Arc<Sock>,
}

impl TcpStream {
    /// connect(2): blocks until established or refused (ECONNREFUSED →
    /// `ConnectionRefused`) or timed out by TCP (`TimedOut`).
    pub fn connect(host: &impl AsRef<Host>, addr: SocketAddr) -> io::Result<TcpStream> {
        Self::connect_deadline(host.as_ref(), addr, None)
    }

    /// connect(2) with a timeout (`TimedOut` when it expires).
    pub fn connect_timeout(
        host: &impl AsRef<Host>,
        addr: SocketAddr,
        timeout: Duration,
    ) -> io::Result<TcpStream> {
        Self::connect_deadline(host.as_ref(), addr, Some(std::time::Instant::now() + timeout))
    }

    fn connect_deadline(
        host: &Host,
        addr: SocketAddr,
        deadline: Option<std::time::Instant>,
    ) -> io::Result<TcpStream> {
        let sock = Sock::tcp_connect_start(host, addr)?;
        match block_on(host, deadline, |cx| sock.poll_connected(cx)) {
            Ok(()) => Ok(TcpStream { sock: Arc::new(sock) }),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                Err(io::Error::new(io::ErrorKind::TimedOut, format!("connect to {addr} timed out")))
            }
            Err(e) => Err(e),
        }
    }

    /// Another handle on the same connection.
    pub fn try_clone(&self) -> io::Result<TcpStream> {
        Ok(TcpStream { sock: self.sock.clone() })
    }

    /// shutdown(2).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.sock.shutdown(how)
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

    /// SO_RCVTIMEO: `None` blocks forever; zero is refused, as in std.
    pub fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        Sock::set_timeout(&self.sock.read_timeout, d)
    }

    /// SO_SNDTIMEO.
    pub fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        Sock::set_timeout(&self.sock.write_timeout, d)
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.sock.read_timeout.lock().ok().and_then(|g| *g))
    }
}

impl Read for &TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let d = self.sock.read_deadline();
        block_on(&self.sock.host, d, |cx| self.sock.poll_read(cx, buf))
    }
}

impl Write for &TcpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let d = self.sock.write_deadline();
        block_on(&self.sock.host, d, |cx| self.sock.poll_write(cx, data))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for TcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for TcpStream {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        (&*self).write(data)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A UDP socket on a via6 stack.
pub struct UdpSocket {
    sock: Sock,
}

impl UdpSocket {
    /// bind(2) (port 0: an ephemeral port).
    pub fn bind(host: &impl AsRef<Host>, addr: SocketAddr) -> io::Result<UdpSocket> {
        Ok(UdpSocket { sock: Sock::udp_bind(host.as_ref(), addr)? })
    }

    /// sendto(2).
    pub fn send_to(&self, data: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.sock.send_to(data, Some(to))
    }

    /// recvfrom(2): blocks (up to the read timeout); truncates like std.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let d = self.sock.read_deadline();
        block_on(&self.sock.host, d, |cx| self.sock.poll_recv_from(cx, buf))
    }

    /// connect(2): fixes the peer.
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.sock.udp_connect(addr)
    }

    /// send(2) to the connected peer.
    pub fn send(&self, data: &[u8]) -> io::Result<usize> {
        self.sock.send_to(data, None)
    }

    /// recv(2); a pending ICMP error comes first (ECONNREFUSED).
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv_from(buf).map(|(n, _)| n)
    }

    /// SO_RCVTIMEO.
    pub fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        Sock::set_timeout(&self.sock.read_timeout, d)
    }

    /// getsockname(2).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }
}
