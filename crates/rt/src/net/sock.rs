//! One stack socket held by an API object: the poll-style operations both
//! APIs share (each tries the call under the host's lock and, when it would
//! block, registers the caller's waker in the same critical section), and
//! close on drop.

use super::host::{Dir, Host};
use std::io;
use std::net::{IpAddr, Shutdown, SocketAddr, SocketAddrV6};
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;
use via6_core::socket::{Family, Proto, SocketHandle};
use via6_core::tcp::State;
use via6_core::{Errno, Instant, Stack, StackError, StackResult};

/// A socket handle on a host; closed (tcp_close / close) when dropped.
pub(crate) struct Sock {
    pub(crate) host: Host,
    pub(crate) h: SocketHandle,
    pub(crate) family: Family,
    pub(crate) read_timeout: Mutex<Option<Duration>>,
    pub(crate) write_timeout: Mutex<Option<Duration>>,
}

fn family_of(a: &SocketAddr) -> Family {
    match a {
        SocketAddr::V4(_) => Family::Inet,
        SocketAddr::V6(_) => Family::Inet6,
    }
}

fn errno(e: Errno) -> io::Error {
    StackError::new(e, e.text()).into()
}

impl Sock {
    fn wrap(host: &Host, h: SocketHandle, family: Family) -> Sock {
        Sock {
            host: host.clone(),
            h,
            family,
            read_timeout: Mutex::new(None),
            write_timeout: Mutex::new(None),
        }
    }

    /// socket + f, closing the socket when f fails.
    fn open(
        host: &Host,
        family: Family,
        proto: Proto,
        f: impl FnOnce(&mut Stack, SocketHandle, Instant) -> StackResult<()>,
    ) -> io::Result<Sock> {
        let r = host.with_stack(|s, now| {
            let h = s.socket(family, proto);
            match f(s, h, now) {
                Ok(()) => Ok(h),
                Err(e) => {
                    s.close(h);
                    Err(e)
                }
            }
        })?;
        host.kick();
        Ok(Sock::wrap(host, r?, family))
    }

    /// A UDP socket bound to `addr`.
    pub(crate) fn udp_bind(host: &Host, addr: SocketAddr) -> io::Result<Sock> {
        Sock::open(host, family_of(&addr), Proto::Udp, |s, h, _| s.bind(h, addr))
    }

    /// A TCP listener on `addr`.
    pub(crate) fn tcp_listen(host: &Host, addr: SocketAddr) -> io::Result<Sock> {
        Sock::open(host, family_of(&addr), Proto::Tcp, |s, h, _| {
            s.bind(h, addr)?;
            s.tcp_listen(h, 128)
        })
    }

    /// A TCP socket that has sent its SYN to `addr`.
    pub(crate) fn tcp_connect_start(host: &Host, addr: SocketAddr) -> io::Result<Sock> {
        Sock::open(host, family_of(&addr), Proto::Tcp, |s, h, now| s.tcp_connect(h, addr, now))
    }

