//! IPv6 input (RFC 8200), extension-header processing, local delivery,
//! forwarding (with the RFC 4007 scope rules) and output.

use crate::addr::{self, IfIndex};
use crate::buf::PacketBuf;
use crate::errno::{Errno, StackError, StackResult};
use crate::icmp::Icmp6Error;
use crate::output::RouteLookup;
use crate::route::NextHop;
use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use std::net::{IpAddr, Ipv6Addr};
use via6_wire::ip::protocol;
use via6_wire::ipv6_option::{Ipv6Option, OptionAction};
use via6_wire::ipv6_routing::Ipv6RoutingRepr;
use via6_wire::{ChainEntry, Error as WireError, ExtHeaderKind, Ipv6ExtChain, Ipv6Packet, Ipv6Repr};

/// What a locally originated IPv6 packet needs.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6Send {
    /// Source (already selected).
    pub src: Ipv6Addr,
    /// Destination.
    pub dst: Ipv6Addr,
    /// Next header (upper-layer protocol).
    pub next_header: u8,
    /// Hop limit.
    pub hop_limit: u8,
    /// Flow label (RFC 6437; 0: unlabelled).
    pub flow_label: u32,
}

/// How extension-header processing ended.
enum Verdict {
    /// Deliver the upper-layer protocol at this offset; `named_at` is where
    /// the next-header field that names it sits.
    Deliver { protocol: u8, offset: usize, named_at: usize },
    /// A fragment: hand to reassembly.
    Fragment,
    /// Already answered or dropped (counted).
    Done,
}

/// The fixed-header fields IPv6 forwarding reads, parsed once on input.
#[derive(Debug, Clone, Copy)]
struct Fwd6 {
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hlim: u8,
}

/// RFC 4291 §2.5.5, RFC 4942 §2.1.4: mapped and compatible addresses
/// never appear on the wire; RFC 4291 §2.7: no multicast sources; RFC 4291
/// §2.5.3: ::1 never arrives from outside; no unspecified destination.
#[inline]
fn bad_scope_v6(src: &Ipv6Addr, dst: &Ipv6Addr, from_loopback: bool) -> bool {
    src.is_multicast()
        || addr::ipv4_mapped(src).is_some()
        || addr::ipv4_mapped(dst).is_some()
        || addr::is_ipv4_compatible(src)
        || addr::is_ipv4_compatible(dst)
        || dst.is_unspecified()
        || ((src.is_loopback() || dst.is_loopback()) && !from_loopback)
}

/// The last IPv6 source `Stack::source_valid_v6` found valid: the source,
/// its arrival interface and the route table's generation at the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SrcValid6 {
    src: Ipv6Addr,
    ifindex: IfIndex,
    generation: u64,
}

