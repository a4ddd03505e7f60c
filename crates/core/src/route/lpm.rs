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
//! - `nodes`: nodes of 2^S slots, S (the stride) = 6 for IPv4 and 8 for
//!   IPv6. A node at offset `o` consumes the S address bits `o..o+S`
//!   (zero-padded past the address's end). It is stored as 2^(S-6)
//!   consecutive 24-byte words (`Node`) of 64 slots each: one for IPv4, four
//!   for IPv6. `vector` marks the slots that are internal nodes, stored
//!   contiguously from the node's child base; the other slots are leaves,
//!   run-length compressed: `leafvec` marks the slots where a new run of
//!   equal leaves starts, and the runs are stored contiguously from the
//!   node's leaf base. Each word's `base1`/`base0` already add the children
//!   and runs of the words before it, so a slot's child or leaf is found by
//!   a population count of its own word's bit vector below it: a lookup is
//!   one direct read plus one 24-byte word and one 4-byte leaf per S bits
//!   past D. IPv6's wider nodes make an in-table lookup (mostly /48s: nodes
//!   at bits 16, 24, 32, 40) two reads shorter than six-bit nodes would
//!   (16, 22, 28, 34, 40, 46), for the same instructions per node.
//! - `leaves`: next-hop ids + 1.
//!
//! # Update side
//!
//! A sorted shadow of the prefixes (`BTreeMap`) is the source of truth; a
//! one-hash Bloom filter (`lpm_presence.rs`) in front of it answers most of
//! an update's probes for covering prefixes without walking the tree. An
//! update of `p/L` rebuilds only the covered slots of the deepest existing
//! node whose stride holds bit `L`, from the prefixes inside their span (in
//! place, without decoding the node, when its shape stays: `lpm_update.rs`).
//! Prefixes no longer than D are applied to the
//! direct entries they cover (keeping the length of each entry's best short
//! prefix, so a withdrawal restores the next shorter one). Freed node and
//! leaf arrays go to exact-size free lists and are reused; when more than a
//! third of the arrays are free the whole structure is rebuilt compactly.
//! The caller holds `&mut self`, so an update is atomic for every lookup.

use std::collections::BTreeMap;

#[path = "lpm_burst.rs"]
mod burst;
#[path = "lpm_presence.rs"]
mod presence;
#[path = "lpm_update.rs"]
mod update;
use presence::Presence;