    /// Runs `op`; on EWOULDBLOCK registers the waker for `dir`.
    fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Dir,
        mut op: impl FnMut(&mut Stack, SocketHandle, Instant) -> StackResult<R>,
    ) -> Poll<io::Result<R>> {
        let reg = self.host.registry();
        let h = self.h;
        let r = self.host.with_stack(|s, now| match op(s, h, now) {
            Err(e) if e.errno == Errno::EWOULDBLOCK => {
                reg.register(h, dir, cx.waker());
                None
            }
            r => Some(r),
        });
        match r {
            Err(e) => Poll::Ready(Err(e)),
            Ok(None) => Poll::Pending,
            Ok(Some(r)) => {
                self.host.kick();
                Poll::Ready(r.map_err(io::Error::from))
            }
        }
    }

    /// The handshake finished: Ok when connected, the connection's error
    /// (ECONNREFUSED, ETIMEDOUT, ...) otherwise.
    pub(crate) fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_op(cx, Dir::Write, |s, h, _| {
            if let Some(e) = s.tcp_error(h) {
                return Err(StackError::new(e, e.text()));
            }
            match s.tcp_state(h) {
                Some(State::SynSent | State::SynReceived) => {
                    Err(StackError::new(Errno::EWOULDBLOCK, "connecting"))
                }
                Some(State::Closed) | None => {
                    Err(StackError::new(Errno::ECONNREFUSED, "connection closed during the handshake"))
                }
                Some(_) => Ok(()),
            }
        })
    }

    /// accept(2).
    pub(crate) fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(Sock, SocketAddr)>> {
        let family = self.family;
        let r = self.poll_op(cx, Dir::Read, |s, h, _| {
            if s.sockets().get(h).is_none() {
                return Err(StackError::new(Errno::EINVAL, "the listener is gone"));
            }
            let c = s.tcp_accept(h).ok_or_else(|| StackError::new(Errno::EWOULDBLOCK, "no connection"))?;
            Ok((c, peer_of(s, c, family).unwrap_or_else(|| via6_core::socket::wildcard(family, 0))))
        });
        r.map(|r| r.map(|(c, peer)| (Sock::wrap(&self.host, c, family), peer)))
    }

    /// recv(2) on a stream.
    pub(crate) fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.poll_op(cx, Dir::Read, |s, h, now| s.tcp_recv(h, buf, now))
    }

    /// send(2) on a stream.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        self.poll_op(cx, Dir::Write, |s, h, now| s.tcp_send(h, data, now))
    }

    /// shutdown(2).
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        let h = self.h;
        let r = self.host.with_stack(|s, now| s.tcp_shutdown(h, how, now))?;
        self.host.kick();
        Ok(r?)
    }

    /// sendto(2) / send(2) on a datagram socket.
    pub(crate) fn send_to(&self, data: &[u8], dst: Option<SocketAddr>) -> io::Result<usize> {
        let h = self.h;
        let r = self.host.with_stack(|s, now| s.udp_send_to(h, data, dst, None, now))?;
        self.host.kick();
        Ok(r?)
    }

    /// recvfrom(2): truncates to `buf` like std.
    pub(crate) fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.poll_op(cx, Dir::Read, |s, h, _| {
            let d = s.udp_recv_from(h)?;
            let n = d.data.len().min(buf.len());
            buf[..n].copy_from_slice(&d.data[..n]);
            Ok((n, d.from))
        })
    }

    /// connect(2) on a datagram socket.
    pub(crate) fn udp_connect(&self, addr: SocketAddr) -> io::Result<()> {
        let h = self.h;
        Ok(self.host.with_stack(|s, _| s.connect(h, addr))??)
    }

    /// getsockname(2).
    pub(crate) fn local_addr(&self) -> io::Result<SocketAddr> {
        let h = self.h;
        Ok(self.host.with_stack(|s, _| s.local_addr(h))??)
    }

    /// getpeername(2).
    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        let (h, family) = (self.h, self.family);
        self.host.with_stack(|s, _| peer_of(s, h, family))?.ok_or_else(|| errno(Errno::ENOTCONN))
    }

    /// TCP_NODELAY.
    pub(crate) fn set_nodelay(&self, on: bool) -> io::Result<()> {
        let h = self.h;
        let r = self.host.with_stack(|s, _| s.tcp_set_nodelay(h, on))?;
        self.host.kick();
        Ok(r?)
    }

    pub(crate) fn read_deadline(&self) -> Option<std::time::Instant> {
        let t = *self.read_timeout.lock().ok()?;
        t.map(|d| std::time::Instant::now() + d)
    }

    pub(crate) fn write_deadline(&self) -> Option<std::time::Instant> {
        let t = *self.write_timeout.lock().ok()?;
        t.map(|d| std::time::Instant::now() + d)
    }

    pub(crate) fn set_timeout(slot: &Mutex<Option<Duration>>, d: Option<Duration>) -> io::Result<()> {
        if d == Some(Duration::ZERO) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "cannot set a 0 duration timeout"));
        }
        if let Ok(mut g) = slot.lock() {
            *g = d;
        }
        Ok(())
    }
}

/// The peer of a connection in the socket's family (IPv4 on an AF_INET6
/// socket as `::ffff:a.b.c.d`; a link-local peer with its zone, RFC 4007 §11).
fn peer_of(s: &Stack, h: SocketHandle, family: Family) -> Option<SocketAddr> {
    let (ip, port) = s.tcp_peer(h)?;
    Some(match (family, ip) {
        (Family::Inet6, IpAddr::V4(v4)) => SocketAddr::V6(SocketAddrV6::new(v4.to_ipv6_mapped(), port, 0, 0)),
        (_, IpAddr::V6(v6)) => {
            let zone = if v6.is_unicast_link_local() {
                s.local_addr(h).ok().map_or(0, |l| match l {
                    SocketAddr::V6(l) => l.scope_id(),
                    SocketAddr::V4(_) => 0,
                })
            } else {
                0
            };
            SocketAddr::V6(SocketAddrV6::new(v6, port, 0, zone))
        }
        (_, ip) => SocketAddr::new(ip, port),
    })
}

impl Drop for Sock {
    fn drop(&mut self) {
        let h = self.h;
        let _ = self.host.with_stack(|s, now| match s.sockets().get(h).map(|x| x.proto) {
            Some(Proto::Tcp) => s.tcp_close(h, now),
            Some(Proto::Udp | Proto::Raw(_)) => s.close(h),
            None => {}
        });
        self.host.registry().forget(h);
        self.host.kick();
    }
}