impl Stack {
    pub(crate) fn ipv6_input(&mut self, ifindex: IfIndex, mut buf: PacketBuf, now: Instant) {
        self.stats.inc(Counter::Ip6sTotal);
        let parsed = Ipv6Packet::new_checked(buf.bytes())
            .map(|p| (p.total_len(), p.src(), p.dst(), p.next_header(), p.hop_limit()));
        let (total, src, dst, next_header, hlim) = match parsed {
            Ok(x) => x,
            Err(e) => {
                self.stats.inc(match e {
                    WireError::BadVersion => Counter::Ip6sBadvers,
                    _ => Counter::Ip6sTooshort,
                });
                self.pool.put(buf);
                return;
            }
        };
        buf.truncate(total);
        let from_loopback = self.interface(ifindex).is_some_and(|i| i.is_loopback());
        // RFC 4291 §2.5.5, RFC 4942 §2.1.4: mapped and compatible addresses
        // never appear on the wire; RFC 4291 §2.7: no multicast sources;
        // RFC 4291 §2.5.3: ::1 never arrives from outside.
        if bad_scope_v6(&src, &dst, from_loopback) {
            self.stats.inc(Counter::Ip6sBadscope);
            self.pool.put(buf);
            return;
        }
        let for_us = self.is_for_us_v6(ifindex, &dst);
        if for_us && !from_loopback && !self.source_valid_v6(ifindex, &src) {
            self.stats.inc(Counter::Ip6sBadscope);
            self.pool.put(buf);
            return;
        }
        if !for_us && ExtHeaderKind::from_protocol(next_header).is_none() {
            // The forwarding fast path: an upper-layer protocol right after
            // the fixed header leaves a router nothing to walk (RFC 8200 §4:
            // routers process only Hop-by-Hop); the same decision as the
            // `Deliver` arm below.
            self.ipv6_not_for_us(ifindex, buf, Fwd6 { src, dst, hlim }, now);
            return;
        }
        match self.ipv6_ext_headers(ifindex, &buf, for_us, now) {
            Verdict::Done => self.pool.put(buf),
            Verdict::Fragment if src.is_unspecified() => {
                // Only unfragmentable NDP/MLD messages come from `::`.
                self.stats.inc(Counter::Ip6sBadscope);
                self.pool.put(buf);
            }
            Verdict::Fragment => self.ipv6_reassemble_and_deliver(ifindex, buf, now),
            Verdict::Deliver { protocol, offset, .. }
                if for_us
                    && src.is_unspecified()
                    && !unspecified_source_ok(protocol, buf.bytes().get(offset)) =>
            {
                // RFC 4291 §2.5.2: `::` only as the source of a node that
                // has no address yet (DAD NS, RS, MLD reports).
                self.stats.inc(Counter::Ip6sBadscope);
                self.pool.put(buf);
            }
            Verdict::Deliver { protocol, offset, named_at } => {
                if for_us {
                    self.ipv6_deliver(ifindex, buf, protocol, offset, named_at, now);
                } else {
                    self.ipv6_not_for_us(ifindex, buf, Fwd6 { src, dst, hlim }, now);
                }
            }
        }
    }

    /// A TCP segment for us right after the fixed IPv6 header, delivered
    /// straight from the driver's frame `b` (borrowed for this call)
    /// instead of a copy in a pool buffer: the checks, counters and
    /// outcome of `ipv6_input` → `ipv6_deliver` → `tcp_input` for such a
    /// packet (no extension header to walk, RFC 8200 §4; raw sockets never
    /// see TCP). False, with nothing done or counted, for any other packet
    /// or any packet the general path would drop, which then takes it.
    #[inline]
    pub(crate) fn ipv6_tcp_in_place(&mut self, ifindex: IfIndex, b: &[u8], now: Instant) -> bool {
        let Ok(p) = Ipv6Packet::new_checked(b) else { return false };
        if p.next_header() != protocol::TCP {
            return false;
        }
        let (total, src, dst) = (p.total_len(), p.src(), p.dst());
        let from_loopback = self.interface(ifindex).is_some_and(|i| i.is_loopback());
        if bad_scope_v6(&src, &dst, from_loopback) || src.is_unspecified() {
            return false;
        }
        // Both decisions, remembered for the next packet of the flow while
        // no interface or route changes (`InPlaceMemo`).
        let deliverable = |s: &mut Stack| {
            s.is_for_us_v6(ifindex, &dst) && (from_loopback || s.source_valid_v6(ifindex, &src))
        };
        let (src_ip, dst_ip) = (IpAddr::V6(src), IpAddr::V6(dst));
        if !self.in_place_deliverable(ifindex, &src_ip, &dst_ip, deliverable) {
            return false;
        }
        self.stats.inc(Counter::Ip6sTotal);
        self.stats.inc(Counter::Ip6sDelivered);
        self.tcp_input_from(ifindex, &src_ip, &dst_ip, &b[..total], 40, now);
        true
    }

    /// A packet not addressed to us: forwarded when forwarding is on,
    /// dropped when multicast (we never route multicast).
    #[inline]
    fn ipv6_not_for_us(&mut self, ifindex: IfIndex, buf: PacketBuf, h: Fwd6, now: Instant) {
        if h.dst.is_multicast() {
            self.pool.put(buf);
        } else if self.forwarding(false) {
            self.ipv6_forward(ifindex, buf, h, now);
        } else {
            self.stats.inc(Counter::Ip6sCantforward);
            self.pool.put(buf);
        }
    }

