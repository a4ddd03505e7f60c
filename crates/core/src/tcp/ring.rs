//! A byte ring (the storage of the receive and send buffers) whose free
//! space can be written in place before it is committed: the receive path
//! copies an in-order
//! payload into the free space while summing it (RFC 1071 §4.1: the sum
//! folded into the copy) and advances the tail only if the segment's
//! checksum (RFC 9293 §3.1) verifies. Safe code: the storage is an
//! initialised `Vec`, first sized to exactly what the first write needs
//! (a connection that moves a few bytes keeps a small ring), then grown
//! [`GROWTH`]-fold per step (zero-filled once per growth, or appended to
//! without a fill: [`ByteRing::append_growing`]) up to the
//! buffer's capacity, so an idle connection holds no storage.

/// How many times larger the storage becomes when it has to grow again:
/// a ring that outgrew its first write is carrying a bulk stream, and
/// reaching a 512 KiB window from one segment takes 3 copy-and-zero steps
/// at 8× instead of 9 at 2× (each step copies what is held and zeroes the
/// new storage).
pub const GROWTH: usize = 8;

/// A FIFO of bytes in a ring of initialised storage.
#[derive(Debug, Default)]
pub struct ByteRing {
    buf: Vec<u8>,
    head: usize,
    len: usize,
}

