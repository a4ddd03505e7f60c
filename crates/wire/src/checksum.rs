//! The Internet checksum (RFC 1071), its incremental update (RFC 1624) and the
//! IPv4 / IPv6 pseudo-headers (RFC 768, RFC 793, RFC 8200 §8.1).
//!
//! The sum is computed over 64-bit native-endian words whose 32-bit halves are
//! added into a 64-bit accumulator (RFC 1071 §2(B): byte-order independence,
//! §2(C): deferred carries), which the compiler vectorises; the byte order is
//! fixed once when the sum is folded.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A running one's-complement sum over data fed in pieces.
///
/// Pieces may have odd lengths: the next piece then starts at an odd offset of
/// the virtual concatenation and its sum is byte-swapped (RFC 1071 §2(B)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    /// Folded 16-bit partial sum, in network order value space.
    sum: u32,
    /// Whether the bytes fed so far have odd length.
    odd: bool,
}

impl Checksum {
    /// An empty sum.
    pub const fn new() -> Self {
        Checksum { sum: 0, odd: false }
    }

    /// Adds a byte slice.
    pub fn add_bytes(&mut self, data: &[u8]) -> &mut Self {
        let mut s = ones_sum(data);
        if self.odd {
            s = s.swap_bytes();
        }
        self.add_folded(s);
        self.odd ^= data.len() % 2 == 1;
        self
    }

    /// Adds a sum returned by [`copy_and_sum`] (or [`ones_sum`]) over a
    /// piece of `len` bytes, as [`Checksum::add_bytes`] would have.
    pub fn add_sum(&mut self, sum: u16, len: usize) -> &mut Self {
        let s = if self.odd { sum.swap_bytes() } else { sum };
        self.add_folded(s);
        self.odd ^= len % 2 == 1;
        self
    }

    /// Adds one 16-bit word at an even offset.
    pub fn add_u16(&mut self, word: u16) -> &mut Self {
        debug_assert!(!self.odd, "add_u16 after an odd-length piece");
        self.add_folded(word);
        self
    }

    /// Adds a 32-bit value as two 16-bit words.
    pub fn add_u32(&mut self, value: u32) -> &mut Self {
        self.add_u16((value >> 16) as u16).add_u16(value as u16)
    }

    /// A sum at an even offset from an accumulator of numeric (big-endian
    /// value) 16- and 32-bit words, folded with end-around carries (RFC 1071
    /// §2(C)); a 32-bit word is congruent to the sum of its two halves
    /// modulo 0xffff.
    fn from_numeric(acc: u64) -> Self {
        let s = (acc & 0xffff_ffff) + (acc >> 32);
        let s = (s & 0xffff) + (s >> 16);
        let s = (s & 0xffff) + (s >> 16);
        let s = (s & 0xffff) + (s >> 16);
        Checksum { sum: s as u32, odd: false }
    }

    fn add_folded(&mut self, word: u16) {
        self.sum += u32::from(word);
        self.sum = (self.sum & 0xffff) + (self.sum >> 16);
    }

    /// The one's-complement sum without the final complement (useful to verify:
    /// a correct packet sums to `0xffff`).
    pub fn sum(&self) -> u16 {
        self.sum as u16
    }

    /// The checksum field value: the complement of the sum.
    pub fn finish(&self) -> u16 {
        !self.sum()
    }
}

/// One's-complement sum of `data` as 16-bit big-endian words, the last odd byte
/// padded with zero; folded to 16 bits. Never returns an un-folded value.
///
/// The loop reads 64-bit native-endian words and adds their two 32-bit halves
/// into a 64-bit accumulator (no carry can be lost below 16 GiB of input);
/// the compiler vectorises it. A tail of fewer than 8 bytes is added as at
/// most one 32-bit, one 16-bit and one padded 8-bit piece, without a copy.
/// See BENCHMARKS.md for the measurements behind this shape.
pub fn ones_sum(data: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_ne_bytes(c.try_into().expect("chunks_exact(8) yields 8 bytes"));
        acc += (w & 0xffff_ffff) + (w >> 32);
    }
    fold(acc, chunks.remainder())
}

/// The length from which [`copy_and_sum`] runs its fused loop.
const FUSE_MIN: usize = 256;

