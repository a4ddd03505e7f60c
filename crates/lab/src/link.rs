//! A point-to-point link between two interface endpoints, with impairments
//! drawn from its own seeded RNG: MTU (oversized frames are dropped), one-way
//! delay, loss, duplication, reordering (extra random delay) and corruption
//! (one random byte flipped).

use core::time::Duration;
use via6_core::rng::Rng;
use via6_core::time::Instant;

/// Length of the Ethernet header a lab frame carries on top of the MTU.
pub const ETHERNET_HEADER: usize = 14;

/// One end of a link: a node (by index in the lab) and one of its interfaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// The node's index in the lab.
    pub node: usize,
    /// The interface's index in that node's stack.
    pub ifindex: u32,
}

/// Which end of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The `a` end.
    A,
    /// The `b` end.
    B,
}

impl Side {
    /// The other end.
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// What a link carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Ethernet frames: the MTU excludes the 14-byte header.
    Ethernet,
    /// Bare IP packets (TUN-like): the MTU is the whole packet.
    Ip,
}

/// A link's impairments. Probabilities are in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkParams {
    /// Largest IP packet carried.
    pub mtu: u32,
    /// One-way delay.
    pub delay: Duration,
    /// Probability that a frame is lost.
    pub loss: f64,
    /// Probability that a frame is delivered twice.
    pub dup: f64,
    /// Probability that a frame gets extra random delay (and so may overtake
    /// or be overtaken).
    pub reorder: f64,
    /// Probability that one random byte of a frame is flipped.
    pub corrupt: f64,
    /// Seed of the link's RNG.
    pub seed: u64,
    /// What the link carries.
    pub framing: Framing,
}

impl Default for LinkParams {
    fn default() -> Self {
        LinkParams {
            mtu: 1500,
            delay: Duration::from_millis(1),
            loss: 0.0,
            dup: 0.0,
            reorder: 0.0,
            corrupt: 0.0,
            seed: 1,
            framing: Framing::Ethernet,
        }
    }
}

/// Per-link counters. `sent` counts every frame offered; `lost` and
/// `too_big` are frames never delivered; `duplicated` counts extra copies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames offered to the link.
    pub sent: u64,
    /// Frames (copies included) handed to the receiving node.
    pub delivered: u64,
    /// Frames dropped by the loss impairment.
    pub lost: u64,
    /// Extra copies made.
    pub duplicated: u64,
    /// Frames (copies) given extra delay.
    pub reordered: u64,
    /// Frames (copies) with a flipped byte.
    pub corrupted: u64,
    /// Frames longer than the MTU (plus link header), dropped.
    pub too_big: u64,
}

/// A frame in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    /// When it arrives.
    pub at: Instant,
    /// The end it arrives at.
    pub to: Side,
    /// Its bytes (after any corruption).
    pub data: Vec<u8>,
}

/// What one sent frame became on the wire, in sending order: nothing
/// (dropped), one copy, or two (duplicated).
#[derive(Debug, Default)]
pub struct Carried {
    copies: [Option<InFlight>; 2],
}

impl Iterator for Carried {
    type Item = InFlight;

    fn next(&mut self) -> Option<InFlight> {
        self.copies[0].take().or_else(|| self.copies[1].take())
    }
}

/// A point-to-point link.
#[derive(Debug, Clone)]
pub struct Link {
    /// The `a` end.
    pub a: Endpoint,
    /// The `b` end.
    pub b: Endpoint,
    /// A display name, `h1:eth0-r1:eth0`.
    pub name: String,
    /// The impairments.
    pub params: LinkParams,
    /// The counters.
    pub stats: LinkStats,
    rng: Rng,
}

impl Link {
    /// A link between `a` and `b`.
    pub fn new(name: &str, a: Endpoint, b: Endpoint, params: LinkParams) -> Self {
        let rng = Rng::new(params.seed);
        Link { a, b, name: name.to_string(), params, stats: LinkStats::default(), rng }
    }

    /// The endpoint at `side`.
    pub fn end(&self, side: Side) -> Endpoint {
        match side {
            Side::A => self.a,
            Side::B => self.b,
        }
    }

