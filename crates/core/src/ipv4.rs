//! IPv4 input (RFC 791, RFC 1122 §3.2.1), local delivery, forwarding (RFC 1812
//! §5.2) and output. Forwarding over an IPv6 next hop is no special case: the
//! route's gateway is resolved by the link layer in its own family.

use crate::addr::IfIndex;
use crate::buf::PacketBuf;
use crate::errno::{Errno, StackError, StackResult};
use crate::icmp::Icmp4Error;
use crate::output::RouteLookup;
use crate::route::NextHop;
use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use std::net::{IpAddr, Ipv4Addr};
use via6_wire::ip::protocol;
use via6_wire::ipv4_option::{kind, Ipv4Option, Ipv4OptionIter};
use via6_wire::{Error as WireError, Ipv4Packet, Ipv4Repr};

/// What a locally originated IPv4 packet needs.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Send {
    /// Source (already selected).
    pub src: Ipv4Addr,
    /// Destination.
    pub dst: Ipv4Addr,
    /// Protocol.
    pub protocol: u8,
    /// TTL.
    pub ttl: u8,
    /// Don't fragment.
    pub dont_frag: bool,
}

/// The header fields IPv4 forwarding reads, parsed once on input.
#[derive(Debug, Clone, Copy)]
struct Fwd4 {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u8,
    df: bool,
}

impl Stack {
    /// Dispatches an IP packet by version.
    pub(crate) fn ip_input(&mut self, ifindex: IfIndex, buf: PacketBuf, now: Instant) {
        match crate::link::ip_version(buf.bytes()) {
            Some(4) => self.ipv4_input(ifindex, buf, now),
            Some(6) => self.ipv6_input(ifindex, buf, now),
            _ => {
                self.stats.inc(Counter::IpsBadvers);
                self.pool.put(buf);
            }
        }
    }

    fn ipv4_input(&mut self, ifindex: IfIndex, mut buf: PacketBuf, now: Instant) {
        self.stats.inc(Counter::IpsTotal);
        let parsed = match plain_header(buf.bytes()) {
            Some(h) => Ok(h),
            None => Self::full_header(buf.bytes()),
        };
        let (total, src, dst, ttl, df) = match parsed {
            Ok(x) => x,
            Err(e) => {
                self.stats.inc(match e {
                    WireError::Truncated => Counter::IpsTooshort,
                    WireError::BadVersion => Counter::IpsBadvers,
                    WireError::BadChecksum => Counter::IpsBadsum,
                    WireError::BadOption(_) => Counter::IpsBadoptions,
                    WireError::BadLength("ihl") => Counter::IpsBadhlen,
                    _ => Counter::IpsBadlen,
                });
                self.pool.put(buf);
                return;
            }
        };
        buf.truncate(total);
        // RFC 1812 §5.3.7 / RFC 1122 §3.2.1.3: martian sources.
        let from_loopback = self.interface(ifindex).is_some_and(|i| i.is_loopback());
        if martian_v4(src, dst, from_loopback) {
            self.stats.inc(Counter::IpsBadaddr);
            self.pool.put(buf);
            return;
        }
        let for_us = self.is_for_us_v4(ifindex, dst);
        // Options present (IHL above 5) and source routes refused.
        let options = buf.bytes().first().is_some_and(|b| b & 0x0f > 5);
        if options
            && !self.sysctl.on(Knob::InetSourceRoute)
            && self.refuse_source_route(ifindex, &buf, for_us, now)
        {
            self.pool.put(buf);
            return;
        }
        if for_us {
            self.ipv4_local(ifindex, buf, now);
        } else if dst.is_multicast() || dst.is_broadcast() || (dst.is_loopback() && !from_loopback) {
            self.pool.put(buf);
        } else if self.forwarding(true) {
            self.ipv4_forward(ifindex, buf, Fwd4 { src, dst, ttl, df }, now);
        } else {
            self.stats.inc(Counter::IpsCantforward);
            self.pool.put(buf);
        }
    }

