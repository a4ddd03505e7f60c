//! What a node with no TCP socket on a port answers: RST (RFC 9293
//! §3.10.7.1). (UDP's port unreachable lives with the UDP demux.)

use crate::addr::IfIndex;
use crate::buf::PacketBuf;
use crate::stack::Stack;
use crate::time::Instant;
use std::net::IpAddr;
use via6_wire::tcp::{TcpFlags, TcpPacket, TcpRepr};
use via6_wire::tcp_option::TcpOptions;

/// The IP source and destination of a packet.
pub(crate) fn ip_pair(bytes: &[u8]) -> Option<(IpAddr, IpAddr)> {
    match bytes.first()? >> 4 {
        4 => {
            via6_wire::Ipv4Packet::new_checked(bytes).ok().map(|p| (IpAddr::V4(p.src()), IpAddr::V4(p.dst())))
        }
        6 => {
            via6_wire::Ipv6Packet::new_checked(bytes).ok().map(|p| (IpAddr::V6(p.src()), IpAddr::V6(p.dst())))
        }
        _ => None,
    }
}

impl Stack {
    pub(crate) fn tcp_input(&mut self, ifindex: IfIndex, buf: &PacketBuf, offset: usize, now: Instant) {
        let Some((src, dst)) = ip_pair(buf.bytes()) else { return };
        let Some(seg) = buf.bytes().get(offset..) else { return };
        let Ok(tcp) = TcpPacket::new_checked(seg) else { return };
        if tcp.verify_checksum(src, dst).is_err() || tcp.rst() {
            return;
        }
        let seg_len = tcp.payload().len() as u32 + u32::from(tcp.syn()) + u32::from(tcp.fin());
        let (seq, ack, flags) = if tcp.ack() {
            (tcp.ack_number(), None, TcpFlags::RST)
        } else {
            (0, Some(tcp.seq_number().wrapping_add(seg_len)), TcpFlags::RST)
        };
        let rst = TcpRepr {
            src_port: tcp.dst_port(),
            dst_port: tcp.src_port(),
            seq,
            ack,
            flags,
            window: 0,
            urgent: 0,
            options: TcpOptions::EMPTY,
            payload: &[],
        };
        let mut seg = [0u8; 20];
        if rst.emit_with_checksum(dst, src, &mut seg).is_err() {
            return;
        }
        let zone = match src {
            IpAddr::V6(s) if crate::addr::needs_zone(&s) => Some(ifindex),
            _ => None,
        };
        let Ok(lookup) = self.route_lookup(src, zone) else { return };
        match (dst, src) {
            (IpAddr::V4(d), IpAddr::V4(s)) => {
                let p = crate::ipv4::Ipv4Send { src: d, dst: s, protocol: 6, ttl: 64, dont_frag: false };
                let _ = self.ipv4_send(&lookup, p, &seg, now);
            }
            (IpAddr::V6(d), IpAddr::V6(s)) => {
                let p = crate::ipv6::Ipv6Send { src: d, dst: s, next_header: 6, hop_limit: 64 };
                let _ = self.ipv6_send(&lookup, p, &seg, now);
            }
            _ => {}
        }
    }
}
