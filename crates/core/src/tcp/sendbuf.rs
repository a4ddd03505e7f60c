//! The send buffer: the bytes from SND.UNA on, sent and unsent, in a ring,
//! with the one's-complement sum of every segment-sized chunk taken while
//! the application's bytes are copied in (RFC 1071 §4.1: the sum folded
//! into a copy). A full-sized segment that starts on a chunk boundary then
//! has its payload sum ready, and its bytes need never be copied into a
//! frame: they are lent to the driver from the ring (`Stack::transmit_with`)
//! or copied once when the frame is taken (`Stack::transmit`).
//!
//! Chunks are cut from the first unsent byte at the segment size the
//! sender uses (`SendBuf::align_chunks`, called before each send run):
//! as long as the sender sends full segments (RFC 9293 §3.7.4 Nagle holds
//! partial ones while data is in flight) every segment is exactly one
//! chunk; a partial segment shifts the grid. Any other range is summed
//! from whole chunks plus the smaller side of a split one
//! (`SendBuf::sum`).

use super::ring::ByteRing;
use std::cell::Cell;
use std::collections::VecDeque;
use via6_wire::checksum::{copy_and_sum, ones_sum, Checksum};

/// The send buffer.
#[derive(Debug, Default)]
pub struct SendBuf {
    data: ByteRing,
    cap: usize,
    /// Chunk size (0: no chunks summed).
    chunk: usize,
    /// Offset (from the first byte held) where the first summed chunk
    /// starts; every byte from there on is summed, chunk by chunk.
    first: usize,
    /// The sums of the chunks from `first` on; all but the last are full.
    sums: VecDeque<u16>,
    /// Bytes summed into the last chunk.
    last_len: usize,
    /// Acknowledged bytes at the front, gone from the stream but kept in
    /// the ring until no queued frame can name them
    /// ([`SendBuf::unpin`]).
    released: usize,
    /// Whether queued frames may lend bytes of the ring (`lend.rs`).
    pinned: bool,
    /// The chunk after the last whole chunk [`SendBuf::sum`] gave (where
    /// the next segment of a run starts).
    next_chunk: Cell<usize>,
}

impl SendBuf {
    /// An empty buffer of `cap` bytes.
    pub fn new(cap: usize) -> Self {
        SendBuf { cap, ..SendBuf::default() }
    }

    /// Appends as much of `bytes` as fits; returns how much. The storage
    /// grows as the receive ring's does (`ring::GROWTH`), up to the
    /// buffer's size; an idle connection holds none. With chunks set up,
    /// the bytes are summed per chunk while copied.
    pub fn write(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.len().min(self.cap - self.data.len());
        if n == 0 {
            return 0;
        }
        // While the storage grows, the bytes are appended (no zero-filled
        // room to copy into) and summed from the caller's copy.
        if self.data.append_growing(&bytes[..n], self.cap) {
            self.sum_new(&bytes[..n]);
            return n;
        }
        if !self.data.reserve_keep(n, 0, self.cap) {
            return 0;
        }
        let mut src = &bytes[..n];
        let mut at = 0;
        while !src.is_empty() {
            // Up to the end of the current chunk (all of it without chunks).
            let room = if self.chunk == 0 { src.len() } else { self.chunk_room() };
            let k = room.min(src.len());
            let Some((a, b)) = self.data.spare_at_mut(at, k) else { return 0 };
            let (pa, pb) = src[..k].split_at(a.len());
            if self.chunk == 0 {
                a.copy_from_slice(pa);
                b.copy_from_slice(pb);
            } else {
                let sa = copy_and_sum(a, pa).unwrap_or(0);
                let sb = if pb.is_empty() { 0 } else { copy_and_sum(b, pb).unwrap_or(0) };
                let mut s = Checksum::new();
                s.add_sum(sa, pa.len()).add_sum(sb, pb.len());
                self.add_to_chunks(s.sum(), k);
            }
            src = &src[k..];
            at += k;
        }
        self.data.commit(n);
        n
    }

    /// Sums bytes just appended into the chunks (none without chunks).
    fn sum_new(&mut self, mut src: &[u8]) {
        while self.chunk > 0 && !src.is_empty() {
            let (piece, rest) = src.split_at(self.chunk_room().min(src.len()));
            self.add_to_chunks(ones_sum(piece), piece.len());
            src = rest;
        }
    }

