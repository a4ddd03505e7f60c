//! The FIB's longest-prefix-match structure, behind a narrow interface so the
//! performance work can swap it (DIR-24-8 / Poptrie) without touching callers.
//!
//! This first structure keeps one hash table per prefix length and probes the
//! present lengths from longest to shortest: O(distinct lengths) per lookup,
//! O(1) updates, no allocation per lookup.

use std::collections::HashMap;

/// An address family's key: the address as an unsigned integer.
pub trait PrefixKey: Copy + Eq + std::hash::Hash {
    /// Bits in the address.
    const BITS: u8;
    /// The address with bits past `len` cleared.
    fn masked(self, len: u8) -> Self;
}

impl PrefixKey for u32 {
    const BITS: u8 = 32;
    fn masked(self, len: u8) -> u32 {
        if len == 0 {
            0
        } else {
            self & (u32::MAX << (32 - u32::from(len)))
        }
    }
}

impl PrefixKey for u128 {
    const BITS: u8 = 128;
    fn masked(self, len: u8) -> u128 {
        if len == 0 {
            0
        } else {
            self & (u128::MAX << (128 - u32::from(len)))
        }
    }
}

/// Longest-prefix match from prefixes to small values (next-hop ids).
#[derive(Debug, Clone)]
pub struct Lpm<K: PrefixKey> {
    /// Index = prefix length.
    tables: Vec<HashMap<K, u32>>,
    /// Lengths that hold at least one prefix, longest first.
    present: Vec<u8>,
}

impl<K: PrefixKey> Default for Lpm<K> {
    fn default() -> Self {
        Lpm { tables: (0..=K::BITS).map(|_| HashMap::new()).collect(), present: Vec::new() }
    }
}

impl<K: PrefixKey> Lpm<K> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts or replaces the value of `key/len`.
    pub fn insert(&mut self, key: K, len: u8, value: u32) {
        let t = &mut self.tables[usize::from(len.min(K::BITS))];
        t.insert(key.masked(len), value);
        self.refresh_present();
    }

    /// Removes `key/len`; returns its value.
    pub fn remove(&mut self, key: K, len: u8) -> Option<u32> {
        let v = self.tables[usize::from(len.min(K::BITS))].remove(&key.masked(len));
        self.refresh_present();
        v
    }

    /// The value of the longest prefix holding `addr`, with that prefix's length.
    #[inline]
    pub fn lookup(&self, addr: K) -> Option<(u8, u32)> {
        for &len in &self.present {
            if let Some(v) = self.tables[usize::from(len)].get(&addr.masked(len)) {
                return Some((len, *v));
            }
        }
        None
    }

    /// The value stored for exactly `key/len`.
    pub fn get_exact(&self, key: K, len: u8) -> Option<u32> {
        self.tables.get(usize::from(len))?.get(&key.masked(len)).copied()
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.tables.iter().map(HashMap::len).sum()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    fn refresh_present(&mut self) {
        self.present.clear();
        for len in (0..=K::BITS).rev() {
            if !self.tables[usize::from(len)].is_empty() {
                self.present.push(len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn longest_wins() {
        let mut t = Lpm::<u32>::new();
        t.insert(0, 0, 1);
        t.insert(0xcb00_7100, 24, 2);
        t.insert(0xcb00_7102, 32, 3);
        assert_eq!(t.lookup(0xcb00_7102), Some((32, 3)));
        assert_eq!(t.lookup(0xcb00_7103), Some((24, 2)));
        assert_eq!(t.lookup(0x0808_0808), Some((0, 1)));
        assert_eq!(t.remove(0, 0), Some(1));
        assert_eq!(t.lookup(0x0808_0808), None);
    }

    proptest! {
        #[test]
        fn matches_linear_scan(prefixes in proptest::collection::vec((any::<u32>(), 0u8..=32), 0..40), probes in proptest::collection::vec(any::<u32>(), 1..40)) {
            let mut t = Lpm::<u32>::new();
            let mut list: Vec<(u32, u8, u32)> = Vec::new();
            for (i, (k, l)) in prefixes.iter().enumerate() {
                let k = k.masked(*l);
                t.insert(k, *l, i as u32);
                list.retain(|(a, b, _)| !(*a == k && *b == *l));
                list.push((k, *l, i as u32));
            }
            for p in probes {
                let best = list.iter().filter(|(k, l, _)| p.masked(*l) == *k).max_by_key(|(_, l, _)| *l).map(|(_, l, v)| (*l, *v));
                prop_assert_eq!(t.lookup(p), best);
            }
        }
    }
}
