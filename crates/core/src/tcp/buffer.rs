//! The bounded receive buffer: in-order bytes not yet read plus
//! out-of-order segments inside the window, from which the SACK blocks of
//! RFC 2018 §4 are made. (The send buffer is `sendbuf.rs`.)

use super::ring::ByteRing;
use std::collections::BTreeMap;
use via6_wire::checksum::{copy_and_sum, Checksum};
use via6_wire::tcp_option::{SackBlock, SackBlocks, MAX_SACK_BLOCKS};

/// The receive buffer.
#[derive(Debug)]
pub struct RecvBuf {
    data: ByteRing,
    cap: usize,
    /// Where (offset after RCV.NXT) and how many bytes of the next payload
    /// [`RecvBuf::stage`] already copied into the ring's free space (not
    /// yet held; length 0: nothing staged).
    staged: (u32, usize),
    /// In-order bytes ever received (the stream offset of RCV.NXT).
    base: u64,
    /// Out-of-order data held: disjoint, non-adjacent runs (start → end,
    /// stream offsets) whose bytes sit in the ring's free space at their
    /// distance from RCV.NXT, where in-order data will reach them (no
    /// copy per segment held, none when the hole fills).
    ooo: BTreeMap<u64, u64>,
    /// The stream range of the latest out-of-order arrival (RFC 2018 §4: the
    /// first SACK block reports it).
    latest: Option<(u64, u64)>,
}

impl RecvBuf {
    /// An empty buffer of `cap` bytes.
    pub fn new(cap: usize) -> Self {
        RecvBuf { data: ByteRing::new(), cap, staged: (0, 0), base: 0, ooo: BTreeMap::new(), latest: None }
    }

    /// Capacity.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Unread in-order bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there is nothing to read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Room for in-order data: the receive window.
    pub fn window(&self) -> usize {
        self.cap - self.data.len()
    }

    /// Whether out-of-order data is held.
    pub fn has_holes(&self) -> bool {
        !self.ooo.is_empty()
    }

    /// Bytes held out of order (the tests' check of the runs).
    #[cfg(test)]
    fn ooo_bytes(&self) -> usize {
        self.ooo.iter().map(|(s, e)| (e - s) as usize).sum()
    }

    /// How far past RCV.NXT out-of-order data is held (the free bytes
    /// after the ring's tail that must survive a growth).
    fn ooo_extent(&self) -> usize {
        self.ooo.last_key_value().map_or(0, |(_, &e)| (e - self.base) as usize)
    }

    /// Stores `bytes` that start `off` bytes after RCV.NXT (already trimmed
    /// to the window by the caller); returns how far RCV.NXT advances.
    /// In-order bytes are written at the tail (over any held out-of-order
    /// bytes they cover) and the tail moves past every run they reach;
    /// out-of-order bytes go into the free space at their offset, only
    /// where nothing is held yet (RFC 9293 §3.10.7.4: data is kept for
    /// delivery once the hole fills).
    pub fn insert(&mut self, off: u32, bytes: &[u8]) -> u32 {
        let room = self.window();
        let off_us = off as usize;
        if off_us >= room || bytes.is_empty() {
            return 0;
        }
        let bytes = &bytes[..bytes.len().min(room - off_us)];
        // Already in place (`stage`, which made the room), or written now.
        let staged = std::mem::take(&mut self.staged) == (off, bytes.len());
        if !staged && !self.data.reserve_keep(off_us + bytes.len(), self.ooo_extent(), self.cap) {
            return 0;
        }
        if off == 0 {
            if !staged && !self.data.write_at(0, bytes) {
                return 0;
            }
            let mut end = self.base + bytes.len() as u64;
            while let Some((&s, &e)) = self.ooo.first_key_value() {
                if s > end {
                    break;
                }
                self.ooo.pop_first();
                end = end.max(e);
            }
            let advanced = end - self.base;
            self.data.commit(advanced as usize);
            self.base = end;
            if self.ooo.is_empty() {
                self.latest = None;
            }
            return advanced as u32;
        }
        let start = self.base + u64::from(off);
        let end = start + bytes.len() as u64;
        self.latest = Some((start, end));
        // The common case while a hole lasts: the arrival starts at or
        // after the end of the last run (it continues it, or is the first
        // run, or starts a new one beyond it): nothing held overlaps it, and
        // a continued run grows in place (no map removal and insertion).
        let last = self.ooo.last_key_value().map(|(&s, &e)| (s, e));
        if last.is_none_or(|(_, e)| start >= e) {
            if !staged {
                self.write_ooo(start, bytes);
            }
            match self.ooo.last_entry() {
                Some(mut run) if *run.get() == start => *run.get_mut() = end,
                _ => {
                    self.ooo.insert(start, end);
                }
            }
            return 0;
        }
        // The runs it overlaps or adjoins, from the last down: the gaps
        // between them are written, the runs merged into one.
        let (mut lo, mut hi, mut gap_hi) = (start, end, end);
        while let Some((&s, &e)) = self.ooo.range(..=end).next_back() {
            if e < start {
                break;
            }
            let gap_lo = e.max(start);
            if gap_lo < gap_hi && !staged {
                self.write_ooo(gap_lo, &bytes[(gap_lo - start) as usize..(gap_hi - start) as usize]);
            }
            gap_hi = gap_hi.min(s);
            self.ooo.remove(&s);
            lo = lo.min(s);
            hi = hi.max(e);
        }
        // Staged bytes overlap no run (`stage`): they are every gap, in place.
        if start < gap_hi && !staged {
            self.write_ooo(start, &bytes[..(gap_hi - start) as usize]);
        }
        self.ooo.insert(lo, hi);
        0
    }