/// Copies `src` into `dst` (which must be exactly as long) and returns the
/// one's-complement sum of the bytes copied, as [`ones_sum`] would: one pass
/// over the data instead of a copy and a checksum pass (RFC 1071 §4.1 notes
/// that the sum can be folded into a copy). `None`, with nothing copied, if
/// the lengths differ.
///
/// The loop widens native-endian 16-bit words into two sets of eight 32-bit
/// lanes (one unpack and one add per 8 bytes in SSE registers; the two
/// sets halve the chain of dependent adds per 64-byte block; flushed into
/// a 64-bit accumulator every 64 KiB; RFC 1071 §2(B), §2(C)); a tail of 8
/// to 15 bytes goes as in [`ones_sum`]; folded and byte-swapped once at
/// the end.
pub fn copy_and_sum(dst: &mut [u8], src: &[u8]) -> Option<u16> {
    if dst.len() != src.len() {
        return None;
    }
    if src.len() < FUSE_MIN {
        // Below this a plain copy and a sum are cheaper than the fused
        // loop's setup (BENCHMARKS.md, checksum: copy_and_sum).
        dst.copy_from_slice(src);
        return Some(ones_sum(dst));
    }
    let mut acc: u64 = 0;
    // Blocks of at most 64 KiB: each of the sixteen 32-bit lanes below
    // gets at most one 16-bit word (< 2^16) per 16 bytes, so at most 2^12
    // words (sum < 2^28) per block, far from overflowing before it is
    // flushed.
    for (db, sb) in dst.chunks_mut(FUSE_BLOCK).zip(src.chunks(FUSE_BLOCK)) {
        let mut lanes = [0u32; 8];
        let mut lanes2 = [0u32; 8];
        // A counted loop over whole 64-byte blocks (`as_chunks`), four
        // 16-byte steps each, alternating between the two lane sets,
        // written out: left to itself the compiler
        // unrolled a 16-byte body two or four times, or not at all, as
        // unrelated edits elsewhere in the crate moved it (0.375 to 0.56
        // instructions per byte).
        let (dc, _) = db.as_chunks_mut::<64>();
        let (sc, _) = sb.as_chunks::<64>();
        let whole = sc.len() * 64;
        for (o, i) in dc.iter_mut().zip(sc) {
            let i: [u8; 64] = *i;
            o.copy_from_slice(&i);
            // Native-order 16-bit words widened into 32-bit lanes: one
            // unpack and one add per word pair, which the compiler keeps
            // in vector registers (RFC 1071 §2(B) byte-order independence,
            // §2(C) deferred carries).
            for q in 0..2 {
                for (k, lane) in lanes.iter_mut().enumerate() {
                    *lane += u32::from(u16::from_ne_bytes([i[32 * q + 2 * k], i[32 * q + 2 * k + 1]]));
                }
                for (k, lane) in lanes2.iter_mut().enumerate() {
                    *lane +=
                        u32::from(u16::from_ne_bytes([i[32 * q + 16 + 2 * k], i[32 * q + 16 + 2 * k + 1]]));
                }
            }
        }
        let (db, sb) = (&mut db[whole..], &sb[whole..]);
        let (dc, _) = db.as_chunks_mut::<16>();
        let (sc, _) = sb.as_chunks::<16>();
        let whole = sc.len() * 16;
        for (o, i) in dc.iter_mut().zip(sc) {
            let i: [u8; 16] = *i;
            o.copy_from_slice(&i);
            for (k, lane) in lanes.iter_mut().enumerate() {
                *lane += u32::from(u16::from_ne_bytes([i[2 * k], i[2 * k + 1]]));
            }
        }
        // A native-order 16-bit word is congruent (mod 0xffff) to its
        // place in a native-order 32-bit word: the lanes add into the
        // same accumulator `fold` expects.
        acc += lanes.iter().chain(lanes2.iter()).map(|&l| u64::from(l)).sum::<u64>();
        let (d, rest) = (&mut db[whole..], &sb[whole..]);
        let mut d8 = d.chunks_exact_mut(8);
        let mut s8 = rest.chunks_exact(8);
        for (o, i) in (&mut d8).zip(&mut s8) {
            let i: [u8; 8] = i.try_into().unwrap_or([0; 8]);
            o.copy_from_slice(&i);
            let w = u64::from_ne_bytes(i);
            acc += (w & 0xffff_ffff) + (w >> 32);
        }
        let tail = s8.remainder();
        d8.into_remainder().copy_from_slice(tail);
        if !tail.is_empty() {
            // Only the last block can have a tail (blocks are a multiple
            // of 16 bytes long).
            return Some(fold(acc, tail));
        }
    }
    Some(fold(acc, &[]))
}

