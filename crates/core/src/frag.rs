//! Fragmentation on output (IPv4 without DF, RFC 791 §3.2; IPv6 for local
//! sources only, RFC 8200 §4.5) and bounded reassembly for both families.
//!
//! Reassembly follows FreeBSD's `frag6.c` / `ip_reass.c` and inet6(4):
//! - datagrams live in hash buckets keyed by SipHash under the node's secret,
//!   so no one outside can aim many datagrams at one bucket;
//! - `maxfragbucketsize` datagrams per bucket, `maxfragpackets` datagrams in
//!   total, `maxfrags` fragments in total (0 accepts none, -1 unlimited),
//!   `maxfragsperpacket` fragments per datagram (one more drops it whole);
//! - a new IPv6 datagram that finds its bucket or the table full is refused
//!   (`ip6s_fragoverflow`); a new IPv4 datagram reuses the oldest queue of
//!   its bucket (FreeBSD `ipq_reuse`, counted `ips_fragtimeout`), or the
//!   oldest queue of the table when its bucket is empty;
//! - any overlap drops the whole datagram silently (RFC 5722, and for IPv4
//!   as Linux does since 4.19); an exact duplicate is dropped alone (RFC
//!   8200 §4.5);
//! - a datagram not complete in time (30 s IPv4, 60 s IPv6) is dropped, with
//!   ICMP time exceeded code 1 only when its first fragment had arrived;
//! - the first IPv6 fragment must hold the whole header chain (RFC 7112,
//!   parameter problem code 3); a reassembled length over 65535 is refused
//!   (IPv6: parameter problem code 0 at the Fragment Offset field; IPv4:
//!   dropped and counted); atomic fragments bypass the queues (RFC 6946);
//!   fragmented NDP is dropped (RFC 6980).

use crate::addr::IfIndex;
use crate::buf::PacketBuf;
use crate::errno::StackResult;
use crate::harden::{addr_bytes, keyed_hash};
use crate::icmp::{Icmp4Error, Icmp6Error};
use crate::output::RouteLookup;
use crate::stack::Stack;
use crate::stats::Counter;
use crate::sysctl::Knob;
use crate::time::Instant;
use core::time::Duration;
use std::collections::BTreeMap;
use std::net::IpAddr;
use via6_wire::ip::protocol;
use via6_wire::ipv6_fragment::Ipv6FragmentRepr;
use via6_wire::{ChainEntry, ExtHeaderKind, Ipv4Packet, Ipv6ExtChain, Ipv6Packet};

/// Hash buckets per family (FreeBSD: IP6REASS_NHASH = 64).
pub(crate) const BUCKETS: usize = 64;
/// IPv4 reassembly timeout (FreeBSD `IPFRAGTTL`, RFC 791's upper bound).
pub(crate) const TIMEOUT_V4: Duration = Duration::from_secs(30);
/// IPv6 reassembly timeout (RFC 8200 §4.5).
pub(crate) const TIMEOUT_V6: Duration = Duration::from_secs(60);
/// Bytes of the first fragment kept to quote in a time-exceeded error: what
/// fits in a minimum-MTU error (RFC 4443 §2.4(c), RFC 1812 §4.3.2.3).
const QUOTE_V6: usize = 1280 - 48;
const QUOTE_V4: usize = 576 - 28;

/// Identifies a datagram under reassembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct FragKey {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    proto: u8,
}

/// One datagram under reassembly.
#[derive(Debug)]
pub(crate) struct Datagram {
    key: FragKey,
    /// Creation order, to find the oldest and to key the timer.
    seq: u64,
    /// The unfragmentable part (IPv4 header, or IPv6 header + headers before
    /// the Fragment header, Next Header patched) from the first fragment.
    head: Option<Vec<u8>>,
    /// (offset, data) sorted by offset, never overlapping.
    pieces: Vec<(usize, Vec<u8>)>,
    /// Total length of the fragmentable part once the last fragment arrived.
    total: Option<usize>,
    deadline: Instant,
    ifindex: IfIndex,
    /// The start of the first fragment (lengths patched to what is kept), to
    /// quote in a time-exceeded error.
    first: Option<Vec<u8>>,
    /// Bytes held: pieces, head and quote.
    bytes: usize,
}

