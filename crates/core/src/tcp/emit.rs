//! Segment emission: one TCP segment built straight into a pooled packet
//! buffer behind its IP header (RFC 9293 §3.1 header and checksum over the
//! RFC 768-style pseudo-header; RFC 791 / RFC 8200 §3 fixed IP header; IPv4
//! with DF set for path MTU discovery, RFC 1191 §3). One copy of the
//! payload, no allocation; the link layer prepends its header into the
//! buffer's headroom. Data comes straight from the send ring: a queued
//! segment names its bytes there, no per-segment payload copy.

use super::sendbuf::SendBuf;
use super::seq;
use super::tcb::{OutSeg, Tcb};
use super::template::{Captured, Template};
use crate::addr::IfIndex;
use crate::iface::LinkKind;
use crate::neigh::{NeighKey, NeighSlot};
use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use std::net::{IpAddr, Ipv6Addr};
use via6_wire::checksum::{self, Checksum};
use via6_wire::ip::protocol;
use via6_wire::tcp::TcpRepr;
use via6_wire::{Ipv4Repr, Ipv6Repr, MacAddr};

/// Why a segment was not emitted.
pub(crate) enum EmitError {
    /// Larger than the path MTU (with DF): the MTU.
    TooBig(u32),
    /// Anything else (no route, no source).
    Other,
}

/// What a connection remembers between segments so that emitting one
/// needs neither a keyed hash nor a route lookup.
#[derive(Debug, Clone, Default)]
pub(crate) struct EmitCache {
    /// The IPv4 identification of the last segment sent.
    pub(crate) ip_id: Option<u16>,
    /// The output decision, valid while the route table's generation and
    /// the egress interface's state and MTU are those recorded.
    route: Option<CachedRoute>,
    /// The neighbour cache slot of the on-link neighbour, checked against
    /// its key on use (as the forwarding path's next-hop hint is), so a
    /// segment to a resolved neighbour is framed without hashing.
    neigh: Option<NeighSlot>,
    /// The IPv6 flow label of the connection (RFC 6437), drawn at its first
    /// IPv6 segment and kept for its life.
    flow_label: Option<u32>,
}

impl Stack {
    /// The flow label of an IPv6 segment from `local` to `remote`: the
    /// connection's (`Stack::flow_label`, drawn once and kept in `cache`),
    /// or 0 (unlabelled) for a segment of no connection, such as a reset
    /// for an unknown one.
    pub(crate) fn tcp_flow_label(
        &self,
        cache: Option<&mut EmitCache>,
        local: (Ipv6Addr, u16),
        remote: (Ipv6Addr, u16),
    ) -> u32 {
        let Some(c) = cache else { return 0 };
        *c.flow_label.get_or_insert_with(|| self.flow_label(protocol::TCP, local, remote))
    }
}

#[derive(Debug, Clone, Copy)]
struct CachedRoute {
    generation: u64,
    ifindex: IfIndex,
    neighbour: IpAddr,
    mtu: u32,
    link_mtu: u32,
}

/// The send buffer lent to the emitter while a TCB's queued segments go
/// out, with the sequence number of its first byte.
#[derive(Clone, Copy)]
pub(crate) struct Ring<'a> {
    pub(crate) buf: &'a SendBuf,
    pub(crate) seq: u32,
}

impl<'a> Ring<'a> {
    /// The payload of `seg` held in the ring: its one or two contiguous
    /// pieces, or `None` if those bytes are no longer (or not yet) held.
    pub(crate) fn payload(&self, at: u32, len: u32) -> Option<(&'a [u8], &'a [u8])> {
        let off = seq::dist(self.seq, at) as usize;
        self.buf.slices(off, len as usize)
    }

    /// The one's-complement sum of `seg`'s payload in the ring, and
    /// whether it came from the send buffer's chunk sums alone
    /// (`SendBuf::sum`).
    #[inline]
    pub(crate) fn payload_sum(&self, at: u32, len: u32) -> Option<(u16, bool)> {
        let off = seq::dist(self.seq, at) as usize;
        self.buf.sum(off, len as usize).map(|(s, read)| (s, read == 0))
    }
}