impl ByteRing {
    /// An empty ring with no storage.
    pub fn new() -> Self {
        ByteRing::default()
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of storage (held plus free).
    #[cfg(test)]
    pub fn storage(&self) -> usize {
        self.buf.len()
    }

    /// The held bytes as one or two contiguous pieces, oldest first.
    pub fn as_slices(&self) -> (&[u8], &[u8]) {
        let size = self.buf.len();
        if self.head + self.len <= size {
            (&self.buf[self.head..self.head + self.len], &[])
        } else {
            let wrap = self.head + self.len - size;
            (&self.buf[self.head..], &self.buf[..wrap])
        }
    }

    /// The `len` held bytes starting `off` bytes after the oldest, as one
    /// or two contiguous pieces (the second empty unless the range wraps);
    /// `None` if the range is not all held.
    #[inline]
    pub fn range(&self, off: usize, len: usize) -> Option<(&[u8], &[u8])> {
        let end = off.checked_add(len).filter(|&e| e <= self.len)?;
        let (a, b) = self.as_slices();
        if end <= a.len() {
            Some((&a[off..end], &[]))
        } else if off >= a.len() {
            Some((&b[off - a.len()..end - a.len()], &[]))
        } else {
            Some((&a[off..], &b[..end - a.len()]))
        }
    }

    /// Makes room for `n` more bytes, growing the storage to at least
    /// [`GROWTH`] times its size but never beyond `limit`; false if it
    /// cannot.
    #[cfg(test)]
    fn reserve(&mut self, n: usize, limit: usize) -> bool {
        self.reserve_keep(n, 0, limit)
    }

    /// [`ByteRing::reserve`] for `n` bytes after the tail while the first
    /// `keep` free bytes after the tail (written with
    /// [`ByteRing::write_at`], not yet held) survive a growth in place.
    pub fn reserve_keep(&mut self, n: usize, keep: usize, limit: usize) -> bool {
        let need = self.len + n.max(keep);
        if need <= self.buf.len() {
            return true;
        }
        if need > limit {
            return false;
        }
        let size = need.max(GROWTH * self.buf.len()).min(limit);
        // The held bytes and the kept free bytes after them stay where they
        // are (the allocation grows in place when the allocator can); a
        // part wrapped to the front moves to just past the old end.
        let old = self.buf.len();
        let total = (self.len + keep).min(old);
        let wrapped = total.saturating_sub(old - self.head);
        if self.head + total <= size {
            self.buf.resize(size, 0);
            self.buf.copy_within(..wrapped, old);
        } else {
            // Too little room past the old end (a growth short of doubling):
            // laid out afresh from the front.
            let first = total - wrapped;
            let mut grown = Vec::with_capacity(size);
            grown.extend_from_slice(&self.buf[self.head..self.head + first]);
            grown.extend_from_slice(&self.buf[..wrapped]);
            grown.resize(size, 0);
            self.buf = grown;
            self.head = 0;
        }
        true
    }

    /// Appends `bytes` at the tail by growing the storage (in [`GROWTH`]
    /// steps of its capacity, up to `limit`) without zero-filling it first,
    /// when the held bytes end where the storage does (it has not wrapped
    /// yet); `false`, with nothing done, otherwise.
    pub fn append_growing(&mut self, bytes: &[u8], limit: usize) -> bool {
        let size = self.buf.len();
        if self.head + self.len != size || size + bytes.len() > limit {
            return false;
        }
        if self.buf.capacity() < size + bytes.len() {
            let want = (size + bytes.len()).max(GROWTH * self.buf.capacity()).min(limit);
            self.buf.reserve_exact(want - size);
        }
        self.buf.extend_from_slice(bytes);
        self.len += bytes.len();
        true
    }

    /// Writes `bytes` into the free space `off` bytes after the tail
    /// (not held until committed); false, with nothing written, unless
    /// [`ByteRing::reserve_keep`] made room for them first.
    pub fn write_at(&mut self, off: usize, bytes: &[u8]) -> bool {
        let Some((a, b)) = self.spare_at_mut(off, bytes.len()) else { return false };
        let k = a.len();
        a.copy_from_slice(&bytes[..k]);
        b.copy_from_slice(&bytes[k..]);
        true
    }

    /// The `n` free bytes starting `off` bytes after the tail as one or two
    /// pieces (the second empty unless they wrap), for writing in place;
    /// `None` unless [`ByteRing::reserve_keep`] made room for them first.
    /// Nothing is held until [`ByteRing::commit`].
    pub fn spare_at_mut(&mut self, off: usize, n: usize) -> Option<(&mut [u8], &mut [u8])> {
        let size = self.buf.len();
        if self.len + off + n > size {
            return None;
        }
        let at = self.wrap(self.head + self.len);
        let at = if at + off >= size { at + off - size } else { at + off };
        let first = n.min(size - at);
        let (lo, hi) = self.buf.split_at_mut(at);
        Some((&mut hi[..first], &mut lo[..n - first]))
    }

    /// The first `n` free bytes after the tail as one or two pieces, the
    /// storage grown (up to `limit`) if needed; `None` if `n` bytes do not
    /// fit under `limit`. Nothing is held until [`ByteRing::commit`].
    #[cfg(test)]
    pub fn spare_mut(&mut self, n: usize, limit: usize) -> Option<(&mut [u8], &mut [u8])> {
        if !self.reserve(n, limit) {
            return None;
        }
        self.spare_at_mut(0, n)
    }

    /// Holds the `n` bytes written into the free space after the tail.
    pub fn commit(&mut self, n: usize) {
        self.len = (self.len + n).min(self.buf.len());
    }

    /// Appends `bytes` (growing up to `limit`); false, with nothing
    /// appended, if they do not fit. (The receive path writes with
    /// [`ByteRing::write_at`]; this is the tests' plain append.)
    #[cfg(test)]
    pub fn extend(&mut self, bytes: &[u8], limit: usize) -> bool {
        let Some((a, b)) = self.spare_mut(bytes.len(), limit) else { return false };
        let k = a.len();
        a.copy_from_slice(&bytes[..k]);
        b.copy_from_slice(&bytes[k..]);
        self.commit(bytes.len());
        true
    }

    /// Moves up to `out.len()` of the oldest bytes into `out`; returns how
    /// many. With `keep`, the tail stays where it is even when the ring
    /// empties (free bytes after it were written with
    /// [`ByteRing::write_at`]).
    pub fn read(&mut self, out: &mut [u8], keep: bool) -> usize {
        let n = out.len().min(self.len);
        let (a, b) = self.as_slices();
        let k = n.min(a.len());
        out[..k].copy_from_slice(&a[..k]);
        out[k..n].copy_from_slice(&b[..n - k]);
        self.consume(n, keep);
        n
    }

    /// Drops the `n` oldest bytes; an emptied ring restarts at the front
    /// of its storage unless `keep` (see [`ByteRing::read`]).
    pub fn consume(&mut self, n: usize, keep: bool) {
        let n = n.min(self.len);
        self.len -= n;
        self.head = if self.len == 0 && !keep { 0 } else { self.wrap(self.head + n) };
    }

    /// `i` (below twice the storage: a head plus at most the storage)
    /// taken back into the storage by one conditional subtraction, not a
    /// division (this runs once per arriving segment and per read).
    #[inline]
    fn wrap(&self, i: usize) -> usize {
        if i >= self.buf.len() {
            i - self.buf.len()
        } else {
            i
        }
    }

    /// Drops everything held (the storage stays).
    pub fn clear(&mut self) {
        self.len = 0;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[test]
    fn wraps_and_grows_keeping_order() {
        let mut r = ByteRing::new();
        assert_eq!(r.storage(), 0, "no storage until used");
        assert!(r.extend(b"abcdef", 8));
        let mut out = [0u8; 4];
        assert_eq!(r.read(&mut out, false), 4);
        assert!(r.extend(b"ghij", 8));
        assert_eq!(r.as_slices(), (&b"ef"[..], &b"ghij"[..]));
        assert!(!r.extend(b"klm", 8), "beyond the limit");
        assert!(r.extend(b"kl", 8));
        assert_eq!(r.len(), 8);
    }

    #[test]
    fn spare_is_not_held_until_committed() {
        let mut r = ByteRing::new();
        let (a, b) = r.spare_mut(3, 16).unwrap();
        a.copy_from_slice(b"xyz");
        assert!(b.is_empty());
        assert!(r.is_empty());
        r.commit(3);
        assert_eq!(r.as_slices().0, b"xyz");
    }

    #[derive(Debug, Clone)]
    enum Op {
        Extend(Vec<u8>),
        Stage(Vec<u8>, bool),
        Read(usize),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(Op::Extend),
            3 => (proptest::collection::vec(any::<u8>(), 0..40), any::<bool>()).prop_map(|(v, c)| Op::Stage(v, c)),
            4 => (0usize..50).prop_map(Op::Read),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        /// Any sequence of appends, staged writes (committed or not),
        /// reads and clears leaves the ring holding what a `VecDeque`
        /// would.
        #[test]
        fn matches_vecdeque(ops in proptest::collection::vec(op(), 1..60), limit in 1usize..100) {
            let mut r = ByteRing::new();
            let mut m: VecDeque<u8> = VecDeque::new();
            for o in ops {
                match o {
                    Op::Extend(v) => {
                        let fits = m.len() + v.len() <= limit;
                        prop_assert_eq!(r.extend(&v, limit), fits);
                        if fits { m.extend(&v); }
                    }
                    Op::Stage(v, commit) => {
                        let fits = m.len() + v.len() <= limit;
                        match r.spare_mut(v.len(), limit) {
                            Some((a, b)) => {
                                prop_assert!(fits);
                                let k = a.len();
                                a.copy_from_slice(&v[..k]);
                                b.copy_from_slice(&v[k..]);
                                if commit { r.commit(v.len()); m.extend(&v); }
                            }
                            None => prop_assert!(!fits),
                        }
                    }
                    Op::Read(n) => {
                        let mut out = vec![0u8; n];
                        let got = r.read(&mut out, false);
                        let want: Vec<u8> = m.drain(..n.min(m.len())).collect();
                        prop_assert_eq!(&out[..got], &want[..]);
                    }
                    Op::Clear => { r.clear(); m.clear(); }
                }
                prop_assert!(r.storage() <= limit);
                let (a, b) = r.as_slices();
                prop_assert_eq!([a, b].concat(), m.iter().copied().collect::<Vec<u8>>());
            }
        }
    }
}