    /// `ip6.source_address_validation` (RFC 3704 §3.2, the node treated as
    /// single-homed per interface): a packet for us must come from a source
    /// that we would route back out of the interface it arrived on; a
    /// source that is one of our own addresses (routed to loopback) never
    /// arrives from outside (FreeBSD's check). `::` is judged later.
    ///
    /// The last source found valid is remembered with the route table's
    /// generation ([`SrcValid6`]): a packet from the same source on the
    /// same interface skips the route lookup while no route changed (every
    /// route change bumps the generation), the interface is up and the
    /// source is still not one of ours — the three things the lookup's
    /// answer depends on — so the rule holds exactly as without the memo.
    fn source_valid_v6(&mut self, ifindex: IfIndex, src: &Ipv6Addr) -> bool {
        if !self.sysctl.on(Knob::Ip6SourceAddressValidation) || src.is_unspecified() {
            return true;
        }
        let memo = SrcValid6 { src: *src, ifindex, generation: self.routes.generation() };
        if self.src_valid6 == Some(memo)
            && self.interface(ifindex).is_some_and(|i| i.up)
            && self.local_ifindex(IpAddr::V6(*src)).is_none()
        {
            return true;
        }
        let zone = addr::needs_zone(src).then_some(ifindex);
        let valid = self.route_lookup(IpAddr::V6(*src), zone).is_ok_and(|l| !l.local && l.ifindex == ifindex);
        self.src_valid6 = valid.then_some(memo);
        valid
    }

    /// Our unicast addresses (a link-local one only on its own link), and the
    /// multicast groups joined on the arrival interface.
    pub(crate) fn is_for_us_v6(&self, ifindex: IfIndex, dst: &Ipv6Addr) -> bool {
        let Some(iface) = self.interface(ifindex) else { return false };
        if dst.is_multicast() {
            return iface.in_group6(dst, self.forwarding(false)) || *dst == addr::ALL_NODES;
        }
        if addr::is_ipv6_link_local(dst) {
            // Tentative addresses still receive (for DAD), but are not ours
            // for delivery (RFC 4862 §5.4).
            return iface.usable_addrs().any(|a| a.addr == IpAddr::V6(*dst));
        }
        self.is_local_address(IpAddr::V6(*dst))
    }