    /// Writes out-of-order bytes of stream offset `at` into the ring's free
    /// space (room made by the caller).
    fn write_ooo(&mut self, at: u64, bytes: &[u8]) {
        let written = self.data.write_at((at - self.base) as usize, bytes);
        debug_assert!(written, "room reserved by insert");
    }

    /// Copies a `payload` that starts `off` bytes after RCV.NXT into the
    /// ring's free space at that distance, summing it on the way (one
    /// pass: RFC 1071 §4.1), and returns its one's-complement sum; the
    /// bytes are held only when the next [`RecvBuf::insert`] of the same
    /// offset and length commits them, i.e. once the caller has found the
    /// segment's checksum good (RFC 9293 §3.1) and processed it. In order
    /// or not (RFC 9293 §3.10.7.4: out-of-order data is kept), as long as
    /// the payload overlaps no held run, so that bytes of a segment whose
    /// checksum then fails never land on data already held. `None`
    /// (nothing staged) if the payload is empty, does not fit the window
    /// whole, or overlaps a held run.
    pub fn stage(&mut self, off: u32, payload: &[u8]) -> Option<u16> {
        self.staged = (0, 0);
        let n = payload.len();
        let at = off as usize;
        if n == 0 || at.checked_add(n)? > self.window() {
            return None;
        }
        // Free bytes after the tail that must survive a growth: those of
        // the held runs (none on a clean stream: no map walk then).
        let mut keep = 0;
        if let Some((_, &last)) = self.ooo.last_key_value() {
            let start = self.base + u64::from(off);
            let end = start + n as u64;
            // Past the end of every run (the common case), or else the last
            // run starting before the end is the only one that could reach
            // into the payload (runs are disjoint and ordered).
            if start < last && self.ooo.range(..end).next_back().is_some_and(|(_, &e)| e > start) {
                return None;
            }
            keep = (last - self.base) as usize;
        }
        if !self.data.reserve_keep(at + n, keep, self.cap) {
            return None;
        }
        let (a, b) = self.data.spare_at_mut(at, n)?;
        let k = a.len();
        let sa = copy_and_sum(a, &payload[..k])?;
        let sb = if b.is_empty() { 0 } else { copy_and_sum(b, &payload[k..])? };
        self.staged = (off, n);
        Some(Checksum::new().add_sum(sa, k).add_sum(sb, n - k).sum())
    }

    /// Forgets a staged payload (its segment failed or was not taken).
    pub fn unstage(&mut self) {
        self.staged = (0, 0);
    }