/// The block [`copy_and_sum`] flushes its 32-bit lanes after.
const FUSE_BLOCK: usize = 64 * 1024;

/// Adds a tail of fewer than 8 bytes to `acc` and folds to the big-endian
/// 16-bit sum (shared by [`ones_sum`] and [`copy_and_sum`]).
#[inline(always)]
fn fold(mut acc: u64, mut rest: &[u8]) -> u16 {
    if let [a, b, c, d, tail @ ..] = rest {
        acc += u64::from(u32::from_ne_bytes([*a, *b, *c, *d]));
        rest = tail;
    }
    if let [a, b, tail @ ..] = rest {
        acc += u64::from(u16::from_ne_bytes([*a, *b]));
        rest = tail;
    }
    if let [a] = rest {
        // The odd byte is the high byte of a big-endian word padded with zero:
        // at the lower address, wherever the native order puts that.
        acc += u64::from(u16::from_ne_bytes([*a, 0]));
    }
    // Fold 64 -> 32 -> 16 bits, each step an end-around-carry addition
    // (RFC 1071 §2(C)); a non-zero sum never folds to zero.
    let (s, carry) = (acc as u32).overflowing_add((acc >> 32) as u32);
    let s = s + u32::from(carry);
    let (t, carry) = (s as u16).overflowing_add((s >> 16) as u16);
    // The words were read in native order; one swap turns the folded sum into
    // the big-endian sum (RFC 1071 §2(B)).
    u16::from_be(t + u16::from(carry))
}

/// The one's-complement sum of a header made of 32-bit words (a TCP
/// header: RFC 9293 §3.1 data offset in 32-bit words; an IPv4 header: RFC
/// 791 §3.1 IHL), as [`ones_sum`] gives it: the 32-bit big-endian
/// words added as numbers into a 64-bit accumulator and folded with
/// end-around carries (RFC 1071 §2(C); a 32-bit word is congruent to the
/// sum of its two 16-bit halves modulo 0xffff). Written out for the few
/// words of a header, inline, instead of the general byte loop. Bytes after
/// the last whole word are not summed (a header has none).
#[inline(always)]
pub fn header_words_sum(head: &[u8]) -> u16 {
    let (words, _) = head.as_chunks::<4>();
    let mut acc: u64 = 0;
    for w in words {
        acc += u64::from(u32::from_be_bytes(*w));
    }
    let s = (acc & 0xffff_ffff) + (acc >> 32);
    let s = (s & 0xffff) + (s >> 16);
    let s = (s & 0xffff) + (s >> 16);
    let s = (s & 0xffff) + (s >> 16);
    s as u16
}

/// The checksum of a standalone buffer (e.g. an IPv4 header or ICMPv4 message).
pub fn checksum(data: &[u8]) -> u16 {
    !ones_sum(data)
}

/// Whether a buffer that includes its checksum field verifies.
pub fn verifies(data: &[u8]) -> bool {
    ones_sum(data) == 0xffff
}

/// RFC 1624 eqn. 3: the new checksum after a 16-bit field changes from `old` to
/// `new`: `HC' = ~(~HC + ~m + m')`.
pub fn update_u16(checksum: u16, old: u16, new: u16) -> u16 {
    let mut sum = u32::from(!checksum) + u32::from(!old) + u32::from(new);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    !(sum as u16)
}

/// RFC 1624 for a 32-bit field (e.g. an IPv4 address), as two 16-bit updates.
pub fn update_u32(checksum: u16, old: u32, new: u32) -> u16 {
    let c = update_u16(checksum, (old >> 16) as u16, (new >> 16) as u16);
    update_u16(c, old as u16, new as u16)
}

/// The IPv4 pseudo-header (RFC 768, RFC 9293 §3.1): source, destination, zero,
/// protocol, upper-layer length.
#[inline]
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> Checksum {
    let acc = u64::from(src.to_bits())
        + u64::from(dst.to_bits())
        + u64::from(u16::from(protocol))
        + u64::from(length);
    Checksum::from_numeric(acc)
}

