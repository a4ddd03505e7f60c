//! Frames whose TCP payload stays in its connection's send ring until the
//! driver takes the frame. A data segment written by the template or direct
//! writer (`template.rs`, `direct.rs`) to a resolved Ethernet neighbour is
//! queued with its headers only, its checksum already complete from the
//! send buffer's chunk sums (`sendbuf.rs`); the payload is named by
//! sequence number. [`Stack::transmit_with`] hands the driver the headers
//! and the ring's one or two pieces to send back to back (a gather, as a
//! NIC's scatter-gather list would take them); [`Stack::transmit`] copies
//! the pieces in behind the headers first. Bytes in the send ring never
//! change while held, and bytes acknowledged while frames are queued stay
//! in the ring, released, until the frames are taken (the ring is pinned:
//! `SendBuf::pin`, [`Stack::unpin_lent`]), so a payload found by sequence
//! number is the one the checksum covers. Only a frame whose connection is
//! gone (its socket slot freed or reused: the serial differs) is dropped,
//! and counted (`tcps_sndstale`).

use super::emit::Ring;
use crate::addr::IfIndex;
use crate::buf::PacketBuf;
use crate::socket::SocketHandle;
use crate::stack::{Stack, TxFrame};
use crate::stats::Counter;
use via6_wire::MacAddr;

/// The payload a queued frame borrows from a send ring: the last `len`
/// bytes of the frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lent {
    pub(crate) sock: SocketHandle,
    /// The connection's serial (`Tcb::serial`): a socket slot reused by
    /// a later connection does not match.
    pub(crate) serial: u64,
    pub(crate) seq: u32,
    pub(crate) len: u32,
}

impl Stack {
    /// The payload part of the checksum of a data segment whose `len`
    /// bytes from `seq` stay in `ring`: from the send buffer's chunk sums
    /// (`SendBuf::sum`; counted for the tests when no byte was read).
    #[inline]
    pub(crate) fn lent_sum(&mut self, ring: Ring<'_>, seq: u32, len: u32) -> Option<u16> {
        let (sum, from_chunks) = ring.payload_sum(seq, len)?;
        self.sockets.tcp.chunk_sums += u64::from(from_chunks);
        Some(sum)
    }

    /// Queues the framed headers `buf` of a data segment whose `len`
    /// payload bytes from `seq` stay in the send ring of connection `lend`
    /// (its socket and serial), or the whole frame `buf` without `lend`
    /// (the template and direct writers).
    #[inline(always)]
    pub(crate) fn send_lent(
        &mut self,
        ifindex: IfIndex,
        macs: (MacAddr, MacAddr),
        ethertype: u16,
        buf: PacketBuf,
        lend: Option<(SocketHandle, u64)>,
        (seq, len): (u32, u32),
    ) {
        let lent = lend.map(|(sock, serial)| Lent { sock, serial, seq, len });
        self.sockets.tcp.lent += u64::from(lent.is_some());
        self.frame_and_send_lent(ifindex, macs, ethertype, buf, lent);
    }

    /// The payload of a lent frame, as the ring's one or two pieces, if
    /// the connection still holds it.
    fn lent_payload(&self, l: &Lent) -> Option<(&[u8], &[u8])> {
        let t = self.tcb(l.sock).filter(|t| t.serial == l.serial)?;
        // From the first byte still in the ring, released ones included (a
        // sequence number before it wraps to an offset past the end).
        let front = t.buf_seq.wrapping_sub(t.sndbuf.released() as u32);
        t.sndbuf.lent_slices(l.seq.wrapping_sub(front) as usize, l.len as usize)
    }

    /// Copies a lent frame's payload in behind its headers; `false` (the
    /// frame must be dropped) if it is no longer held.
    pub(crate) fn fill_lent(&self, f: &mut TxFrame, l: &Lent) -> bool {
        debug_assert!(!f.lent, "taken off the frame first");
        let Some((a, b)) = self.lent_payload(l) else { return false };
        let bytes = f.buf.bytes_mut();
        let Some(start) = bytes.len().checked_sub(l.len as usize) else { return false };
        let (pa, pb) = bytes[start..].split_at_mut(a.len());
        pa.copy_from_slice(a);
        pb.copy_from_slice(b);
        true
    }

    /// Takes every queued frame, handing `send` its interface and its
    /// bytes as one to three pieces to put on the link back to back: a
    /// frame with a lent payload goes as its headers and the send ring's
    /// pieces, not copied into the frame first. The frames' buffers go back
    /// to the pool. ([`Stack::transmit`] hands out whole frames.)
    pub fn transmit_with(&mut self, mut send: impl FnMut(IfIndex, &[&[u8]])) {
        // The frames are read in place, then the queue emptied (no frame
        // moved out one by one).
        let mut stale = 0;
        let mut lent = self.lent.iter();
        for f in self.tx.iter() {
            if !f.lent {
                send(f.ifindex, &[f.buf.bytes()]);
                continue;
            }
            match lent.next().and_then(|l| Some((l, self.lent_payload(l)?))) {
                Some((l, (a, b))) => {
                    let bytes = f.buf.bytes();
                    let head = &bytes[..bytes.len().saturating_sub(l.len as usize)];
                    send(f.ifindex, &[head, a, b]);
                }
                None => stale += 1,
            }
        }
        self.stats.add(Counter::TcpsSndstale, stale);
        let (tx, pool) = (&mut self.tx, &mut self.pool);
        tx.drain_each(|f| pool.put(f.buf));
        self.lent.clear();
        self.unpin_lent();
    }

    /// Once no queued frame lends send-ring bytes, the connections that
    /// lent them free the room their acknowledged bytes held
    /// (`SendBuf::unpin`).
    pub(crate) fn unpin_lent(&mut self) {
        if !self.lent.is_empty() {
            return;
        }
        for h in std::mem::take(&mut self.sockets.tcp.pinned) {
            if let Some(t) = self.tcb_mut(h) {
                t.sndbuf.unpin();
            }
        }
    }
}
