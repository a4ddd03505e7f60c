//! The forwarding fast path: one function per family that takes an IP
//! packet received in an untagged unicast Ethernet frame for us through the
//! whole router path — validation, TTL / Hop Limit, the FIB, the next hop,
//! the neighbour and the rewrite — without the layer boundaries of the
//! general path (`ip_input` → `ipv4_forward` → `forward_output` →
//! `frame_and_send`).
//!
//! It is a strict subset of the general path: every test here is one the
//! general path makes in the same order, every side effect (counters, the
//! TTL and checksum rewrite, the queued frame) is the one it would make, and
//! anything it does not handle *exactly* — options, a destination that may
//! be ours, a TTL about to expire, no route, reject or blackhole routes, an
//! MTU problem, a redirect, an unresolved or stale neighbour, another
//! egress link kind — makes it decline *before* any side effect, so the
//! caller hands the packet to the general path unchanged.

use crate::addr::{self, IfIndex};
use crate::burst::FibHint;
use crate::iface::LinkKind;
use crate::neigh::{NeighKey, NeighSlot};
use crate::route::{Adjacency, NextHop, NextHopId};
use crate::stack::Stack;
use crate::stats::Counter;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use via6_wire::ethernet::ethertype;
use via6_wire::{ExtHeaderKind, MacAddr};

/// What the fast path decided for a packet it forwards.
struct Out {
    ifindex: IfIndex,
    src_mac: MacAddr,
    dst_mac: MacAddr,
    /// Live bytes of the IP packet (Total Length / 40 + Payload Length).
    total: usize,
}

impl Stack {
    /// Forwards the IP packet `ip` (an Ethernet payload received on the
    /// Ethernet interface `in_if`, addressed to its MAC) when the fast path
    /// applies; `false` (nothing done) when the general path must take it.
    #[inline]
    pub(crate) fn fast_forward(&mut self, in_if: IfIndex, ip: &[u8]) -> bool {
        self.fast_forward_hinted(in_if, ip, None)
    }

