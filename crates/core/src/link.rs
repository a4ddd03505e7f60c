//! The link layer: Ethernet demultiplexing on input, and on output the step
//! where v4-via-v6 happens — the neighbour is resolved in the *next hop's*
//! family (ARP for an IPv4 gateway, NDP for an IPv6 one) while the frame's
//! EtherType follows the *packet's* family (RFC 8950 §… / RFC 5549 §4).

use crate::addr::IfIndex;
use crate::buf::{PacketBuf, HEADROOM};
use crate::iface::LinkKind;
use crate::neigh::{NeighKey, NeighSlot, NudParams, Resolution};
use crate::route::NextHopId;
use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use core::time::Duration;
use std::net::IpAddr;
use via6_wire::ethernet::{ethertype, EthernetFrame};
use via6_wire::MacAddr;

/// A source/destination pair TCP's in-place input last found deliverable
/// on an interface: the destination ours (RFC 1122 §3.2.1.3 weak host
/// model, `is_for_us_v4`/`is_for_us_v6`) and, for IPv6, the source valid
/// (RFC 3704 §3.2, `source_valid_v6`). Those answers depend only on the
/// interfaces (their addresses and flags: `Stack::iface_gen` counts every
/// mutable access), the route table (its generation) and the validation
/// knob, all part of the key, so a hit is the answer the checks would give.
/// Multicast destinations are never remembered (group membership and the
/// forwarding switch decide them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InPlaceMemo {
    ifindex: IfIndex,
    src: IpAddr,
    dst: IpAddr,
    iface_gen: u64,
    route_gen: u64,
    validate: bool,
}

impl Stack {
    /// Whether TCP's in-place input delivers a packet from `src` to `dst`
    /// arriving on `ifindex` locally: the memo's answer for the same key,
    /// else `deliverable`'s, remembered when true (never for multicast).
    #[inline]
    pub(crate) fn in_place_deliverable(
        &mut self,
        ifindex: IfIndex,
        src: &IpAddr,
        dst: &IpAddr,
        deliverable: impl FnOnce(&mut Stack) -> bool,
    ) -> bool {
        let (iface_gen, route_gen) = (self.iface_gen, self.routes().generation());
        let validate = self.sysctl.on(Knob::Ip6SourceAddressValidation);
        // Compared field by field against the addresses where they are: a
        // key assembled from them first was read back in other widths than
        // it was written (a store-forwarding stall per segment).
        if let Some(m) = &self.in_place_memo {
            if m.ifindex == ifindex
                && m.src == *src
                && m.dst == *dst
                && m.iface_gen == iface_gen
                && m.route_gen == route_gen
                && m.validate == validate
            {
                #[cfg(test)]
                {
                    self.in_place_memo_hits += 1;
                }
                return true;
            }
        }
        if !deliverable(self) {
            return false;
        }
        self.in_place_memo = (!dst.is_multicast()).then_some(InPlaceMemo {
            ifindex,
            src: *src,
            dst: *dst,
            iface_gen,
            route_gen,
            validate,
        });
        true
    }
}

/// The family of the IP packet in `bytes` by its version nibble.
pub(crate) fn ip_version(bytes: &[u8]) -> Option<u8> {
    bytes.first().map(|b| b >> 4)
}

