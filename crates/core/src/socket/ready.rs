//! Readiness of a socket, for the event-driven APIs of `crates/rt`: the
//! poll(2)/kqueue(2) view of a handle — readable, writable, error, hang-up —
//! computed in O(1) from the socket's queues and TCP state.
//!
//! The rules follow poll(2) as FreeBSD implements it for sockets
//! (`sopoll`/`soreadable`/`sowriteable`): readable when data is queued, at end
//! of stream, when an error is pending, or when a listener has a completed
//! connection to accept (RFC 9293 §3.10.3 RECEIVE would not block); writable
//! when a connected stream has send-buffer space (RFC 9293 §3.10.2 SEND would
//! not block) or when a call would fail at once (error, closed), and always
//! for a datagram socket.

use super::{Proto, SocketHandle};
use crate::stack::Stack;
use crate::tcp::State;

/// What a call on a socket would do without blocking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ready {
    /// recv/accept would not block (data, end of stream, error or a pending
    /// connection).
    pub readable: bool,
    /// send would not block (buffer space, or an error to report); for a
    /// connecting stream: the handshake finished, either way.
    pub writable: bool,
    /// An error is pending (ICMP for datagrams, RST/timeout for streams).
    pub error: bool,
    /// The peer will send nothing more (FIN received) or the connection is
    /// closed.
    pub hup: bool,
}

impl Stack {
    /// The readiness of socket `h`; `None` when no such socket exists (a
    /// caller waiting on it should give up).
    pub fn socket_ready(&self, h: SocketHandle) -> Option<Ready> {
        let s = self.sockets.get(h)?;
        match s.proto {
            // Raw sockets queue datagrams like UDP (socket/raw.rs).
            Proto::Udp | Proto::Raw(_) => {
                let error = s.error.is_some();
                Some(Ready { readable: !s.rx.is_empty() || error, writable: true, error, hup: false })
            }
            Proto::Tcp => {
                if let Some(l) = &s.listen {
                    return Some(Ready { readable: !l.ready.is_empty(), ..Ready::default() });
                }
                let Some(t) = s.tcb.as_deref() else {
                    // Never connected: a call would fail at once (ENOTCONN).
                    return Some(Ready { readable: true, writable: true, error: false, hup: true });
                };
                let error = t.error.is_some() || s.error.is_some();
                let closed = t.state == State::Closed;
                let hup = closed || t.fin_rcvd;
                let readable = !t.rcvbuf.is_empty() || t.fin_rcvd || t.read_shut || error || closed;
                let open = matches!(t.state, State::Established | State::CloseWait);
                let space = t.sndbuf.len() < t.cfg.sndbuf && !t.fin_queued;
                // Past the handshake without a way to send (FIN queued, closing
                // states): send fails at once, so it does not block either.
                let cannot_send = !open && t.state.is_synchronized();
                let writable = error || closed || cannot_send || (open && space);
                Some(Ready { readable, writable, error, hup })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iface::LinkKind;
    use crate::socket::Family;
    use crate::stack::InterfaceConfig;
    use crate::time::Instant;
    use std::net::SocketAddr;

    fn node() -> Stack {
        let mut s = Stack::new("n", 7);
        let lo = s
            .add_interface(
                InterfaceConfig { name: "lo0".into(), kind: LinkKind::Loopback, mtu: None },
                Instant::ZERO,
            )
            .unwrap();
        s.add_address(lo, "192.0.2.1".parse().unwrap(), 32, Instant::ZERO).unwrap();
        s.poll(Instant::from_secs(5));
        s
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn udp_is_readable_once_a_datagram_is_queued() {
        let mut s = node();
        let now = Instant::from_secs(5);
        let h = s.socket(Family::Inet, Proto::Udp);
        s.bind(h, sa("192.0.2.1:9")).unwrap();
        let r = s.socket_ready(h).unwrap();
        assert!(!r.readable && r.writable);
        let c = s.socket(Family::Inet, Proto::Udp);
        s.udp_send_to(c, b"x", Some(sa("192.0.2.1:9")), None, now).unwrap();
        assert!(s.socket_ready(h).unwrap().readable);
        s.udp_recv_from(h).unwrap();
        assert!(!s.socket_ready(h).unwrap().readable);
        s.close(h);
        assert_eq!(s.socket_ready(h), None);
    }

    #[test]
    fn tcp_listener_connection_and_eof() {
        let mut s = node();
        let now = Instant::from_secs(5);
        let l = s.socket(Family::Inet, Proto::Tcp);
        s.bind(l, sa("192.0.2.1:80")).unwrap();
        s.tcp_listen(l, 8).unwrap();
        assert!(!s.socket_ready(l).unwrap().readable);
        let c = s.socket(Family::Inet, Proto::Tcp);
        s.tcp_connect(c, sa("192.0.2.1:80"), now).unwrap();
        s.poll(now);
        assert!(s.socket_ready(l).unwrap().readable, "a connection waits in the accept queue");
        let r = s.socket_ready(c).unwrap();
        assert!(r.writable && !r.readable && !r.hup, "{r:?}");
        let a = s.tcp_accept(l).unwrap();
        assert!(!s.socket_ready(l).unwrap().readable);
        s.tcp_send(a, b"hello", now).unwrap();
        s.poll(now);
        assert!(s.socket_ready(c).unwrap().readable);
        let mut buf = [0u8; 16];
        assert_eq!(s.tcp_recv(c, &mut buf, now).unwrap(), 5);
        assert!(!s.socket_ready(c).unwrap().readable);
        s.tcp_close(a, now);
        s.poll(now);
        let r = s.socket_ready(c).unwrap();
        assert!(r.readable && r.hup, "EOF reads at once: {r:?}");
    }
}