    /// A TCP segment for us in an unfragmented IPv4 packet without options,
    /// delivered straight from the driver's frame `b` (borrowed for this
    /// call) instead of a copy in a pool buffer: the checks, counters and
    /// outcome of `ipv4_input` → `ipv4_local` → `tcp_input` for such a
    /// packet (raw sockets never see TCP). False, with nothing done or
    /// counted, for any other packet, which takes the general path.
    #[inline]
    pub(crate) fn ipv4_tcp_in_place(&mut self, ifindex: IfIndex, b: &[u8], now: Instant) -> bool {
        let Some((total, src, dst, _, _)) = plain_header(b) else { return false };
        // RFC 791 §3.1: MF clear and fragment offset zero — not a fragment.
        if b[9] != protocol::TCP || u16::from_be_bytes([b[6], b[7]]) & 0x3fff != 0 {
            return false;
        }
        let from_loopback = self.interface(ifindex).is_some_and(|i| i.is_loopback());
        if martian_v4(src, dst, from_loopback) {
            return false;
        }
        // The local-delivery decision, remembered for the next packet of
        // the flow while no interface or route changes (`InPlaceMemo`).
        let (src_ip, dst_ip) = (IpAddr::V4(src), IpAddr::V4(dst));
        if !self.in_place_deliverable(ifindex, &src_ip, &dst_ip, |s| s.is_for_us_v4(ifindex, dst)) {
            return false;
        }
        self.stats.inc(Counter::IpsTotal);
        self.stats.inc(Counter::IpsDelivered);
        self.tcp_input_from(ifindex, &src_ip, &dst_ip, &b[..total], 20, now);
        true
    }

    /// With `net.inet.ip.sourceroute` off (the default), a packet carrying
    /// a Loose or Strict Source and Record Route option (RFC 791 §3.1) is
    /// refused, as FreeBSD's `ip_dooptions` refuses it with its defaults
    /// (`sourceroute` and `accept_sourceroute` both 0; RFC 1812 §5.2.4.1
    /// leaves the choice to the router, and RFC 7126 §4.3/§4.4 recommends
    /// dropping): an ICMP source-route-failed error (RFC 792, code 5) and
    /// `ips_badoptions`; a host that is not the route's end silently drops
    /// it (`ips_cantforward`). True if refused. via6 never follows a source
    /// route: with the knob on, the packet goes by its destination address.
    fn refuse_source_route(&mut self, ifindex: IfIndex, buf: &PacketBuf, for_us: bool, now: Instant) -> bool {
        let Ok(pkt) = Ipv4Packet::new_checked(buf.bytes()) else { return false };
        let route = Ipv4OptionIter::new(pkt.options()).find_map(|o| match o {
            Ok(Ipv4Option::Unknown { kind: kind::LSRR | kind::SSRR, data }) => Some(data),
            _ => None,
        });
        let Some(data) = route else { return false };
        // The route data after the pointer octet; the pointer counts from
        // the option's first octet, so the route is done once it points
        // past the last address (RFC 791 §3.1).
        let optlen = data.len() + 2;
        let more_hops = data.first().is_some_and(|&ptr| usize::from(ptr) + 3 <= optlen);
        if for_us && more_hops && !self.forwarding(true) {
            self.stats.inc(Counter::IpsCantforward);
        } else {
            self.stats.inc(Counter::IpsBadoptions);
            self.icmp4_error(ifindex, buf.bytes(), Icmp4Error::SourceRouteFailed, now);
        }
        true
    }

    /// The header fields of any IPv4 packet, options included, validated
    /// by `via6_wire` (RFC 791 §3.1, RFC 1122 §3.2.1.1–3.2.1.8).
    #[inline(never)]
    fn full_header(b: &[u8]) -> Result<(usize, Ipv4Addr, Ipv4Addr, u8, bool), WireError> {
        let p = Ipv4Packet::new_checked(b)?;
        let r = Ipv4Repr::parse(&p)?;
        Ok((usize::from(p.total_len()), r.src, r.dst, r.ttl, r.dont_frag))
    }

    /// Our unicast addresses (weak host model, as FreeBSD), the limited
    /// broadcast, a directed broadcast of an attached subnet, all-hosts.
    pub(crate) fn is_for_us_v4(&self, ifindex: IfIndex, dst: Ipv4Addr) -> bool {
        if dst.is_broadcast() || dst == Ipv4Addr::new(224, 0, 0, 1) {
            return true;
        }
        // The index holds every address and directed broadcast we have: a
        // miss (every forwarded packet) needs no walk over the interfaces.
        if !self.local_index.may_hold_v4(dst) {
            return false;
        }
        if self.is_local_address(IpAddr::V4(dst)) {
            return true;
        }
        self.interface(ifindex).is_some_and(|i| {
            i.usable_addrs().any(|a| match a.addr {
                IpAddr::V4(v4) if a.prefix_len < 31 => {
                    let host = !via6_wire::Ipv4Prefix::mask_bits(a.prefix_len);
                    v4.to_bits() & !host == dst.to_bits() & !host && dst.to_bits() & host == host
                }
                _ => false,
            })
        })
    }