    /// RFC 8200 §4: walk the header chain. Routers look only at Hop-by-Hop;
    /// the destination processes every header.
    fn ipv6_ext_headers(&mut self, ifindex: IfIndex, buf: &PacketBuf, for_us: bool, now: Instant) -> Verdict {
        let Ok(pkt) = Ipv6Packet::new_checked(buf.bytes()) else { return Verdict::Done };
        let dst_is_multicast = pkt.dst().is_multicast();
        let limit = self.sysctl.get(Knob::Ip6HdrNestLimit);
        let mut count = 0i64;
        for entry in Ipv6ExtChain::from_packet(&pkt) {
            let entry = match entry {
                Ok(e) => e,
                Err(_) => {
                    self.stats.inc(Counter::Ip6sTooshort);
                    return Verdict::Done;
                }
            };
            let ext = match entry {
                ChainEntry::Upper(u) => {
                    return Verdict::Deliver { protocol: u.protocol, offset: u.offset, named_at: u.named_at }
                }
                ChainEntry::Ext(e) => e,
            };
            count += 1;
            if limit > 0 && count > limit {
                self.stats.inc(Counter::Ip6sToomanyhdr);
                return Verdict::Done;
            }
            match ext.kind {
                ExtHeaderKind::HopByHop => {
                    if ext.index != 0 {
                        // RFC 8200 §4.1: Hop-by-Hop only immediately after
                        // the IPv6 header; else unrecognised next header.
                        self.stats.inc(Counter::Ip6sBadoptions);
                        let e = Icmp6Error::ParamProblem { code: 1, pointer: ext.named_at as u32 };
                        self.icmp6_error(ifindex, buf.bytes(), e, now);
                        return Verdict::Done;
                    }
                    if !self.ipv6_options(ifindex, buf, &ext, dst_is_multicast, now) {
                        return Verdict::Done;
                    }
                }
                _ if !for_us => {
                    // A router forwards without looking further (RFC 8200 §4).
                    return Verdict::Deliver {
                        protocol: ext.kind.protocol(),
                        offset: ext.offset,
                        named_at: ext.named_at,
                    };
                }
                ExtHeaderKind::DestinationOptions => {
                    if !self.ipv6_options(ifindex, buf, &ext, dst_is_multicast, now) {
                        return Verdict::Done;
                    }
                }
                ExtHeaderKind::Routing => {
                    let Some(rh) = ext.routing() else {
                        self.stats.inc(Counter::Ip6sTooshort);
                        return Verdict::Done;
                    };
                    let Ok(repr) = Ipv6RoutingRepr::parse(&rh) else {
                        self.stats.inc(Counter::Ip6sBadoptions);
                        return Verdict::Done;
                    };
                    if repr.segments_left == 0 {
                        continue; // RFC 8200 §4.4: ignore the header.
                    }
                    // RFC 5095 §3: type 0 is processed as an unrecognised
                    // type, as is every type we are no endpoint for (RFC
                    // 8200 §4.4): parameter problem code 0 pointing at the
                    // Routing Type field.
                    self.stats.inc(Counter::Ip6sBadoptions);
                    let e = Icmp6Error::ParamProblem { code: 0, pointer: (ext.offset + 2) as u32 };
                    self.icmp6_error(ifindex, buf.bytes(), e, now);
                    return Verdict::Done;
                }
                ExtHeaderKind::Fragment => return Verdict::Fragment,
                ExtHeaderKind::Authentication => {}
            }
        }
        Verdict::Done
    }

    /// Processes a Hop-by-Hop or Destination Options header's options per
    /// their action bits (RFC 8200 §4.2). Returns false when the packet is
    /// dropped.
    fn ipv6_options(
        &mut self,
        ifindex: IfIndex,
        buf: &PacketBuf,
        ext: &via6_wire::ExtHeader<'_>,
        dst_is_multicast: bool,
        now: Instant,
    ) -> bool {
        let Some(opts) = ext.options() else { return true };
        for opt in opts {
            let Ok((offset, opt)) = opt else {
                self.stats.inc(Counter::Ip6sBadoptions);
                let e = Icmp6Error::ParamProblem { code: 0, pointer: (ext.offset + 1) as u32 };
                self.icmp6_error(ifindex, buf.bytes(), e, now);
                return false;
            };
            let Ipv6Option::Unknown { option_type, .. } = opt else { continue };
            match OptionAction::from_type(option_type) {
                OptionAction::Skip => {}
                OptionAction::Discard => {
                    self.stats.inc(Counter::Ip6sBadoptions);
                    return false;
                }
                OptionAction::DiscardAndReport => {
                    self.stats.inc(Counter::Ip6sBadoptions);
                    let e = Icmp6Error::ParamProblem { code: 2, pointer: offset as u32 };
                    self.icmp6_error(ifindex, buf.bytes(), e, now);
                    return false;
                }
                OptionAction::DiscardAndReportUnlessMulticast => {
                    self.stats.inc(Counter::Ip6sBadoptions);
                    if !dst_is_multicast {
                        let e = Icmp6Error::ParamProblem { code: 2, pointer: offset as u32 };
                        self.icmp6_error(ifindex, buf.bytes(), e, now);
                    }
                    return false;
                }
            }
        }
        true
    }