    /// Bytes the next write may add before a chunk boundary: the rest of
    /// a partial last chunk, or a whole new one.
    fn chunk_room(&self) -> usize {
        if self.sums.is_empty() || self.last_len >= self.chunk {
            self.chunk
        } else {
            self.chunk - self.last_len
        }
    }

    /// Folds the sum of `len` new bytes (at most the room left in the
    /// last chunk) into the chunk sums.
    fn add_to_chunks(&mut self, sum: u16, len: usize) {
        match self.sums.back_mut() {
            Some(last) if self.last_len < self.chunk => {
                // The new bytes continue the chunk at offset `last_len`
                // (RFC 1071 §2(B): an odd offset swaps the bytes).
                let mut s = Checksum::new();
                s.add_sum(*last, self.last_len).add_sum(sum, len);
                *last = s.sum();
                self.last_len += len;
            }
            _ => {
                self.sums.push_back(sum);
                self.last_len = len;
            }
        }
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.held()
    }

    /// Whether no byte of the stream is held (released ones do not count).
    pub fn is_empty(&self) -> bool {
        self.held() == 0
    }

    /// Drops `n` acknowledged bytes from the front, with the sums of the
    /// chunks they began. While the buffer is pinned the bytes stay in
    /// the ring, released, until [`SendBuf::unpin`]: a frame queued before
    /// the acknowledgment may still lend them (`lend.rs`), as a NIC's
    /// queue holds a send buffer's bytes until it has sent them (their room
    /// is not the application's until then).
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.held());
        self.released += n;
        if !self.pinned {
            self.free_released();
        }
        if self.chunk == 0 {
            return;
        }
        let mut first = self.first as isize - n as isize;
        while first < 0 && !self.sums.is_empty() {
            self.sums.pop_front();
            self.next_chunk.set(self.next_chunk.get().saturating_sub(1));
            first += self.chunk as isize;
        }
        if self.sums.is_empty() {
            // Nothing summed is left: chunks go on from the end of what is
            // held (the next byte written).
            self.first = self.held();
            self.last_len = self.chunk;
        } else {
            self.first = first as usize;
        }
    }

    /// Frees the released bytes' room.
    fn free_released(&mut self) {
        self.data.consume(std::mem::take(&mut self.released), false);
    }

    /// Marks the ring as lent to queued frames; `false` if it already was.
    pub fn pin(&mut self) -> bool {
        !std::mem::replace(&mut self.pinned, true)
    }

    /// No queued frame lends the ring any more: released bytes are freed.
    pub fn unpin(&mut self) {
        self.pinned = false;
        self.free_released();
    }

    /// Bytes held from the front of the stream (without released ones).
    fn held(&self) -> usize {
        self.data.len() - self.released
    }

    /// The `len` bytes starting `off` bytes after the first released byte
    /// (the first held one when none is released), as [`SendBuf::slices`]
    /// gives them: what a queued frame lends.
    #[inline]
    pub fn lent_slices(&self, off: usize, len: usize) -> Option<(&[u8], &[u8])> {
        self.data.range(off, len)
    }

    /// Bytes released and not yet freed.
    pub fn released(&self) -> usize {
        self.released
    }

    /// The `len` bytes starting `off` bytes in, as the ring's one or two
    /// contiguous pieces (the second empty unless the range wraps); `None`
    /// if the range is not all held.
    #[inline]
    pub fn slices(&self, off: usize, len: usize) -> Option<(&[u8], &[u8])> {
        off.checked_add(len).filter(|&e| e <= self.held())?;
        self.lent_slices(off + self.released, len)
    }

    /// The one's-complement sum of the `len` bytes starting `off` bytes in,
    /// as `ones_sum` over them would give it, and how many bytes had to be
    /// read for it; `None` if the range is not all held. Whole chunks in
    /// the range add their sums. Where the range covers part of a chunk,
    /// the smaller side is read: the part itself, or the rest of the chunk,
    /// whose sum is taken off the chunk's (RFC 1071 §2: one's-complement
    /// subtraction is the addition of the complement; §2(B): the byte swap
    /// of a part at an odd offset). So a segment costs at most half a
    /// chunk's reading per chunk it touches, none when it is one chunk
    /// (every full segment while the send point stays on the chunks'
    /// grid), never more than summing it outright.
    pub fn sum(&self, off: usize, len: usize) -> Option<(u16, usize)> {
        // The common case first: exactly the chunk after the last one asked
        // for (a run of full segments), found without a division.
        let i = self.next_chunk.get();
        if self.chunk > 0 && off == self.first + i * self.chunk && i < self.sums.len() {
            let full = if i + 1 == self.sums.len() { self.last_len } else { self.chunk };
            if len == full {
                self.next_chunk.set(i + 1);
                return Some((self.sums[i], 0));
            }
        }
        let end = off.checked_add(len).filter(|&e| e <= self.held())?;
        let mut total = Checksum::new();
        let mut read = 0;
        let mut at = off;
        // Bytes before the first chunk (or all, without chunks).
        let unchunked = if self.chunk == 0 { end } else { self.first.clamp(at, end) };
        if at < unchunked {
            total.add_sum(self.read_sum(at, unchunked), unchunked - at);
            read += unchunked - at;
            at = unchunked;
        }
        while at < end {
            let i = (at - self.first) / self.chunk;
            let start = self.first + i * self.chunk;
            let stop = (start + self.chunk).min(self.held());
            let sum = *self.sums.get(i)?;
            let part_end = end.min(stop);
            let (part, rest) = (part_end - at, (stop - start) - (part_end - at));
            let part_sum = if rest == 0 {
                self.next_chunk.set(i + 1);
                sum
            } else if part <= rest {
                read += part;
                self.read_sum(at, part_end)
            } else {
                read += rest;
                // The rest's sums placed as in the chunk (even start).
                let head = self.read_sum(start, at);
                let tail = self.read_sum(part_end, stop);
                let tail = if (part_end - start) % 2 == 1 { tail.swap_bytes() } else { tail };
                let mut x = Checksum::new();
                x.add_sum(sum, 0).add_sum(!head, 0).add_sum(!tail, 0);
                // The part's sum from its own start.
                if (at - start) % 2 == 1 {
                    x.sum().swap_bytes()
                } else {
                    x.sum()
                }
            };
            total.add_sum(part_sum, part);
            at = part_end;
        }
        Some((total.sum(), read))
    }

    /// `ones_sum` over held bytes `from..to`, in their one or two pieces.
    fn read_sum(&self, from: usize, to: usize) -> u16 {
        let Some((a, b)) = self.slices(from, to - from) else { return 0 };
        let mut s = Checksum::new();
        s.add_sum(ones_sum(a), a.len()).add_sum(ones_sum(b), b.len());
        s.sum()
    }

    /// Keeps the chunks on the grid of the send point `from` (the first
    /// unsent byte) for segments of `chunk` bytes. A new segment size (the
    /// first send run, a new MSS) cuts them anew from `from`, summing the
    /// unsent bytes again (once per change). A send point off the grid (a
    /// partial segment went out) shifts the grid: each new chunk is the
    /// tail of one old chunk and the head of the next, summed from the old
    /// sums by reading the smaller side of each ([`SendBuf::sum`]) — at
    /// most half a chunk per chunk, and only while that costs no more than
    /// [`REGRID_READ_MAX`]; past that, segments read their edges when sent.
    /// Sent bytes before `from` lose their chunks and are read if resent.
    pub fn align_chunks(&mut self, chunk: usize, from: usize) {
        let from = from.min(self.held());
        if chunk == self.chunk {
            if chunk == 0 || (from >= self.first && (from - self.first).is_multiple_of(chunk)) {
                return;
            }
            let phase = (from.abs_diff(self.first)) % chunk;
            let per_chunk = 2 * phase.min(chunk - phase);
            if (self.held() - from).div_ceil(chunk) * per_chunk > REGRID_READ_MAX {
                return;
            }
        }
        let mut sums = VecDeque::with_capacity((self.held() - from).div_ceil(chunk.max(1)));
        let mut last_len = chunk;
        let mut off = from;
        while chunk > 0 && off < self.held() {
            let k = chunk.min(self.held() - off);
            // On the old grid (or none): whole chunks are not read.
            let Some((s, _)) = self.sum(off, k) else { break };
            sums.push_back(s);
            last_len = k;
            off += k;
        }
        self.chunk = chunk;
        self.first = from;
        self.sums = sums;
        self.last_len = last_len;
        self.next_chunk.set(0);
    }
}

