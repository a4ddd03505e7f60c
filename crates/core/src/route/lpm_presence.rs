//! A one-hash Bloom filter over the update side's `(key, len)` pairs.
//!
//! An update of a prefix looks for the longest shorter prefix that covers
//! it, one candidate length at a time. Most candidates are absent, and each
//! probe of the sorted shadow (a `BTreeMap` of a million entries) is a walk
//! of several cold nodes. A clear bit here proves a pair absent with one
//! read; a set bit means "maybe" and the shadow decides. Bits are never
//! cleared on removal (stale bits only cost a probe); the filter is rebuilt
//! from the shadow when it grows past an eighth of its bits (it is sized at
//! 16 to 32 bits per pair), which keeps false positives below
//! 1 − e^(−1/8) ≈ 12 %.

use super::PrefixKey;

/// Smallest filter: 4096 bits.
const MIN_BITS_LOG2: u32 = 12;

/// See the module documentation.
#[derive(Debug, Clone)]
pub(super) struct Presence {
    bits: Vec<u64>,
    /// `64 - log2(bit count)`: a hash's top bits pick the bit.
    shift: u32,
    /// Pairs added since the last rebuild (an upper bound of those held).
    added: usize,
}

impl Default for Presence {
    fn default() -> Self {
        Presence { bits: vec![0; 1 << (MIN_BITS_LOG2 - 6)], shift: 64 - MIN_BITS_LOG2, added: 0 }
    }
}

impl Presence {
    /// The bit of `key/len`.
    #[inline]
    fn bit<K: PrefixKey>(&self, key: K, len: u8) -> usize {
        let mut h = key.fold().wrapping_add(u64::from(len)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^= h >> 29;
        (h.wrapping_mul(0xbf58_476d_1ce4_e5b9) >> self.shift) as usize
    }

    /// Whether `key/len` may be in the shadow (`false`: it surely is not).
    #[inline]
    pub(super) fn may_hold<K: PrefixKey>(&self, key: K, len: u8) -> bool {
        let b = self.bit(key, len);
        self.bits[b / 64] & (1 << (b % 64)) != 0
    }

    /// Records `key/len`. Returns `false` when the filter has grown past an
    /// eighth of its bits: the caller then [`Presence::rebuild`]s it.
    pub(super) fn add<K: PrefixKey>(&mut self, key: K, len: u8) -> bool {
        let b = self.bit(key, len);
        self.bits[b / 64] |= 1 << (b % 64);
        self.added += 1;
        self.added <= self.bits.len() * 64 / 8
    }

    /// Sized for `count` pairs (16 to 32 bits each), holding exactly `pairs`.
    pub(super) fn rebuild<K: PrefixKey>(&mut self, count: usize, pairs: impl Iterator<Item = (K, u8)>) {
        // Sixteen bits a pair: room to double before the next rebuild.
        let log2 = (count.max(1) * 16).next_power_of_two().trailing_zeros().max(MIN_BITS_LOG2);
        self.bits.clear();
        self.bits.resize(1 << (log2 - 6), 0);
        self.shift = 64 - log2;
        self.added = 0;
        for (k, l) in pairs {
            self.add(k, l);
        }
    }

    /// Bytes held.
    pub(super) fn bytes(&self) -> usize {
        self.bits.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_pairs_are_always_held_and_most_others_are_not() {
        let mut p = Presence::default();
        let pairs: Vec<(u32, u8)> =
            (0..20_000u32).map(|i| (i.wrapping_mul(0x0101_0197) & !0xff, 24)).collect();
        p.rebuild(pairs.len(), pairs.iter().copied());
        assert!(pairs.iter().all(|&(k, l)| p.may_hold(k, l)));
        let false_hits =
            (0..20_000u32).filter(|i| p.may_hold(i.wrapping_mul(0x0101_0197) & !0xff, 23)).count();
        // About 12 % expected; far above that means a broken hash.
        assert!(false_hits < 20_000 / 5, "{false_hits} false hits");
    }

    #[test]
    fn add_asks_for_a_rebuild_past_an_eighth_of_the_bits() {
        let mut p = Presence::default();
        let fits = (0..4096u128 / 8).all(|i| p.add(i << 64, 64));
        assert!(fits);
        assert!(!p.add(7u128 << 100, 20));
        p.rebuild(1000, (0..1000u128).map(|i| (i << 64, 64)));
        assert!((0..1000u128).all(|i| p.may_hold(i << 64, 64)));
        assert!(p.bytes() >= 1000);
    }
}