    pub(crate) fn ipv6_deliver(
        &mut self,
        ifindex: IfIndex,
        buf: PacketBuf,
        proto: u8,
        offset: usize,
        named_at: usize,
        now: Instant,
    ) {
        self.stats.inc(Counter::Ip6sDelivered);
        let raw = self.raw_input(ifindex, buf.bytes(), proto, offset);
        match proto {
            protocol::ICMPV6 => self.icmpv6_input(ifindex, &buf, offset, now),
            protocol::UDP => self.udp_input(ifindex, &buf, offset, now),
            protocol::TCP => self.tcp_input(ifindex, buf.bytes(), offset, now),
            protocol::IPV6_NONXT | protocol::ESP => {}
            _ if raw => {}
            _ => {
                // RFC 8200 §4: unrecognised next header → parameter problem
                // code 1 pointing at the field that names it.
                self.stats.inc(Counter::Ip6sNoproto);
                let e = Icmp6Error::ParamProblem { code: 1, pointer: named_at as u32 };
                self.icmp6_error(ifindex, buf.bytes(), e, now);
            }
        }
        self.pool.put(buf);
    }

    /// RFC 8200 §3 / RFC 4443 / RFC 4007 §9: forward one packet.
    /// The fixed header was validated once by `ipv6_input`, which hands
    /// over the fields forwarding needs (RFC 8200 §3).
    fn ipv6_forward(&mut self, in_if: IfIndex, mut buf: PacketBuf, h: Fwd6, now: Instant) {
        let Fwd6 { src, dst, hlim } = h;
        if src.is_unspecified() || addr::is_ipv6_link_local(&dst) {
            // Link-local destinations never leave their link; an unspecified
            // source is never forwarded (RFC 4291 §2.5.2).
            self.stats.inc(Counter::Ip6sCantforward);
            self.log_cannot_forward(&src, &dst, now);
            self.pool.put(buf);
            return;
        }
        if hlim <= 1 {
            self.stats.inc(Counter::Ip6sTimeexceeded);
            self.icmp6_error(in_if, buf.bytes(), Icmp6Error::HopLimitExceeded, now);
            self.pool.put(buf);
            return;
        }
        let lookup = match self.fwd_lookup_v6(&dst) {
            None => {
                self.stats.inc(Counter::Ip6sNoroute);
                self.stats.inc(Counter::Ip6sCantforward);
                self.icmp6_error(in_if, buf.bytes(), Icmp6Error::Unreachable(0), now);
                self.pool.put(buf);
                return;
            }
            Some((_, a)) if a.nexthop == NextHop::Reject => {
                self.stats.inc(Counter::Ip6sCantforward);
                self.icmp6_error(in_if, buf.bytes(), Icmp6Error::Unreachable(1), now);
                self.pool.put(buf);
                return;
            }
            Some((_, a)) if a.nexthop == NextHop::Blackhole => {
                self.pool.put(buf);
                return;
            }
            Some((id, a)) => match self.forward_via(id, a, IpAddr::V6(dst)) {
                Some(o) => o,
                None => {
                    self.stats.inc(Counter::Ip6sCantforward);
                    self.icmp6_error(in_if, buf.bytes(), Icmp6Error::Unreachable(3), now);
                    self.pool.put(buf);
                    return;
                }
            },
        };
        // RFC 4007 §9: a link-local source may not leave its link; answer
        // "beyond scope of source address" (RFC 4443 §3.1 code 2).
        if addr::is_ipv6_link_local(&src) && lookup.ifindex != in_if {
            self.stats.inc(Counter::Ip6sBadscope);
            self.stats.inc(Counter::Ip6sCantforward);
            self.log_cannot_forward(&src, &dst, now);
            self.icmp6_error(in_if, buf.bytes(), Icmp6Error::Unreachable(2), now);
            self.pool.put(buf);
            return;
        }
        if buf.len() > lookup.mtu as usize {
            // RFC 8200 §5: routers never fragment; Packet Too Big.
            self.stats.inc(Counter::Ip6sToobig);
            self.icmp6_error(in_if, buf.bytes(), Icmp6Error::PacketTooBig(lookup.mtu), now);
            self.pool.put(buf);
            return;
        }
        if lookup.ifindex == in_if {
            self.maybe_redirect_v6(in_if, &buf, lookup.neighbour, now);
        }
        // RFC 8200 §3: the Hop Limit is byte 7 (no checksum to update).
        if let Some(b) = buf.bytes_mut().get_mut(7) {
            *b = hlim - 1;
        }
        self.stats.inc(Counter::Ip6sForward);
        self.forward_output(&lookup, via6_wire::ethernet::ethertype::IPV6, buf, now);
    }