/// Copies a payload's one or two ring pieces into `body` (exactly as long
/// as both) and returns their one's-complement sum, summed while copied
/// (RFC 1071 §4.1; a second piece at an odd offset is byte-swapped,
/// §2(B)): the payload part of the segment's checksum, for a payload that
/// starts at an even offset. `None`, with the frame unusable, if `body`
/// is not exactly as long as the pieces.
pub(crate) fn copy_payload(body: &mut [u8], first: &[u8], more: &[u8]) -> Option<u16> {
    let (a, b) = body.split_at_mut_checked(first.len())?;
    let sa = checksum::copy_and_sum(a, first)?;
    let sb = if more.is_empty() { 0 } else { checksum::copy_and_sum(b, more)? };
    Some(Checksum::new().add_sum(sa, first.len()).add_sum(sb, more.len()).sum())
}

impl Tcb {
    /// Takes back the emitted queue's allocation when nothing new was
    /// queued meanwhile.
    pub(crate) fn recycle_out(&mut self, segs: &mut Vec<OutSeg>) {
        segs.clear();
        if self.out.is_empty() {
            std::mem::swap(&mut self.out, segs);
        }
    }
}

impl Stack {
    /// Emits one segment from `local` to `remote`.
    pub(crate) fn tcp_emit(
        &mut self,
        local: (IpAddr, u16),
        remote: (IpAddr, u16),
        zone: Option<IfIndex>,
        seg: &OutSeg,
        now: Instant,
    ) -> Result<(), EmitError> {
        self.tcp_emit_id(local, remote, zone, seg, None, None, now)
    }

    /// The MTU an interface offers packets of `remote`'s family, if it is up.
    fn link_mtu(&self, ifindex: IfIndex, remote: IpAddr) -> Option<u32> {
        let i = self.interface(ifindex).filter(|i| i.up)?;
        Some(if remote.is_ipv4() { i.mtu } else { i.mtu6() })
    }

    /// The output decision towards `remote` (interface, on-link neighbour,
    /// MTU), from `cache` while the route table has not changed (its
    /// generation) and the egress interface is still up with the same MTU;
    /// otherwise a fresh `route_lookup`, remembered unless the destination
    /// is local (loopback delivery follows the address list, which has no
    /// generation).
    pub(super) fn tcp_route(
        &self,
        remote: IpAddr,
        zone: Option<IfIndex>,
        cache: Option<&mut EmitCache>,
    ) -> Result<(IfIndex, IpAddr, u32), EmitError> {
        let generation = self.routes().generation();
        if let Some(c) = cache.as_ref().and_then(|c| c.route) {
            if c.generation == generation && self.link_mtu(c.ifindex, remote) == Some(c.link_mtu) {
                return Ok((c.ifindex, c.neighbour, c.mtu));
            }
        }
        let l = self.route_lookup(remote, zone).map_err(|_| EmitError::Other)?;
        if let Some(c) = cache {
            c.route = match (l.local, self.link_mtu(l.ifindex, remote)) {
                (false, Some(link_mtu)) => Some(CachedRoute {
                    generation,
                    ifindex: l.ifindex,
                    neighbour: l.neighbour,
                    mtu: l.mtu,
                    link_mtu,
                }),
                _ => None,
            };
        }
        Ok((l.ifindex, l.neighbour, l.mtu))
    }

