//! The FIB's longest-prefix-match structure: a Poptrie (Asai and Ohara,
//! SIGCOMM 2015) behind the narrow interface `route/table.rs` uses
//! (`insert`/`remove`/`lookup`/`get_exact`/`len`).
//!
//! # Lookup side (what a forwarded packet touches)
//!
//! A table of at most [`SMALL`] prefixes (a host's) is only `small`, its
//! prefixes longest first, which a lookup scans; the trie below is built
//! when the table grows past that and dropped when it shrinks to half.
//!
//! - `root`: 2^D 16-byte entries indexed by the address's top D bits (D = 18
//!   for IPv4, 16 for IPv6). An entry is either a leaf (the next-hop id + 1,
//!   or 0 for "no route"), or, with bit 31 set, the index of a node, or, with
//!   bit 30 set, a copy of a leaf-only first-level node's `leafvec` and
//!   `base0`: such a slot resolves with one read of its leaf, not a read of
//!   the node and then of the leaf. On the full IPv4 table every first-level
//!   node is leaf-only (no prefix is longer than /24), so an in-table lookup
//!   is two dependent reads instead of three.
//! - `nodes`: 64-ary nodes of 24 bytes. A node at offset `o` consumes the six
//!   address bits `o..o+6` (zero-padded past the address's end). `vector`
//!   marks the slots that are internal nodes, stored contiguously from
//!   `base1`; the other slots are leaves, run-length compressed: `leafvec`
//!   marks the slots where a new run of equal leaves starts, and the runs are
//!   stored contiguously from `base0`. A slot's child or leaf is found by a
//!   population count of the bit vector below it, so a lookup is one direct
//!   read plus one 24-byte node and one 4-byte leaf per six bits past D.
//! - `leaves`: next-hop ids + 1.
//!
//! # Update side
//!
//! A sorted shadow of the prefixes (`BTreeMap`) is the source of truth; a
//! one-hash Bloom filter (`lpm_presence.rs`) in front of it answers most of
//! an update's probes for covering prefixes without walking the tree. An
//! update of `p/L` rebuilds only the smallest subtree that covers it: the
//! deepest existing node whose six-bit stride holds bit `L`, from the prefixes
//! inside that node's span. Prefixes no longer than D are applied to the
//! direct entries they cover (keeping the length of each entry's best short
//! prefix, so a withdrawal restores the next shorter one). Freed node and
//! leaf arrays go to exact-size free lists and are reused; when more than a
//! third of the arrays are free the whole structure is rebuilt compactly.
//! The caller holds `&mut self`, so an update is atomic for every lookup.

use std::collections::BTreeMap;

#[path = "lpm_presence.rs"]
mod presence;
use presence::Presence;

/// An address family's key: the address as an unsigned integer.
pub trait PrefixKey: Copy + Eq + Ord + std::hash::Hash + std::fmt::Debug {
    /// Bits in the address.
    const BITS: u8;
    /// Bits resolved by the first-level (direct) table.
    const DIRECT_BITS: u32;
    /// Whether `Lpm::lookup_batch` advances its lookups in rounds (deep
    /// tries) rather than one after another (shallow ones).
    const ROUNDS: bool;
    /// The address with bits past `len` cleared.
    fn masked(self, len: u8) -> Self;
    /// The last address of `self/len` (bits past `len` set).
    fn last(self, len: u8) -> Self;
    /// `n` (1..=32) bits starting at bit `offset` (0 = most significant),
    /// zero-padded past the end of the address; `offset < 128`.
    fn bits(self, offset: u32, n: u32) -> usize;
    /// The `STRIDE` (6) bits at `offset` (`self.bits(offset, STRIDE)`),
    /// for the offsets a lookup visits (`DIRECT_BITS` + a multiple of
    /// `STRIDE`); the lookup's hot step.
    #[inline(always)]
    fn stride(self, offset: u32) -> usize {
        self.bits(offset, STRIDE)
    }
    /// The key whose top `DIRECT_BITS` are `index`, the rest zero.
    fn from_direct(index: usize) -> Self;
    /// The key folded into 64 bits (for hashing).
    fn fold(self) -> u64;
    /// Whether `self` lies in the prefix `key/len` given as `key` (masked)
    /// and `mask` (`len` leading ones).
    fn within(self, key: Self, mask: Self) -> bool;
    /// `len` leading one bits.
    fn mask(len: u8) -> Self;
}

impl PrefixKey for u32 {
    const BITS: u8 = 32;
    const DIRECT_BITS: u32 = 18;
    /// In rounds, a full-table IPv4 burst ran at 0.85–1.09× of one lookup
    /// after another (two reads each: nothing to overlap that the
    /// out-of-order core does not already overlap).
    const ROUNDS: bool = false;
    #[inline]
    fn masked(self, len: u8) -> u32 {
        if len == 0 {
            0
        } else {
            self & (u32::MAX << (32 - u32::from(len.min(32))))
        }
    }
    #[inline]
    fn last(self, len: u8) -> u32 {
        self | !(u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0))
    }
    #[inline]
    fn bits(self, offset: u32, n: u32) -> usize {
        // Offsets of a 32-bit key stay below 36: shift within a u64.
        (((u64::from(self) << 32) << (offset & 31)) >> (64 - n)) as usize
    }
    #[inline]
    fn from_direct(index: usize) -> u32 {
        (index as u32) << (32 - Self::DIRECT_BITS)
    }
    #[inline]
    fn fold(self) -> u64 {
        u64::from(self)
    }
    #[inline]
    fn within(self, key: u32, mask: u32) -> bool {
        self & mask == key
    }
    fn mask(len: u8) -> u32 {
        u32::MAX.masked(len)
    }
}

