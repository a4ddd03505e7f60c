//! IPv6 flow labels for connected transport flows (RFC 6437; inet6(4)
//! `net.inet6.ip6.auto_flowlabel`, on by default): every packet of one
//! TCP connection, or of a connected UDP socket to its peer, carries the
//! same label, drawn from the flow's 5-tuple by a keyed hash (RFC 6437 §3:
//! stateless, uniformly distributed, not predictable from outside the
//! node) and never zero, which marks an unlabelled packet (RFC 6437 §2).
//! Everything else — ICMPv6, raw sockets, datagrams to another address
//! than the connected peer, resets for unknown connections — goes out
//! unlabelled, as FreeBSD sends them.

use crate::harden::keyed_hash;
use crate::stack::Stack;
use crate::sysctl::Knob;
use std::net::Ipv6Addr;

/// The 20 bits of the IPv6 flow label field (RFC 8200 §3).
const FLOW_LABEL_BITS: u32 = 0xf_ffff;

impl Stack {
    /// The flow label of the transport flow (`proto`, source, source port,
    /// destination, destination port): a keyed hash of the 5-tuple under
    /// the node secret, never 0; 0 (unlabelled) when
    /// `net.inet6.ip6.auto_flowlabel` is off.
    pub(crate) fn flow_label(&self, proto: u8, src: (Ipv6Addr, u16), dst: (Ipv6Addr, u16)) -> u32 {
        if !self.sysctl.on(Knob::Ip6AutoFlowlabel) {
            return 0;
        }
        let h = keyed_hash(
            &self.secret,
            b"via6 ipv6 flow label",
            &[&src.0.octets(), &src.1.to_be_bytes(), &dst.0.octets(), &dst.1.to_be_bytes(), &[proto]],
        );
        match h as u32 & FLOW_LABEL_BITS {
            0 => 1,
            l => l,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::stack::Stack;
    use via6_wire::ip::protocol;

    #[test]
    fn rfc6437_3_one_nonzero_label_per_flow_and_none_when_off() {
        let mut s = Stack::new("a", 7);
        let (a, b) = ("2001:db8::1".parse().unwrap(), "2001:db8::2".parse().unwrap());
        let l = s.flow_label(protocol::TCP, (a, 40000), (b, 80));
        assert_ne!(l, 0);
        assert!(l <= 0xf_ffff);
        assert_eq!(s.flow_label(protocol::TCP, (a, 40000), (b, 80)), l, "stable for the flow");
        let others = [
            s.flow_label(protocol::TCP, (a, 40001), (b, 80)),
            s.flow_label(protocol::TCP, (b, 80), (a, 40000)),
            s.flow_label(protocol::UDP, (a, 40000), (b, 80)),
        ];
        assert!(others.iter().all(|&o| o != l && o != 0), "{l:#x} {others:x?}");
        // Another node (another secret) labels the same flow differently.
        assert_ne!(Stack::new("b", 8).flow_label(protocol::TCP, (a, 40000), (b, 80)), l);
        s.set_sysctl("net.inet6.ip6.auto_flowlabel", 0).unwrap();
        assert_eq!(s.flow_label(protocol::TCP, (a, 40000), (b, 80)), 0);
    }
}