impl Stack {
    /// Demultiplexes one received frame.
    pub(crate) fn link_input(&mut self, ifindex: IfIndex, frame: &[u8], now: Instant) {
        let Some(iface) = self.interface(ifindex) else { return };
        if !iface.up {
            return;
        }
        match iface.kind {
            LinkKind::Ethernet(mac) => {
                // The common case first: an untagged IPv4/IPv6 frame to our
                // own MAC (RFC 894) — the same outcome as the general path
                // below, without its multicast and broadcast checks.
                // `Stack::burst_fast` (burst.rs) repeats the steps up to
                // `fast_forward`: keep the two in step.
                if let Some(h) = frame.get(..14) {
                    let et = u16::from_be_bytes([h[12], h[13]]);
                    if h[..6] == mac.0 && (et == ethertype::IPV4 || et == ethertype::IPV6) {
                        if self.fast_forward(ifindex, &frame[14..])
                            || self.tcp_in_place(ifindex, &frame[14..], now)
                        {
                            return;
                        }
                        let buf = self.pool.copy_of(&frame[14..]);
                        self.ip_input(ifindex, buf, now);
                        return;
                    }
                }
                let Ok(eth) = EthernetFrame::new_checked(frame) else {
                    self.stats.inc(Counter::IfsBadframe);
                    return;
                };
                let dst = eth.dst();
                if dst != mac && !dst.is_broadcast() && !self.accepts_multicast_mac(ifindex, dst) {
                    self.stats.inc(Counter::IfsNotforus);
                    return;
                }
                match eth.ethertype() {
                    ethertype::ARP => self.arp_input(ifindex, eth.payload(), now),
                    ethertype::IPV4 | ethertype::IPV6
                        if dst != mac && !self.group_frame_for_us(ifindex, eth.payload()) =>
                    {
                        // RFC 1812 §5.3.4 (never forward a datagram received
                        // as a link-layer broadcast), §4.3.2.7 and RFC 4443
                        // §2.4(e.3) (never answer one with an error), RFC
                        // 1122 §3.3.6: a unicast datagram for someone else
                        // in a broadcast/multicast frame is dropped here.
                        self.stats.inc(if eth.ethertype() == ethertype::IPV4 {
                            Counter::IpsCantforward
                        } else {
                            Counter::Ip6sCantforward
                        });
                    }
                    ethertype::IPV4 | ethertype::IPV6 => {
                        let buf = self.pool.copy_of(eth.payload());
                        self.ip_input(ifindex, buf, now);
                    }
                    _ => self.stats.inc(Counter::IfsUnknownproto),
                }
            }
            LinkKind::Ip | LinkKind::Loopback => {
                if self.tcp_in_place(ifindex, frame, now) {
                    return;
                }
                let buf = self.pool.copy_of(frame);
                self.ip_input(ifindex, buf, now);
            }
        }
    }

    /// A TCP segment for us in a plain IPv4 or IPv6 packet is processed in
    /// the driver's frame, borrowed for the call, not copied into a pool
    /// buffer first (`ipv4_tcp_in_place`, `ipv6_tcp_in_place`: the same
    /// checks and outcome as the general path); false for anything else.
    #[inline]
    fn tcp_in_place(&mut self, ifindex: IfIndex, ip: &[u8], now: Instant) -> bool {
        // Tests compare this path with the general one (tcp/inplace_tests.rs).
        if !self.fast_paths_on() {
            return false;
        }
        match ip_version(ip) {
            Some(4) => self.ipv4_tcp_in_place(ifindex, ip, now),
            Some(6) => self.ipv6_tcp_in_place(ifindex, ip, now),
            _ => false,
        }
    }

    /// Whether an IP packet that came in a link-layer broadcast or
    /// multicast frame is addressed to this node: a multicast or broadcast
    /// destination (handled by IP input as usual) or one of ours.
    fn group_frame_for_us(&self, ifindex: IfIndex, ip: &[u8]) -> bool {
        match ip_version(ip) {
            Some(4) => {
                let Some(d) = ip.get(16..20).and_then(|d| <[u8; 4]>::try_from(d).ok()) else { return true };
                let d = std::net::Ipv4Addr::from(d);
                d.is_multicast() || d.is_broadcast() || self.is_for_us_v4(ifindex, d)
            }
            Some(6) => {
                let Some(d) = ip.get(24..40).and_then(|d| <[u8; 16]>::try_from(d).ok()) else { return true };
                let d = std::net::Ipv6Addr::from(d);
                d.is_multicast() || self.is_for_us_v6(ifindex, &d)
            }
            // Malformed: IP input counts it.
            _ => true,
        }
    }