impl PrefixKey for u128 {
    const BITS: u8 = 128;
    const DIRECT_BITS: u32 = 16;
    /// In rounds, a full-table in-table IPv6 burst (about seven dependent
    /// reads a lookup) ran at 1.55–1.88× of one lookup after another.
    const ROUNDS: bool = true;
    #[inline]
    fn masked(self, len: u8) -> u128 {
        if len == 0 {
            0
        } else {
            self & (u128::MAX << (128 - u32::from(len.min(128))))
        }
    }
    #[inline]
    fn last(self, len: u8) -> u128 {
        self | !(u128::MAX.checked_shl(128 - u32::from(len.min(128))).unwrap_or(0))
    }
    #[inline]
    fn bits(self, offset: u32, n: u32) -> usize {
        ((self << (offset & 127)) >> (128 - n)) as usize
    }
    /// No stride a lookup visits straddles the two 64-bit halves (see the
    /// assertion below), so one 64-bit shift pair replaces two 128-bit ones.
    #[inline(always)]
    fn stride(self, offset: u32) -> usize {
        let half = if offset < 64 { (self >> 64) as u64 } else { self as u64 };
        ((half << (offset & 63)) >> (64 - STRIDE)) as usize
    }
    #[inline]
    fn from_direct(index: usize) -> u128 {
        (index as u128) << (128 - Self::DIRECT_BITS)
    }
    #[inline]
    fn fold(self) -> u64 {
        ((self >> 64) as u64) ^ (self as u64).rotate_left(32)
    }
    #[inline]
    fn within(self, key: u128, mask: u128) -> bool {
        self & mask == key
    }
    fn mask(len: u8) -> u128 {
        u128::MAX.masked(len)
    }
}

// The lookup's strides of an IPv6 key end exactly at bit 64.
const _: () = assert!((64 - <u128 as PrefixKey>::DIRECT_BITS) % STRIDE == 0);

/// A table of at most this many prefixes is a list, longest first, which
/// lookups scan; the trie is built when the table grows past it and dropped
/// again when it shrinks to half of it (no rebuild per route flap).
const SMALL: usize = 16;

/// Lanes of `Lpm::lookup_rounds`.
const LANES: usize = 32;

/// Bits consumed by one node.
const STRIDE: u32 = 6;
/// A direct or root entry with this bit set holds a node index.
const NODE: u32 = 1 << 31;
/// A root entry with this bit set holds a leaf-only node's `leafvec` and
/// `base0` inline.
const LEAF_ONLY: u32 = 1 << 30;

/// One first-level entry of the lookup side (16 bytes, never straddling a
/// cache line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C, align(16))]
struct Root {
    /// For `LEAF_ONLY`: the node's run starts.
    leafvec: u64,
    /// A leaf, `NODE | index`, or `LEAF_ONLY`.
    entry: u32,
    /// For `LEAF_ONLY`: the node's first leaf run.
    base0: u32,
}

/// One 64-ary node (24 bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Node {
    /// Slot `i` is an internal node.
    vector: u64,
    /// Slot `i` (a leaf) starts a new run of equal leaves.
    leafvec: u64,
    /// First leaf run.
    base0: u32,
    /// First child node.
    base1: u32,
}

/// The leaf slots of a node (those not in `children`) where a new run of
/// equal values starts, a child slot never breaking a run: bit `s` is set
/// for the first leaf slot and for every leaf slot whose value differs from
/// the previous leaf slot's.
fn run_starts(value: &[u32; 64], children: u64) -> u64 {
    let leaves = !children;
    if leaves == 0 {
        return 0;
    }
    // Child slots take the value of the leaf slot before them (the first
    // leaf slot's, before any leaf), so they neither start nor end a run.
    let mut carried = *value;
    if children != 0 {
        let mut prev = value[leaves.trailing_zeros() as usize];
        for (s, v) in carried.iter_mut().enumerate() {
            if children & (1 << s) != 0 {
                *v = prev;
            } else {
                prev = *v;
            }
        }
    }
    // Eight slots at a time: one 0/1 byte per slot (a vector compare), the
    // bytes' low bits gathered into a byte by one multiplication.
    let mut differs = 0u64;
    for chunk in 0..8 {
        let mut ne = [0u8; 8];
        for (i, b) in ne.iter_mut().enumerate() {
            let s = chunk * 8 + i;
            *b = u8::from(s > 0 && carried[s] != carried[s.saturating_sub(1)]);
        }
        let packed = u64::from_le_bytes(ne).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        differs |= packed << (chunk * 8);
    }
    (differs & leaves) | (leaves & leaves.wrapping_neg())
}

