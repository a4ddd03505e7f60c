//! Header templates for a run of data segments. When one `tcp_after` call
//! emits several segments of a connection (a window's worth after an ACK),
//! they differ only in their sequence number, length, PSH/FIN bits, IPv4
//! identification and checksums: the route, the neighbour, the ACK field,
//! the window and the option block (one timestamp clock reading and
//! TS.Recent per `Tcb::output` run) are the same. The first segment is
//! built by the general emitter (`emit.rs`), which leaves a copy of its
//! Ethernet, IP and TCP headers here; the others copy it and patch the
//! fields that change. Checksums are not recomputed over the header: the
//! constant words are summed once per run (RFC 1071 §2(A)/(B): the sum is
//! commutative and associative) and each segment adds its own (RFC 1624
//! §3: the one's-complement sum of a changed field is the sum of the
//! others plus it). The frames are byte-for-byte those of the general
//! path (`tcp/template_tests.rs`).

use super::emit::{copy_payload, Ring};
use super::tcb::{OutSeg, Piece};
use crate::addr::IfIndex;
use crate::socket::SocketHandle;
use crate::stack::Stack;
use crate::stats::Counter;
use std::net::IpAddr;
use via6_wire::checksum::{self, Checksum};
use via6_wire::ethernet::ethertype;
use via6_wire::ip::protocol;
use via6_wire::tcp::TcpFlags;
use via6_wire::MacAddr;

/// Bytes of the headers a template holds at most: IPv6 (the larger IP
/// header) and TCP with 40 bytes of options (RFC 9293 §3.1). The Ethernet
/// header is added by `Stack::frame_and_send` from the MAC addresses.
const MAX_HEAD: usize = 40 + 60;

/// TCP header offsets (RFC 9293 §3.1).
const SEQ: usize = 4;
const OFF_FLAGS: usize = 12;
const CSUM: usize = 16;

/// The headers of the first segment of a run and their constant sums.
pub(crate) struct Template {
    /// IP + TCP header bytes, as the general path emitted them.
    head: [u8; MAX_HEAD],
    ip_len: usize,
    tcp_hdr_len: usize,
    ifindex: IfIndex,
    src_mac: MacAddr,
    dst_mac: MacAddr,
    mtu: u32,
    ack: u32,
    window: u16,
    /// The IPv4 header's sum without total length, identification and
    /// checksum (zero for IPv6).
    ip_base: Checksum,
    /// The pseudo-header without its length plus the TCP header without
    /// its sequence number, offset/flags word and checksum.
    tcp_base: Checksum,
}

/// What the general emitter hands over from a segment it built: the
/// packet and where it goes (the MAC addresses follow once it is framed,
/// [`Template::framed`]).
pub(crate) struct Captured<'a> {
    /// The IP packet as emitted (headers first, checksums filled).
    pub(crate) headers: &'a [u8],
    pub(crate) ip_len: usize,
    pub(crate) ifindex: IfIndex,
    pub(crate) mtu: u32,
    pub(crate) local: IpAddr,
    pub(crate) remote: IpAddr,
}

impl Template {
    /// A template from a segment the general path built (`None` for
    /// anything it cannot describe); usable once [`Template::framed`] gave
    /// it the frame's MAC addresses.
    pub(crate) fn capture(c: &Captured<'_>, seg: &OutSeg) -> Option<Template> {
        let ack = seg.ack?;
        let tcp_hdr_len = 20 + seg.options.len();
        let n = c.ip_len + tcp_hdr_len;
        if c.headers.len() < n || n > MAX_HEAD {
            return None;
        }
        let mut head = [0u8; MAX_HEAD];
        head[..n].copy_from_slice(&c.headers[..n]);
        let ip = &c.headers[..c.ip_len];
        let tcp = &c.headers[c.ip_len..n];
        let ip_base = match (c.local, c.remote) {
            (IpAddr::V4(_), IpAddr::V4(_)) if c.ip_len == 20 => {
                // Every word but total length (2), identification (4) and
                // the checksum (10).
                let mut s = Checksum::new();
                s.add_bytes(&ip[0..2]).add_bytes(&ip[6..10]).add_bytes(&ip[12..20]);
                s
            }
            (IpAddr::V6(_), IpAddr::V6(_)) if c.ip_len == 40 => Checksum::new(),
            _ => return None,
        };
        let mut tcp_base = match (c.local, c.remote) {
            (IpAddr::V4(s), IpAddr::V4(d)) => checksum::pseudo_header_v4(s, d, protocol::TCP, 0),
            (IpAddr::V6(s), IpAddr::V6(d)) => checksum::pseudo_header_v6(s, d, protocol::TCP, 0),
            _ => return None,
        };
        tcp_base.add_bytes(&tcp[0..SEQ]).add_bytes(&tcp[SEQ + 4..OFF_FLAGS]).add_bytes(&tcp[14..CSUM]);
        tcp_base.add_bytes(&tcp[CSUM + 2..]);
        Some(Template {
            head,
            ip_len: c.ip_len,
            tcp_hdr_len,
            ifindex: c.ifindex,
            src_mac: MacAddr([0; 6]),
            dst_mac: MacAddr([0; 6]),
            mtu: c.mtu,
            ack,
            window: seg.window,
            ip_base,
            tcp_base,
        })
    }