    fn accepts_multicast_mac(&self, ifindex: IfIndex, mac: MacAddr) -> bool {
        if !mac.is_multicast() {
            return false;
        }
        let Some(iface) = self.interface(ifindex) else { return false };
        if mac.0[0] == 0x33 && mac.0[1] == 0x33 {
            let router = self.forwarding(false);
            return iface.groups6.iter().any(|g| MacAddr::ipv6_multicast(*g) == mac)
                || (router && MacAddr::ipv6_multicast(crate::addr::ALL_ROUTERS) == mac);
        }
        // IPv4 multicast: all-hosts 224.0.0.1 only for now.
        mac == MacAddr::ipv4_multicast(std::net::Ipv4Addr::new(224, 0, 0, 1))
    }

    /// The NUD timers for a neighbour key.
    pub(crate) fn nud_params(&self, key: &NeighKey) -> NudParams {
        let (retrans, reachable) = self
            .interface(key.ifindex)
            .map(|i| (i.nd_vars.retrans_ms, i.nd_vars.reachable_ms))
            .unwrap_or((1000, 30_000));
        let v4 = key.addr.is_ipv4();
        NudParams {
            retrans: Duration::from_millis(u64::from(retrans)),
            reachable: Duration::from_millis(u64::from(reachable)),
            delay: Duration::from_secs(self.sysctl.get(Knob::Icmp6Nd6Delay) as u64),
            max_multicast: if v4 {
                self.sysctl.get(Knob::ArpMaxTries) as u32
            } else {
                self.sysctl.get(Knob::Icmp6Nd6MMaxTries) as u32
            },
            max_unicast: self.sysctl.get(Knob::Icmp6Nd6UMaxTries) as u32,
            max_queue: if v4 {
                self.sysctl.get(Knob::ArpMaxHold) as usize
            } else {
                self.sysctl.get(Knob::Icmp6Nd6MaxQueueLen) as usize
            },
        }
    }

    /// Sends an IP packet (live bytes of `buf`) out of `ifindex` towards the
    /// on-link neighbour `neighbour` — the gateway, or the destination itself
    /// for on-link routes. The neighbour may be of the other family.
    pub(crate) fn link_output(&mut self, ifindex: IfIndex, neighbour: IpAddr, buf: PacketBuf, now: Instant) {
        self.link_output_nh(ifindex, neighbour, None, buf, now);
    }

    /// [`Stack::link_output`] for forwarding over the shared next hop `nh`
    /// (a gateway): the neighbour entry is found through the slot hint the
    /// next-hop table keeps, so a resolved gateway sends without hashing.
    pub(crate) fn link_output_nh(
        &mut self,
        ifindex: IfIndex,
        neighbour: IpAddr,
        nh: Option<NextHopId>,
        buf: PacketBuf,
        now: Instant,
    ) {
        let Some(iface) = self.interface(ifindex) else {
            self.pool.put(buf);
            return;
        };
        match iface.kind {
            LinkKind::Loopback => self.looped.push_back((ifindex, buf)),
            LinkKind::Ip => self.enqueue_tx(ifindex, buf),
            LinkKind::Ethernet(src) => {
                if let Some(mac) = multicast_mac(neighbour) {
                    self.ethernet_send_from(ifindex, src, mac, buf);
                    return;
                }
                let key = NeighKey { ifindex, addr: neighbour };
                if let Some(id) = nh {
                    let hint = NeighSlot(self.routes.nexthops().neigh_hint(id));
                    if let Some(mac) = self.neigh.ready_at(hint, &key) {
                        self.ethernet_send_from(ifindex, src, mac, buf);
                        return;
                    }
                    if let Some(slot) = self.neigh.slot(&key) {
                        self.routes.set_neigh_hint(id, slot.0);
                    }
                }
                if let Some(mac) = self.neigh.ready(&key) {
                    // The common case: no NUD state change, no timers.
                    self.ethernet_send_from(ifindex, src, mac, buf);
                    return;
                }
                let params = self.nud_params(&key);
                match self.neigh.resolve(key, buf, now, &params) {
                    Resolution::Ready(mac, buf) => self.ethernet_send_from(ifindex, src, mac, buf),
                    Resolution::Held { dropped, solicit } => {
                        if let Some(old) = dropped {
                            self.stats.inc(if neighbour.is_ipv4() {
                                Counter::ArpsDropped
                            } else {
                                Counter::Nd6sDropped
                            });
                            self.pool.put(old);
                        }
                        if solicit {
                            self.solicit(key, None, now);
                        }
                    }
                }
            }
        }
    }