    /// [`Stack::tcp_emit`] for a connection, with its send buffer (the
    /// data of its segments) and its [`EmitCache`]: its route
    /// (see [`Stack::tcp_route`]) and its IPv4 identification — the first
    /// from the RFC 7739 keyed counter, the next ones counting up from it.
    /// Every segment is an atomic datagram (DF set, never fragmented), whose
    /// ID RFC 6864 §4.1 lets the source set to any value; counting per
    /// connection keeps them distinct without a keyed hash per segment.
    /// With `capture`, a segment framed for a resolved Ethernet neighbour
    /// leaves its headers there as the [`Template`] of the segments that
    /// follow it in the same run.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tcp_emit_id(
        &mut self,
        local: (IpAddr, u16),
        remote: (IpAddr, u16),
        zone: Option<IfIndex>,
        seg: &OutSeg,
        conn: Option<(Ring<'_>, &mut EmitCache)>,
        capture: Option<&mut Option<Template>>,
        now: Instant,
    ) -> Result<(), EmitError> {
        let (ring, mut cache) = match conn {
            Some((r, c)) => (Some(r), Some(c)),
            None => (None, None),
        };
        // A segment of the send path names its bytes in the send buffer
        // (`OutSeg::ring`): they are copied from the ring's one or two
        // pieces straight into the frame, summed on the way.
        let (first, more): (&[u8], &[u8]) = if seg.ring == 0 {
            (&seg.payload, &[])
        } else {
            ring.and_then(|r| r.payload(seg.seq, seg.ring)).ok_or(EmitError::Other)?
        };
        let repr = TcpRepr {
            src_port: local.1,
            dst_port: remote.1,
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags,
            window: seg.window,
            urgent: 0,
            options: seg.options,
            payload: first,
        };
        let (ifindex, neighbour, mtu) = self.tcp_route(remote.0, zone, cache.as_deref_mut())?;
        let tcp_len = repr.buffer_len() + more.len();
        let ip_len = if remote.0.is_ipv4() { 20 } else { 40 };
        let total = ip_len + tcp_len;
        if total > mtu as usize {
            return Err(EmitError::TooBig(mtu));
        }
        let (ident, flow_label) = match (local.0, remote.0) {
            (IpAddr::V4(_), IpAddr::V4(_)) => {
                let ident = match cache.as_deref_mut() {
                    Some(c) => {
                        let id = match c.ip_id {
                            Some(prev) => prev.wrapping_add(1),
                            None => self.ipv4_ident_for(local.0, remote.0, protocol::TCP),
                        };
                        c.ip_id = Some(id);
                        id
                    }
                    None => self.ipv4_ident_for(local.0, remote.0, protocol::TCP),
                };
                (ident, 0)
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                (0, self.tcp_flow_label(cache.as_deref_mut(), (s, local.1), (d, remote.1)))
            }
            _ => return Err(EmitError::Other),
        };
        let ip_header =
            self.tcp_ip_header(local.0, remote.0, tcp_len, ident, flow_label).ok_or(EmitError::Other)?;
        let counter = if remote.0.is_ipv4() { Counter::IpsLocalout } else { Counter::Ip6sLocalout };
        let mut buf = self.pool.get(total);
        let bytes = buf.bytes_mut();
        let (head, tail) = bytes.split_at_mut(ip_len);
        let built =
            ip_header.emit(head) && repr.emit_with_checksum_split(local.0, remote.0, more, tail).is_ok();
        if !built {
            self.pool.put(buf);
            return Err(EmitError::Other);
        }
        self.stats.inc(counter);
        let Some(c) = cache else {
            self.link_output(ifindex, neighbour, buf, now);
            return Ok(());
        };
        // A data segment's headers may serve as the template of the run's
        // next segments, if the frame goes to a resolved neighbour.
        let tpl = match capture {
            Some(_) if seg.ring > 0 => {
                let packet =
                    Captured { headers: buf.bytes(), ip_len, ifindex, mtu, local: local.0, remote: remote.0 };
                Template::capture(&packet, seg)
            }
            _ => None,
        };
        let framed = self.tcp_link_output(ifindex, neighbour, c, buf, now);
        if let (Some(slot), Some((src_mac, dst_mac)), Some(t)) = (capture, framed, tpl) {
            *slot = Some(t.framed(src_mac, dst_mac));
        }
        Ok(())
    }