    fn ipv4_local(&mut self, ifindex: IfIndex, buf: PacketBuf, now: Instant) {
        let Some(buf) = self.reassemble_v4(ifindex, buf, now) else { return };
        let Ok(pkt) = Ipv4Packet::new_checked(buf.bytes()) else {
            self.pool.put(buf);
            return;
        };
        let proto = pkt.protocol();
        let hlen = pkt.header_len();
        self.stats.inc(Counter::IpsDelivered);
        let raw = self.raw_input(ifindex, buf.bytes(), proto, hlen);
        match proto {
            protocol::ICMP => self.icmpv4_input(ifindex, &buf, hlen, now),
            protocol::UDP => self.udp_input(ifindex, &buf, hlen, now),
            protocol::TCP => self.tcp_input(ifindex, buf.bytes(), hlen, now),
            _ if raw => {}
            _ => {
                self.stats.inc(Counter::IpsNoproto);
                self.icmp4_error(ifindex, buf.bytes(), Icmp4Error::ProtoUnreachable, now);
            }
        }
        self.pool.put(buf);
    }

    /// RFC 1812 §5.2: forward one packet.
    /// The header was validated once by `ipv4_input`, which hands over the
    /// fields forwarding needs.
    fn ipv4_forward(&mut self, in_if: IfIndex, mut buf: PacketBuf, h: Fwd4, now: Instant) {
        let Fwd4 { src, dst, ttl, df } = h;
        // RFC 3927 §7: link-local IPv4 never crosses a router.
        if src.is_link_local() || dst.is_link_local() {
            self.stats.inc(Counter::IpsCantforward);
            self.pool.put(buf);
            return;
        }
        if ttl <= 1 {
            self.stats.inc(Counter::IpsTimeexceeded);
            self.icmp4_error(in_if, buf.bytes(), Icmp4Error::TtlExceeded, now);
            self.pool.put(buf);
            return;
        }
        let out = match self.fwd_lookup_v4(dst) {
            None => {
                self.stats.inc(Counter::IpsNoroute);
                self.stats.inc(Counter::IpsCantforward);
                self.icmp4_error(in_if, buf.bytes(), Icmp4Error::NetUnreachable, now);
                self.pool.put(buf);
                return;
            }
            Some((_, a)) if a.nexthop == NextHop::Reject => {
                self.stats.inc(Counter::IpsCantforward);
                self.icmp4_error(in_if, buf.bytes(), Icmp4Error::HostUnreachable, now);
                self.pool.put(buf);
                return;
            }
            Some((_, a)) if a.nexthop == NextHop::Blackhole => {
                self.pool.put(buf);
                return;
            }
            Some((id, a)) => match self.forward_via(id, a, IpAddr::V4(dst)) {
                Some(o) => o,
                None => {
                    self.stats.inc(Counter::IpsCantforward);
                    self.icmp4_error(in_if, buf.bytes(), Icmp4Error::HostUnreachable, now);
                    self.pool.put(buf);
                    return;
                }
            },
        };
        if buf.len() > out.mtu as usize && df {
            // RFC 1191 §4: fragmentation needed, with the next-hop MTU.
            self.stats.inc(Counter::IpsCantfrag);
            self.icmp4_error(in_if, buf.bytes(), Icmp4Error::FragNeeded(out.mtu), now);
            self.pool.put(buf);
            return;
        }
        if out.ifindex == in_if {
            self.maybe_redirect_v4(in_if, &buf, out.neighbour, now);
        }
        // RFC 1812 §5.3.1 with the RFC 1624 incremental checksum, in place
        // (the header was validated on input and TTL > 1 here).
        via6_wire::ipv4::decrement_ttl_in_place(buf.bytes_mut());
        self.stats.inc(Counter::IpsForward);
        if buf.len() > out.mtu as usize {
            // The rare path: fragmentation takes the full output decision.
            match self.route_lookup(IpAddr::V4(dst), None) {
                Ok(lookup) => self.fragment_v4_and_send(buf, &lookup, now),
                Err(_) => self.pool.put(buf),
            }
        } else {
            self.forward_output(&out, via6_wire::ethernet::ethertype::IPV4, buf, now);
        }
    }

    /// RFC 1812 §5.2.7.2: redirect when the packet leaves by the interface it
    /// came in on, its source is on that link, and the next hop is an IPv4
    /// address (an ICMPv4 redirect cannot name an IPv6 gateway).
    fn maybe_redirect_v4(&mut self, in_if: IfIndex, buf: &PacketBuf, neighbour: IpAddr, now: Instant) {
        if !self.sysctl.on(Knob::InetRedirect) {
            return;
        }
        let Ok(pkt) = Ipv4Packet::new_checked(buf.bytes()) else { return };
        let src = IpAddr::V4(pkt.src());
        let on_link = self.interface(in_if).is_some_and(|i| i.usable_addrs().any(|a| a.subnet_contains(src)));
        let gw = match neighbour {
            IpAddr::V4(g) => g,
            IpAddr::V6(_) => return,
        };
        if on_link && IpAddr::V4(gw) != src {
            self.stats.inc(Counter::IpsRedirectsent);
            self.icmp4_error(in_if, buf.bytes(), Icmp4Error::RedirectHost(gw), now);
        }
    }

