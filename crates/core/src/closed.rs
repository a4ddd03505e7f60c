//! What a node answers for a TCP segment no connection or listener takes:
//! RST (RFC 9293 §3.10.7.1), never a reset for a reset. (UDP's port
//! unreachable lives with the UDP demux.)

use crate::addr::IfIndex;
use crate::stack::Stack;
use crate::tcp::tcb::OutSeg;
use crate::time::Instant;
use std::net::IpAddr;
use via6_wire::tcp::{TcpFlags, TcpRepr};
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

/// RFC 9293 §3.10.7.1: the reset for `seg` arriving in CLOSED — `<SEQ=SEG.ACK>
/// <CTL=RST>` when it carries ACK, else `<SEQ=0><ACK=SEG.SEQ+SEG.LEN>
/// <CTL=RST,ACK>`; nothing for a reset.
pub fn reset_for(seg: &TcpRepr<'_>) -> Option<OutSeg> {
    if seg.flags.contains(TcpFlags::RST) {
        return None;
    }
    let (seq, ack) = match seg.ack {
        Some(a) => (a, None),
        None => (0, Some(seg.seq.wrapping_add(seg.segment_len() as u32))),
    };
    Some(OutSeg {
        seq,
        ack,
        flags: TcpFlags::RST,
        window: 0,
        options: TcpOptions::EMPTY,
        payload: Vec::new(),
        ring: 0,
        challenge: false,
        seg_size: 0,
    })
}

impl Stack {
    /// Answers a segment for a closed port (or a listener's bad ACK).
    pub(crate) fn tcp_closed_port(
        &mut self,
        ifindex: IfIndex,
        src: IpAddr,
        dst: IpAddr,
        seg: &TcpRepr<'_>,
        now: Instant,
    ) {
        let Some(rst) = reset_for(seg) else { return };
        let zone = crate::addr::zone_of(src, ifindex);
        self.sockets.tcp.resets_sent += 1;
        let _ = self.tcp_emit((dst, seg.dst_port), (src, seg.src_port), zone, &rst, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(flags: TcpFlags, ack: Option<u32>, len: usize) -> TcpRepr<'static> {
        static DATA: [u8; 100] = [0; 100];
        TcpRepr {
            src_port: 1,
            dst_port: 2,
            seq: 1000,
            ack,
            flags,
            window: 0,
            urgent: 0,
            options: TcpOptions::EMPTY,
            payload: &DATA[..len],
        }
    }

    /// RFC 9293 §3.10.7.1: a SYN gets RST+ACK acknowledging SEG.SEQ+SEG.LEN
    /// from sequence 0; an ACK gets a RST at SEG.ACK; a RST gets nothing.
    #[test]
    fn rfc9293_3_10_7_1_reset_forms() {
        let r = reset_for(&seg(TcpFlags::SYN, None, 0)).unwrap();
        assert_eq!((r.seq, r.ack), (0, Some(1001)));
        let r = reset_for(&seg(TcpFlags::empty(), Some(777), 10)).unwrap();
        assert_eq!((r.seq, r.ack), (777, None));
        let r = reset_for(&seg(TcpFlags::FIN, None, 10)).unwrap();
        assert_eq!(r.ack, Some(1011));
        assert!(reset_for(&seg(TcpFlags::RST, Some(1), 0)).is_none());
    }
}