    /// Reads into `out`; returns the count.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        // Held out-of-order bytes sit after the tail: it must not move.
        self.data.read(out, !self.ooo.is_empty())
    }

    /// Discards everything unread and everything held out of order
    /// (SHUT_RD). Nothing is inserted afterwards (the TCB only advances
    /// RCV.NXT over in-order data), so held runs would never be reached and
    /// their SACK blocks, reported relative to RCV.NXT, would drift past
    /// data never received.
    pub fn discard(&mut self) {
        self.data.clear();
        self.ooo.clear();
        self.latest = None;
        self.staged = (0, 0);
    }

    /// Up to `max` SACK blocks (RFC 2018 §4) for RCV.NXT `rcv_nxt`: the
    /// block holding the latest arrival first, then the others in order.
    /// The held entries are merged into runs on the fly and the answer is
    /// built in place (no allocation per ACK while a hole lasts).
    pub fn sack_blocks(&self, rcv_nxt: u32, max: usize) -> SackBlocks {
        let max = max.min(MAX_SACK_BLOCKS);
        let latest = self.latest.map(|(ls, _)| ls);
        // The run holding the latest arrival, and the first runs in order
        // besides it (at most `max` of them).
        let mut first: Option<(u64, u64)> = None;
        let mut others = [(0u64, 0u64); MAX_SACK_BLOCKS];
        let mut n = 0;
        let mut run: Option<(u64, u64)> = None;
        let mut close = |r: (u64, u64), first: &mut Option<(u64, u64)>| {
            if first.is_none() && latest.is_some_and(|ls| r.0 <= ls && ls < r.1) {
                *first = Some(r);
            } else if n < max {
                others[n] = r;
                n += 1;
            }
        };
        for (&s, &e) in &self.ooo {
            run = match run {
                Some((rs, re)) if s <= re => Some((rs, re.max(e))),
                Some(r) => {
                    close(r, &mut first);
                    Some((s, e))
                }
                None => Some((s, e)),
            };
        }
        if let Some(r) = run {
            close(r, &mut first);
        }
        let to_seq = |abs: u64| rcv_nxt.wrapping_add((abs - self.base) as u32);
        let mut out = SackBlocks::new();
        for &(s, e) in first.iter().chain(others[..n].iter()).take(max) {
            // At most MAX_SACK_BLOCKS pushes: cannot fail.
            let _ = out.push(SackBlock { left: to_seq(s), right: to_seq(e) });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9293 §3.10.7.4 (seventh, segment text): out-of-order data is held
    /// and delivered in order once the hole fills.
    #[test]
    fn rfc9293_3_10_7_4_out_of_order_reassembled() {
        let mut r = RecvBuf::new(100);
        assert_eq!(r.insert(5, b"fghij"), 0);
        assert_eq!(r.insert(12, b"mn"), 0);
        assert_eq!(r.insert(0, b"abcdefg"), 10);
        let mut out = [0u8; 20];
        let n = r.read(&mut out);
        assert_eq!(&out[..n], b"abcdefghij");
        assert!(r.has_holes());
    }

    /// RFC 2018 §4: the first SACK block covers the most recent arrival.
    #[test]
    fn rfc2018_4_first_block_is_latest() {
        let mut r = RecvBuf::new(1000);
        r.insert(100, &[0; 10]);
        r.insert(300, &[0; 10]);
        r.insert(110, &[0; 10]);
        let b = r.sack_blocks(1000, 3);
        let b = b.as_slice();
        assert_eq!(b[0], SackBlock { left: 1100, right: 1120 });
        assert_eq!(b[1], SackBlock { left: 1300, right: 1310 });
    }

    /// A run beyond a hole is held as one entry (appended to), and still
    /// reads back byte for byte once the hole fills; an overlapping
    /// arrival joins the run, a non-adjacent one is a run of its own.
    #[test]
    fn run_beyond_hole_is_one_entry() {
        let mut r = RecvBuf::new(1000);
        let stream: Vec<u8> = (0..200u32).map(|i| i as u8).collect();
        for at in (20..100).step_by(10) {
            assert_eq!(r.insert(at as u32, &stream[at..at + 10]), 0);
        }
        assert_eq!(r.ooo.len(), 1, "one contiguous run, one entry");
        assert_eq!(r.sack_blocks(5000, 3).as_slice(), [SackBlock { left: 5020, right: 5100 }]);
        // Overlapping the run's tail (merged into it), and a second run.
        r.insert(95, &stream[95..110]);
        r.insert(150, &stream[150..160]);
        assert_eq!(r.ooo.len(), 2);
        assert_eq!(r.sack_blocks(5000, 3).as_slice()[0], SackBlock { left: 5150, right: 5160 });
        assert_eq!(r.insert(0, &stream[..20]), 110);
        let mut out = [0u8; 200];
        let n = r.read(&mut out);
        assert_eq!(&out[..n], &stream[..110]);
        assert_eq!(r.sack_blocks(5110, 3).as_slice(), [SackBlock { left: 5150, right: 5160 }]);
    }

    /// RFC 9293 §3.8.6: nothing beyond the window is stored.
    #[test]
    fn rfc9293_3_8_6_window_bounds_storage() {
        let mut r = RecvBuf::new(10);
        assert_eq!(r.insert(0, &[1; 20]), 10);
        assert_eq!(r.window(), 0);
        assert_eq!(r.insert(0, &[1; 5]), 0);
    }

    /// The allocating form `sack_blocks` had before (every run listed,
    /// the latest moved to the front, then cut to `max`).
    fn sack_blocks_reference(r: &RecvBuf, rcv_nxt: u32, max: usize) -> Vec<SackBlock> {
        let mut ranges: Vec<(u64, u64)> = Vec::new();
        for (&s, &e) in &r.ooo {
            match ranges.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => ranges.push((s, e)),
            }
        }
        if let Some((ls, _)) = r.latest {
            if let Some(i) = ranges.iter().position(|x| x.0 <= ls && ls < x.1) {
                let x = ranges.remove(i);
                ranges.insert(0, x);
            }
        }
        let to_seq = |abs: u64| rcv_nxt.wrapping_add((abs - r.base) as u32);
        ranges.iter().take(max).map(|&(s, e)| SackBlock { left: to_seq(s), right: to_seq(e) }).collect()
    }

    proptest::proptest! {
        /// Random out-of-order arrivals (overlapping, adjacent, apart) and
        /// hole fills: the blocks are those of the reference, for every
        /// `max` from 1 to 4.
        #[test]
        fn sack_blocks_match_reference(
            ops in proptest::collection::vec((0u32..3000, 1usize..400), 1..40),
            rcv_nxt in proptest::prelude::any::<u32>(),
        ) {
            let mut r = RecvBuf::new(4000);
            for (off, len) in ops {
                r.insert(off, &vec![7u8; len]);
                for max in 1..=4 {
                    let got = r.sack_blocks(rcv_nxt, max);
                    proptest::prop_assert_eq!(got.as_slice(), &sack_blocks_reference(&r, rcv_nxt, max)[..]);
                }
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u32, usize),
        /// Staged while summed, then inserted (checksum good) or forgotten
        /// (checksum bad: the staged bytes are garbage), as `tcp_input_from`
        /// does.
        Stage(u32, usize, bool),
        Read(usize),
        Discard,
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            6 => (0u32..700, 1usize..300).prop_map(|(o, l)| Op::Insert(o, l)),
            2 => (1usize..300).prop_map(|l| Op::Insert(0, l)),
            4 => (0u32..700, 1usize..300, proptest::bool::weighted(0.7)).prop_map(|(o, l, g)| Op::Stage(o, l, g)),
            2 => (1usize..300, proptest::bool::weighted(0.7)).prop_map(|(l, g)| Op::Stage(0, l, g)),
            3 => (0usize..400).prop_map(Op::Read),
            1 => Just(Op::Discard),
        ]
    }

    /// Byte `i` of the test stream.
    fn byte(i: u64) -> u8 {
        (i.wrapping_mul(31) ^ (i >> 8)) as u8
    }

    proptest::proptest! {
        /// Random arrivals in and out of order (overlapping, adjacent,
        /// beyond the window), reads and discards, against a model that
        /// keeps the set of held stream positions: the same advances, the
        /// same bytes read, the same holes, whatever the ring's storage
        /// did meanwhile (growth with out-of-order bytes held, wrapping).
        #[test]
        fn recv_buf_matches_model(ops in proptest::collection::vec(op(), 1..80), cap in 1usize..1200) {
            use std::collections::BTreeSet;
            let mut r = RecvBuf::new(cap);
            let (mut nxt, mut rd) = (0u64, 0u64);
            let mut held: BTreeSet<u64> = BTreeSet::new();
            for o in ops {
                match o {
                    Op::Stage(off, len, false) => {
                        // A segment whose checksum fails: whatever was
                        // staged must not show in anything held or read.
                        let garbage = vec![0xa5u8; len];
                        let _ = r.stage(off, &garbage);
                        r.unstage();
                    }
                    Op::Insert(off, len) | Op::Stage(off, len, true) => {
                        let start = nxt + u64::from(off);
                        let data: Vec<u8> = (start..start + len as u64).map(byte).collect();
                        if let Op::Stage(..) = o {
                            if let Some(sum) = r.stage(off, &data) {
                                proptest::prop_assert_eq!(sum, Checksum::new().add_bytes(&data).sum());
                            }
                        }
                        let got = r.insert(off, &data);
                        let room = (cap as u64) - (nxt - rd);
                        let mut want = 0;
                        if u64::from(off) < room {
                            let end = start + (len as u64).min(room - u64::from(off));
                            held.extend(start..end);
                            if off == 0 {
                                while held.remove(&nxt) {
                                    nxt += 1;
                                }
                                want = (nxt - start) as u32;
                            }
                        }
                        proptest::prop_assert_eq!(got, want);
                    }
                    Op::Read(n) => {
                        let mut out = vec![0u8; n];
                        let got = r.read(&mut out);
                        let k = (n as u64).min(nxt - rd);
                        let want: Vec<u8> = (rd..rd + k).map(byte).collect();
                        rd += k;
                        proptest::prop_assert_eq!(&out[..got], &want[..]);
                    }
                    Op::Discard => {
                        // SHUT_RD: the unread and the held data go.
                        r.discard();
                        rd = nxt;
                        held.clear();
                    }
                }
                proptest::prop_assert_eq!(r.len() as u64, nxt - rd);
                proptest::prop_assert_eq!(r.has_holes(), !held.is_empty());
                proptest::prop_assert_eq!(r.ooo_bytes(), held.len());
            }
        }
    }
}
