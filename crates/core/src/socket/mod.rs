//! The socket table with inet6(4) semantics (DESIGN §4): BSD bind/connect
//! rules, `IPV6_V6ONLY` and IPv4-mapped addresses, wildcard versus specific
//! binds, SO_REUSEADDR / SO_REUSEPORT, scope ids for link-local addresses, and
//! the demultiplexing of arriving datagrams.
//!
//! Sockets are handles into the stack; the std- and tokio-shaped APIs of
//! `crates/rt` and the lab's verbs are built on these calls.

mod bind;
mod calls;
mod ports;
pub mod raw;
mod ready;
mod tcp;
mod udp;

pub(crate) use bind::map_for;
pub use bind::{overlaps, Coverage};
pub use calls::wildcard;
pub use ready::Ready;
pub use tcp::TcpInfo;
pub(crate) use udp::errno_for;
pub use udp::Datagram;

use crate::addr::IfIndex;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};

/// Address family of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// AF_INET.
    Inet,
    /// AF_INET6.
    Inet6,
}

/// Transport of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// SOCK_DGRAM / IPPROTO_UDP.
    Udp,
    /// SOCK_STREAM / IPPROTO_TCP.
    Tcp,
    /// SOCK_RAW with this protocol number (0: receive every protocol but
    /// TCP and UDP); see [`raw`].
    Raw(u8),
}

/// A socket's handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketHandle(pub u32);

/// A bound local address: the address (unspecified for a wildcard), its
/// zone for a link-local IPv6 address, and the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalAddr {
    /// The address (`0.0.0.0` / `::` for a wildcard; `::ffff:a.b.c.d` allowed
    /// on an AF_INET6 socket with V6ONLY off).
    pub addr: IpAddr,
    /// The zone of a link-local address.
    pub zone: Option<IfIndex>,
    /// The port.
    pub port: u16,
}

impl LocalAddr {
    /// Whether this is a wildcard bind.
    pub fn is_wildcard(&self) -> bool {
        self.addr.is_unspecified()
    }
}

/// One socket.
#[derive(Debug)]
pub struct Socket {
    /// Family.
    pub family: Family,
    /// Transport.
    pub proto: Proto,
    /// Bound address, once bound (explicitly or by connect/send).
    pub local: Option<LocalAddr>,
    /// Connected peer.
    pub remote: Option<SocketAddr>,
    /// IPV6_V6ONLY (AF_INET6 only).
    pub v6only: bool,
    /// SO_REUSEADDR.
    pub reuseaddr: bool,
    /// SO_REUSEPORT.
    pub reuseport: bool,
    /// A pending asynchronous error (from ICMP), returned once.
    pub error: Option<crate::errno::Errno>,
    /// Received datagrams.
    pub rx: VecDeque<Datagram>,
    /// Bytes held in `rx`.
    pub rx_bytes: usize,
    /// Receive buffer limit (SO_RCVBUF).
    pub rx_limit: usize,
    /// The TCP connection, for a stream socket past listen/connect.
    pub(crate) tcb: Option<Box<crate::tcp::tcb::Tcb>>,
    /// The TCP listener's queues.
    pub(crate) listen: Option<crate::tcp::Listen>,
    /// A passive connection's listener, until accepted; `true` once it
    /// waits in the listener's accept queue.
    pub(crate) parent: Option<(SocketHandle, bool)>,
    /// TCP options set on the socket (inherited by accepted connections).
    pub(crate) tcp_opts: TcpOpts,
    /// A raw socket's options and counters (readable like UDP: `rx`).
    pub(crate) raw: Option<Box<raw::RawState>>,
}

/// Socket-level TCP options.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TcpOpts {
    /// TCP_NODELAY.
    pub nodelay: bool,
    /// SO_KEEPALIVE.
    pub keepalive: bool,
}

impl Socket {
    /// The address space this socket's bind claims (for conflicts and demux).
    pub fn coverage(&self) -> Option<Coverage> {
        self.local.map(|l| Coverage::of(self.family, self.v6only, l.addr))
    }
}

/// Default receive buffer (FreeBSD `net.inet.udp.recvspace` is 42080; we use a
/// round 256 KiB so lab transfers are not receive-bound).
pub const DEFAULT_RCVBUF: usize = 256 * 1024;

/// The table.
#[derive(Debug, Default)]
pub struct SocketTable {
    pub(crate) slots: Vec<Option<Socket>>,
    free: Vec<u32>,
    /// Next candidate for ephemeral port search (RFC 6056 §3.3.2-like:
    /// random start, then sequential).
    pub(crate) next_ephemeral: u16,
    /// Stack-wide TCP state: connection index, timer queue, tunables.
    pub(crate) tcp: crate::tcp::TcpShared,
    /// The raw sockets, for a cheap delivery check.
    pub(crate) raw: Vec<SocketHandle>,
    /// Bound UDP/TCP sockets by local port (bind conflicts, ephemeral
    /// search, demux).
    ports: ports::PortIndex,
}

/// The IANA ephemeral range (RFC 6335 §6), FreeBSD's
/// `net.inet.ip.portrange.first`..`last` defaults.
pub const EPHEMERAL: core::ops::RangeInclusive<u16> = 49152..=65535;