/// Bytes a grid shift may read at most ([`SendBuf::align_chunks`]).
const REGRID_READ_MAX: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn send_buffer_is_bounded_and_copies_across_wrap() {
        let mut s = SendBuf::new(8);
        assert_eq!(s.write(b"0123456789"), 8);
        s.consume(5);
        assert_eq!(s.write(b"abcdef"), 5);
        let (a, b) = s.slices(1, 6).unwrap();
        assert_eq!([a, b].concat(), b"67abcd");
        assert!(s.slices(1, 8).is_none(), "beyond what is held");
        assert_eq!(s.slices(8, 0), Some((&[][..], &[][..])));
    }

    /// A chunk's sum is there for a range that is exactly one chunk,
    /// including the partial last one, and only then.
    #[test]
    fn rfc1071_4_1_chunk_sums_taken_while_copied() {
        let mut s = SendBuf::new(64);
        s.align_chunks(10, 0);
        let data: Vec<u8> = (1..=25).collect();
        assert_eq!(s.write(&data[..7]), 7);
        assert_eq!(s.write(&data[7..]), 18);
        assert_eq!(s.sum(0, 10), Some((ones_sum(&data[..10]), 0)));
        assert_eq!(s.sum(10, 10), Some((ones_sum(&data[10..20]), 0)));
        assert_eq!(s.sum(20, 5), Some((ones_sum(&data[20..]), 0)));
        assert_eq!(s.sum(0, 25), Some((ones_sum(&data), 0)), "whole chunks");
        assert_eq!(s.sum(20, 4), Some((ones_sum(&data[20..24]), 1)), "the smaller side is read");
        assert_eq!(s.sum(1, 9), Some((ones_sum(&data[1..10]), 1)), "an odd start");
        assert_eq!(s.sum(5, 10), Some((ones_sum(&data[5..15]), 10)), "both edges");
        assert_eq!(s.sum(3, 3), Some((ones_sum(&data[3..6]), 3)), "inside one chunk");
        s.consume(12);
        assert_eq!(s.sum(8, 5), Some((ones_sum(&data[20..]), 0)), "offsets follow the front");
        assert_eq!(s.sum(0, 8), Some((ones_sum(&data[12..20]), 8)), "before the first chunk: read");
    }

    /// While queued frames lend its bytes, acknowledged bytes leave the
    /// stream but stay readable where the frames name them, and keep
    /// their room until unpinned.
    #[test]
    fn pinned_ring_keeps_released_bytes_until_unpinned() {
        let mut s = SendBuf::new(16);
        assert_eq!(s.write(b"abcdefghijklmnop"), 16);
        assert!(s.pin());
        assert!(!s.pin(), "already pinned");
        s.consume(10);
        assert_eq!(s.len(), 6);
        assert!(!s.is_empty());
        assert_eq!(s.slices(0, 6).map(|(a, b)| [a, b].concat()), Some(b"klmnop".to_vec()));
        assert_eq!(s.released(), 10);
        assert_eq!(s.lent_slices(2, 4).map(|(a, b)| [a, b].concat()), Some(b"cdef".to_vec()));
        assert_eq!(s.write(b"xyz"), 0, "the released bytes' room is not free yet");
        s.unpin();
        assert_eq!(s.released(), 0);
        assert_eq!(s.write(b"xyz"), 3);
        assert_eq!(s.slices(0, 9).map(|(a, b)| [a, b].concat()), Some(b"klmnopxyz".to_vec()));
        s.consume(2);
        assert_eq!(s.released(), 0, "unpinned: freed at once");
    }

    /// A buffer whose every byte was acknowledged is empty even while the
    /// bytes stay pinned (the FIN's acknowledgment is recognised by it:
    /// RFC 9293 §3.10.7.4, FIN-WAIT-1 and LAST-ACK).
    #[test]
    fn all_acknowledged_is_empty_while_pinned() {
        let mut s = SendBuf::new(8);
        assert_eq!(s.write(b"abcd"), 4);
        s.pin();
        s.consume(4);
        assert!(s.is_empty());
        assert_eq!(s.len(), 0);
        assert_eq!(s.released(), 4);
    }

    /// A one's-complement sum as a number modulo 0xffff: +0 (0x0000)
    /// and -0 (0xffff) are one value (RFC 1071 §2). A sum taken off a
    /// chunk's may give -0 where the bytes' own sum is +0; either
    /// checksums the same once the (non-zero) pseudo-header is added.
    fn ones(x: u16) -> u16 {
        x % 0xffff
    }

    #[derive(Debug, Clone)]
    enum Op {
        Write(usize),
        Consume(usize),
        Align(usize, usize),
        Pin,
        Unpin,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0usize..40).prop_map(Op::Write),
            3 => (0usize..40).prop_map(Op::Consume),
            1 => (0usize..12, 0usize..48).prop_map(|(c, f)| Op::Align(c, f)),
            1 => Just(Op::Pin),
            1 => Just(Op::Unpin),
        ]
    }

    proptest! {
        /// Every range of a send buffer that has wrapped any number of
        /// times, been consumed and re-chunked reads back as the same range
        /// of a plain copy of the stream, and sums as `ones_sum` over it.
        #[test]
        fn slices_and_sums_match_stream(ops in proptest::collection::vec(op(), 1..50), off in 0usize..64, len in 0usize..64) {
            let mut s = SendBuf::new(48);
            let mut model: Vec<u8> = Vec::new();
            let mut next = 0u8;
            // Released bytes (model) while pinned: gone from the stream,
            // still in the ring for the frames that lend them.
            let (mut pinned, mut released): (bool, Vec<u8>) = (false, Vec::new());
            for o in ops {
                match o {
                    Op::Write(w) => {
                        let bytes: Vec<u8> = (0..w).map(|_| { next = next.wrapping_mul(31).wrapping_add(7); next }).collect();
                        let n = s.write(&bytes);
                        prop_assert_eq!(n, w.min(48 - model.len() - released.len()));
                        model.extend_from_slice(&bytes[..n]);
                    }
                    Op::Consume(c) => {
                        let c = c.min(model.len());
                        s.consume(c);
                        let gone: Vec<u8> = model.drain(..c).collect();
                        if pinned {
                            released.extend(gone);
                        }
                    }
                    Op::Align(c, f) => s.align_chunks(c, f),
                    Op::Pin => {
                        s.pin();
                        pinned = true;
                    }
                    Op::Unpin => {
                        s.unpin();
                        pinned = false;
                        released.clear();
                    }
                }
                prop_assert_eq!(s.released(), released.len());
                // What frames lend: the released bytes, then the stream.
                let all: Vec<u8> = released.iter().chain(model.iter()).copied().collect();
                prop_assert_eq!(s.lent_slices(0, all.len()).map(|(a, b)| [a, b].concat()), Some(all));
                // Every range sums as its bytes do, reading at most them.
                for o in 0..model.len() {
                    for l in 0..=model.len() - o {
                        let (sum, read) = s.sum(o, l).expect("held");
                        prop_assert_eq!(ones(sum), ones(ones_sum(&model[o..o + l])), "at {} len {}", o, l);
                        prop_assert!(read <= l);
                    }
                }
            }
            match s.slices(off, len) {
                Some((a, b)) => {
                    prop_assert_eq!([a, b].concat(), model[off..off + len].to_vec());
                    prop_assert_eq!(s.sum(off, len).map(|x| ones(x.0)), Some(ones(ones_sum(&model[off..off + len]))));
                }
                None => prop_assert!(off + len > model.len()),
            }
        }
    }

    /// A sender that sends full chunks from a chunk boundary finds every
    /// segment's sum ready.
    #[test]
    fn full_segments_from_the_send_point_hit_their_chunks() {
        let mut s = SendBuf::new(100_000);
        let data: Vec<u8> = (0..70_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        assert_eq!(s.write(&data[..30_000]), 30_000);
        s.align_chunks(1448, 0);
        assert_eq!(s.write(&data[30_000..]), 40_000);
        let mut off = 0;
        while off + 1448 <= data.len() {
            assert_eq!(s.sum(off, 1448), Some((ones_sum(&data[off..off + 1448]), 0)), "at {off}");
            off += 1448;
        }
    }
}
