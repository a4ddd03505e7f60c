//! Burst lookups (`Lpm::lookup_batch`, the forwarding path's entry point):
//! up to [`LANES`] independent lookups at a time, each lane's next read
//! prefetched ahead of its use (`via6-cpu`), so the reads of every lane
//! are in flight together instead of the few the out-of-order window
//! reaches. IPv6 (deep walks) advances in rounds, one level per round;
//! IPv4 (a root entry and a leaf on a full table) in three passes. Both
//! give exactly `Lpm::lookup`'s answers (the proptests in `lpm_tests.rs`).

use super::{run_index, Lpm, PrefixKey, LANES, LEAF_ONLY, NODE, PENDING, WORD_SLOTS};

impl<K: PrefixKey> Lpm<K> {
    /// Looks up a burst of addresses at once: `out[i]` becomes
    /// `self.lookup(addrs[i])` for every `i` below the shorter length.
    ///
    /// The forwarding path's burst entry point. The lookups are independent
    /// chains of reads, taken `LANES` (32) at a time with each lane's next
    /// read prefetched ahead of its use, so the reads of every lane are in
    /// flight together. IPv6 (deep walks) advances in rounds, one level per
    /// round; IPv4 (a root entry and a leaf on a full table) in three passes
    /// (see `PrefixKey::ROUNDS` and BENCHMARKS.md).
    #[inline]
    pub fn lookup_batch(&self, addrs: &[K], out: &mut [Option<u32>]) {
        if K::ROUNDS {
            for (a, o) in addrs.chunks(LANES).zip(out.chunks_mut(LANES)) {
                self.lookup_rounds(a, o);
            }
        } else {
            for (a, o) in addrs.chunks(LANES).zip(out.chunks_mut(LANES)) {
                self.lookup_shallow(a, o);
            }
        }
    }

    /// Up to [`LANES`] lookups of a family whose full-table lookups end at
    /// the first level (IPv4: a root entry, then a leaf) in three passes:
    /// the root entries prefetched, the leaves located and prefetched, the
    /// leaves read. A lookup that meets a node walks it at once.
    pub(super) fn lookup_shallow(&self, addrs: &[K], out: &mut [Option<u32>]) {
        let n = addrs.len().min(out.len()).min(LANES);
        if self.root.is_empty() {
            for (a, o) in addrs[..n].iter().zip(&mut out[..n]) {
                *o = self.lookup_small(*a);
            }
            return;
        }
        for a in &addrs[..n] {
            via6_cpu::prefetch(&self.root, a.bits(0, K::DIRECT_BITS));
        }
        let mut e = [0u32; LANES];
        for (x, a) in e.iter_mut().zip(&addrs[..n]) {
            *x = match self.root.get(a.bits(0, K::DIRECT_BITS)) {
                Some(r) if r.entry & LEAF_ONLY != 0 => {
                    let upto = (2u64 << a.stride(K::DIRECT_BITS)).wrapping_sub(1);
                    let run = run_index(r.leafvec, r.base0, upto);
                    via6_cpu::prefetch(&self.leaves, run);
                    PENDING | run as u32
                }
                // A leaf: the answer.
                Some(r) if r.entry & NODE == 0 => r.entry,
                _ => self.lookup(*a).map_or(0, |v| v + 1),
            };
        }
        for (o, &v) in out.iter_mut().zip(&e[..n]) {
            *o = self.resolve(v);
        }
    }

    /// Up to [`LANES`] lookups advanced one level per round, so each round
    /// issues the independent reads of every unfinished lane back to back.
    /// Every lane still walking in round `r` is at offset `D + r·STRIDE`,
    /// and the unfinished lanes are kept compacted in `walking` (without a
    /// branch per lane), so a round touches only lanes that still walk.
    ///
    /// Each step prefetches what the lane reads next (the word of its child
    /// node that its next stride selects, or its leaf), a round ahead: the
    /// out-of-order window spans only a few lanes' steps, so without the
    /// prefetch only those few lanes' reads are in flight at once. Leaves
    /// are read after the last round.
    pub(super) fn lookup_rounds(&self, addrs: &[K], out: &mut [Option<u32>]) {
        let n = addrs.len().min(out.len()).min(LANES);
        let mut e = [0u32; LANES];
        // Each lane's key from its current stride on, in the top bits (no
        // stride straddles bit 64), and its key's second half.
        let mut rest = [0u64; LANES];
        let mut lo = [0u64; LANES];
        let mut walking = [0u8; LANES];
        let mut left = 0;
        for (i, a) in addrs[..n].iter().enumerate() {
            let x = self.first(*a);
            e[i] = x;
            if x & NODE != 0 {
                // A walking lane holds the index of the node word it reads
                // next, and its key from its next stride on.
                let word = (x & !NODE) + (a.stride(K::DIRECT_BITS) / WORD_SLOTS) as u32;
                e[i] = word;
                rest[i] = a.half(K::DIRECT_BITS) << (K::DIRECT_BITS % 64);
                lo[i] = a.half(64);
                via6_cpu::prefetch(&self.nodes, word as usize);
                walking[left] = i as u8;
                left += 1;
            }
        }
        let mut o = K::DIRECT_BITS;
        while left > 0 {
            // The next stride starts the key's second half.
            let cross = o + K::STRIDE == 64;
            let mut still = 0;
            for j in 0..left.min(LANES) {
                // `% LANES` proves the index in bounds to the compiler.
                let i = usize::from(walking[j]) % LANES;
                let key = rest[i];
                let ahead = if cross { lo[i] } else { key << K::STRIDE };
                let s = (key >> (64 - K::STRIDE)) as usize;
                let s_next = (ahead >> (64 - K::STRIDE)) as usize;
                let (next, down) = self.step_ahead(e[i], s % WORD_SLOTS, s_next);
                e[i] = next;
                rest[i] = ahead;
                walking[still % LANES] = i as u8;
                still += usize::from(down);
            }
            left = still;
            o += K::STRIDE;
        }
        for (o, &v) in out.iter_mut().zip(&e[..n]) {
            *o = self.resolve(v);
        }
    }

    /// A burst lane's answer: its leaf, read now if it is `PENDING`.
    #[inline(always)]
    fn resolve(&self, v: u32) -> Option<u32> {
        let v =
            if v & PENDING != 0 { self.leaves.get((v & !PENDING) as usize).copied().unwrap_or(0) } else { v };
        v.checked_sub(1)
    }

    /// [`Lpm::step`] for [`Lpm::lookup_rounds`], from node word `word` and
    /// the slot `bit` in it: to the child's word that slot `s_next` selects,
    /// prefetched, or to `PENDING |` the leaf's index, the leaf prefetched.
    #[inline(always)]
    fn step_ahead(&self, word: u32, bit: usize, s_next: usize) -> (u32, bool) {
        let Some(n) = self.nodes.get(word as usize) else { return (0, false) };
        let upto = (2u64 << bit).wrapping_sub(1);
        if n.vector >> bit & 1 != 0 {
            let child = n.base1 + ((n.vector & upto).count_ones() - 1) * Self::WORDS as u32;
            let next = child + (s_next / WORD_SLOTS) as u32;
            via6_cpu::prefetch(&self.nodes, next as usize);
            (next, true)
        } else {
            let run = run_index(n.leafvec, n.base0, upto);
            via6_cpu::prefetch(&self.leaves, run);
            (PENDING | run as u32, false)
        }
    }
}