impl SocketTable {
    pub(crate) fn insert(&mut self, s: Socket) -> SocketHandle {
        let raw = s.raw.is_some();
        let h = match self.free.pop() {
            Some(i) => SocketHandle(i),
            None => {
                self.slots.push(None);
                SocketHandle(self.slots.len() as u32 - 1)
            }
        };
        // An accepted TCP child arrives bound to its listener's port.
        self.ports.add(h, &s);
        self.slots[h.0 as usize] = Some(s);
        if raw {
            self.raw.push(h);
        }
        h
    }

    pub(crate) fn remove(&mut self, h: SocketHandle) -> Option<Socket> {
        let s = self.slots.get_mut(h.0 as usize)?.take()?;
        self.free.push(h.0);
        self.ports.remove(h, &s);
        if s.raw.is_some() {
            self.raw.retain(|r| *r != h);
        }
        Some(s)
    }

    /// Binds socket `h` (explicitly or implicitly at connect/send), keeping
    /// the port index in step.
    pub(crate) fn set_local(&mut self, h: SocketHandle, local: Option<LocalAddr>) {
        self.update(h, |s| s.local = local);
    }

    /// Sets or clears socket `h`'s peer, keeping the port index in step.
    pub(crate) fn set_remote(&mut self, h: SocketHandle, remote: Option<SocketAddr>) {
        self.update(h, |s| s.remote = remote);
    }

    fn update(&mut self, h: SocketHandle, f: impl FnOnce(&mut Socket)) {
        let Some(s) = self.slots.get_mut(h.0 as usize).and_then(Option::as_mut) else { return };
        self.ports.remove(h, s);
        f(s);
        self.ports.add(h, s);
    }

    /// Every UDP/TCP socket bound to `port` (with or without a peer).
    pub(crate) fn on_port(&self, proto: Proto, port: u16) -> impl Iterator<Item = (SocketHandle, &Socket)> {
        self.ports.on_port(proto, port).filter_map(|h| self.get(h).map(|s| (h, s)))
    }

    /// UDP/TCP sockets bound to `port` and connected to `peer`:`peer_port`.
    pub(crate) fn connected_to(
        &self,
        proto: Proto,
        port: u16,
        peer: IpAddr,
        peer_port: u16,
    ) -> impl Iterator<Item = (SocketHandle, &Socket)> {
        self.ports.peers(proto, port, peer, peer_port).filter_map(|h| self.get(h).map(|s| (h, s)))
    }

    /// Whether the port index agrees with the table (for tests).
    #[cfg(test)]
    pub(crate) fn index_consistent(&self) -> bool {
        self.ports.matches(self.iter())
    }

    /// A socket.
    pub fn get(&self, h: SocketHandle) -> Option<&Socket> {
        self.slots.get(h.0 as usize)?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, h: SocketHandle) -> Option<&mut Socket> {
        self.slots.get_mut(h.0 as usize)?.as_mut()
    }

    /// Every socket.
    pub fn iter(&self) -> impl Iterator<Item = (SocketHandle, &Socket)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| s.as_ref().map(|s| (SocketHandle(i as u32), s)))
    }

    /// The socket an arriving datagram belongs to (inet6(4) demux): a
    /// connected socket matching both ends beats a specific bind, which beats
    /// a wildcard bind; for IPv4, an AF_INET wildcard beats an AF_INET6 dual
    /// wildcard.
    pub fn demux(
        &self,
        proto: Proto,
        dst: IpAddr,
        dport: u16,
        src: IpAddr,
        sport: u16,
        ifindex: IfIndex,
    ) -> Option<SocketHandle> {
        let accepts = |s: &Socket| {
            let l = s.local?;
            if s.proto != proto || l.port != dport || l.zone.is_some_and(|z| z != ifindex) {
                return None;
            }
            bind::accepts(s.family, s.v6only, l.addr, dst)
        };
        if ports::indexed(proto) {
            // A connected socket matching both ends wins; the index yields
            // them lowest handle first, as the table scan did.
            let connected = self.connected_to(proto, dport, src, sport).find(|(_, s)| {
                s.remote.is_some_and(|r| bind::same_ip(r.ip(), src) && r.port() == sport)
                    && accepts(s).is_some()
            });
            if let Some((h, _)) = connected {
                return Some(h);
            }
            let mut best: Option<(u8, SocketHandle)> = None;
            for h in self.ports.open(proto, dport) {
                let Some(s) = self.get(h) else { continue };
                let Some(score) = accepts(s).filter(|_| s.remote.is_none()) else { continue };
                if best.is_none_or(|(b, _)| score > b) {
                    best = Some((score, h));
                }
            }
            return best.map(|(_, h)| h);
        }
        let mut best: Option<(u8, SocketHandle)> = None;
        for (h, s) in self.iter() {
            let Some(addr_score) = accepts(s) else { continue };
            let score = match s.remote {
                Some(r) => {
                    if bind::same_ip(r.ip(), src) && r.port() == sport {
                        3
                    } else {
                        continue;
                    }
                }
                None => addr_score,
            };
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, h));
            }
        }
        best.map(|(_, h)| h)
    }
}
