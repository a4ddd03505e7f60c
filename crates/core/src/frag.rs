//! Fragmentation on output (IPv4 without DF; IPv6 for local sources only,
//! RFC 8200 §4.5) and bounded reassembly for both families (RFC 791, RFC
//! 8200 §4.5, RFC 5722: any overlap drops the whole datagram).
//!
//! Limits follow inet6(4): `maxfragpackets` datagrams under reassembly,
//! `maxfragsperpacket` fragments each, `maxfrags` fragments in total; a
//! datagram not complete in time (30 s IPv4, 60 s IPv6) is dropped.

use crate::addr::IfIndex;
use crate::buf::PacketBuf;
use crate::errno::StackResult;
use crate::output::RouteLookup;
use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use core::time::Duration;
use std::net::IpAddr;
use via6_wire::ipv6_fragment::Ipv6FragmentRepr;
use via6_wire::{ChainEntry, ExtHeaderKind, Ipv4Packet, Ipv6ExtChain, Ipv6Packet};

/// Identifies a datagram under reassembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct FragKey {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
}

/// One datagram under reassembly.
#[derive(Debug)]
pub(crate) struct Datagram {
    /// The unfragmentable part (IPv4 header, or IPv6 header + headers before
    /// the Fragment header) from the first fragment.
    head: Option<Vec<u8>>,
    /// (offset, data) sorted by offset.
    pieces: Vec<(usize, Vec<u8>)>,
    /// Total length once the last fragment arrived.
    total: Option<usize>,
    deadline: Instant,
    ifindex: IfIndex,
    /// The first fragment, kept to quote in a time-exceeded error.
    first: Option<Vec<u8>>,
}

/// All datagrams under reassembly.
#[derive(Debug, Default)]
pub(crate) struct Reassembly {
    pub(crate) queues: std::collections::HashMap<FragKey, Datagram>,
    pub(crate) held: usize,
}

impl Reassembly {
    /// Bytes held in reassembly.
    pub(crate) fn bytes(&self) -> usize {
        self.queues.values().map(|d| d.pieces.iter().map(|(_, p)| p.len()).sum::<usize>()).sum()
    }
}

enum Added {
    Complete(Vec<u8>),
    Pending,
    Dropped,
}

impl Stack {
    /// Feeds an IPv4 packet to reassembly; returns the whole datagram when
    /// it is not a fragment or is now complete.
    pub(crate) fn reassemble_v4(
        &mut self,
        ifindex: IfIndex,
        buf: PacketBuf,
        now: Instant,
    ) -> Option<PacketBuf> {
        let pkt = Ipv4Packet::new_checked(buf.bytes()).ok()?;
        if !pkt.is_fragment() {
            return Some(buf);
        }
        self.stats.inc(Counter::IpsFragments);
        let key = FragKey {
            src: IpAddr::V4(pkt.src()),
            dst: IpAddr::V4(pkt.dst()),
            id: u32::from(pkt.ident()),
            proto: pkt.protocol(),
        };
        let hlen = pkt.header_len();
        let head = (pkt.frag_offset() == 0).then(|| buf.bytes()[..hlen].to_vec());
        let off = usize::from(pkt.frag_offset());
        let more = pkt.more_frags();
        let data = pkt.payload().to_vec();
        let first = (off == 0).then(|| buf.bytes().to_vec());
        self.pool.put(buf);
        let limits = (
            self.sysctl.get(Knob::InetMaxFragPackets),
            self.sysctl.get(Knob::InetMaxFragsPerPacket),
            self.sysctl.get(Knob::InetMaxFrags),
        );
        match self.frag_add(key, ifindex, head, first, off, more, data, now + Duration::from_secs(30), limits)
        {
            Added::Complete(mut whole) => {
                self.stats.inc(Counter::IpsReassembled);
                let total = whole.len();
                if total > 65535 {
                    self.stats.inc(Counter::IpsFragdropped);
                    return None;
                }
                // Rewrite the header: total length, no fragment fields.
                if let Ok(mut p) = Ipv4Packet::new_checked(&mut whole[..]) {
                    let _ = p.set_frag_offset(0);
                    p.set_more_frags(false);
                    let _ = p.set_total_len(total as u16);
                    p.fill_checksum();
                }
                Some(self.pool.copy_of(&whole))
            }
            Added::Pending => None,
            Added::Dropped => {
                self.stats.inc(Counter::IpsFragdropped);
                None
            }
        }
    }