/// The reassembly table of one family.
#[derive(Debug)]
pub(crate) struct Table {
    /// Each bucket oldest first.
    buckets: Vec<Vec<Datagram>>,
    /// (deadline, seq) → bucket, for the timer and for the oldest datagram.
    order: BTreeMap<(Instant, u64), usize>,
    packets: usize,
    frags: usize,
    bytes: usize,
}

impl Default for Table {
    fn default() -> Self {
        Table {
            buckets: (0..BUCKETS).map(|_| Vec::new()).collect(),
            order: BTreeMap::new(),
            packets: 0,
            frags: 0,
            bytes: 0,
        }
    }
}

impl Table {
    fn remove(&mut self, bucket: usize, pos: usize) -> Datagram {
        let d = self.buckets[bucket].remove(pos);
        self.order.remove(&(d.deadline, d.seq));
        self.packets -= 1;
        self.frags -= d.pieces.len();
        self.bytes -= d.bytes;
        d
    }

    fn oldest(&self) -> Option<(usize, usize)> {
        let (&(deadline, seq), &b) = self.order.iter().next()?;
        let pos = self.buckets[b].iter().position(|d| d.seq == seq && d.deadline == deadline)?;
        Some((b, pos))
    }

    /// Datagrams under reassembly.
    pub(crate) fn packets(&self) -> usize {
        self.packets
    }

    /// Fragments held.
    pub(crate) fn frags(&self) -> usize {
        self.frags
    }

    /// Datagrams in each bucket (for tests of the limits).
    pub(crate) fn bucket_sizes(&self) -> impl Iterator<Item = usize> + '_ {
        self.buckets.iter().map(Vec::len)
    }
}

/// All datagrams under reassembly, and the IPv4 identification state.
#[derive(Debug)]
pub(crate) struct Reassembly {
    pub(crate) v4: Table,
    pub(crate) v6: Table,
    /// Fragments held in both families.
    pub(crate) held: usize,
    seq: u64,
    /// RFC 7739 §5.3: per-bucket IPv4 identification counters.
    ids: Vec<u16>,
}

impl Default for Reassembly {
    fn default() -> Self {
        Reassembly { v4: Table::default(), v6: Table::default(), held: 0, seq: 0, ids: vec![0; 1024] }
    }
}

impl Reassembly {
    /// Bytes held in reassembly.
    pub(crate) fn bytes(&self) -> usize {
        self.v4.bytes + self.v6.bytes
    }

    /// Datagrams under reassembly in both families.
    pub(crate) fn packets(&self) -> usize {
        self.v4.packets + self.v6.packets
    }

    fn sync(&mut self) {
        self.held = self.v4.frags + self.v6.frags;
    }

    fn table(&mut self, v4: bool) -> &mut Table {
        if v4 {
            &mut self.v4
        } else {
            &mut self.v6
        }
    }
}

/// One arriving fragment.
struct Piece {
    key: FragKey,
    ifindex: IfIndex,
    head: Option<Vec<u8>>,
    first: Option<Vec<u8>>,
    off: usize,
    more: bool,
    data: Vec<u8>,
}

enum Added {
    Complete(Vec<u8>),
    Pending,
    Dropped,
}

/// Per-family limits and counters.
struct Family {
    v4: bool,
    max_packets: i64,
    max_per_packet: i64,
    max_total: i64,
    bucket_size: i64,
    timeout: Duration,
    dropped: Counter,
    overflow: Counter,
    reused: Counter,
}

fn over(limit: i64, n: usize) -> bool {
    limit >= 0 && n as i64 >= limit
}

/// The first `max` bytes of a packet, its length field patched so the copy
/// parses as a whole packet.
fn quote(bytes: &[u8], max: usize, v4: bool) -> Vec<u8> {
    let mut q = bytes[..bytes.len().min(max)].to_vec();
    if v4 {
        if q.len() >= 20 {
            let len = q.len() as u16;
            q[2..4].copy_from_slice(&len.to_be_bytes());
        }
        if let Ok(mut p) = Ipv4Packet::new_checked(&mut q[..]) {
            p.fill_checksum();
        }
    } else if q.len() >= 40 {
        let plen = (q.len() - 40) as u16;
        q[4..6].copy_from_slice(&plen.to_be_bytes());
    }
    q
}

