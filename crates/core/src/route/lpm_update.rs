//! The update side of the FIB's Poptrie (`lpm.rs`): bringing the lookup
//! side in step with the sorted shadow after an insert or removal, and the
//! bulk build.
//!
//! A node is `Lpm::WORDS` consecutive 64-slot words (one for IPv4's six-bit
//! strides, four for IPv6's eight-bit ones). While a node is rebuilt it is
//! decoded into one value per slot and the words of its children; the
//! children being assembled wait on `Lpm::kids` (a reused stack, so a
//! rebuild allocates nothing once warm) until the node's child array is
//! allocated and they are copied into it.

use super::{run_index, Lpm, Node, PrefixKey, Root, LEAF_ONLY, NODE, WORD_SLOTS};

/// Slots of the widest node (IPv6: eight-bit strides).
const MAX_SLOTS: usize = 256;
/// Words of the widest node.
const MAX_WORDS: usize = MAX_SLOTS / WORD_SLOTS;

/// One bit per slot of a node, a `u64` per word.
type Bits = [u64; MAX_WORDS];
/// The words of one node (the first `Lpm::WORDS` are used).
type Group = [Node; MAX_WORDS];

/// The set bits of `bits`' first `words` words, as slot numbers, ascending.
fn ones(bits: &Bits, words: usize) -> impl Iterator<Item = usize> + '_ {
    bits[..words].iter().enumerate().flat_map(|(w, &b)| {
        let mut b = b;
        std::iter::from_fn(move || {
            (b != 0).then(|| {
                let s = b.trailing_zeros() as usize;
                b &= b - 1;
                w * WORD_SLOTS + s
            })
        })
    })
}

/// How many bits of `bits`' first `words` words are set.
fn count(bits: &Bits, words: usize) -> usize {
    bits[..words].iter().map(|b| b.count_ones() as usize).sum()
}