    /// Forwarding's output step: [`Stack::link_output_nh`] for a packet of
    /// the family of `ethertype` (the caller parsed it). A resolved gateway
    /// on Ethernet — nearly every forwarded packet — is framed here through
    /// the next hop's neighbour-slot hint: one slot read and key compare, the
    /// header written in place (RFC 894), the frame queued. Anything else
    /// (no gateway, a stale hint, an unresolved or STALE neighbour, another
    /// link kind) takes the general path, so the outcome is the same.
    #[inline]
    pub(crate) fn forward_output(
        &mut self,
        out: &crate::output::Forward,
        ethertype: u16,
        buf: PacketBuf,
        now: Instant,
    ) {
        if let (Some(id), Some(iface)) = (out.gateway_nh, self.interface(out.ifindex)) {
            if let LinkKind::Ethernet(src) = iface.kind {
                if !out.neighbour.is_multicast() && !is_broadcast(out.neighbour) {
                    let key = NeighKey { ifindex: out.ifindex, addr: out.neighbour };
                    let hint = NeighSlot(self.routes.nexthops().neigh_hint(id));
                    if let Some(dst) = self.neigh.ready_at(hint, &key) {
                        self.frame_and_send(out.ifindex, src, dst, ethertype, buf);
                        return;
                    }
                }
            }
        }
        self.link_output_nh(out.ifindex, out.neighbour, out.gateway_nh, buf, now);
    }

    /// Frames an IP packet for Ethernet: the EtherType follows the packet's
    /// version nibble, never the neighbour's family.
    pub(crate) fn ethernet_send(&mut self, ifindex: IfIndex, dst: MacAddr, buf: PacketBuf) {
        let Some(src) = self.interface(ifindex).and_then(|i| i.mac()) else {
            self.pool.put(buf);
            return;
        };
        self.ethernet_send_from(ifindex, src, dst, buf);
    }

    /// [`Stack::ethernet_send`] with the interface's own MAC already known.
    #[inline]
    pub(crate) fn ethernet_send_from(
        &mut self,
        ifindex: IfIndex,
        src: MacAddr,
        dst: MacAddr,
        buf: PacketBuf,
    ) {
        let et = match ip_version(buf.bytes()) {
            Some(4) => ethertype::IPV4,
            Some(6) => ethertype::IPV6,
            _ => {
                self.pool.put(buf);
                return;
            }
        };
        self.frame_and_send(ifindex, src, dst, et, buf);
    }

    /// Prepends an Ethernet header and queues the frame. The untagged
    /// header (RFC 894: destination, source, EtherType) is written here in
    /// place: the same 14 bytes as `via6_wire::ethernet::EthernetRepr::emit` with no VLAN tag,
    /// without its call and tag branch on every forwarded packet.
    pub(crate) fn frame_and_send(
        &mut self,
        ifindex: IfIndex,
        src: MacAddr,
        dst: MacAddr,
        ethertype: u16,
        buf: PacketBuf,
    ) {
        self.frame_and_send_lent(ifindex, (src, dst), ethertype, buf, None);
    }

    /// [`Stack::frame_and_send`] for a frame whose payload may still be in
    /// a send ring (`tcp/lend.rs`).
    #[inline(always)]
    pub(crate) fn frame_and_send_lent(
        &mut self,
        ifindex: IfIndex,
        (src, dst): (MacAddr, MacAddr),
        ethertype: u16,
        mut buf: PacketBuf,
        lent: Option<crate::tcp::Lent>,
    ) {
        const _: () = assert!(HEADROOM == 14, "an untagged Ethernet header is 14 bytes");
        if buf.prepend_ethernet(&dst, &src, ethertype) {
            self.enqueue_tx_lent(ifindex, buf, lent);
        } else {
            self.stats.inc(Counter::IfsTxqdrop);
            self.pool.put(buf);
        }
    }