    /// Which side `ep` is, if it is an end of this link.
    pub fn side_of(&self, ep: Endpoint) -> Option<Side> {
        if ep == self.a {
            Some(Side::A)
        } else if ep == self.b {
            Some(Side::B)
        } else {
            None
        }
    }

    /// The longest frame the link carries.
    pub fn max_frame(&self) -> usize {
        let hdr = match self.params.framing {
            Framing::Ethernet => ETHERNET_HEADER,
            Framing::Ip => 0,
        };
        self.params.mtu as usize + hdr
    }

    fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            false
        } else if p >= 1.0 {
            true
        } else {
            self.rng.unit() < p
        }
    }

    /// Sends `frame` from `from` at `now`; returns the copies that will
    /// arrive (none if dropped, two if duplicated), in sending order.
    pub fn send(&mut self, from: Side, frame: &[u8], now: Instant) -> Carried {
        let mut out = Carried::default();
        let mut slots = out.copies.iter_mut();
        self.send_reusing(from, &[frame], now, &mut Vec::new(), |f| {
            if let Some(slot) = slots.next() {
                *slot = Some(f);
            }
        });
        out
    }

    /// [`Link::send`] of a frame given as `parts` sent back to back (a
    /// gather list: `Stack::transmit_with`), handing each copy to `out`
    /// (no list), copying the frame into buffers taken from `spare` (spent
    /// frames given back by the caller) before it allocates: a steady
    /// stream of frames then allocates nothing.
    pub fn send_reusing(
        &mut self,
        from: Side,
        parts: &[&[u8]],
        now: Instant,
        spare: &mut Vec<Vec<u8>>,
        mut out: impl FnMut(InFlight),
    ) {
        self.stats.sent += 1;
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > self.max_frame() {
            self.stats.too_big += 1;
            return;
        }
        if self.chance(self.params.loss) {
            self.stats.lost += 1;
            return;
        }
        let copies = if self.chance(self.params.dup) {
            self.stats.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut data = spare.pop().unwrap_or_default();
            data.clear();
            data.reserve(len);
            for p in parts {
                data.extend_from_slice(p);
            }
            if !data.is_empty() && self.chance(self.params.corrupt) {
                let i = self.rng.below(data.len() as u64) as usize;
                let flip = 1 + self.rng.below(255) as u8;
                data[i] ^= flip;
                self.stats.corrupted += 1;
            }
            let mut at = now + self.params.delay;
            if self.chance(self.params.reorder) {
                // Up to twice the delay (at least 1 ms) more: enough to let
                // later frames overtake.
                let window = (2 * self.params.delay.as_nanos()).max(1_000_000) as u64;
                at += Duration::from_nanos(1 + self.rng.below(window));
                self.stats.reordered += 1;
            }
            out(InFlight { at, to: from.other(), data });
        }
    }

    /// Counts a frame handed to the receiving node.
    pub fn count_delivered(&mut self) {
        self.stats.delivered += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(node: usize) -> Endpoint {
        Endpoint { node, ifindex: 1 }
    }

    fn sent(l: &mut Link, from: Side, frame: &[u8], now: Instant) -> Vec<InFlight> {
        l.send(from, frame, now).collect()
    }

    fn link(params: LinkParams) -> Link {
        Link::new("h1:eth0-r1:eth0", ep(0), ep(1), params)
    }

    #[test]
    fn clean_link_delays_and_delivers_to_other_side() {
        let mut l = link(LinkParams::default());
        let out = sent(&mut l, Side::A, &[1, 2, 3], Instant::from_millis(10));
        assert_eq!(out, vec![InFlight { at: Instant::from_millis(11), to: Side::B, data: vec![1, 2, 3] }]);
        assert_eq!(l.stats.sent, 1);
        assert_eq!(l.side_of(ep(1)), Some(Side::B));
        assert_eq!(l.side_of(ep(7)), None);
        assert_eq!(l.end(Side::A), ep(0));
    }

    #[test]
    fn reusing_sends_the_same_copies_in_spare_buffers() {
        let p = LinkParams { dup: 0.5, corrupt: 0.2, reorder: 0.2, seed: 9, ..Default::default() };
        let (mut fresh, mut reusing) = (link(p.clone()), link(p));
        let mut spare = vec![vec![0xee; 3000], Vec::with_capacity(100)];
        let mut reused = 0;
        for i in 0..200u16 {
            let frame = vec![i as u8; usize::from(i % 90) + 1];
            let now = Instant::from_millis(u64::from(i));
            let ptrs: Vec<*const u8> = spare.iter().map(|b| b.as_ptr()).collect();
            let a = sent(&mut fresh, Side::A, &frame, now);
            let mut b: Vec<InFlight> = Vec::new();
            // The frame as a gather list of up to three pieces.
            let (head, rest) = frame.split_at(frame.len() / 3);
            let (mid, tail) = rest.split_at(rest.len() / 2);
            reusing.send_reusing(Side::A, &[head, mid, tail], now, &mut spare, |f| b.push(f));
            assert_eq!(a, b);
            reused += b.iter().filter(|f| ptrs.contains(&f.data.as_ptr())).count();
            spare.extend(b.into_iter().map(|f| f.data));
        }
        assert_eq!(fresh.stats, reusing.stats);
        assert!(reused > 150, "{reused}");
        assert!(spare.len() <= 4, "{}", spare.len());
    }

    #[test]
    fn mtu_counts_too_big() {
        let mut l = link(LinkParams { mtu: 1280, ..Default::default() });
        assert_eq!(sent(&mut l, Side::A, &[0; 1294], Instant::ZERO).len(), 1);
        assert!(sent(&mut l, Side::A, &[0; 1295], Instant::ZERO).is_empty());
        assert_eq!(l.stats.too_big, 1);
        let mut l = link(LinkParams { mtu: 1280, framing: Framing::Ip, ..Default::default() });
        assert!(sent(&mut l, Side::B, &[0; 1281], Instant::ZERO).is_empty());
    }

    #[test]
    fn certain_impairments() {
        let mut l = link(LinkParams { loss: 1.0, ..Default::default() });
        assert!(sent(&mut l, Side::A, &[1], Instant::ZERO).is_empty());
        assert_eq!(l.stats.lost, 1);

        let mut l = link(LinkParams { dup: 1.0, corrupt: 1.0, ..Default::default() });
        let out = sent(&mut l, Side::B, &[0; 64], Instant::ZERO);
        assert_eq!(out.len(), 2);
        for c in &out {
            assert_eq!(c.to, Side::A);
            assert_eq!(c.data.iter().filter(|&&b| b != 0).count(), 1);
        }
        assert_eq!((l.stats.duplicated, l.stats.corrupted), (1, 2));

        let mut l = link(LinkParams { reorder: 1.0, ..Default::default() });
        let out = sent(&mut l, Side::A, &[1], Instant::ZERO);
        assert!(out[0].at > Instant::from_millis(1) && out[0].at <= Instant::from_millis(3));
        assert_eq!(l.stats.reordered, 1);
    }

    #[test]
    fn loss_rate_is_roughly_right_and_reproducible() {
        let p =
            LinkParams { loss: 0.3, dup: 0.1, reorder: 0.2, corrupt: 0.05, seed: 42, ..Default::default() };
        let run = || {
            let mut l = link(p.clone());
            let mut log = Vec::new();
            for i in 0..2000u32 {
                log.push(sent(&mut l, Side::A, &i.to_be_bytes(), Instant::from_micros_test(i)));
            }
            (l.stats, log)
        };
        let (s1, log1) = run();
        let (s2, log2) = run();
        assert_eq!(s1, s2);
        assert_eq!(log1, log2);
        assert!((500..700).contains(&s1.lost), "{s1:?}");
        assert!((100..200).contains(&s1.duplicated), "{s1:?}");
        let other = {
            let mut l = link(LinkParams { seed: 43, ..p });
            (0..2000u32).for_each(|i| drop(sent(&mut l, Side::A, &i.to_be_bytes(), Instant::ZERO)));
            l.stats
        };
        assert_ne!(other, s1);
    }

    trait FromMicros {
        fn from_micros_test(us: u32) -> Instant;
    }
    impl FromMicros for Instant {
        fn from_micros_test(us: u32) -> Instant {
            Instant::from_nanos(u64::from(us) * 1000)
        }
    }
}