/// An address family's key: the address as an unsigned integer.
pub trait PrefixKey: Copy + Eq + Ord + std::hash::Hash + std::fmt::Debug {
    /// Bits in the address.
    const BITS: u8;
    /// Bits resolved by the first-level (direct) table.
    const DIRECT_BITS: u32;
    /// Bits consumed by one node (6 or 8: a node is 2^(STRIDE-6) words of
    /// 64 slots).
    const STRIDE: u32;
    /// Whether `Lpm::lookup_batch` advances its lookups in rounds (deep
    /// tries) rather than in the three passes of `Lpm::lookup_shallow`
    /// (tries whose full-table lookups end at the first level).
    const ROUNDS: bool;
    /// The address with bits past `len` cleared.
    fn masked(self, len: u8) -> Self;
    /// The last address of `self/len` (bits past `len` set).
    fn last(self, len: u8) -> Self;
    /// `n` (1..=32) bits starting at bit `offset` (0 = most significant),
    /// zero-padded past the end of the address; `offset < 128`.
    fn bits(self, offset: u32, n: u32) -> usize;
    /// The `STRIDE` bits at `offset` (`self.bits(offset, STRIDE)`), for
    /// the offsets a lookup visits (`DIRECT_BITS` + a multiple of
    /// `STRIDE`); the lookup's hot step.
    #[inline(always)]
    fn stride(self, offset: u32) -> usize {
        self.bits(offset, Self::STRIDE)
    }
    /// The 64-bit word of the key that holds the stride at `offset`, for
    /// the offsets a lookup visits: the stride is
    /// `(half << (offset % 64)) >> (64 - STRIDE)`. Bursts keep each lane's
    /// halves, shifted as the walk goes, instead of the whole key.
    fn half(self, offset: u32) -> u64;
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
    /// Six: a first-level node then ends at /24, the longest prefix of the
    /// full table, and is leaf-only, which the first level inlines.
    const STRIDE: u32 = 6;
    /// A full-table IPv4 lookup is a root entry and a leaf (every first-level
    /// node is leaf-only): nothing for rounds to advance.
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
    #[inline(always)]
    fn half(self, _offset: u32) -> u64 {
        u64::from(self) << 32
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
    /// Eight: an in-table lookup (mostly /48s) walks nodes at 16, 24, 32
    /// and 40 (mean 5.5 dependent reads on the full table, against 7.0
    /// with six-bit nodes).
    const STRIDE: u32 = 8;
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
        ((self.half(offset) << (offset & 63)) >> (64 - Self::STRIDE)) as usize
    }
    #[inline(always)]
    fn half(self, offset: u32) -> u64 {
        if offset < 64 {
            (self >> 64) as u64
        } else {
            self as u64
        }
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
const _: () = assert!((64 - <u128 as PrefixKey>::DIRECT_BITS) % <u128 as PrefixKey>::STRIDE == 0);

/// A table of at most this many prefixes is a list, longest first, which
/// lookups scan; the trie is built when the table grows past it and dropped
/// again when it shrinks to half of it (no rebuild per route flap).
const SMALL: usize = 16;

/// Lanes of `Lpm::lookup_rounds`.
const LANES: usize = 32;

/// Slots of one node word (`Node`): 64, one bit each in a `u64`.
const WORD_SLOTS: usize = 64;
/// A direct or root entry with this bit set holds a node index.
const NODE: u32 = 1 << 31;
/// A root entry with this bit set holds a leaf-only node's `leafvec` and
/// `base0` inline.
const LEAF_ONLY: u32 = 1 << 30;
/// In a burst (`Lpm::lookup_rounds`, `Lpm::lookup_shallow`), a lane's
/// entry with this bit set (and not `NODE`) holds the index of its leaf,
/// read after the last round or pass. Leaves (values + 1) stay below it.
const PENDING: u32 = LEAF_ONLY;

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

/// One word of a node: 64 of its slots (24 bytes). A node is `Lpm::WORDS`
/// consecutive words.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Node {
    /// Slot `i` is an internal node.
    vector: u64,
    /// Slot `i` (a leaf) starts a new run of equal leaves.
    leafvec: u64,
    /// The leaf run of this word's first run start: the node's first run
    /// plus the runs started in the words before this one (so a leaf slot
    /// before this word's first run start reads the run before it).
    base0: u32,
    /// The first word of this word's first child: the node's first child
    /// plus `WORDS` per child in the words before this one.
    base1: u32,
}

/// Where the leaf of a leaf slot of a word with run starts `leafvec` and
/// leaf base `base0` sits, `upto` masking the slot and those before it: its
/// run is the last one started at or before it, counted by a population
/// count.
#[inline(always)]
fn run_index(leafvec: u64, base0: u32, upto: u64) -> usize {
    (base0 + (leafvec & upto).count_ones() - 1) as usize
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
    /// Node words (64 slots, 24 bytes each) in use (not counting free ones).
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
    /// walks a node per stride past `D` (a /64 is six nodes deep in IPv6)
    /// and its first level alone takes 4 MiB (IPv4) or 1 MiB (IPv6).
    small: Vec<(K, K, u32)>,
    /// Per direct entry: 1 + the length of its best prefix of length <= D
    /// (0: none), and that prefix's value + 1 (0: none).
    root_len: Vec<u8>,
    root_val: Vec<u32>,
    /// Per node (at its first word's index): the encoded leaf of the best
    /// prefix no longer than the node's offset covering its span (what
    /// slots without a longer prefix inherit).
    node_default: Vec<u32>,
    /// Free arrays by exact size in words or leaves (index = size).
    free_nodes: Vec<Vec<u32>>,
    free_leaves: Vec<Vec<u32>>,
    /// Reused buffer for the prefixes an update re-derives (no allocation
    /// per update).
    scratch: Vec<(K, u8, u32)>,
    /// Reused stack of the children a node rebuild is assembling (their
    /// words), before they are copied into the node's child array.
    kids: Vec<Node>,
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
            kids: Vec::new(),
        }
    }
}

impl<K: PrefixKey> Lpm<K> {
    /// The largest value a prefix may map to.
    pub const MAX_VALUE: u32 = LEAF_ONLY - 2;

    /// Slots in one node: 2^STRIDE.
    const SLOTS: usize = 1 << K::STRIDE;
    /// Words (`Node`s of 64 slots) in one node.
    const WORDS: usize = Self::SLOTS / WORD_SLOTS;

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
            o += K::STRIDE * u32::from(down);
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
        self.leaves.get(run_index(r.leafvec, r.base0, upto)).copied().unwrap_or(0)
    }

    /// One node of a lookup: from `e` (`NODE | index`, consuming the
    /// `STRIDE` bits of `addr` at `o`), the child's entry and `true`, or the
    /// leaf and `false`. Only the word holding the slot is read.
    #[inline(always)]
    fn next(&self, e: u32, addr: K, o: u32) -> (u32, bool) {
        self.step(e, addr.stride(o))
    }

    /// [`Lpm::next`] from the slot `s` the address selects in the node.
    #[inline(always)]
    fn step(&self, e: u32, s: usize) -> (u32, bool) {
        let Some(n) = self.nodes.get((e & !NODE) as usize + s / WORD_SLOTS) else { return (0, false) };
        let bit = 1u64 << (s % WORD_SLOTS);
        let upto = (bit << 1).wrapping_sub(1);
        if n.vector & bit != 0 {
            (NODE | (n.base1 + ((n.vector & upto).count_ones() - 1) * Self::WORDS as u32), true)
        } else {
            (self.leaves.get(run_index(n.leafvec, n.base0, upto)).copied().unwrap_or(0), false)
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
            o += K::STRIDE;
        }
        n
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
            + self.kids.capacity() * size_of::<Node>()
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
}

#[cfg(test)]
#[path = "lpm_tests.rs"]
mod tests;