    /// Feeds an IPv6 packet whose chain holds a Fragment header; delivers the
    /// reassembled datagram.
    pub(crate) fn ipv6_reassemble_and_deliver(&mut self, ifindex: IfIndex, buf: PacketBuf, now: Instant) {
        self.stats.inc(Counter::Ip6sFragments);
        let parsed = (|| {
            let pkt = Ipv6Packet::new_checked(buf.bytes()).ok()?;
            let frag = Ipv6ExtChain::from_packet(&pkt).find_map(|e| match e {
                Ok(ChainEntry::Ext(x)) if x.kind == ExtHeaderKind::Fragment => Some(x),
                _ => None,
            })?;
            let repr = Ipv6FragmentRepr::parse(&frag.fragment()?).ok()?;
            Some((pkt.src(), pkt.dst(), frag.offset, frag.named_at, repr))
        })();
        let Some((src, dst, frag_at, named_at, repr)) = parsed else {
            self.stats.inc(Counter::Ip6sFragdropped);
            self.pool.put(buf);
            return;
        };
        let bytes = buf.bytes();
        let data = bytes[frag_at + 8..].to_vec();
        // The unfragmentable part, with the Fragment header removed and the
        // preceding next-header field pointing past it.
        let head = (repr.fragment_offset == 0).then(|| {
            let mut h = bytes[..frag_at].to_vec();
            h[named_at] = repr.next_header;
            h
        });
        let first = (repr.fragment_offset == 0).then(|| bytes.to_vec());
        self.pool.put(buf);
        if repr.is_atomic() {
            // RFC 6946: an atomic fragment is processed on its own.
            let mut whole = head.unwrap_or_default();
            whole.extend_from_slice(&data);
            self.deliver_reassembled_v6(ifindex, whole, now);
            return;
        }
        let key = FragKey { src: IpAddr::V6(src), dst: IpAddr::V6(dst), id: repr.identification, proto: 0 };
        let limits = (
            self.sysctl.get(Knob::Ip6MaxFragPackets),
            self.sysctl.get(Knob::Ip6MaxFragsPerPacket),
            self.sysctl.get(Knob::Ip6MaxFrags),
        );
        let deadline = now + Duration::from_secs(60);
        match self.frag_add(
            key,
            ifindex,
            head,
            first,
            usize::from(repr.fragment_offset),
            repr.more_fragments,
            data,
            deadline,
            limits,
        ) {
            Added::Complete(whole) => {
                self.stats.inc(Counter::Ip6sReassembled);
                self.deliver_reassembled_v6(ifindex, whole, now);
            }
            Added::Pending => {}
            Added::Dropped => self.stats.inc(Counter::Ip6sFragdropped),
        }
    }

    fn deliver_reassembled_v6(&mut self, ifindex: IfIndex, mut whole: Vec<u8>, now: Instant) {
        let payload = whole.len().saturating_sub(40);
        if payload > 65535 || whole.len() < 40 {
            self.stats.inc(Counter::Ip6sFragdropped);
            return;
        }
        whole[4..6].copy_from_slice(&(payload as u16).to_be_bytes());
        let buf = self.pool.copy_of(&whole);
        self.ipv6_input(ifindex, buf, now);
    }

    #[allow(clippy::too_many_arguments)]
    fn frag_add(
        &mut self,
        key: FragKey,
        ifindex: IfIndex,
        head: Option<Vec<u8>>,
        first: Option<Vec<u8>>,
        off: usize,
        more: bool,
        data: Vec<u8>,
        deadline: Instant,
        (max_packets, max_per_packet, max_total): (i64, i64, i64),
    ) -> Added {
        if max_packets == 0 || max_total == 0 || (more && (!data.len().is_multiple_of(8) || data.is_empty()))
        {
            return Added::Dropped;
        }
        let r = &mut self.frag;
        if !r.queues.contains_key(&key) && max_packets > 0 && r.queues.len() as i64 >= max_packets {
            return Added::Dropped;
        }
        if max_total > 0 && r.held as i64 >= max_total {
            return Added::Dropped;
        }
        let d = r.queues.entry(key).or_insert_with(|| Datagram {
            head: None,
            pieces: Vec::new(),
            total: None,
            deadline,
            ifindex,
            first: None,
        });
        let end = off + data.len();
        let overlap = d.pieces.iter().any(|(o, p)| off < o + p.len() && *o < end);
        let past_total = d.total.is_some_and(|t| end > t || (!more && end != t));
        if overlap || past_total || (max_per_packet > 0 && d.pieces.len() as i64 >= max_per_packet) {
            // RFC 5722: overlapping fragments drop the whole datagram.
            let n = d.pieces.len();
            r.queues.remove(&key);
            r.held -= n;
            return Added::Dropped;
        }
        if head.is_some() {
            d.head = head;
            d.first = first;
        }
        if !more {
            d.total = Some(end);
        }
        let pos = d.pieces.partition_point(|(o, _)| *o < off);
        d.pieces.insert(pos, (off, data));
        r.held += 1;
        let complete = d.head.is_some()
            && d.total.is_some_and(|t| {
                let mut at = 0;
                for (o, p) in &d.pieces {
                    if *o != at {
                        return false;
                    }
                    at += p.len();
                }
                at == t
            });
        if !complete {
            return Added::Pending;
        }
        let Some(d) = r.queues.remove(&key) else { return Added::Dropped };
        r.held -= d.pieces.len();
        let mut whole = d.head.unwrap_or_default();
        for (_, p) in d.pieces {
            whole.extend_from_slice(&p);
        }
        Added::Complete(whole)
    }