    /// [`Stack::fast_forward`] with a burst's next-hop hint handed over
    /// directly (used only if it is for this destination and current).
    #[inline(always)]
    pub(crate) fn fast_forward_hinted(&mut self, in_if: IfIndex, ip: &[u8], hint: Option<&FibHint>) -> bool {
        if !self.fast_paths_on() {
            return false;
        }
        match ip.first().map(|b| b >> 4) {
            Some(4) => match self.fast_v4(in_if, ip, hint) {
                Some(out) => {
                    self.stats.inc(Counter::IpsTotal);
                    self.stats.inc(Counter::IpsForward);
                    // RFC 1812 §5.3.1: TTL − 1 (> 1 checked above).
                    self.fast_send(ip, out, ethertype::IPV4, |p| {
                        via6_wire::ipv4::decrement_ttl_in_place(p);
                    });
                    true
                }
                None => false,
            },
            Some(6) => match self.fast_v6(in_if, ip, hint) {
                Some(out) => {
                    self.stats.inc(Counter::Ip6sTotal);
                    self.stats.inc(Counter::Ip6sForward);
                    // RFC 8200 §3: Hop Limit − 1 (byte 7, no checksum).
                    self.fast_send(ip, out, ethertype::IPV6, |p| p[7] -= 1);
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    /// Copies the packet into a pool buffer (as the general path does: the
    /// whole payload, then cut to the packet's length), rewrites it, puts
    /// the Ethernet header in front (RFC 894) and queues it.
    #[inline]
    fn fast_send(&mut self, ip: &[u8], out: Out, et: u16, rewrite: impl FnOnce(&mut [u8])) {
        let mut buf = self.pool.copy_of(ip);
        buf.truncate(out.total);
        rewrite(buf.bytes_mut());
        if buf.prepend_ethernet(&out.dst_mac, &out.src_mac, et) {
            self.enqueue_tx(out.ifindex, buf);
        } else {
            self.stats.inc(Counter::IfsTxqdrop);
            self.pool.put(buf);
        }
    }

    /// The IPv4 decision: `ipv4_input` (RFC 791 §3.1 header checks, RFC
    /// 1812 §5.3.7 martians, not for us) and `ipv4_forward` (RFC 3927 §7,
    /// RFC 1812 §5.2: TTL > 1, a route via a gateway or on-link, fits the
    /// MTU, leaves by another interface) with a resolved neighbour.
    #[inline]
    fn fast_v4(&self, in_if: IfIndex, ip: &[u8], hint: Option<&FibHint>) -> Option<Out> {
        // A host forwards nothing: decided before the header is read (every
        // segment a host receives comes through here first).
        if !self.forwarding(true) {
            return None;
        }
        let (total, src, dst, ttl, _df) = crate::ipv4::plain_header(ip)?;
        let bad_src = src.is_multicast() || src.is_broadcast() || src.is_loopback();
        let special_dst = dst.is_unspecified()
            || dst.is_broadcast()
            || dst.is_multicast()
            || dst.is_loopback()
            || self.local_index.may_hold_v4(dst);
        if bad_src || special_dst || src.is_link_local() || dst.is_link_local() || ttl <= 1 {
            return None;
        }
        let (id, adj) = self.fast_lookup_v4(dst, hint)?;
        self.fast_hop(in_if, id, adj, true, total)
    }

    /// The IPv6 decision: `ipv6_input` (RFC 8200 §3 length; RFC 4291
    /// §2.5.2/§2.5.3/§2.5.5/§2.7 address checks: a global-looking source
    /// and destination pass them all), not for us, an upper-layer header
    /// next (RFC 8200 §4: nothing for a router to process), and
    /// `ipv6_forward` (Hop Limit > 1, RFC 4007 §9 scope, a route, fits the
    /// MTU — routers never fragment, leaves by another interface).
    #[inline]
    fn fast_v6(&self, in_if: IfIndex, ip: &[u8], hint: Option<&FibHint>) -> Option<Out> {
        if !self.forwarding(false) {
            return None;
        }
        let h: &[u8; 40] = ip.get(..40)?.try_into().ok()?;
        let total = 40 + usize::from(u16::from_be_bytes([h[4], h[5]]));
        if total > ip.len() {
            return None;
        }
        let src = u128::from_be_bytes(h[8..24].try_into().ok()?);
        let dst = u128::from_be_bytes(h[24..40].try_into().ok()?);
        let (s, d) = (Ipv6Addr::from_bits(src), Ipv6Addr::from_bits(dst));
        // A nonzero upper half rules out ::, ::1, mapped and compatible
        // addresses at once.
        let plain = src >> 64 != 0
            && dst >> 64 != 0
            && !s.is_multicast()
            && !d.is_multicast()
            && !addr::is_ipv6_link_local(&s)
            && !addr::is_ipv6_link_local(&d);
        if !plain || h[7] <= 1 || ExtHeaderKind::from_protocol(h[6]).is_some() {
            return None;
        }
        if self.local_index.may_hold_v6(&d) {
            return None;
        }
        let (id, adj) = self.fast_lookup_v6(&d, hint)?;
        self.fast_hop(in_if, id, adj, false, total)
    }

    /// The output half: [`Stack::forward_via`]'s decision for a gateway
    /// (the same rules: the route's interface, up, the route MTU capped by
    /// the link's, IPv6 using the RA-learnt link MTU), then the MTU and
    /// redirect conditions of `ipv4_forward`/`ipv6_forward`, and the
    /// neighbour through the next hop's slot hint (an Ethernet gateway that
    /// sends without a state change: REACHABLE, DELAY, PROBE, PERMANENT —
    /// RFC 4861 §7.3.3). Reject, blackhole and on-link routes decline.
    #[inline(always)]
    fn fast_hop(
        &self,
        in_if: IfIndex,
        id: NextHopId,
        adj: &Adjacency,
        v4: bool,
        total: usize,
    ) -> Option<Out> {
        let NextHop::Gateway(g) = adj.nexthop else { return None };
        let ifindex = adj.ifindex?;
        if ifindex == in_if {
            return None;
        }
        let iface = self.interface(ifindex)?;
        let LinkKind::Ethernet(src_mac) = iface.kind else { return None };
        let link_mtu = if v4 { iface.mtu } else { iface.mtu6() };
        let mtu = if adj.mtu != 0 { adj.mtu.min(link_mtu) } else { link_mtu };
        if !iface.up || total > mtu as usize {
            return None;
        }
        let neighbour = g.ip();
        if neighbour.is_multicast() || matches!(neighbour, IpAddr::V4(a) if a == Ipv4Addr::BROADCAST) {
            return None;
        }
        let key = NeighKey { ifindex, addr: neighbour };
        let dst_mac = self.neigh.ready_at(NeighSlot(self.routes.nexthops().neigh_hint(id)), &key)?;
        Some(Out { ifindex, src_mac, dst_mac, total })
    }
}

#[cfg(test)]
#[path = "fastpath_tests.rs"]
mod tests;