/// The IPv6 pseudo-header (RFC 8200 §8.1): source, destination, 32-bit
/// upper-layer length, three zero bytes, next header.
///
/// The addresses are added as 32-bit numeric (big-endian) words into a
/// 64-bit accumulator and folded once (RFC 1071 §2(C) deferred carries), not
/// summed as byte slices: this runs once per segment sent and received.
#[inline]
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, length: u32) -> Checksum {
    let words = |a: u128| {
        u64::from(a as u32)
            + u64::from((a >> 32) as u32)
            + u64::from((a >> 64) as u32)
            + u64::from((a >> 96) as u32)
    };
    let acc = words(src.to_bits()) + words(dst.to_bits()) + u64::from(length) + u64::from(next_header);
    Checksum::from_numeric(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The obvious byte-at-a-time reference (RFC 1071 §4.1).
    fn reference(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in data.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            let lo = u32::from(*pair.get(1).unwrap_or(&0));
            sum += hi | lo;
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(ones_sum(&data), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn ipv4_header_example() {
        // A well-known IPv4 header whose checksum is 0xb861.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01,
            0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(checksum(&h), 0xb861);
        h[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert!(verifies(&h));
    }

    #[test]
    fn empty_and_odd() {
        assert_eq!(ones_sum(&[]), 0);
        assert_eq!(ones_sum(&[0xab]), 0xab00);
        assert_eq!(ones_sum(&[0xff; 3]), reference(&[0xff; 3]));
    }

    #[test]
    fn every_tail_length_and_long_buffers() {
        // All tails (0..8 bytes after the 8-byte words) at every alignment of
        // the slice start, and buffers long enough to carry many times.
        let data: Vec<u8> = (0..70_001u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for start in 0..8 {
            for len in 0..64 {
                let d = &data[start..start + len];
                assert_eq!(ones_sum(d), reference(d), "start {start} len {len}");
            }
        }
        assert_eq!(ones_sum(&data), reference(&data));
        let ones = vec![0xffu8; 70_001];
        assert_eq!(ones_sum(&ones), reference(&ones));
        assert_eq!(ones_sum(&ones[..70_000]), 0xffff);
    }

    #[test]
    fn copy_and_sum_every_tail_and_alignment() {
        let data: Vec<u8> = (0..3001u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
        for start in 0..8 {
            for len in (0..64).chain([1447, 1448, 1460, 2993]) {
                let src = &data[start..start + len];
                let mut dst = vec![0u8; len + 8];
                let sum = copy_and_sum(&mut dst[start % 3..start % 3 + len], src);
                assert_eq!(sum, Some(reference(src)), "start {start} len {len}");
                assert_eq!(&dst[start % 3..start % 3 + len], src);
            }
        }
        let ones = vec![0xffu8; 70_000];
        let mut out = vec![0u8; 70_000];
        assert_eq!(copy_and_sum(&mut out, &ones), Some(0xffff));
        assert_eq!(out, ones);
    }

    /// Past the 64 KiB block the lanes are flushed: long buffers (odd
    /// lengths, all-ones words that push every lane hardest) still match.
    #[test]
    fn copy_and_sum_long_buffers_match() {
        let mut x: u32 = 0x1234_5678;
        let data: Vec<u8> = (0..200_001)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        for len in [65_535, 65_536, 65_537, 131_073, 200_001] {
            let mut dst = vec![0u8; len];
            assert_eq!(copy_and_sum(&mut dst, &data[..len]), Some(ones_sum(&data[..len])), "{len}");
            assert_eq!(dst, data[..len]);
            let ones = vec![0xffu8; len];
            assert_eq!(copy_and_sum(&mut dst, &ones), Some(ones_sum(&ones)), "ones {len}");
        }
    }

    #[test]
    fn copy_and_sum_rejects_length_mismatch() {
        let mut dst = [7u8; 4];
        assert_eq!(copy_and_sum(&mut dst, &[1, 2, 3]), None);
        assert_eq!(dst, [7; 4], "nothing copied on a mismatch");
    }

    proptest! {
        /// The word sum of any header is the general byte sum's.
        #[test]
        fn header_words_sum_matches_ones_sum(words in proptest::collection::vec(any::<u32>(), 0..=15), ones in any::<bool>()) {
            let mut head: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
            if ones {
                // The end-around carry cases: words of all ones.
                head.iter_mut().for_each(|b| *b = 0xff);
            }
            prop_assert_eq!(header_words_sum(&head), ones_sum(&head));
        }

        #[test]
        fn copy_and_sum_matches_plain(data in proptest::collection::vec(any::<u8>(), 0..3000), head in proptest::collection::vec(any::<u8>(), 0..7)) {
            let mut dst = vec![0u8; data.len()];
            let s = copy_and_sum(&mut dst, &data);
            prop_assert_eq!(s, Some(ones_sum(&data)));
            prop_assert_eq!(&dst, &data);
            // Fed after an odd or even head piece, as a segment's payload is
            // after its header: the same as summing the concatenation.
            let mut c = Checksum::new();
            c.add_bytes(&head).add_sum(s.unwrap_or(0), data.len());
            let mut all = head.clone();
            all.extend_from_slice(&data);
            prop_assert_eq!(c.sum(), reference(&all));
        }

        /// The word-wise pseudo-headers equal the RFC 1071 sum of the
        /// pseudo-header bytes laid out as RFC 9293 §3.1 / RFC 8200 §8.1 say.
        #[test]
        fn pseudo_headers_match_reference(s4 in any::<u32>(), d4 in any::<u32>(), s6 in any::<u128>(), d6 in any::<u128>(), proto in any::<u8>(), len in any::<u32>()) {
            let mut b = Vec::new();
            b.extend_from_slice(&s4.to_be_bytes());
            b.extend_from_slice(&d4.to_be_bytes());
            b.extend_from_slice(&[0, proto]);
            b.extend_from_slice(&(len as u16).to_be_bytes());
            let v4 = pseudo_header_v4(Ipv4Addr::from_bits(s4), Ipv4Addr::from_bits(d4), proto, len as u16);
            prop_assert_eq!(v4.sum(), reference(&b));
            let mut b = Vec::new();
            b.extend_from_slice(&s6.to_be_bytes());
            b.extend_from_slice(&d6.to_be_bytes());
            b.extend_from_slice(&len.to_be_bytes());
            b.extend_from_slice(&[0, 0, 0, proto]);
            let v6 = pseudo_header_v6(Ipv6Addr::from_bits(s6), Ipv6Addr::from_bits(d6), proto, len);
            prop_assert_eq!(v6.sum(), reference(&b));
            // All-ones words: the largest accumulator folds without loss.
            let max = pseudo_header_v6(Ipv6Addr::from_bits(u128::MAX), Ipv6Addr::from_bits(u128::MAX), 0xff, u32::MAX);
            let mut b = vec![0xff; 36];
            b.extend_from_slice(&[0, 0, 0, 0xff]);
            prop_assert_eq!(max.sum(), reference(&b));
        }

        #[test]
        fn matches_reference(data in proptest::collection::vec(any::<u8>(), 0..3000)) {
            prop_assert_eq!(ones_sum(&data), reference(&data));
        }

        #[test]
        fn split_anywhere(data in proptest::collection::vec(any::<u8>(), 0..600), cut in 0usize..600, cut2 in 0usize..600) {
            let a = cut.min(data.len());
            let b = cut2.clamp(a, data.len());
            let mut c = Checksum::new();
            c.add_bytes(&data[..a]).add_bytes(&data[a..b]).add_bytes(&data[b..]);
            prop_assert_eq!(c.sum(), reference(&data));
        }

        #[test]
        fn incremental_matches_recompute(mut data in proptest::collection::vec(any::<u8>(), 4..200), word in 0usize..100, new in any::<u16>()) {
            if data.len() % 2 == 1 { data.push(0); }
            let at = (word * 2) % (data.len() - 2);
            let before = checksum(&data);
            let old = u16::from_be_bytes([data[at], data[at + 1]]);
            data[at..at + 2].copy_from_slice(&new.to_be_bytes());
            let after = checksum(&data);
            // RFC 1624 §3: both representations of zero are equivalent.
            let inc = update_u16(before, old, new);
            prop_assert!(inc == after || (inc == 0xffff && after == 0) || (inc == 0 && after == 0xffff),
                "inc {:#x} recompute {:#x}", inc, after);
        }
    }
}