    /// Sends a locally originated IPv4 packet with `payload` after the header.
    pub(crate) fn ipv4_send(
        &mut self,
        lookup: &RouteLookup,
        p: Ipv4Send,
        payload: &[u8],
        now: Instant,
    ) -> StackResult<()> {
        let ident = self.ipv4_ident_for(IpAddr::V4(p.src), IpAddr::V4(p.dst), p.protocol);
        let repr = Ipv4Repr {
            src: p.src,
            dst: p.dst,
            protocol: p.protocol,
            payload_len: payload.len(),
            ttl: p.ttl,
            dscp: 0,
            ecn: 0,
            ident,
            dont_frag: p.dont_frag,
            more_frags: false,
            frag_offset: 0,
            options: &[],
        };
        let total = repr.buffer_len();
        if total > 65535 {
            return Err(StackError::new(Errno::EMSGSIZE, format!("{total} bytes exceed the IPv4 maximum")));
        }
        if total > lookup.mtu as usize && p.dont_frag {
            return Err(StackError::new(
                Errno::EMSGSIZE,
                format!("{total} bytes with DF exceed the path MTU {} towards {}", lookup.mtu, p.dst),
            ));
        }
        let mut buf = self.pool.get(total);
        let hlen = repr.emit(buf.bytes_mut()).map_err(|e| StackError::new(Errno::EINVAL, e.to_string()))?;
        buf.bytes_mut()[hlen..].copy_from_slice(payload);
        self.stats.inc(Counter::IpsLocalout);
        if total > lookup.mtu as usize {
            self.fragment_v4_and_send(buf, lookup, now);
        } else {
            self.link_output(lookup.ifindex, lookup.neighbour, buf, now);
        }
        Ok(())
    }
}

/// The fast header check for the common IPv4 header: no options (IHL 5),
/// RFC 1812 §5.3.7 / RFC 1122 §3.2.1.3: martian sources (multicast,
/// broadcast, loopback from outside) and the unspecified destination.
#[inline]
fn martian_v4(src: Ipv4Addr, dst: Ipv4Addr, from_loopback: bool) -> bool {
    src.is_multicast() || src.is_broadcast() || (src.is_loopback() && !from_loopback) || dst.is_unspecified()
}

/// Total Length within the buffer and at least the header (RFC 791 §3.1),
/// a valid header checksum (RFC 1071; RFC 1812 §5.2.2). Returns the same
/// fields as the full parse; `None` for anything else, which then takes
/// the full parse (and its exact error counter).
#[inline]
pub(crate) fn plain_header(b: &[u8]) -> Option<(usize, Ipv4Addr, Ipv4Addr, u8, bool)> {
    let h: &[u8; 20] = b.get(..20)?.try_into().ok()?;
    if h[0] != 0x45 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if total < 20 || total > b.len() {
        return None;
    }
    // One's-complement sum of the ten header words, summed as native 32-bit
    // words: the byte order does not change whether it folds to 0xffff.
    let mut acc = 0u64;
    for w in h.chunks_exact(4) {
        acc += u64::from(u32::from_ne_bytes([w[0], w[1], w[2], w[3]]));
    }
    acc = (acc & 0xffff_ffff) + (acc >> 32);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    acc = (acc & 0xffff) + (acc >> 16);
    if acc != 0xffff {
        return None;
    }
    let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    Some((total, src, dst, h[8], h[6] & 0x40 != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast check accepts exactly what the full parse accepts for
    /// option-less headers, with the same fields.
    #[test]
    fn plain_header_matches_full_parse() {
        let mut h = [0x45u8, 0, 0, 28, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 198, 51, 100, 7];
        let mut pkt = h.to_vec();
        pkt.extend_from_slice(&[0; 8]);
        let c = !via6_wire::checksum::ones_sum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        pkt[..20].copy_from_slice(&h);
        let full = Stack::full_header(&pkt).unwrap();
        assert_eq!(plain_header(&pkt), Some(full));
        assert!(full.4, "DF set");
        for i in 0..20 {
            for bit in [0x01u8, 0x80] {
                let mut bad = pkt.clone();
                bad[i] ^= bit;
                let fast = plain_header(&bad);
                if let Some(f) = fast {
                    assert_eq!(Ok(f), Stack::full_header(&bad), "byte {i}");
                }
                if Stack::full_header(&bad).is_err() {
                    assert_eq!(fast, None, "byte {i} bit {bit:#x}");
                }
            }
        }
        assert_eq!(plain_header(&pkt[..27]), None, "truncated");
        assert_eq!(plain_header(&pkt[..19]), None);
    }
}

#[cfg(test)]
#[path = "source_route_tests.rs"]
mod source_route_tests;
