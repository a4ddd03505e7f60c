//! Segments written directly: pure ACKs, and data segments that go out
//! alone. A bare ACK (no data, no control bit but ACK) is the most frequent
//! segment the general emitter builds when data is lost: RFC 5681 §4.2 asks
//! for an immediate ACK per out-of-order segment, each with its SACK blocks
//! (RFC 2018 §4), and each goes out alone; so does most data a sender
//! clocks out one ACK at a time, and its retransmissions. None of them
//! belongs to a run a header template (`template.rs`) could serve. Their
//! IP header is the general path's (`Stack::tcp_ip_header`); the TCP
//! header is written here field by field with its option block (RFC 9293
//! §3.1), the payload copied from the send ring while summed (RFC 1071
//! §4.1), and the checksum finished over the bytes just written, so no
//! `TcpRepr` is built, validated and emitted. The route, the neighbour,
//! the IPv4 identification counter (RFC 6864 §4.1) and the counters are
//! those of `Stack::tcp_emit_id`; the frames are byte for byte the general
//! path's (`tcp/template_tests.rs` compares
//! every frame of transfers with loss, SACK and timestamps on and off, both
//! families).

use super::emit::{copy_payload, EmitCache, Ring};
use super::tcb::OutSeg;
use crate::addr::IfIndex;
use crate::socket::SocketHandle;
use crate::stack::Stack;
use crate::stats::Counter;
use crate::time::Instant;
use std::net::IpAddr;
use via6_wire::checksum;
use via6_wire::ethernet::ethertype;
use via6_wire::ip::protocol;
use via6_wire::tcp::TcpFlags;

/// The fixed TCP header (RFC 9293 §3.1).
const TCP_HEADER: usize = 20;

impl Stack {
    /// Emits `seg` if this path writes it: an ACK-bearing segment with no
    /// control bit but PSH or FIN, without data or (with `data`) with data
    /// from the send ring; for IPv4, of a connection that already counts
    /// its identifications. `false`, with nothing done or changed but what
    /// the general path would also have done first (the route remembered
    /// in `cache`), for anything else, which the caller then hands to
    /// `Stack::tcp_emit_id` — including the errors it reports.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tcp_emit_direct(
        &mut self,
        (local, lport): (IpAddr, u16),
        (remote, rport): (IpAddr, u16),
        zone: Option<IfIndex>,
        seg: &OutSeg,
        (ring, cache, lend): (Ring<'_>, &mut EmitCache, Option<(SocketHandle, u64)>),
        data: bool,
        now: Instant,
    ) -> bool {
        let Some(ack) = seg.ack else { return false };
        if !seg.payload.is_empty() || !(TcpFlags::ACK | TcpFlags::PSH | TcpFlags::FIN).contains(seg.flags) {
            return false;
        }
        let (first, more): (&[u8], &[u8]) = match seg.ring {
            0 => (&[], &[]),
            _ if !data => return false,
            // Bytes no longer held: the general path reports it.
            _ => match ring.payload(seg.seq, seg.ring) {
                Some(p) => p,
                None => return false,
            },
        };
        let v4 = match (local, remote) {
            (IpAddr::V4(_), IpAddr::V4(_)) => true,
            (IpAddr::V6(_), IpAddr::V6(_)) => false,
            _ => return false,
        };
        // The first IPv4 identification comes from the keyed counter
        // (RFC 7739), which the general path draws.
        if v4 && cache.ip_id.is_none() {
            return false;
        }
        let Ok((ifindex, neighbour, mtu)) = self.tcp_route(remote, zone, Some(cache)) else { return false };
        let opts = seg.options.as_bytes();
        let hdr_len = TCP_HEADER + opts.len();
        let tcp_len = hdr_len + first.len() + more.len();
        let ip_len = if v4 { 20 } else { 40 };
        let total = ip_len + tcp_len;
        // Too big for the path, or for a 16-bit length field (the general
        // path reports either).
        if total > mtu as usize || total > usize::from(u16::MAX) {
            return false;
        }
        let (ident, flow_label) = match (local, remote) {
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                (0, self.tcp_flow_label(Some(&mut *cache), (s, lport), (d, rport)))
            }
            _ => (cache.ip_id.map_or(0, |p| p.wrapping_add(1)), 0),
        };
        let Some(header) = self.tcp_ip_header(local, remote, tcp_len, ident, flow_label) else {
            return false;
        };
        let mut sum = match (local, remote) {
            (IpAddr::V4(s), IpAddr::V4(d)) => checksum::pseudo_header_v4(s, d, protocol::TCP, tcp_len as u16),
            (IpAddr::V6(s), IpAddr::V6(d)) => checksum::pseudo_header_v6(s, d, protocol::TCP, tcp_len as u32),
            _ => return false,
        };
        let mut buf = self.pool.get(total);
        let (ip, tcp) = buf.bytes_mut().split_at_mut(ip_len);
        if !header.emit(ip) {
            self.pool.put(buf);
            return false;
        }
        let off_flags = ((hdr_len as u16 / 4) << 12) | (seg.flags | TcpFlags::ACK).bits();
        tcp[0..2].copy_from_slice(&lport.to_be_bytes());
        tcp[2..4].copy_from_slice(&rport.to_be_bytes());
        tcp[4..8].copy_from_slice(&seg.seq.to_be_bytes());
        tcp[8..12].copy_from_slice(&ack.to_be_bytes());
        tcp[12..14].copy_from_slice(&off_flags.to_be_bytes());
        tcp[14..16].copy_from_slice(&seg.window.to_be_bytes());
        // Checksum (filled below) and urgent pointer.
        tcp[16..20].fill(0);
        let (head, body) = tcp.split_at_mut(hdr_len);
        head[TCP_HEADER..].copy_from_slice(opts);
        // A data segment to a neighbour the connection's hint frames for
        // keeps its payload in the ring (`lend.rs`), its sum from the send
        // buffer's chunk sums; any other is copied in, summed while copied.
        // The header is a multiple of 4 bytes: the payload starts at an
        // even offset.
        let macs =
            if seg.ring > 0 && lend.is_some() { self.tcp_hint_macs(ifindex, neighbour, cache) } else { None };
        let payload = match macs {
            Some(_) => self.lent_sum(ring, seg.seq, seg.ring),
            None => copy_payload(body, first, more),
        };
        let Some(payload) = payload else {
            self.pool.put(buf);
            return false;
        };
        let c =
            sum.add_sum(checksum::header_words_sum(head), head.len()).add_sum(payload, body.len()).finish();
        head[16..18].copy_from_slice(&c.to_be_bytes());
        if v4 {
            cache.ip_id = Some(ident);
        }
        self.stats.inc(if v4 { Counter::IpsLocalout } else { Counter::Ip6sLocalout });
        self.sockets.tcp.direct += 1;
        match (macs, lend) {
            (Some(m), Some(l)) => {
                let et = if v4 { ethertype::IPV4 } else { ethertype::IPV6 };
                self.send_lent(ifindex, m, et, buf, Some(l), (seg.seq, seg.ring));
            }
            _ => {
                self.tcp_link_output(ifindex, neighbour, cache, buf, now);
            }
        }
        true
    }
}