    /// Drops datagrams whose time ran out, with ICMP time exceeded (code 1)
    /// when the first fragment had arrived (RFC 792, RFC 8200 §4.5).
    pub(crate) fn frag_timers(&mut self, now: Instant) {
        let expired: Vec<FragKey> =
            self.frag.queues.iter().filter(|(_, d)| d.deadline <= now).map(|(k, _)| *k).collect();
        for k in expired {
            let Some(d) = self.frag.queues.remove(&k) else { continue };
            self.frag.held -= d.pieces.len();
            if k.src.is_ipv4() {
                self.stats.inc(Counter::IpsFragtimeout);
                if let Some(first) = d.first {
                    self.icmp4_error(d.ifindex, &first, crate::icmp::Icmp4Error::ReassemblyTimeout, now);
                }
            } else {
                self.stats.inc(Counter::Ip6sFragtimeout);
                if let Some(first) = d.first {
                    self.icmp6_error(d.ifindex, &first, crate::icmp::Icmp6Error::ReassemblyTimeout, now);
                }
            }
        }
    }

    /// The earliest reassembly deadline.
    pub(crate) fn frag_deadline(&self) -> Option<Instant> {
        self.frag.queues.values().map(|d| d.deadline).min()
    }

    /// Fragments an IPv4 packet (RFC 791 §3.2) to the route's MTU and sends
    /// the pieces.
    pub(crate) fn fragment_v4_and_send(&mut self, buf: PacketBuf, lookup: &RouteLookup, now: Instant) {
        let Ok(pkt) = Ipv4Packet::new_checked(buf.bytes()) else {
            self.pool.put(buf);
            return;
        };
        let hlen = pkt.header_len();
        let mtu = lookup.mtu as usize;
        let chunk = (mtu.saturating_sub(hlen)) & !7;
        if chunk == 0 || pkt.dont_frag() {
            self.stats.inc(Counter::IpsCantfrag);
            self.pool.put(buf);
            return;
        }
        let header = buf.bytes()[..hlen].to_vec();
        let payload = pkt.payload().to_vec();
        let (base_off, base_more) = (usize::from(pkt.frag_offset()), pkt.more_frags());
        self.pool.put(buf);
        self.stats.inc(Counter::IpsFragmented);
        let mut at = 0;
        while at < payload.len() {
            let n = chunk.min(payload.len() - at);
            let last = at + n == payload.len();
            let mut f = self.pool.get(hlen + n);
            f.bytes_mut()[..hlen].copy_from_slice(&header);
            f.bytes_mut()[hlen..].copy_from_slice(&payload[at..at + n]);
            // The copied header still holds the whole datagram's Total
            // Length, which a checked view refuses for a shorter buffer: set
            // the fragment's first (it is below 65536: hlen + n <= mtu).
            f.bytes_mut()[2..4].copy_from_slice(&((hlen + n) as u16).to_be_bytes());
            if let Ok(mut p) = Ipv4Packet::new_checked(f.bytes_mut()) {
                let _ = p.set_frag_offset((base_off + at) as u16);
                p.set_more_frags(!last || base_more);
                p.fill_checksum();
            }
            self.stats.inc(Counter::IpsOfragments);
            self.link_output(lookup.ifindex, lookup.neighbour, f, now);
            at += n;
        }
    }

    /// Fragments a locally originated IPv6 packet (RFC 8200 §4.5) with an
    /// unpredictable identification (RFC 7739).
    pub(crate) fn fragment_v6_and_send(
        &mut self,
        buf: PacketBuf,
        lookup: &RouteLookup,
        now: Instant,
    ) -> StackResult<()> {
        let Ok(pkt) = Ipv6Packet::new_checked(buf.bytes()) else {
            self.pool.put(buf);
            return Ok(());
        };
        // The unfragmentable part is the fixed header here (we originate no
        // Hop-by-Hop or Routing headers).
        let next_header = pkt.next_header();
        let mut header = buf.bytes()[..40].to_vec();
        header[6] = via6_wire::ip::protocol::IPV6_FRAG;
        let payload = buf.bytes()[40..].to_vec();
        self.pool.put(buf);
        let chunk = (lookup.mtu as usize).saturating_sub(48) & !7;
        if chunk == 0 {
            self.stats.inc(Counter::Ip6sCantfrag);
            return Ok(());
        }
        let id = self.rng.next_u32();
        self.stats.inc(Counter::Ip6sFragmented);
        let mut at = 0;
        while at < payload.len() {
            let n = chunk.min(payload.len() - at);
            let last = at + n == payload.len();
            let mut f = self.pool.get(48 + n);
            let b = f.bytes_mut();
            b[..40].copy_from_slice(&header);
            b[4..6].copy_from_slice(&((8 + n) as u16).to_be_bytes());
            let fr = Ipv6FragmentRepr {
                next_header,
                fragment_offset: at as u16,
                more_fragments: !last,
                identification: id,
            };
            let _ = fr.emit(&mut b[40..48]);
            b[48..].copy_from_slice(&payload[at..at + n]);
            self.stats.inc(Counter::Ip6sOfragments);
            self.link_output(lookup.ifindex, lookup.neighbour, f, now);
            at += n;
        }
        Ok(())
    }
}
