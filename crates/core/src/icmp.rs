//! ICMP policy shared by both families: the error rate limiter
//! (`net.inet.icmp.icmplim`, `net.inet6.icmp6.errppslimit`).

use crate::time::Instant;

/// A token bucket refilled to `rate` tokens each second (FreeBSD's
/// `ppsratecheck`): at most `rate` errors in any one-second window.
#[derive(Debug, Clone, Default)]
pub struct RateLimit {
    window_start: Instant,
    sent: u64,
}

impl RateLimit {
    /// Whether one more error may go out now. `rate` ≤ 0 means unlimited
    /// (FreeBSD: 0 or -1 disable the limit).
    pub fn allow(&mut self, now: Instant, rate: i64) -> bool {
        if rate <= 0 {
            return true;
        }
        if now.saturating_since(self.window_start).as_secs() >= 1 || self.window_start > now {
            self.window_start = now;
            self.sent = 0;
        }
        if self.sent < rate as u64 {
            self.sent += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_second() {
        let mut r = RateLimit::default();
        let t = Instant::from_secs(10);
        assert_eq!((0..250).filter(|_| r.allow(t, 100)).count(), 100);
        assert!(r.allow(Instant::from_secs(11), 100));
        assert!((0..10).all(|_| r.allow(t, 0)));
    }
}

/// An ICMPv4 error this node may originate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmp4Error {
    /// Destination unreachable, net (no route; RFC 1812 §5.2.7.1).
    NetUnreachable,
    /// Destination unreachable, host (reject route, failed ARP/ND).
    HostUnreachable,
    /// Destination unreachable, protocol.
    ProtoUnreachable,
    /// Destination unreachable, port.
    PortUnreachable,
    /// Fragmentation needed and DF set, with the next-hop MTU (RFC 1191 §4).
    FragNeeded(u32),
    /// Destination unreachable, source route failed (RFC 792 code 5): a
    /// source route refused (`net.inet.ip.sourceroute`).
    SourceRouteFailed,
    /// Time exceeded in transit (RFC 792).
    TtlExceeded,
    /// Fragment reassembly time exceeded.
    ReassemblyTimeout,
    /// Parameter problem with a pointer.
    ParamProblem(u8),
    /// Redirect for host, naming an IPv4 gateway (RFC 792, RFC 1812 §5.2.7.2).
    RedirectHost(std::net::Ipv4Addr),
}

impl Icmp4Error {
    /// (type, code).
    pub fn type_code(&self) -> (u8, u8) {
        match self {
            Icmp4Error::NetUnreachable => (3, 0),
            Icmp4Error::HostUnreachable => (3, 1),
            Icmp4Error::ProtoUnreachable => (3, 2),
            Icmp4Error::PortUnreachable => (3, 3),
            Icmp4Error::FragNeeded(_) => (3, 4),
            Icmp4Error::SourceRouteFailed => (3, 5),
            Icmp4Error::TtlExceeded => (11, 0),
            Icmp4Error::ReassemblyTimeout => (11, 1),
            Icmp4Error::ParamProblem(_) => (12, 0),
            Icmp4Error::RedirectHost(_) => (5, 1),
        }
    }
}

/// An ICMPv6 error this node may originate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmp6Error {
    /// Destination unreachable with a code (RFC 4443 §3.1).
    Unreachable(u8),
    /// Packet too big with the MTU (RFC 4443 §3.2).
    PacketTooBig(u32),
    /// Hop limit exceeded in transit (RFC 4443 §3.3 code 0).
    HopLimitExceeded,
    /// Fragment reassembly time exceeded (code 1).
    ReassemblyTimeout,
    /// Parameter problem (RFC 4443 §3.4).
    ParamProblem {
        /// Code 0–3.
        code: u8,
        /// Offset of the problem in the offending packet.
        pointer: u32,
    },
}

impl Icmp6Error {
    /// (type, code).
    pub fn type_code(&self) -> (u8, u8) {
        match self {
            Icmp6Error::Unreachable(c) => (1, *c),
            Icmp6Error::PacketTooBig(_) => (2, 0),
            Icmp6Error::HopLimitExceeded => (3, 0),
            Icmp6Error::ReassemblyTimeout => (3, 1),
            Icmp6Error::ParamProblem { code, .. } => (4, *code),
        }
    }
}
