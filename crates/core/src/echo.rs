//! ICMP echo "sockets" (like Linux's unprivileged ping sockets): a caller binds
//! an identifier, sends echo requests, and reads replies and the ICMP errors
//! that quote its requests. `via6 ping` and `via6 traceroute` use it.

use crate::addr::IfIndex;
use crate::time::Instant;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// An echo request to send.
#[derive(Debug, Clone)]
pub struct EchoRequest {
    /// Destination.
    pub dst: IpAddr,
    /// Zone for a link-local or link-scoped multicast destination.
    pub zone: Option<IfIndex>,
    /// Source to use; chosen by source selection when `None`.
    pub src: Option<IpAddr>,
    /// Identifier (the socket's).
    pub ident: u16,
    /// Sequence number.
    pub seq: u16,
    /// Bytes of payload after the ICMP header.
    pub payload_len: usize,
    /// TTL / hop limit; the default when `None`.
    pub ttl: Option<u8>,
    /// IPv4: set DF (ping -D). IPv6: do not fragment locally (ping -M do).
    pub dont_frag: bool,
}

/// What came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EchoEvent {
    /// An echo reply.
    Reply {
        /// Who answered.
        from: IpAddr,
        /// Sequence number.
        seq: u16,
        /// TTL / hop limit of the reply.
        ttl: u8,
        /// ICMP payload bytes.
        len: usize,
        /// When it arrived.
        at: Instant,
    },
    /// An ICMP error quoting one of our requests.
    Error {
        /// Who sent the error.
        from: IpAddr,
        /// Sequence number of the quoted request.
        seq: u16,
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
        /// Next-hop MTU (fragmentation needed / packet too big).
        mtu: Option<u32>,
        /// RFC 5837 interface name, when the error carried one.
        ifname: Option<String>,
        /// RFC 5837 interface index, when the error carried one.
        ifindex: Option<u32>,
        /// When it arrived.
        at: Instant,
    },
}

/// Bound identifiers and their received events (bounded per socket).
#[derive(Debug, Default)]
pub struct EchoTable {
    sockets: HashMap<u16, VecDeque<EchoEvent>>,
}

/// Events kept per echo socket before the oldest is dropped.
pub const ECHO_QUEUE: usize = 1024;

impl EchoTable {
    /// Binds an identifier; false if taken.
    pub fn bind(&mut self, ident: u16) -> bool {
        if self.sockets.contains_key(&ident) {
            return false;
        }
        self.sockets.insert(ident, VecDeque::new());
        true
    }

    /// Releases an identifier.
    pub fn unbind(&mut self, ident: u16) {
        self.sockets.remove(&ident);
    }

    /// Whether an identifier is bound.
    pub fn is_bound(&self, ident: u16) -> bool {
        self.sockets.contains_key(&ident)
    }

    /// Queues an event for a bound identifier; false if none is bound.
    pub fn deliver(&mut self, ident: u16, ev: EchoEvent) -> bool {
        match self.sockets.get_mut(&ident) {
            Some(q) => {
                if q.len() >= ECHO_QUEUE {
                    q.pop_front();
                }
                q.push_back(ev);
                true
            }
            None => false,
        }
    }

    /// The next event for an identifier.
    pub fn recv(&mut self, ident: u16) -> Option<EchoEvent> {
        self.sockets.get_mut(&ident)?.pop_front()
    }
}

impl crate::stack::Stack {
    /// Binds an echo identifier (a ping socket); false if taken.
    pub fn echo_bind(&mut self, ident: u16) -> bool {
        self.echo.bind(ident)
    }

    /// Releases an echo identifier.
    pub fn echo_unbind(&mut self, ident: u16) {
        self.echo.unbind(ident)
    }

    /// The next reply or error for an identifier.
    pub fn echo_recv(&mut self, ident: u16) -> Option<EchoEvent> {
        self.echo.recv(ident)
    }

    /// Sends an echo request; returns the source used. Fails like a socket
    /// would: EHOSTUNREACH/ENETUNREACH without a route, EADDRNOTAVAIL without a
    /// source, EMSGSIZE when too big with DF.
    pub fn echo_send(&mut self, req: &EchoRequest, now: Instant) -> crate::StackResult<IpAddr> {
        use crate::errno::{Errno, StackError};
        use crate::sysctl::Knob;
        use via6_wire::ip::protocol;
        self.last_now = now;
        let (lookup, src) = self.originate(req.dst, req.zone, req.src)?;
        let data: Vec<u8> = (0..req.payload_len).map(|i| (i % 256) as u8).collect();
        let result = match (src, req.dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let repr = via6_wire::icmpv4::Icmpv4Repr::EchoRequest {
                    ident: req.ident,
                    seq_no: req.seq,
                    data: &data,
                };
                let mut msg = vec![0u8; repr.buffer_len()];
                repr.emit(&mut msg).map_err(|e| StackError::new(Errno::EINVAL, e.to_string()))?;
                let ttl = req.ttl.unwrap_or(self.sysctl.get(Knob::InetTtl) as u8);
                let p = crate::ipv4::Ipv4Send {
                    src: s,
                    dst: d,
                    protocol: protocol::ICMP,
                    ttl,
                    dont_frag: req.dont_frag,
                };
                self.ipv4_send(&lookup, p, &msg, now)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let repr = via6_wire::icmpv6::Icmpv6Repr::EchoRequest {
                    ident: req.ident,
                    seq_no: req.seq,
                    data: &data,
                };
                let mut msg = vec![0u8; repr.buffer_len()];
                repr.emit(s, d, &mut msg).map_err(|e| StackError::new(Errno::EINVAL, e.to_string()))?;
                let default = if d.is_multicast() { Knob::Ip6DefMcastHlim } else { Knob::Ip6Hlim };
                let hop_limit = req.ttl.unwrap_or(self.sysctl.get(default) as u8);
                if req.dont_frag && 40 + msg.len() > lookup.mtu as usize {
                    return Err(StackError::new(
                        Errno::EMSGSIZE,
                        format!("{} bytes exceed the path MTU {}", 40 + msg.len(), lookup.mtu),
                    ));
                }
                let p = crate::ipv6::Ipv6Send {
                    src: s,
                    dst: d,
                    next_header: protocol::ICMPV6,
                    hop_limit,
                    flow_label: 0,
                };
                self.ipv6_send(&lookup, p, &msg, now)
            }
            _ => Err(StackError::new(Errno::EAFNOSUPPORT, "source and destination families differ")),
        };
        self.drain_looped(now);
        result.map(|_| src)
    }
}