/// Sizes of the structure, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LpmMemory {
    /// What lookups read: the direct table, the nodes and the leaves.
    pub lookup_bytes: usize,
    /// What only updates read: the sorted shadow of the prefixes (estimated
    /// from its entry count), per-entry short-prefix state, node defaults
    /// and free lists.
    pub update_bytes: usize,
    /// Nodes in use (not counting free ones).
    pub nodes: usize,
    /// Leaves in use.
    pub leaves: usize,
}

/// Longest-prefix match from prefixes to small values (next-hop ids below
/// [`Lpm::MAX_VALUE`]).
#[derive(Clone)]
pub struct Lpm<K: PrefixKey> {
    /// What lookups read first (see the module documentation).
    root: Vec<Root>,
    /// The update side's first level: a leaf or `NODE | index` per slot;
    /// `root` mirrors it, inlining leaf-only nodes.
    direct: Vec<u32>,
    nodes: Vec<Node>,
    leaves: Vec<u32>,
    /// Source of truth: `(key, len) -> value`, keys masked.
    prefixes: BTreeMap<(K, u8), u32>,
    /// Which `(key, len)` pairs `prefixes` may hold (no false negatives).
    presence: Presence,
    /// While there is no trie (`root` empty; at most [`SMALL`] prefixes):
    /// every prefix, longest first, as `(key, mask, value)`. A host's
    /// handful of routes is scanned in a few instructions, where the trie
    /// walks a node per six bits past `D` (a /64 is eight nodes deep in
    /// IPv6) and its first level alone takes 4 MiB (IPv4) or 1 MiB (IPv6).
    small: Vec<(K, K, u32)>,
    /// Per direct entry: 1 + the length of its best prefix of length <= D
    /// (0: none), and that prefix's value + 1 (0: none).
    root_len: Vec<u8>,
    root_val: Vec<u32>,
    /// Per node: the encoded leaf of the best prefix no longer than the
    /// node's offset covering its span (what slots without a longer prefix
    /// inherit).
    node_default: Vec<u32>,
    /// Free arrays by exact size (index = size, 1..=64).
    free_nodes: Vec<Vec<u32>>,
    free_leaves: Vec<Vec<u32>>,
    /// Reused buffer for the prefixes an update re-derives (no allocation
    /// per update).
    scratch: Vec<(K, u8, u32)>,
    /// Elements sitting in free lists.
    garbage: usize,
}

impl<K: PrefixKey> std::fmt::Debug for Lpm<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lpm")
            .field("prefixes", &self.prefixes.len())
            .field("nodes", &self.nodes.len())
            .field("leaves", &self.leaves.len())
            .field("garbage", &self.garbage)
            .finish()
    }
}

impl<K: PrefixKey> Default for Lpm<K> {
    fn default() -> Self {
        Lpm {
            root: Vec::new(),
            direct: Vec::new(),
            nodes: Vec::new(),
            leaves: Vec::new(),
            prefixes: BTreeMap::new(),
            presence: Presence::default(),
            small: Vec::new(),
            root_len: Vec::new(),
            root_val: Vec::new(),
            node_default: Vec::new(),
            free_nodes: Vec::new(),
            free_leaves: Vec::new(),
            garbage: 0,
            scratch: Vec::new(),
        }
    }
}

impl<K: PrefixKey> Lpm<K> {
    /// The largest value a prefix may map to.
    pub const MAX_VALUE: u32 = LEAF_ONLY - 2;

