//! The sender's SACK scoreboard (RFC 2018 §5, RFC 6675 §3-§4 in spirit):
//! which ranges above SND.UNA the receiver holds, and which hole to
//! retransmit next during loss recovery.

use super::seq;
use via6_wire::tcp_option::SackBlock;

/// SACKed ranges, sorted and merged, all above SND.UNA.
#[derive(Debug, Clone, Default)]
pub struct Scoreboard {
    blocks: Vec<(u32, u32)>,
    /// Everything below this was already retransmitted in this recovery.
    pub rexmit_next: u32,
}

impl Scoreboard {
    /// Forgets everything (RTO, end of recovery).
    pub fn clear(&mut self) {
        self.blocks.clear();
    }

    /// Folds in arriving blocks (RFC 2018 §5: ignored unless inside
    /// (SND.UNA, SND.MAX]) and drops what SND.UNA passed.
    pub fn update(&mut self, arriving: &[SackBlock], snd_una: u32, snd_max: u32) {
        let mut pushed = false;
        for b in arriving {
            if seq::lt(b.left, b.right) && seq::le(snd_una, b.left) && seq::le(b.right, snd_max) {
                // Most blocks of an ACK during recovery repeat a range held
                // or extend one to the right (the run the latest segment
                // joined): folded in place while the order and the gaps
                // between ranges stay as they are.
                if !self.absorb(b) {
                    self.blocks.push((b.left, b.right));
                    pushed = true;
                }
            }
        }
        // The ranges are sorted: only the first ones can reach below SND.UNA.
        if self.blocks.first().is_some_and(|b| seq::lt(b.0, snd_una)) {
            self.blocks.retain_mut(|b| {
                if seq::le(b.1, snd_una) {
                    return false;
                }
                if seq::lt(b.0, snd_una) {
                    b.0 = snd_una;
                }
                true
            });
        }
        if !pushed {
            return;
        }
        self.blocks.sort_by_key(|b| b.0.wrapping_sub(snd_una));
        // Merged in place (no allocation per SACK-bearing ACK).
        let mut w = 0usize;
        for i in 0..self.blocks.len() {
            let (l, r) = self.blocks[i];
            if w > 0 && seq::le(l, self.blocks[w - 1].1) {
                self.blocks[w - 1].1 = seq::max(self.blocks[w - 1].1, r);
            } else {
                self.blocks[w] = (l, r);
                w += 1;
            }
        }
        self.blocks.truncate(w);
    }

    /// Folds `b` into the range it starts in (or right after), if it ends
    /// before the next range begins (so nothing merges or reorders);
    /// `false` if it does not fit so.
    fn absorb(&mut self, b: &SackBlock) -> bool {
        for i in 0..self.blocks.len() {
            let (l, r) = self.blocks[i];
            if seq::lt(b.left, l) {
                return false;
            }
            if seq::le(b.left, r) {
                if self.blocks.get(i + 1).is_some_and(|n| seq::le(n.0, b.right)) {
                    return false;
                }
                self.blocks[i].1 = seq::max(r, b.right);
                return true;
            }
        }
        false
    }

    /// Bytes SACKed.
    pub fn sacked_bytes(&self) -> u32 {
        self.blocks.iter().map(|b| b.1.wrapping_sub(b.0)).sum()
    }

    /// Whether `s` is SACKed.
    #[cfg(test)]
    pub fn is_sacked(&self, s: u32) -> bool {
        self.blocks.iter().any(|b| seq::in_range(b.0, s, b.1))
    }

    /// For a go-back-N resend at `s`: the end of the SACKed block holding
    /// `s` (skip to it), or how many bytes may go before the next SACKed
    /// block.
    pub fn resend_span(&self, s: u32) -> Result<u32, Option<u32>> {
        for b in &self.blocks {
            if seq::in_range(b.0, s, b.1) {
                return Ok(b.1);
            }
            if seq::lt(s, b.0) {
                return Err(Some(b.0.wrapping_sub(s)));
            }
        }
        Err(None)
    }