    /// Sends a solicitation for a neighbour: ARP request for IPv4, NS for IPv6.
    pub(crate) fn solicit(&mut self, key: NeighKey, unicast: Option<MacAddr>, now: Instant) {
        match key.addr {
            IpAddr::V4(target) => self.send_arp_request(key.ifindex, target, unicast),
            IpAddr::V6(target) => self.send_ns(key.ifindex, target, unicast, false, now),
        }
    }

    /// Runs the neighbour timers: retransmissions, probes, and ICMP
    /// unreachables for packets held by failed resolutions.
    pub(crate) fn neigh_timers(&mut self, now: Instant) {
        if self.neigh.next_deadline().is_none_or(|d| d > now) {
            return;
        }
        let params: Vec<(NeighKey, NudParams)> =
            self.neigh.entries().iter().map(|(k, _)| (*k, self.nud_params(k))).collect();
        let lookup =
            |k: &NeighKey| params.iter().find(|(x, _)| x == k).map(|(_, p)| *p).unwrap_or(params[0].1);
        let actions = self.neigh.poll(now, lookup);
        for a in actions {
            match a {
                crate::neigh::NeighAction::Solicit { key, unicast } => self.solicit(key, unicast, now),
                crate::neigh::NeighAction::Failed { key, held } => {
                    self.stats.inc(if key.addr.is_ipv4() {
                        Counter::ArpsTimeouts
                    } else {
                        Counter::Nd6sFailed
                    });
                    for pkt in held {
                        // RFC 4861 §7.2.2 (address unreachable), RFC 1812
                        // §4.3.3.1 (host unreachable): the error follows the
                        // *packet's* family.
                        self.unreachable_neighbour(key.ifindex, pkt.bytes(), now);
                        self.pool.put(pkt);
                    }
                }
            }
        }
    }
}

impl Stack {
    /// Host unreachable (ICMPv4 code 1) or address unreachable (ICMPv6 code
    /// 3) for a packet whose next hop did not answer — in the packet's family.
    /// `ifindex` is where resolution failed (the egress); the error is about
    /// the interface the packet came in on (RFC 5837 "incoming"; the zone of
    /// a link-local source), which held packets do not record: take the
    /// interface of the route back to the source, as a reverse-path check
    /// would; a link-local source can only have come from this same link.
    fn unreachable_neighbour(&mut self, ifindex: IfIndex, pkt: &[u8], now: Instant) {
        let src = match ip_version(pkt) {
            Some(4) => pkt.get(12..16).and_then(|s| <[u8; 4]>::try_from(s).ok()).map(IpAddr::from),
            Some(6) => pkt.get(8..24).and_then(|s| <[u8; 16]>::try_from(s).ok()).map(IpAddr::from),
            _ => None,
        };
        let ifindex = match src {
            Some(IpAddr::V6(s)) if crate::addr::needs_zone(&s) => ifindex,
            Some(s) if !self.is_local_address(s) => self.route_lookup(s, None).map_or(ifindex, |l| l.ifindex),
            _ => ifindex,
        };
        match ip_version(pkt) {
            Some(4) => self.icmp4_error(ifindex, pkt, crate::icmp::Icmp4Error::HostUnreachable, now),
            Some(6) => self.icmp6_error(ifindex, pkt, crate::icmp::Icmp6Error::Unreachable(3), now),
            _ => {}
        }
    }
}

/// Whether `addr` is the IPv4 limited broadcast.
#[inline]
fn is_broadcast(addr: IpAddr) -> bool {
    matches!(addr, IpAddr::V4(a) if a.is_broadcast())
}

/// The Ethernet address of a multicast or broadcast IP destination.
pub(crate) fn multicast_mac(addr: IpAddr) -> Option<MacAddr> {
    match addr {
        IpAddr::V4(a) if a.is_broadcast() => Some(MacAddr::BROADCAST),
        IpAddr::V4(a) if a.is_multicast() => Some(MacAddr::ipv4_multicast(a)),
        IpAddr::V6(a) if a.is_multicast() => Some(MacAddr::ipv6_multicast(a)),
        _ => None,
    }
}