    /// [`Stack::link_output`] through the connection's neighbour slot hint:
    /// an Ethernet neighbour that sends without a state change (RFC 4861
    /// §7.3.3: REACHABLE, DELAY, PROBE, PERMANENT) is found without a hash
    /// lookup; anything else takes the full path, after which the hint is
    /// refreshed. Returns the source and destination MAC addresses when
    /// the hint framed it.
    pub(super) fn tcp_link_output(
        &mut self,
        ifindex: IfIndex,
        neighbour: IpAddr,
        cache: &mut EmitCache,
        buf: crate::buf::PacketBuf,
        now: Instant,
    ) -> Option<(MacAddr, MacAddr)> {
        if let Some((src, mac)) = self.tcp_hint_macs(ifindex, neighbour, cache) {
            self.ethernet_send_from(ifindex, src, mac, buf);
            return Some((src, mac));
        }
        let ethernet = matches!(self.interface(ifindex).map(|i| i.kind), Some(LinkKind::Ethernet(_)));
        self.link_output(ifindex, neighbour, buf, now);
        if ethernet {
            cache.neigh = self.neigh.slot(&NeighKey { ifindex, addr: neighbour });
        }
        None
    }

    /// The source and destination MAC addresses of an Ethernet frame to
    /// `neighbour` when the connection's neighbour slot hint finds it
    /// sending without a state change (see [`Stack::tcp_link_output`]).
    #[inline]
    pub(super) fn tcp_hint_macs(
        &self,
        ifindex: IfIndex,
        neighbour: IpAddr,
        cache: &EmitCache,
    ) -> Option<(MacAddr, MacAddr)> {
        let Some(LinkKind::Ethernet(src)) = self.interface(ifindex).map(|i| i.kind) else { return None };
        let key = NeighKey { ifindex, addr: neighbour };
        let mac = cache.neigh.and_then(|slot| self.neigh.ready_at(slot, &key))?;
        Some((src, mac))
    }
}

/// The IP header of a TCP segment.
pub(super) enum IpHeader {
    V4(Ipv4Repr<'static>),
    V6(Ipv6Repr),
}

impl IpHeader {
    /// Writes the header at the start of `buf`; false if it does not fit.
    pub(super) fn emit(&self, buf: &mut [u8]) -> bool {
        match self {
            IpHeader::V4(ip) => ip.emit(buf).is_ok(),
            IpHeader::V6(ip) => ip.emit(buf).is_ok(),
        }
    }
}

impl Stack {
    /// The IP header of a `tcp_len`-byte TCP segment from `src` to `dst`
    /// (one family): an atomic IPv4 datagram (DF set, RFC 1191 §3; RFC 6864
    /// §4.1 leaves `ident` to the source) or an IPv6 header with
    /// `flow_label` (RFC 6437), no options, traffic class 0, TTL or hop
    /// limit from the sysctls. `None` for mixed families or an IPv6
    /// payload past 65 535 bytes.
    pub(super) fn tcp_ip_header(
        &self,
        src: IpAddr,
        dst: IpAddr,
        tcp_len: usize,
        ident: u16,
        flow_label: u32,
    ) -> Option<IpHeader> {
        Some(match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => IpHeader::V4(Ipv4Repr {
                src: s,
                dst: d,
                protocol: protocol::TCP,
                payload_len: tcp_len,
                ttl: self.sysctl.get(Knob::InetTtl) as u8,
                dscp: 0,
                ecn: 0,
                ident,
                dont_frag: true,
                more_frags: false,
                frag_offset: 0,
                options: &[],
            }),
            (IpAddr::V6(s), IpAddr::V6(d)) => IpHeader::V6(Ipv6Repr {
                src: s,
                dst: d,
                next_header: protocol::TCP,
                payload_len: u16::try_from(tcp_len).ok()?,
                hop_limit: self.sysctl.get(Knob::Ip6Hlim) as u8,
                traffic_class: 0,
                flow_label,
            }),
            _ => return None,
        })
    }
}