    /// RFC 6675 §4 NextSeg rule 1 (simplified): the first byte at or after
    /// `max(snd_una, rexmit_next)` that is not SACKed and lies below the
    /// highest SACKed byte, with the length of its hole.
    pub fn next_hole(&self, snd_una: u32) -> Option<(u32, u32)> {
        self.blocks.last()?;
        let mut s = seq::max(snd_una, self.rexmit_next);
        for b in &self.blocks {
            if seq::lt(s, b.0) {
                return Some((s, b.0.wrapping_sub(s)));
            }
            if seq::lt(s, b.1) {
                s = b.1;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blk(l: u32, r: u32) -> SackBlock {
        SackBlock { left: l, right: r }
    }

    /// RFC 2018 §5: blocks merge; SND.UNA advancing drops covered ranges;
    /// blocks outside (SND.UNA, SND.MAX] are ignored.
    #[test]
    fn rfc2018_5_scoreboard_merges_and_trims() {
        let mut s = Scoreboard::default();
        s.update(&[blk(200, 300), blk(300, 400), blk(600, 700), blk(5000, 6000)], 100, 1000);
        assert_eq!(s.sacked_bytes(), 300);
        s.update(&[], 250, 1000);
        assert_eq!(s.sacked_bytes(), 250);
        assert!(s.is_sacked(650) && !s.is_sacked(500));
    }

    /// The update as it was before ranges were folded in place: every
    /// valid block appended, trimmed to SND.UNA, sorted, merged.
    fn update_reference(blocks: &mut Vec<(u32, u32)>, arriving: &[SackBlock], snd_una: u32, snd_max: u32) {
        for b in arriving {
            if seq::lt(b.left, b.right) && seq::le(snd_una, b.left) && seq::le(b.right, snd_max) {
                blocks.push((b.left, b.right));
            }
        }
        blocks.retain_mut(|b| {
            if seq::le(b.1, snd_una) {
                return false;
            }
            if seq::lt(b.0, snd_una) {
                b.0 = snd_una;
            }
            true
        });
        blocks.sort_by_key(|b| b.0.wrapping_sub(snd_una));
        let mut merged: Vec<(u32, u32)> = Vec::new();
        for &(l, r) in blocks.iter() {
            match merged.last_mut() {
                Some(m) if seq::le(l, m.1) => m.1 = seq::max(m.1, r),
                _ => merged.push((l, r)),
            }
        }
        *blocks = merged;
    }

    proptest::proptest! {
        /// Random SACK-bearing ACKs (blocks repeating, extending,
        /// bridging and preceding held ranges, out of range, SND.UNA
        /// advancing, sequence numbers wrapping): the ranges are exactly
        /// the reference update's.
        #[test]
        fn update_matches_reference(
            base in proptest::prelude::any::<u32>(),
            acks in proptest::collection::vec(
                (0u32..40, proptest::collection::vec((0u32..60, 1u32..12), 0..4)), 1..30),
        ) {
            let mut s = Scoreboard::default();
            let mut reference = Vec::new();
            let mut una = 0u32;
            let max = 64u32 * 100;
            for (adv, blocks) in acks {
                una = (una + adv * 10).min(max);
                let arriving: Vec<SackBlock> = blocks
                    .iter()
                    .map(|&(at, len)| blk(base.wrapping_add(at * 100), base.wrapping_add(at * 100 + len * 100)))
                    .collect();
                s.update(&arriving, base.wrapping_add(una), base.wrapping_add(max));
                update_reference(&mut reference, &arriving, base.wrapping_add(una), base.wrapping_add(max));
                proptest::prop_assert_eq!(&s.blocks, &reference);
            }
        }
    }

    /// RFC 6675 §4 NextSeg: holes in order, skipping what was retransmitted.
    #[test]
    fn rfc6675_4_next_seg_walks_holes() {
        let mut s = Scoreboard::default();
        s.update(&[blk(200, 300), blk(400, 500)], 100, 1000);
        assert_eq!(s.next_hole(100), Some((100, 100)));
        s.rexmit_next = 200;
        assert_eq!(s.next_hole(100), Some((300, 100)));
        s.rexmit_next = 400;
        assert_eq!(s.next_hole(100), None);
    }
}