impl Stack {
    fn family(&self, v4: bool) -> Family {
        let (p, pp, t, b) = if v4 {
            (
                Knob::InetMaxFragPackets,
                Knob::InetMaxFragsPerPacket,
                Knob::InetMaxFrags,
                Knob::InetMaxFragBucketSize,
            )
        } else {
            (
                Knob::Ip6MaxFragPackets,
                Knob::Ip6MaxFragsPerPacket,
                Knob::Ip6MaxFrags,
                Knob::Ip6MaxFragBucketSize,
            )
        };
        Family {
            v4,
            max_packets: self.sysctl.get(p),
            max_per_packet: self.sysctl.get(pp),
            max_total: self.sysctl.get(t),
            bucket_size: self.sysctl.get(b),
            timeout: if v4 { TIMEOUT_V4 } else { TIMEOUT_V6 },
            dropped: if v4 { Counter::IpsFragdropped } else { Counter::Ip6sFragdropped },
            overflow: if v4 { Counter::IpsFragoverflow } else { Counter::Ip6sFragoverflow },
            reused: if v4 { Counter::IpsFragtimeout } else { Counter::Ip6sFragoverflow },
        }
    }

    fn frag_bucket(&self, key: &FragKey) -> usize {
        let h = keyed_hash(
            &self.secret,
            b"via6 reassembly",
            &[&addr_bytes(&key.src), &addr_bytes(&key.dst), &key.id.to_be_bytes(), &[key.proto]],
        );
        (h % BUCKETS as u64) as usize
    }

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
        let off = usize::from(pkt.frag_offset());
        let more = pkt.more_frags();
        let data = pkt.payload().to_vec();
        let fam = self.family(true);
        // RFC 791: every fragment but the last carries a multiple of 8
        // octets; a datagram may not grow past 65535 octets.
        if (more && (data.is_empty() || !data.len().is_multiple_of(8))) || hlen + off + data.len() > 65535 {
            self.stats.inc(fam.dropped);
            self.drop_datagram_of(&fam, &key);
            self.pool.put(buf);
            return None;
        }
        let head = (off == 0).then(|| buf.bytes()[..hlen].to_vec());
        let first = (off == 0).then(|| quote(buf.bytes(), QUOTE_V4, true));
        self.pool.put(buf);
        let piece = Piece { key, ifindex, head, first, off, more, data };
        match self.frag_add(&fam, piece, now) {
            Added::Complete(mut whole) => {
                self.stats.inc(Counter::IpsReassembled);
                let total = whole.len() as u16;
                // Rewrite the header: total length, no fragment fields.
                if whole.len() >= 20 {
                    whole[2..4].copy_from_slice(&total.to_be_bytes());
                }
                if let Ok(mut p) = Ipv4Packet::new_checked(&mut whole[..]) {
                    let _ = p.set_frag_offset(0);
                    p.set_more_frags(false);
                    p.fill_checksum();
                }
                Some(self.pool.copy_of(&whole))
            }
            Added::Pending | Added::Dropped => None,
        }
    }

    /// Drops the datagram `key` belongs to, if any is under reassembly,
    /// counting its fragments dropped.
    fn drop_datagram_of(&mut self, fam: &Family, key: &FragKey) {
        let b = self.frag_bucket(key);
        let t = self.frag.table(fam.v4);
        if let Some(pos) = t.buckets[b].iter().position(|d| d.key == *key) {
            let d = t.remove(b, pos);
            self.stats.add(fam.dropped, d.pieces.len() as u64);
        }
        self.frag.sync();
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
        let data_at = frag_at + 8;
        let data = &bytes[data_at..];
        let off = usize::from(repr.fragment_offset);
        let fam = self.family(false);
        if repr.is_atomic() {
            // RFC 6946 §4: an atomic fragment is processed on its own, never
            // mixed with queued fragments of the same identification.
            self.stats.inc(Counter::Ip6sAtomicfrags);
            let mut whole = bytes[..frag_at].to_vec();
            whole[named_at] = repr.next_header;
            whole.extend_from_slice(data);
            self.pool.put(buf);
            self.deliver_reassembled_v6(ifindex, whole, now);
            return;
        }
        // RFC 8200 §4.5: a fragment other than the last must carry a
        // multiple of 8 octets: parameter problem code 0 at Payload Length.
        if repr.more_fragments && !data.len().is_multiple_of(8) {
            self.stats.inc(fam.dropped);
            self.icmp6_error(ifindex, bytes, Icmp6Error::ParamProblem { code: 0, pointer: 4 }, now);
            self.pool.put(buf);
            return;
        }
        // RFC 8200 §4.5: the reassembled payload may not exceed 65535:
        // parameter problem code 0 pointing at the Fragment Offset field.
        if (frag_at - 40) + off + data.len() > 65535 {
            self.stats.inc(fam.dropped);
            let e = Icmp6Error::ParamProblem { code: 0, pointer: (frag_at + 2) as u32 };
            self.icmp6_error(ifindex, bytes, e, now);
            self.pool.put(buf);
            return;
        }
        if data.is_empty() {
            // Carries nothing: holding it would only cost a queue.
            self.stats.inc(fam.dropped);
            self.pool.put(buf);
            return;
        }
        if off == 0 && !first_fragment_has_chain(repr.next_header, data, data_at, frag_at) {
            // RFC 7112 §5 / RFC 8200 §4.5: the first fragment must hold the
            // whole header chain; parameter problem code 3, pointer zero.
            self.stats.inc(fam.dropped);
            let e = Icmp6Error::ParamProblem { code: 3, pointer: 0 };
            self.icmp6_error(ifindex, bytes, e, now);
            self.pool.put(buf);
            return;
        }
        // The unfragmentable part, with the Fragment header removed and the
        // preceding next-header field pointing past it.
        let head = (off == 0).then(|| {
            let mut h = bytes[..frag_at].to_vec();
            h[named_at] = repr.next_header;
            h
        });
        let first = (off == 0).then(|| quote(bytes, QUOTE_V6, false));
        let data = data.to_vec();
        self.pool.put(buf);
        let key = FragKey { src: IpAddr::V6(src), dst: IpAddr::V6(dst), id: repr.identification, proto: 0 };
        let piece = Piece { key, ifindex, head, first, off, more: repr.more_fragments, data };
        match self.frag_add(&fam, piece, now) {
            Added::Complete(whole) => {
                self.stats.inc(Counter::Ip6sReassembled);
                self.deliver_reassembled_v6(ifindex, whole, now);
            }
            Added::Pending | Added::Dropped => {}
        }
    }

    fn deliver_reassembled_v6(&mut self, ifindex: IfIndex, mut whole: Vec<u8>, now: Instant) {
        let payload = whole.len().saturating_sub(40);
        if payload > 65535 || whole.len() < 40 {
            self.stats.inc(Counter::Ip6sFragdropped);
            return;
        }
        whole[4..6].copy_from_slice(&(payload as u16).to_be_bytes());
        let Ok(pkt) = Ipv6Packet::new_checked(&whole[..]) else { return };
        let mut upper = None;
        for e in Ipv6ExtChain::from_packet(&pkt) {
            match e {
                // A datagram fragmented twice: nothing legitimate does that,
                // and accepting it would let one packet nest reassembly.
                Ok(ChainEntry::Ext(x)) if x.kind == ExtHeaderKind::Fragment => {
                    self.stats.inc(Counter::Ip6sFragdropped);
                    return;
                }
                Ok(ChainEntry::Upper(u)) => upper = Some((u.protocol, u.payload.first().copied())),
                _ => {}
            }
        }
        // RFC 6980 §5: NDP messages in fragments are silently dropped.
        if let Some((protocol::ICMPV6, Some(133..=137 | 148 | 149))) = upper {
            self.stats.inc(Counter::Ip6sFragndp);
            return;
        }
        let buf = self.pool.copy_of(&whole);
        self.ipv6_input(ifindex, buf, now);
    }

    fn frag_add(&mut self, fam: &Family, p: Piece, now: Instant) -> Added {
        if fam.max_packets == 0 || fam.max_total == 0 {
            self.stats.inc(fam.overflow);
            self.stats.inc(fam.dropped);
            return Added::Dropped;
        }
        let b = self.frag_bucket(&p.key);
        let seq = self.frag.seq;
        let frags_now = self.frag.table(fam.v4).frags;
        let existing = self.frag.table(fam.v4).buckets[b].iter().position(|d| d.key == p.key);
        if over(fam.max_total, frags_now) {
            // maxfrags: no fragment more is held, old or new datagram.
            self.stats.inc(fam.overflow);
            self.stats.inc(fam.dropped);
            return Added::Dropped;
        }
        let pos = match existing {
            Some(pos) => pos,
            None => {
                let t = self.frag.table(fam.v4);
                let bucket_full = t.buckets[b].len() as i64 >= fam.bucket_size;
                if bucket_full || over(fam.max_packets, t.packets) {
                    if !fam.v4 {
                        // FreeBSD frag6: a new datagram is refused.
                        self.stats.inc(fam.overflow);
                        self.stats.inc(fam.dropped);
                        return Added::Dropped;
                    }
                    // FreeBSD ip_reass: reuse the oldest queue of the bucket
                    // (or of the table when the bucket is empty).
                    let victim = if t.buckets[b].is_empty() { t.oldest() } else { Some((b, 0)) };
                    let Some((vb, vpos)) = victim else {
                        self.stats.inc(fam.overflow);
                        self.stats.inc(fam.dropped);
                        return Added::Dropped;
                    };
                    let d = t.remove(vb, vpos);
                    self.stats.add(fam.reused, d.pieces.len() as u64);
                }
                self.frag.seq += 1;
                let deadline = now + fam.timeout;
                let t = self.frag.table(fam.v4);
                t.buckets[b].push(Datagram {
                    key: p.key,
                    seq,
                    head: None,
                    pieces: Vec::new(),
                    total: None,
                    deadline,
                    ifindex: p.ifindex,
                    first: None,
                    bytes: 0,
                });
                t.order.insert((deadline, seq), b);
                t.packets += 1;
                t.buckets[b].len() - 1
            }
        };
        let t = self.frag.table(fam.v4);
        let d = &mut t.buckets[b][pos];
        let end = p.off + p.data.len();
        if d.pieces.iter().any(|(o, x)| *o == p.off && *x == p.data) {
            // RFC 8200 §4.5: an exact duplicate may be dropped alone.
            self.stats.inc(fam.dropped);
            return Added::Pending;
        }
        let overlap = d.pieces.iter().any(|(o, x)| p.off < o + x.len() && *o < end);
        let past_total = match d.total {
            Some(t) => end > t || (!p.more && end != t),
            None => !p.more && d.pieces.iter().any(|(o, x)| o + x.len() > end),
        };
        if overlap || past_total {
            // RFC 5722: overlapping fragments drop the whole datagram,
            // silently.
            let d = t.remove(b, pos);
            self.frag.sync();
            self.stats.add(fam.dropped, d.pieces.len() as u64 + 1);
            return Added::Dropped;
        }
        let mut added = p.data.len();
        if let Some(h) = p.head {
            added += h.len();
            d.head = Some(h);
        }
        if let Some(f) = p.first {
            added += f.len();
            d.first = Some(f);
        }
        if !p.more {
            d.total = Some(end);
        }
        let at = d.pieces.partition_point(|(o, _)| *o < p.off);
        d.pieces.insert(at, (p.off, p.data));
        d.bytes += added;
        t.bytes += added;
        t.frags += 1;
        if fam.max_per_packet >= 0 && d.pieces.len() as i64 > fam.max_per_packet {
            // FreeBSD: one fragment past maxfragsperpacket drops the whole
            // datagram.
            let d = t.remove(b, pos);
            self.frag.sync();
            self.stats.add(fam.overflow, d.pieces.len() as u64);
            self.stats.add(fam.dropped, d.pieces.len() as u64);
            return Added::Dropped;
        }
        let complete = d.head.is_some()
            && d.total.is_some_and(|total| {
                let mut at = 0;
                for (o, x) in &d.pieces {
                    if *o != at {
                        return false;
                    }
                    at += x.len();
                }
                at == total
            });
        if !complete {
            self.frag.sync();
            return Added::Pending;
        }
        let d = t.remove(b, pos);
        self.frag.sync();
        let mut whole = d.head.unwrap_or_default();
        whole.reserve(d.total.unwrap_or(0));
        for (_, x) in d.pieces {
            whole.extend_from_slice(&x);
        }
        Added::Complete(whole)
    }

    /// Drops datagrams whose time ran out, with ICMP time exceeded (code 1)
    /// when the first fragment had arrived (RFC 792, RFC 8200 §4.5).
    pub(crate) fn frag_timers(&mut self, now: Instant) {
        for v4 in [true, false] {
            loop {
                let t = self.frag.table(v4);
                let Some((&(deadline, seq), &b)) = t.order.iter().next() else { break };
                if deadline > now {
                    break;
                }
                let Some(pos) = t.buckets[b].iter().position(|d| d.seq == seq) else {
                    t.order.remove(&(deadline, seq));
                    continue;
                };
                let d = t.remove(b, pos);
                self.frag.sync();
                let n = d.pieces.len() as u64;
                if v4 {
                    self.stats.add(Counter::IpsFragtimeout, n);
                    if let Some(first) = d.first {
                        self.icmp4_error(d.ifindex, &first, Icmp4Error::ReassemblyTimeout, now);
                    }
                } else {
                    self.stats.add(Counter::Ip6sFragtimeout, n);
                    if let Some(first) = d.first {
                        self.icmp6_error(d.ifindex, &first, Icmp6Error::ReassemblyTimeout, now);
                    }
                }
            }
        }
    }

    /// The earliest reassembly deadline.
    pub(crate) fn frag_deadline(&self) -> Option<Instant> {
        let a = self.frag.v4.order.keys().next().map(|k| k.0);
        let b = self.frag.v6.order.keys().next().map(|k| k.0);
        crate::time::earliest(a, b)
    }

    /// RFC 7739 §5.3 for IPv4: the identification is a keyed hash of (src,
    /// dst, protocol) plus a counter chosen by another keyed hash, so IDs
    /// toward one destination are sequential (no early reuse) yet nobody
    /// can predict them from IDs seen toward another.
    pub(crate) fn ipv4_ident_for(&mut self, src: IpAddr, dst: IpAddr, proto: u8) -> u16 {
        let (s, d) = (addr_bytes(&src), addr_bytes(&dst));
        let offset = keyed_hash(&self.secret, b"via6 ipv4 id offset", &[&s, &d, &[proto]]) as u16;
        let slot = keyed_hash(&self.secret, b"via6 ipv4 id slot", &[&s, &d, &[proto]]) as usize
            % self.frag.ids.len();
        // Increment by a small random step (RFC 7739 §5.3 allows it) so the
        // counter leaks less to a host that sees consecutive IDs.
        let step = 1 + (self.rng.next_u32() % 8) as u16;
        self.frag.ids[slot] = self.frag.ids[slot].wrapping_add(step);
        (offset ^ self.ip4_ident).wrapping_add(self.frag.ids[slot])
    }

    /// Fragments an IPv4 packet (RFC 791 §3.2) to the route's MTU and sends
    /// the pieces. The first fragment keeps every option; the others only
    /// those with the copied flag (RFC 791 §3.1).
    pub(crate) fn fragment_v4_and_send(&mut self, buf: PacketBuf, lookup: &RouteLookup, now: Instant) {
        let Ok(pkt) = Ipv4Packet::new_checked(buf.bytes()) else {
            self.pool.put(buf);
            return;
        };
        let hlen = pkt.header_len();
        let mtu = lookup.mtu as usize;
        if mtu.saturating_sub(hlen) & !7 == 0 || pkt.dont_frag() {
            self.stats.inc(Counter::IpsCantfrag);
            self.pool.put(buf);
            return;
        }
        let header = buf.bytes()[..hlen].to_vec();
        let later_header = copied_options_header(&header);
        let payload = pkt.payload().to_vec();
        let (base_off, base_more) = (usize::from(pkt.frag_offset()), pkt.more_frags());
        self.pool.put(buf);
        self.stats.inc(Counter::IpsFragmented);
        let mut at = 0;
        while at < payload.len() {
            let h: &[u8] = if at == 0 { &header } else { &later_header };
            let hl = h.len();
            let chunk = (mtu.saturating_sub(hl)) & !7;
            if chunk == 0 {
                break;
            }
            let n = chunk.min(payload.len() - at);
            let last = at + n == payload.len();
            let mut f = self.pool.get(hl + n);
            f.bytes_mut()[..hl].copy_from_slice(h);
            f.bytes_mut()[hl..].copy_from_slice(&payload[at..at + n]);
            // The copied header still holds the whole packet's Total Length,
            // which no checked view of the fragment accepts: set it first.
            f.bytes_mut()[2..4].copy_from_slice(&((hl + n) as u16).to_be_bytes());
            if let Ok(mut p) = Ipv4Packet::new_checked(f.bytes_mut()) {
                let _ = p.set_frag_offset(u16::try_from(base_off + at).unwrap_or(0));
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

/// RFC 7112: whether a first fragment's data (after the Fragment header at
/// `frag_at`, data at `data_at`) holds every extension header and the fixed
/// part of a known upper-layer header.
fn first_fragment_has_chain(next_header: u8, data: &[u8], data_at: usize, frag_at: usize) -> bool {
    for e in Ipv6ExtChain::with_offsets(next_header, data, data_at, frag_at) {
        match e {
            Err(_) => return false,
            Ok(ChainEntry::Upper(u)) => {
                let need = match u.protocol {
                    protocol::TCP => 20,
                    protocol::UDP => 8,
                    protocol::ICMPV6 => 4,
                    _ => 0,
                };
                return u.fragment_data || u.payload.len() >= need;
            }
            Ok(ChainEntry::Ext(_)) => {}
        }
    }
    false
}

/// The header of the second and later fragments: the fixed header and the
/// options whose copied flag is set (RFC 791 §3.1), padded with End of
/// Option List to a multiple of 4 octets.
fn copied_options_header(header: &[u8]) -> Vec<u8> {
    let mut h = header[..20.min(header.len())].to_vec();
    let opts = header.get(20..).unwrap_or(&[]);
    let mut i = 0;
    while i < opts.len() {
        let t = opts[i];
        match t {
            0 => break,
            1 => i += 1,
            _ => {
                let Some(&len) = opts.get(i + 1) else { break };
                let len = usize::from(len);
                if len < 2 || i + len > opts.len() {
                    break;
                }
                if t & 0x80 != 0 {
                    h.extend_from_slice(&opts[i..i + len]);
                }
                i += len;
            }
        }
    }
    while !h.len().is_multiple_of(4) {
        h.push(0);
    }
    let ihl = (h.len() / 4) as u8;
    if let Some(b) = h.first_mut() {
        *b = 0x40 | ihl;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bucket of a datagram depends on the node's secret: two nodes
    /// spread the same keys differently, so nobody can aim at a bucket.
    #[test]
    fn reassembly_buckets_are_keyed_by_the_secret() {
        let keys: Vec<FragKey> = (0..64)
            .map(|id| FragKey {
                src: "2001:db8::9".parse().unwrap(),
                dst: "2001:db8::1".parse().unwrap(),
                id,
                proto: 0,
            })
            .collect();
        let a = Stack::new("a", 1);
        let b = Stack::new("b", 2);
        let ba: Vec<usize> = keys.iter().map(|k| a.frag_bucket(k)).collect();
        let bb: Vec<usize> = keys.iter().map(|k| b.frag_bucket(k)).collect();
        let a2: Vec<usize> = keys.iter().map(|k| Stack::new("a", 1).frag_bucket(k)).collect();
        assert_eq!(ba, a2, "deterministic per secret");
        assert_ne!(ba, bb);
        assert!(ba.iter().all(|&x| x < BUCKETS));
    }

    #[test]
    fn copied_options_keep_only_the_copy_flag() {
        // Record Route (7, not copied) then Security (130, copied) then EOL.
        let mut h = vec![0x48, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        h.extend_from_slice(&[7, 3, 4, 130, 4, 1, 2, 0, 0, 0, 0, 0]);
        h[0] = 0x40 | (h.len() / 4) as u8;
        let later = copied_options_header(&h);
        assert_eq!(&later[20..], &[130, 4, 1, 2]);
        assert_eq!(later[0], 0x46);
    }
}