    /// An empty table (allocates nothing until the first insert).
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a table from `(key, len, value)` in one pass (the fast way to
    /// load a full table). Later duplicates replace earlier ones.
    pub fn build(prefixes: impl IntoIterator<Item = (K, u8, u32)>) -> Self {
        let mut t = Self::new();
        for (k, l, v) in prefixes {
            let l = l.min(K::BITS);
            if v <= Self::MAX_VALUE {
                t.prefixes.insert((k.masked(l), l), v);
            }
        }
        if t.prefixes.len() > SMALL {
            t.rebuild_all();
        } else {
            t.presence.rebuild(t.prefixes.len(), t.prefixes.keys().copied());
            t.refresh_small();
        }
        t
    }

    /// Inserts or replaces the value of `key/len`. Values above
    /// [`Lpm::MAX_VALUE`] are not representable and are ignored (route ids
    /// never get there: that would be a billion routes).
    pub fn insert(&mut self, key: K, len: u8, value: u32) {
        debug_assert!(value <= Self::MAX_VALUE);
        if value > Self::MAX_VALUE {
            return;
        }
        let len = len.min(K::BITS);
        let key = key.masked(len);
        match self.prefixes.insert((key, len), value) {
            Some(old) if old == value => return,
            Some(_) => {}
            None => {
                if !self.presence.add(key, len) {
                    self.presence.rebuild(self.prefixes.len(), self.prefixes.keys().copied());
                }
            }
        }
        self.changed(key, len);
    }

    /// Removes `key/len`; returns its value.
    pub fn remove(&mut self, key: K, len: u8) -> Option<u32> {
        let len = len.min(K::BITS);
        let key = key.masked(len);
        let v = self.prefixes.remove(&(key, len))?;
        self.changed(key, len);
        Some(v)
    }

    /// Brings the lookup side in step after `key/len` changed in the shadow:
    /// the list of a small table, or the trie, built or dropped as the
    /// table crosses [`SMALL`] or half of it.
    fn changed(&mut self, key: K, len: u8) {
        if self.root.is_empty() {
            if self.prefixes.len() > SMALL {
                self.small = Vec::new();
                self.rebuild_all();
            } else {
                self.refresh_small();
            }
        } else if self.prefixes.len() <= SMALL / 2 {
            self.drop_trie();
            self.refresh_small();
        } else {
            self.update(key, len);
        }
    }

    /// Frees the trie (both sides); lookups then scan `small`.
    fn drop_trie(&mut self) {
        let presence = std::mem::take(&mut self.presence);
        let prefixes = std::mem::take(&mut self.prefixes);
        *self = Lpm { prefixes, presence, ..Lpm::default() };
    }

    /// The value of the longest prefix holding `addr`. Always inlined: a
    /// call per lookup costs more than the walk of a full IPv4 table.
    #[inline(always)]
    pub fn lookup(&self, addr: K) -> Option<u32> {
        // No first-level entry: no trie, a small table's list (the bound
        // check every lookup makes anyway, so big tables pay nothing).
        let Some(r) = self.root.get(addr.bits(0, K::DIRECT_BITS)) else { return self.lookup_small(addr) };
        if r.entry & LEAF_ONLY != 0 {
            // A leaf-only first-level node (every full-table IPv4 lookup):
            // its leaf is the answer, no node test follows.
            return self.leaf_only(r, addr).checked_sub(1);
        }
        let mut e = r.entry;
        let mut o = K::DIRECT_BITS;
        while e & NODE != 0 {
            let (next, down) = self.next(e, addr, o);
            e = next;
            o += STRIDE * u32::from(down);
        }
        e.checked_sub(1)
    }

    /// [`Lpm::lookup`] in the list of a small table: the first (longest)
    /// prefix holding `addr`. Out of line: inlined, it would crowd the
    /// trie walk that big tables take (measured: +10 instructions an IPv4
    /// lookup, +24 an IPv6 one).
    #[inline(never)]
    fn lookup_small(&self, addr: K) -> Option<u32> {
        self.small.iter().find(|(k, m, _)| addr.within(*k, *m)).map(|e| e.2)
    }

    /// The first-level step of a lookup: `addr`'s root entry, a leaf-only
    /// node's leaf read at once (a small table's answer when there is no trie).
    #[inline(always)]
    fn first(&self, addr: K) -> u32 {
        let Some(r) = self.root.get(addr.bits(0, K::DIRECT_BITS)) else {
            // No trie: a small table's answer, as a leaf.
            return self.lookup_small(addr).map_or(0, |v| v + 1);
        };
        if r.entry & LEAF_ONLY == 0 {
            return r.entry;
        }
        self.leaf_only(r, addr)
    }

    /// The leaf of `addr` under `r`, a `LEAF_ONLY` root entry.
    #[inline(always)]
    fn leaf_only(&self, r: &Root, addr: K) -> u32 {
        let upto = (2u64 << addr.stride(K::DIRECT_BITS)).wrapping_sub(1);
        self.leaves.get((r.base0 + (r.leafvec & upto).count_ones() - 1) as usize).copied().unwrap_or(0)
    }

    /// One node of a lookup: from `e` (`NODE | index`, consuming the six
    /// bits of `addr` at `o`), the child's entry and `true`, or the leaf and
    /// `false`.
    #[inline(always)]
    fn next(&self, e: u32, addr: K, o: u32) -> (u32, bool) {
        let Some(n) = self.nodes.get((e & !NODE) as usize) else { return (0, false) };
        let bit = 1u64 << addr.stride(o);
        let upto = (bit << 1).wrapping_sub(1);
        if n.vector & bit != 0 {
            (NODE | (n.base1 + (n.vector & upto).count_ones() - 1), true)
        } else {
            (
                self.leaves
                    .get((n.base0 + (n.leafvec & upto).count_ones() - 1) as usize)
                    .copied()
                    .unwrap_or(0),
                false,
            )
        }
    }

    /// How many dependent memory reads `lookup(addr)` makes (the root entry,
    /// each node, the leaf; 1 for a small table's list): the figure that bounds a lookup's latency on a
    /// table larger than the caches, whatever the machine's load.
    pub fn reads(&self, addr: K) -> u32 {
        let Some(r) = self.root.get(addr.bits(0, K::DIRECT_BITS)) else { return 1 };
        if r.entry & LEAF_ONLY != 0 {
            return 2;
        }
        let (mut e, mut o, mut n) = (r.entry, K::DIRECT_BITS, 1);
        while e & NODE != 0 {
            let (next, down) = self.next(e, addr, o);
            // The node, and the leaf when the walk ends there.
            n += 1 + u32::from(!down);
            e = next;
            o += STRIDE;
        }
        n
    }

    /// Looks up a burst of addresses at once: `out[i]` becomes
    /// `self.lookup(addrs[i])` for every `i` below the shorter length.
    ///
    /// The forwarding path's burst entry point. The lookups are independent
    /// chains of reads. For IPv6 (deep walks) they advance in rounds of up
    /// to `LANES` (32) lanes, one level per round, so the reads of every lane
    /// are in flight together; for IPv4 (two reads on a full table) one
    /// lookup after another lets the out-of-order core overlap them as well,
    /// with fewer instructions (see `PrefixKey::ROUNDS` and BENCHMARKS.md).
    #[inline]
    pub fn lookup_batch(&self, addrs: &[K], out: &mut [Option<u32>]) {
        if K::ROUNDS {
            for (a, o) in addrs.chunks(LANES).zip(out.chunks_mut(LANES)) {
                self.lookup_rounds(a, o);
            }
        } else {
            for (a, o) in addrs.iter().zip(out.iter_mut()) {
                *o = self.lookup(*a);
            }
        }
    }

    /// Up to [`LANES`] lookups advanced one level per round, so each round
    /// issues the independent reads of every unfinished lane back to back.
    /// Every lane still walking in round `r` is at offset `D + r·STRIDE`,
    /// and the unfinished lanes are kept compacted in `walking` (without a
    /// branch per lane), so a round touches only lanes that still walk.
    fn lookup_rounds(&self, addrs: &[K], out: &mut [Option<u32>]) {
        let n = addrs.len().min(out.len()).min(LANES);
        let Some(&a0) = addrs.first() else { return };
        let mut lane = [a0; LANES];
        lane[..n].copy_from_slice(&addrs[..n]);
        let mut e = [0u32; LANES];
        let mut walking = [0u8; LANES];
        let mut left = 0;
        for (i, (x, a)) in e.iter_mut().zip(&lane[..n]).enumerate() {
            *x = self.first(*a);
            walking[left] = i as u8;
            left += usize::from(*x & NODE != 0);
        }
        let mut o = K::DIRECT_BITS;
        while left > 0 {
            let mut still = 0;
            for j in 0..left {
                // `% LANES` proves the index in bounds to the compiler.
                let i = usize::from(walking[j]) % LANES;
                let (next, down) = self.next(e[i], lane[i], o);
                e[i] = next;
                walking[still] = i as u8;
                still += usize::from(down);
            }
            left = still;
            o += STRIDE;
        }
        for (o, v) in out.iter_mut().zip(&e[..n]) {
            *o = v.checked_sub(1);
        }
    }

    /// The value stored for exactly `key/len`.
    pub fn get_exact(&self, key: K, len: u8) -> Option<u32> {
        if len > K::BITS {
            return None;
        }
        self.prefixes.get(&(key.masked(len), len)).copied()
    }

    /// The longest prefix holding `addr` and its value (slow path: for
    /// diagnostics such as `route get`, not forwarding).
    pub fn lookup_prefix(&self, addr: K) -> Option<(K, u8, u32)> {
        (0..=K::BITS).rev().find_map(|l| {
            let k = addr.masked(l);
            self.prefixes.get(&(k, l)).map(|v| (k, l, *v))
        })
    }

    /// Every prefix with its value, ordered by key then length.
    pub fn iter(&self) -> impl Iterator<Item = (K, u8, u32)> + '_ {
        self.prefixes.iter().map(|(&(k, l), &v)| (k, l, v))
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.prefixes.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// Sizes of the lookup and update structures.
    pub fn memory(&self) -> LpmMemory {
        use std::mem::size_of;
        let lookup_bytes = self.small.capacity() * size_of::<(K, K, u32)>()
            + self.root.capacity() * size_of::<Root>()
            + self.nodes.capacity() * size_of::<Node>()
            + self.leaves.capacity() * 4;
        // A B-tree leaf holds up to 11 entries and is about 2/3 full; count
        // the entries, a third again for the slack and 8 bytes of node
        // overhead per entry.
        let entry = size_of::<(K, u8)>() + size_of::<u32>();
        let shadow = self.prefixes.len() * (entry + entry / 2 + 8);
        let free: usize = self.free_nodes.iter().chain(&self.free_leaves).map(|f| f.capacity() * 4).sum();
        let update_bytes = shadow
            + self.presence.bytes()
            + self.direct.capacity() * 4
            + self.root_len.capacity()
            + self.root_val.capacity() * 4
            + self.node_default.capacity() * 4
            + free;
        let free_nodes: usize = self.free_nodes.iter().enumerate().map(|(size, f)| size * f.len()).sum();
        let free_leaves: usize = self.free_leaves.iter().enumerate().map(|(size, f)| size * f.len()).sum();
        LpmMemory {
            lookup_bytes,
            update_bytes,
            nodes: self.nodes.len() - free_nodes,
            leaves: self.leaves.len() - free_leaves,
        }
    }

    // ----- updates -----

    fn ensure_init(&mut self) {
        if self.direct.is_empty() {
            let n = 1usize << K::DIRECT_BITS;
            self.root = vec![Root::default(); n];
            self.direct = vec![0; n];
            self.root_len = vec![0; n];
            self.root_val = vec![0; n];
            self.free_nodes = vec![Vec::new(); 65];
            self.free_leaves = vec![Vec::new(); 65];
        }
    }

    /// Brings the lookup side in step after `key/len` changed in the shadow.
    fn update(&mut self, key: K, len: u8) {
        self.ensure_init();
        let d = K::DIRECT_BITS;
        if u32::from(len) <= d {
            self.update_short(key, len);
            let first = key.bits(0, d);
            (first..first + (1usize << (d - u32::from(len)))).for_each(|j| self.sync_root(j));
        } else {
            let j = key.bits(0, d);
            let e = self.direct[j];
            if e & NODE == 0 {
                self.rebuild_root_slot(j, key.masked(d as u8));
            } else {
                // Descend to the deepest node whose stride holds bit `len`.
                let mut idx = e & !NODE;
                let mut o = d;
                while u32::from(len) > o + STRIDE {
                    let n = self.nodes[idx as usize];
                    let bit = 1u64 << key.bits(o, STRIDE);
                    if n.vector & bit == 0 {
                        break;
                    }
                    idx = n.base1 + (n.vector & ((bit << 1).wrapping_sub(1))).count_ones() - 1;
                    o += STRIDE;
                }
                self.rebuild_slots(idx, o, key, len);
            }
            self.sync_root(j);
        }
        let live = self.nodes.len() + self.leaves.len() - self.garbage;
        if self.garbage > 4096 && self.garbage > live / 2 {
            self.rebuild_all();
        }
    }

    /// Brings lookup-side `root[j]` in step with update-side `direct[j]`.
    fn sync_root(&mut self, j: usize) {
        let e = self.direct[j];
        let n = if e & NODE != 0 { self.nodes[(e & !NODE) as usize] } else { Node::default() };
        self.root[j] = if e & NODE != 0 && n.vector == 0 {
            Root { leafvec: n.leafvec, entry: LEAF_ONLY, base0: n.base0 }
        } else {
            Root { leafvec: 0, entry: e, base0: 0 }
        };
    }

    /// Re-derives the slots of node `idx` (at offset `o`) that `key/len`
    /// covers (or, for `len` past this node's stride, the one slot holding
    /// `key`) with their subtrees; every other slot and subtree is kept.
    fn rebuild_slots(&mut self, idx: u32, o: u32, key: K, len: u8) {
        let end = o + STRIDE;
        let old = self.nodes[idx as usize];
        let default = self.node_default[idx as usize];
        // Decode the node's 64 slots: a child (and the value it inherits) or a leaf.
        let mut value = [0u32; 64];
        let mut kids = [Node::default(); 64];
        // Each leaf run covers the slots up to the next run's start (child
        // slots in between do not break a run); children then overwrite
        // their own slots with the value they inherit.
        let mut starts = old.leafvec;
        let mut run = old.base0 as usize;
        while starts != 0 {
            let first = starts.trailing_zeros() as usize;
            starts &= starts - 1;
            let next = if starts == 0 { 64 } else { starts.trailing_zeros() as usize };
            value[first..next].fill(self.leaves[run]);
            run += 1;
        }
        let mut children = old.vector;
        let mut c = old.base1 as usize;
        while children != 0 {
            let s = children.trailing_zeros() as usize;
            children &= children - 1;
            kids[s] = self.nodes[c];
            value[s] = self.node_default[c];
            c += 1;
        }
        // The covered slots, and the key range whose prefixes decide them.
        let (first, count, lo_len) = if u32::from(len) <= end {
            (key.bits(o, STRIDE), 1usize << (end - u32::from(len)), len)
        } else {
            (key.bits(o, STRIDE), 1, end as u8)
        };
        let lo_key = key.masked(lo_len);
        let covered = if count == 64 { u64::MAX } else { ((1u64 << count) - 1) << first };
        // What the covered slots inherit: the longest prefix above the range
        // inside this node's stride, else the node's default.
        let base = ((o as u8 + 1)..lo_len)
            .rev()
            .find_map(|l| self.shadow_get(key.masked(l), l).map(|v| v + 1))
            .unwrap_or(default);
        let mut ps = std::mem::take(&mut self.scratch);
        ps.clear();
        // One search: the range's upper end is found by scanning, not by a
        // second walk down the tree.
        let last = lo_key.last(lo_len);
        ps.extend(
            self.prefixes
                .range((lo_key, lo_len)..)
                .take_while(|((k, _), _)| *k <= last)
                .map(|(&(k, l), &v)| (k, l, v)),
        );
        value[first..first + count].iter_mut().for_each(|x| *x = base);
        for &(k, l, v) in ps.iter().filter(|p| u32::from(p.1) <= end) {
            let f = k.bits(o, STRIDE);
            let c = 1usize << (end - u32::from(l));
            value[f..f + c].iter_mut().for_each(|x| *x = v + 1);
        }
        // Free the covered subtrees and this node's own arrays.
        for (s, kid) in kids.iter().enumerate() {
            if old.vector & covered & (1 << s) != 0 {
                self.free_below(*kid);
            }
        }
        let nkids = old.vector.count_ones() as usize;
        if nkids > 0 {
            self.free_node_array(old.base1, nkids);
        }
        let nleaf = old.leafvec.count_ones() as usize;
        if nleaf > 0 {
            self.free_leaves[nleaf].push(old.base0);
            self.garbage += nleaf;
        }
        // New children for the covered slots.
        let mut node = Node { vector: old.vector & !covered, ..Node::default() };
        let mut a = 0;
        while a < ps.len() {
            if u32::from(ps[a].1) <= end {
                a += 1;
                continue;
            }
            let s = ps[a].0.bits(o, STRIDE);
            let mut b = a + 1;
            while b < ps.len() && ps[b].0.bits(o, STRIDE) == s && u32::from(ps[b].1) > end {
                b += 1;
            }
            kids[s] = self.build_node(end, value[s], &ps[a..b]);
            node.vector |= 1 << s;
            a = b;
        }
        self.encode(&mut node, &value, &kids);
        self.nodes[idx as usize] = node;
        self.scratch = ps;
    }

    /// Stores `node`'s children (`kids` at the slots of `node.vector`, each
    /// inheriting `value` of its slot) and its leaf runs in new arrays.
    fn encode(&mut self, node: &mut Node, value: &[u32; 64], kids: &[Node; 64]) {
        let nkids = node.vector.count_ones() as usize;
        if nkids > 0 {
            let base = self.alloc_nodes(nkids);
            let mut children = node.vector;
            let mut i = base as usize;
            while children != 0 {
                let s = children.trailing_zeros() as usize;
                children &= children - 1;
                self.nodes[i] = kids[s];
                self.node_default[i] = value[s];
                i += 1;
            }
            node.base1 = base;
        }
        node.leafvec = run_starts(value, node.vector);
        let mut runs = [0u32; 64];
        let mut nrun = 0usize;
        let mut starts = node.leafvec;
        while starts != 0 {
            runs[nrun] = value[starts.trailing_zeros() as usize];
            nrun += 1;
            starts &= starts - 1;
        }
        node.base0 = 0;
        if nrun > 0 {
            let base = self.alloc_leaves(nrun);
            let b = base as usize;
            self.leaves[b..b + nrun].copy_from_slice(&runs[..nrun]);
            node.base0 = base;
        }
    }

    /// Rebuilds `small` from the shadow.
    fn refresh_small(&mut self) {
        self.small.clear();
        self.small.extend(self.prefixes.iter().map(|(&(k, l), &v)| (k, K::mask(l), v)));
        // Longest first (a longer mask is the larger number): prefixes of
        // one length are disjoint, so the first hit is the longest match.
        self.small.sort_by_key(|e| std::cmp::Reverse(e.1));
    }

    /// `prefixes[key/len]`, with the presence filter in front (`key` masked).
    #[inline]
    fn shadow_get(&self, key: K, len: u8) -> Option<u32> {
        if self.presence.may_hold(key, len) {
            self.prefixes.get(&(key, len)).copied()
        } else {
            None
        }
    }

    /// A prefix no longer than D changed: refresh the direct entries it covers.
    fn update_short(&mut self, key: K, len: u8) {
        let d = K::DIRECT_BITS;
        let first = key.bits(0, d);
        let count = 1usize << (d - u32::from(len));
        let own = self.prefixes.get(&(key, len)).copied();
        let (new_len, new_val) = match own {
            Some(v) => (len + 1, v + 1),
            None => {
                // The next shorter prefix covering `key`, if any.
                (0..len)
                    .rev()
                    .find_map(|l| self.shadow_get(key.masked(l), l).map(|v| (l + 1, v + 1)))
                    .unwrap_or((0, 0))
            }
        };
        let present = own.is_some();
        for s in first..first + count {
            let take = if present { self.root_len[s] <= len + 1 } else { self.root_len[s] == len + 1 };
            if !take {
                continue;
            }
            self.root_len[s] = new_len;
            if self.root_val[s] == new_val {
                continue;
            }
            self.root_val[s] = new_val;
            let e = self.direct[s];
            if e & NODE == 0 {
                self.direct[s] = new_val;
            } else {
                self.node_default[(e & !NODE) as usize] = new_val;
                self.rebuild_root_slot(s, K::from_direct(s));
            }
        }
    }

    /// Rebuilds direct entry `j` (span `span`/D) from the shadow.
    fn rebuild_root_slot(&mut self, j: usize, span: K) {
        let d = K::DIRECT_BITS;
        let ps = self.span(span, d as u8);
        let e = self.direct[j];
        if e & NODE != 0 {
            let idx = e & !NODE;
            let old = self.nodes[idx as usize];
            self.free_below(old);
            if ps.is_empty() {
                self.free_node_array(idx, 1);
                self.direct[j] = self.root_val[j];
                return;
            }
            let node = self.build_node(d, self.root_val[j], &ps);
            self.nodes[idx as usize] = node;
            self.node_default[idx as usize] = self.root_val[j];
        } else if !ps.is_empty() {
            let node = self.build_node(d, self.root_val[j], &ps);
            let idx = self.alloc_nodes(1);
            self.nodes[idx as usize] = node;
            self.node_default[idx as usize] = self.root_val[j];
            self.direct[j] = NODE | idx;
        } else {
            self.direct[j] = self.root_val[j];
        }
    }

    /// The prefixes strictly longer than `len` inside `key/len`, sorted.
    fn span(&self, key: K, len: u8) -> Vec<(K, u8, u32)> {
        self.prefixes
            .range((key, 0)..=(key.last(len), u8::MAX))
            .filter(|((_, l), _)| *l > len)
            .map(|(&(k, l), &v)| (k, l, v))
            .collect()
    }

    /// Rebuilds everything from the shadow, compactly.
    fn rebuild_all(&mut self) {
        let d = K::DIRECT_BITS;
        self.root = Vec::new();
        self.direct = Vec::new();
        self.nodes = Vec::new();
        self.leaves = Vec::new();
        self.node_default = Vec::new();
        self.garbage = 0;
        self.ensure_init();
        self.root_len.iter_mut().for_each(|x| *x = 0);
        self.root_val.iter_mut().for_each(|x| *x = 0);
        for f in self.free_nodes.iter_mut().chain(self.free_leaves.iter_mut()) {
            f.clear();
        }
        self.presence.rebuild(self.prefixes.len(), self.prefixes.keys().copied());
        let all: Vec<(K, u8, u32)> = self.iter().collect();
        // Sorted by key then length, a later prefix overlapping an earlier one
        // is inside it (longer): writing in order leaves the longest match.
        for &(k, l, v) in all.iter().filter(|p| u32::from(p.1) <= d) {
            let first = k.bits(0, d);
            let count = 1usize << (d - u32::from(l));
            self.root_len[first..first + count].iter_mut().for_each(|x| *x = l + 1);
            self.root_val[first..first + count].iter_mut().for_each(|x| *x = v + 1);
        }
        self.direct.copy_from_slice(&self.root_val);
        let long: Vec<(K, u8, u32)> = all.into_iter().filter(|p| u32::from(p.1) > d).collect();
        let mut a = 0;
        while a < long.len() {
            let j = long[a].0.bits(0, d);
            let mut b = a + 1;
            while b < long.len() && long[b].0.bits(0, d) == j {
                b += 1;
            }
            let node = self.build_node(d, self.root_val[j], &long[a..b]);
            let idx = self.alloc_nodes(1);
            self.nodes[idx as usize] = node;
            self.node_default[idx as usize] = self.root_val[j];
            self.direct[j] = NODE | idx;
            a = b;
        }
        (0..self.direct.len()).for_each(|j| self.sync_root(j));
        self.nodes.shrink_to_fit();
        self.leaves.shrink_to_fit();
        self.node_default.shrink_to_fit();
    }

    /// Builds the node at offset `o` whose span's prefixes longer than `o`
    /// are `ps` (sorted) and whose uncovered slots inherit `default`.
    fn build_node(&mut self, o: u32, default: u32, ps: &[(K, u8, u32)]) -> Node {
        let end = o + STRIDE;
        let mut slots = [default; 64];
        for &(k, l, v) in ps.iter().filter(|p| u32::from(p.1) <= end) {
            let first = k.bits(o, STRIDE);
            let count = 1usize << (end - u32::from(l));
            slots[first..first + count].iter_mut().for_each(|x| *x = v + 1);
        }
        let mut node = Node::default();
        let mut kids = [Node::default(); 64];
        let mut a = 0;
        while a < ps.len() {
            if u32::from(ps[a].1) <= end {
                a += 1;
                continue;
            }
            let s = ps[a].0.bits(o, STRIDE);
            let mut b = a + 1;
            while b < ps.len() && ps[b].0.bits(o, STRIDE) == s && u32::from(ps[b].1) > end {
                b += 1;
            }
            kids[s] = self.build_node(end, slots[s], &ps[a..b]);
            node.vector |= 1 << s;
            a = b;
        }
        self.encode(&mut node, &slots, &kids);
        node
    }

    /// Frees the arrays below `n` (its children, recursively, and its leaves).
    fn free_below(&mut self, n: Node) {
        let nchild = n.vector.count_ones();
        for i in 0..nchild {
            let c = self.nodes[(n.base1 + i) as usize];
            self.free_below(c);
        }
        if nchild > 0 {
            self.free_node_array(n.base1, nchild as usize);
        }
        let nleaf = n.leafvec.count_ones() as usize;
        if nleaf > 0 {
            self.free_leaves[nleaf].push(n.base0);
            self.garbage += nleaf;
        }
    }

    fn free_node_array(&mut self, base: u32, n: usize) {
        self.free_nodes[n].push(base);
        self.garbage += n;
    }

    fn alloc_nodes(&mut self, n: usize) -> u32 {
        if let Some(b) = self.free_nodes[n].pop() {
            self.garbage -= n;
            return b;
        }
        let b = self.nodes.len();
        self.nodes.resize(b + n, Node::default());
        self.node_default.resize(b + n, 0);
        b as u32
    }

    fn alloc_leaves(&mut self, n: usize) -> u32 {
        if let Some(b) = self.free_leaves[n].pop() {
            self.garbage -= n;
            return b;
        }
        let b = self.leaves.len();
        self.leaves.resize(b + n, 0);
        b as u32
    }
}

#[cfg(test)]
#[path = "lpm_tests.rs"]
mod tests;