    /// `ip6.log_cannot_forward`, rate-limited by `ip6.log_interval`.
    fn log_cannot_forward(&mut self, src: &Ipv6Addr, dst: &Ipv6Addr, now: Instant) {
        if !self.sysctl.on(Knob::Ip6LogCannotForward) {
            return;
        }
        let interval = core::time::Duration::from_secs(self.sysctl.get(Knob::Ip6LogInterval) as u64);
        if self.last_cannot_forward_log.is_some_and(|t| now.saturating_since(t) < interval) {
            return;
        }
        self.last_cannot_forward_log = Some(now);
        self.log(now, format!("cannot forward from {src} to {dst}: scope or unspecified source"));
    }

    /// RFC 4861 §8.2: redirect a host on the link to a better first hop.
    fn maybe_redirect_v6(&mut self, in_if: IfIndex, buf: &PacketBuf, neighbour: IpAddr, now: Instant) {
        if !self.sysctl.on(Knob::Ip6Redirect) {
            return;
        }
        let Ok(pkt) = Ipv6Packet::new_checked(buf.bytes()) else { return };
        let src = pkt.src();
        let on_link = addr::is_ipv6_link_local(&src)
            || self
                .interface(in_if)
                .is_some_and(|i| i.usable_addrs().any(|a| a.subnet_contains(IpAddr::V6(src))));
        let IpAddr::V6(target) = neighbour else { return };
        // RFC 4861 §4.5: the target is the destination itself (on-link) or
        // the better router's link-local address; a route through a global
        // gateway address gives none to name (FreeBSD refuses likewise).
        if target != pkt.dst() && !addr::is_ipv6_link_local(&target) {
            return;
        }
        if on_link && target != src {
            self.stats.inc(Counter::Ip6sRedirectsent);
            self.send_redirect(in_if, buf.bytes(), target, pkt.dst(), now);
        }
    }

    /// Sends a locally originated IPv6 packet.
    pub(crate) fn ipv6_send(
        &mut self,
        lookup: &RouteLookup,
        p: Ipv6Send,
        payload: &[u8],
        now: Instant,
    ) -> StackResult<()> {
        let repr = Ipv6Repr {
            src: p.src,
            dst: p.dst,
            next_header: p.next_header,
            payload_len: u16::try_from(payload.len())
                .map_err(|_| StackError::new(Errno::EMSGSIZE, "payload exceeds 65535 bytes"))?,
            hop_limit: p.hop_limit,
            traffic_class: 0,
            flow_label: p.flow_label,
        };
        let total = repr.buffer_len();
        let mut buf = self.pool.get(total);
        let hlen = repr.emit(buf.bytes_mut()).map_err(|e| StackError::new(Errno::EINVAL, e.to_string()))?;
        buf.bytes_mut()[hlen..].copy_from_slice(payload);
        self.stats.inc(Counter::Ip6sLocalout);
        if total > lookup.mtu as usize {
            return self.fragment_v6_and_send(buf, lookup, now);
        }
        self.link_output(lookup.ifindex, lookup.neighbour, buf, now);
        Ok(())
    }
}

/// Whether an upper-layer message may come from the unspecified address:
/// ICMPv6 Router Solicitation (RFC 4861 §4.1), Neighbor Solicitation for
/// DAD (RFC 4862 §5.4.2) and MLD reports/done (RFC 3810 §5.2.13).
fn unspecified_source_ok(protocol: u8, first: Option<&u8>) -> bool {
    protocol == protocol::ICMPV6 && matches!(first, Some(133 | 135 | 131 | 132 | 143))
}