    /// The template of a segment that went out in an Ethernet frame from
    /// `src_mac` to `dst_mac`.
    pub(crate) fn framed(mut self, src_mac: MacAddr, dst_mac: MacAddr) -> Template {
        self.src_mac = src_mac;
        self.dst_mac = dst_mac;
        self
    }

    /// Whether the segments of `seg` (one, or a run's) differ from the
    /// template's segment only in what a copy can patch: data from the
    /// send ring with the same ACK, window and option bytes.
    pub(crate) fn fits(&self, seg: &OutSeg) -> bool {
        let opts = &self.head[self.ip_len + 20..self.ip_len + self.tcp_hdr_len];
        seg.ring > 0
            && seg.payload.is_empty()
            && !seg.challenge
            && seg.ack == Some(self.ack)
            && seg.window == self.window
            && seg.options.as_bytes() == opts
    }
}

impl Stack {
    /// Emits `piece`, of a segment [`Template::fits`], as a patched copy of
    /// `tpl` (see the module comment); `false` when it cannot (a control
    /// bit other than PSH or FIN, no payload, too big: nothing was done,
    /// the caller takes the general path). `ip_id` is the connection's IPv4
    /// identification counter (`EmitCache::ip_id`).
    pub(crate) fn tcp_emit_templated(
        &mut self,
        tpl: &Template,
        piece: Piece,
        ring: Ring<'_>,
        ip_id: &mut Option<u16>,
        lend: Option<(SocketHandle, u64)>,
    ) -> bool {
        if piece.len == 0 || !(TcpFlags::PSH | TcpFlags::FIN).contains(piece.flags) {
            return false;
        }
        let hdr = tpl.ip_len + tpl.tcp_hdr_len;
        let tcp_len = tpl.tcp_hdr_len + piece.len as usize;
        let total = tpl.ip_len + tcp_len;
        let v4 = tpl.ip_len == 20;
        // The general path reports the MTU error; an IPv4 segment needs
        // the previous identification to count on from.
        if total > tpl.mtu as usize || (v4 && ip_id.is_none()) {
            return false;
        }
        let mut buf = self.pool.get(total);
        let bytes = buf.bytes_mut();
        let (head, body) = bytes.split_at_mut(hdr);
        head.copy_from_slice(&tpl.head[..hdr]);
        let (ip, tcp) = head.split_at_mut(tpl.ip_len);
        // RFC 791 §3.1 identification, counted per connection as
        // `tcp_emit_id` does (RFC 6864 §4.1).
        let id = ip_id.map_or(0, |p| p.wrapping_add(1));
        if v4 {
            // Total length and identification.
            ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
            ip[4..6].copy_from_slice(&id.to_be_bytes());
            let mut s = tpl.ip_base;
            s.add_u16(total as u16).add_u16(id);
            ip[10..12].copy_from_slice(&s.finish().to_be_bytes());
        } else {
            // RFC 8200 §3 payload length.
            ip[4..6].copy_from_slice(&(tcp_len as u16).to_be_bytes());
        }
        let off_flags = ((tpl.tcp_hdr_len as u16 / 4) << 12) | (piece.flags | TcpFlags::ACK).bits();
        tcp[SEQ..SEQ + 4].copy_from_slice(&piece.seq.to_be_bytes());
        tcp[OFF_FLAGS..OFF_FLAGS + 2].copy_from_slice(&off_flags.to_be_bytes());
        // The payload stays in the ring (`lend.rs`), its sum from the
        // send buffer's chunk sums, or is copied and summed now.
        let payload = match lend {
            Some(_) => self.lent_sum(ring, piece.seq, piece.len),
            None => {
                ring.payload(piece.seq, piece.len).and_then(|(first, more)| copy_payload(body, first, more))
            }
        };
        let Some(payload) = payload else {
            self.pool.put(buf);
            return false;
        };
        let mut s = tpl.tcp_base;
        s.add_u32(piece.seq).add_u16(off_flags).add_u16(tcp_len as u16);
        s.add_sum(payload, body.len());
        tcp[CSUM..CSUM + 2].copy_from_slice(&s.finish().to_be_bytes());
        if v4 {
            *ip_id = Some(id);
        }
        self.stats.inc(if v4 { Counter::IpsLocalout } else { Counter::Ip6sLocalout });
        self.sockets.tcp.templated += 1;
        let et = if v4 { ethertype::IPV4 } else { ethertype::IPV6 };
        self.send_lent(tpl.ifindex, (tpl.src_mac, tpl.dst_mac), et, buf, lend, (piece.seq, piece.len));
        true
    }
}