/// The leaf slots of one 64-slot word (those not in `children`) where a new
/// run of equal values starts, a child slot never breaking a run: bit `s`
/// is set for every leaf slot whose value differs from the previous leaf
/// slot's, and for the word's first leaf slot unless it continues `before`,
/// the value of the last leaf slot of the words before it (`None`: no leaf
/// before it in the node).
pub(super) fn run_starts(value: &[u32; 64], children: u64, before: Option<u32>) -> u64 {
    let leaves = !children;
    if leaves == 0 {
        return 0;
    }
    let head = leaves & leaves.wrapping_neg();
    let first = value[leaves.trailing_zeros() as usize];
    // Child slots take the value of the leaf slot before them (the first
    // leaf slot's, before any leaf), so they neither start nor end a run.
    let mut carried = *value;
    if children != 0 {
        let mut prev = first;
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
    (differs & leaves) | if before == Some(first) { 0 } else { head }
}

/// [`run_starts`] over a whole node: `value` holds its slots (a multiple of
/// 64), `children` one word per 64 of them.
pub(super) fn node_run_starts(value: &[u32], children: &Bits) -> Bits {
    let mut starts = [0; MAX_WORDS];
    let mut before = None;
    let (words, _) = value.as_chunks::<WORD_SLOTS>();
    for (w, word) in words.iter().enumerate().take(MAX_WORDS) {
        starts[w] = run_starts(word, children[w], before);
        let leaves = !children[w];
        if leaves != 0 {
            before = Some(word[63 - leaves.leading_zeros() as usize]);
        }
    }
    starts
}

/// The run starts of a node after the slots `first..first + count` changed
/// (their values, or whether they are children), from its run starts
/// `before` the change: only the changed slots and the first leaf slot after
/// them can start or stop starting a run, as every other leaf slot keeps its
/// value and the leaf slot before it. `value` and `children` are the node's
/// new slots; the result equals [`node_run_starts`] of them.
pub(super) fn patch_run_starts(
    before: &Bits,
    value: &[u32],
    children: &Bits,
    first: usize,
    count: usize,
) -> Bits {
    let is_leaf = |s: usize| children[s / WORD_SLOTS] & (1 << (s % WORD_SLOTS)) == 0;
    let mut starts = *before;
    // The value of the last leaf slot before `first`, if any.
    let mut prev = (0..first).rev().find(|&s| is_leaf(s)).map(|s| value[s]);
    let mark = |starts: &mut Bits, s: usize, on: bool| {
        let bit = 1u64 << (s % WORD_SLOTS);
        if on {
            starts[s / WORD_SLOTS] |= bit;
        } else {
            starts[s / WORD_SLOTS] &= !bit;
        }
    };
    for (s, &v) in value.iter().enumerate().skip(first).take(count) {
        mark(&mut starts, s, is_leaf(s) && prev != Some(v));
        if is_leaf(s) {
            prev = Some(v);
        }
    }
    if let Some(t) = (first + count..value.len()).find(|&s| is_leaf(s)) {
        mark(&mut starts, t, prev != Some(value[t]));
    }
    starts
}

impl<K: PrefixKey> Lpm<K> {
    pub(super) fn ensure_init(&mut self) {
        if self.direct.is_empty() {
            let n = 1usize << K::DIRECT_BITS;
            self.root = vec![Root::default(); n];
            self.direct = vec![0; n];
            self.root_len = vec![0; n];
            self.root_val = vec![0; n];
            self.free_nodes = vec![Vec::new(); Self::SLOTS * Self::WORDS + 1];
            self.free_leaves = vec![Vec::new(); Self::SLOTS + 1];
        }
    }

    /// The words of the node at `idx`.
    fn group(&self, idx: u32) -> Group {
        let mut g = [Node::default(); MAX_WORDS];
        let at = idx as usize;
        g[..Self::WORDS].copy_from_slice(&self.nodes[at..at + Self::WORDS]);
        g
    }

    /// Stores `g` as the node at `idx`.
    fn put_group(&mut self, idx: u32, g: &Group) {
        let at = idx as usize;
        self.nodes[at..at + Self::WORDS].copy_from_slice(&g[..Self::WORDS]);
    }

    /// Pushes node `g` on the stack of children being assembled; returns
    /// where it sits.
    fn push_kid(&mut self, g: &Group) -> u32 {
        let at = self.kids.len() as u32;
        self.kids.extend_from_slice(&g[..Self::WORDS]);
        at
    }

    /// Brings the lookup side in step after `key/len` changed in the shadow.
    pub(super) fn update(&mut self, key: K, len: u8) {
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
                while u32::from(len) > o + K::STRIDE {
                    // The lookup's own node step.
                    let (next, down) = self.step(NODE | idx, key.bits(o, K::STRIDE));
                    if !down {
                        break;
                    }
                    idx = next & !NODE;
                    o += K::STRIDE;
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

    /// Brings lookup-side `root[j]` in step with update-side `direct[j]`:
    /// a leaf-only one-word node is inlined.
    fn sync_root(&mut self, j: usize) {
        let e = self.direct[j];
        let n = if e & NODE != 0 { self.nodes[(e & !NODE) as usize] } else { Node::default() };
        self.root[j] = if Self::WORDS == 1 && e & NODE != 0 && n.vector == 0 {
            Root { leafvec: n.leafvec, entry: LEAF_ONLY, base0: n.base0 }
        } else {
            Root { leafvec: 0, entry: e, base0: 0 }
        };
    }

    /// Decodes the node `g` into `value` (every slot's leaf; a child slot,
    /// the value its child inherits) and pushes its children on `kids`,
    /// noting where in `kid_at`; returns its child bits.
    fn decode(&mut self, g: &Group, value: &mut [u32; MAX_SLOTS], kid_at: &mut [u32; MAX_SLOTS]) -> Bits {
        let words = Self::WORDS;
        let vector: Bits = std::array::from_fn(|w| if w < words { g[w].vector } else { 0 });
        let starts: Bits = std::array::from_fn(|w| if w < words { g[w].leafvec } else { 0 });
        // Each leaf run covers the slots up to the next run's start (child
        // slots in between do not break a run); children then overwrite
        // their own slots with the value they inherit.
        let mut run = g[0].base0 as usize;
        let mut from = None;
        for s in ones(&starts, words) {
            if let Some(f) = from {
                value[f..s].fill(self.leaves[run - 1]);
            }
            from = Some(s);
            run += 1;
        }
        if let Some(f) = from {
            value[f..Self::SLOTS].fill(self.leaves[run - 1]);
        }
        let base = g[0].base1 as usize;
        for (c, s) in ones(&vector, words).enumerate() {
            let at = base + c * words;
            kid_at[s] = self.kids.len() as u32;
            self.kids.extend_from_slice(&self.nodes[at..at + words]);
            value[s] = self.node_default[at];
        }
        vector
    }

    /// Re-derives the slots of node `idx` (at offset `o`) that `key/len`
    /// covers (or, for `len` past this node's stride, the one slot holding
    /// `key`) with their subtrees; every other slot and subtree is kept.
    fn rebuild_slots(&mut self, idx: u32, o: u32, key: K, len: u8) {
        let end = o + K::STRIDE;
        let words = Self::WORDS;
        let old = self.group(idx);
        let default = self.node_default[idx as usize];
        // The covered slots, and the key range whose prefixes decide them.
        let (first, count, lo_len) = if u32::from(len) <= end {
            (key.bits(o, K::STRIDE), 1usize << (end - u32::from(len)), len)
        } else {
            (key.bits(o, K::STRIDE), 1, end as u8)
        };
        let lo_key = key.masked(lo_len);
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
        if self.patch_in_place(idx, o, first, count, base, &ps) {
            self.scratch = ps;
            return;
        }
        let mark = self.kids.len();
        let mut value = [0u32; MAX_SLOTS];
        let mut kid_at = [0u32; MAX_SLOTS];
        let old_vector = self.decode(&old, &mut value, &mut kid_at);
        value[first..first + count].fill(base);
        for &(k, l, v) in ps.iter().filter(|p| u32::from(p.1) <= end) {
            let f = k.bits(o, K::STRIDE);
            let c = 1usize << (end - u32::from(l));
            value[f..f + c].fill(v + 1);
        }
        // Free the covered subtrees and this node's own arrays.
        let mut vector = old_vector;
        for s in first..first + count {
            let bit = 1u64 << (s % WORD_SLOTS);
            if vector[s / WORD_SLOTS] & bit != 0 {
                vector[s / WORD_SLOTS] &= !bit;
                let at = kid_at[s] as usize;
                let mut g = [Node::default(); MAX_WORDS];
                g[..words].copy_from_slice(&self.kids[at..at + words]);
                self.free_below(&g);
            }
        }
        self.free_arrays(&old);
        // New children for the covered slots.
        self.build_children(o, &ps, &value, &mut vector, &mut kid_at);
        let old_starts: Bits = std::array::from_fn(|w| if w < words { old[w].leafvec } else { 0 });
        let starts = patch_run_starts(&old_starts, &value[..Self::SLOTS], &vector, first, count);
        let node = self.encode(&vector, &value, &kid_at, &starts);
        self.put_group(idx, &node);
        self.kids.truncate(mark);
        self.scratch = ps;
    }

    /// Where the leaf of slot `s` (a leaf slot) of node `g` sits.
    fn slot_run(g: &Group, s: usize) -> usize {
        let n = &g[s / WORD_SLOTS];
        run_index(n.leafvec, n.base0, (2u64 << (s % WORD_SLOTS)).wrapping_sub(1))
    }

    /// The common update that keeps node `idx`'s shape (a next hop changed,
    /// or a prefix came or went whose slots keep their runs): when the
    /// covered slots `first..first + count` hold no child and get none (no
    /// prefix of `ps` is longer than the node's stride), and their new
    /// values start runs exactly where the old ones did, only the leaves of
    /// those runs are rewritten, in place; no slot is decoded and no array
    /// moves. Returns whether it applied (else the caller rebuilds the node).
    fn patch_in_place(
        &mut self,
        idx: u32,
        o: u32,
        first: usize,
        count: usize,
        base: u32,
        ps: &[(K, u8, u32)],
    ) -> bool {
        const MOST: usize = 16;
        let end = o + K::STRIDE;
        if count > MOST || ps.iter().any(|p| u32::from(p.1) > end) {
            return false;
        }
        let g = self.group(idx);
        let is_leaf = |s: usize| g[s / WORD_SLOTS].vector & (1 << (s % WORD_SLOTS)) == 0;
        if !(first..first + count).all(is_leaf) {
            return false;
        }
        let mut value = [base; MOST];
        for &(k, l, v) in ps {
            let f = k.bits(o, K::STRIDE) - first;
            value[f..f + (1usize << (end - u32::from(l)))].fill(v + 1);
        }
        // The run starts the new values make must be the old ones.
        let starts = |s: usize| g[s / WORD_SLOTS].leafvec & (1 << (s % WORD_SLOTS)) != 0;
        let mut prev = (0..first).rev().find(|&s| is_leaf(s)).map(|s| self.leaves[Self::slot_run(&g, s)]);
        for (i, &v) in value[..count].iter().enumerate() {
            if starts(first + i) != (prev != Some(v)) {
                return false;
            }
            prev = Some(v);
        }
        if let Some(t) = (first + count..Self::SLOTS).find(|&s| is_leaf(s)) {
            if starts(t) != (prev != Some(self.leaves[Self::slot_run(&g, t)])) {
                return false;
            }
        }
        for (i, &v) in value[..count].iter().enumerate() {
            let s = first + i;
            if starts(s) {
                self.leaves[Self::slot_run(&g, s)] = v;
            }
        }
        true
    }

    /// A node whose children are `vector` (each at `kid_at` on `kids`,
    /// inheriting `value` of its slot) and whose leaf slots hold `value`,
    /// runs starting at `starts`: its children and leaf runs stored in new
    /// arrays.
    fn encode(
        &mut self,
        vector: &Bits,
        value: &[u32; MAX_SLOTS],
        kid_at: &[u32; MAX_SLOTS],
        starts: &Bits,
    ) -> Group {
        let words = Self::WORDS;
        let nkids = count(vector, words);
        let mut child_base = 0;
        if nkids > 0 {
            child_base = self.alloc_nodes(nkids * words);
            for (i, s) in ones(vector, words).enumerate() {
                let dst = child_base as usize + i * words;
                let src = kid_at[s] as usize;
                self.nodes[dst..dst + words].copy_from_slice(&self.kids[src..src + words]);
                self.node_default[dst] = value[s];
            }
        }
        let nrun = count(starts, words);
        let mut leaf_base = 0;
        if nrun > 0 {
            leaf_base = self.alloc_leaves(nrun);
            for (r, s) in ones(starts, words).enumerate() {
                self.leaves[leaf_base as usize + r] = value[s];
            }
        }
        let mut node = [Node::default(); MAX_WORDS];
        let (mut kids_before, mut runs_before) = (0, 0);
        for w in 0..words {
            node[w] = Node {
                vector: vector[w],
                leafvec: starts[w],
                base0: leaf_base + runs_before,
                base1: child_base + kids_before * words as u32,
            };
            kids_before += vector[w].count_ones();
            runs_before += starts[w].count_ones();
        }
        node
    }

    /// Rebuilds `small` from the shadow.
    pub(super) fn refresh_small(&mut self) {
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
            let old = self.group(idx);
            self.free_below(&old);
            if ps.is_empty() {
                self.free_node_array(idx, Self::WORDS);
                self.direct[j] = self.root_val[j];
                return;
            }
            let node = self.build_node(d, self.root_val[j], &ps);
            self.put_group(idx, &node);
            self.node_default[idx as usize] = self.root_val[j];
        } else if !ps.is_empty() {
            self.place_first_level(j, &ps);
        } else {
            self.direct[j] = self.root_val[j];
        }
    }

    /// Builds the first-level node of direct entry `j` from `ps`, the
    /// prefixes longer than D in its span, and points the entry at it.
    fn place_first_level(&mut self, j: usize, ps: &[(K, u8, u32)]) {
        let node = self.build_node(K::DIRECT_BITS, self.root_val[j], ps);
        let idx = self.alloc_nodes(Self::WORDS);
        self.put_group(idx, &node);
        self.node_default[idx as usize] = self.root_val[j];
        self.direct[j] = NODE | idx;
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
    pub(super) fn rebuild_all(&mut self) {
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
            self.place_first_level(j, &long[a..b]);
            a = b;
        }
        (0..self.direct.len()).for_each(|j| self.sync_root(j));
        self.nodes.shrink_to_fit();
        self.leaves.shrink_to_fit();
        self.node_default.shrink_to_fit();
    }

    /// Builds the node at offset `o` whose span's prefixes longer than `o`
    /// are `ps` (sorted) and whose uncovered slots inherit `default`.
    fn build_node(&mut self, o: u32, default: u32, ps: &[(K, u8, u32)]) -> Group {
        let end = o + K::STRIDE;
        let mut value = [default; MAX_SLOTS];
        for &(k, l, v) in ps.iter().filter(|p| u32::from(p.1) <= end) {
            let first = k.bits(o, K::STRIDE);
            let count = 1usize << (end - u32::from(l));
            value[first..first + count].fill(v + 1);
        }
        let mark = self.kids.len();
        let mut vector = [0u64; MAX_WORDS];
        let mut kid_at = [0u32; MAX_SLOTS];
        self.build_children(o, ps, &value, &mut vector, &mut kid_at);
        let starts = node_run_starts(&value[..Self::SLOTS], &vector);
        let node = self.encode(&vector, &value, &kid_at, &starts);
        self.kids.truncate(mark);
        node
    }

    /// Builds a child for every slot of the node at offset `o` that holds
    /// prefixes of `ps` (sorted) longer than its stride, each inheriting
    /// `value` of its slot; pushes them on `kids` and marks them in
    /// `vector` and `kid_at`.
    fn build_children(
        &mut self,
        o: u32,
        ps: &[(K, u8, u32)],
        value: &[u32; MAX_SLOTS],
        vector: &mut Bits,
        kid_at: &mut [u32; MAX_SLOTS],
    ) {
        let end = o + K::STRIDE;
        let mut a = 0;
        while a < ps.len() {
            if u32::from(ps[a].1) <= end {
                a += 1;
                continue;
            }
            let s = ps[a].0.bits(o, K::STRIDE);
            let mut b = a + 1;
            while b < ps.len() && ps[b].0.bits(o, K::STRIDE) == s && u32::from(ps[b].1) > end {
                b += 1;
            }
            let kid = self.build_node(end, value[s], &ps[a..b]);
            kid_at[s] = self.push_kid(&kid);
            vector[s / WORD_SLOTS] |= 1 << (s % WORD_SLOTS);
            a = b;
        }
    }

    /// Frees the arrays below node `g` (its children, recursively, and its
    /// leaves).
    fn free_below(&mut self, g: &Group) {
        let words = Self::WORDS;
        let nchild: usize = g[..words].iter().map(|n| n.vector.count_ones() as usize).sum();
        for i in 0..nchild {
            let c = self.group(g[0].base1 + (i * words) as u32);
            self.free_below(&c);
        }
        self.free_arrays(g);
    }

    /// Frees node `g`'s own child array and leaf runs (not what is below
    /// its children).
    fn free_arrays(&mut self, g: &Group) {
        let words = Self::WORDS;
        let nchild: usize = g[..words].iter().map(|n| n.vector.count_ones() as usize).sum();
        if nchild > 0 {
            self.free_node_array(g[0].base1, nchild * words);
        }
        let nleaf: usize = g[..words].iter().map(|n| n.leafvec.count_ones() as usize).sum();
        if nleaf > 0 {
            self.free_leaves[nleaf].push(g[0].base0);
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
