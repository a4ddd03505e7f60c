//! Header prediction (Van Jacobson's fast path, as FreeBSD's `tcp_input`
//! has it): in ESTABLISHED the two segments a bulk transfer is made of —
//! a pure ACK advancing SND.UNA, and the next in-order data carrying no
//! new acknowledgment — are recognised by a few comparisons and handled
//! by exactly the steps RFC 9293 §3.10.7.4 would take for them, without
//! walking the general path's checks (sequence acceptability, RST, SYN,
//! duplicate ACK, FIN, out-of-order data) one by one.
//!
//! What the prediction requires, and why each part makes the general
//! path's outcome the one below:
//! - ESTABLISHED, only ACK (and PSH) set: no RST/SYN/FIN/URG step applies
//!   (RFC 9293 §3.10.7.4 second, fourth, sixth and eighth);
//! - SEG.SEQ = RCV.NXT with RCV.NXT =< RCV.ADV (`<` for data): the
//!   segment is acceptable (§3.10.7.4 first) and in order;
//! - with timestamps, the option present and PAWS passing (RFC 7323 §5.3);
//! - SEG.ACK not beyond SND.MAX nor too old (RFC 5961 §5.2), no SACK
//!   blocks (RFC 2018: no scoreboard update), no fast recovery running
//!   (RFC 6582), no FIN seen ahead of RCV.NXT;
//! - the advertised window equal to SND.WND (no window reopening);
//! - either no payload and SND.UNA < SEG.ACK (new data acknowledged:
//!   never a duplicate ACK, RFC 5681 §2), or a payload with SEG.ACK =
//!   SND.UNA into a receive buffer that is open for reading, holds no
//!   out-of-order data and belongs to a socket still open.
//!
//! Anything else takes the general path. `predict_tests.rs` feeds random segment
//! sequences through both (the prediction switched off with
//! [`no_prediction`]) and compares the TCBs after every segment.

use super::seq;
use super::tcb::Tcb;
use super::State;
use crate::time::Instant;
use via6_wire::tcp::{TcpFlags, TcpRepr};

#[cfg(test)]
thread_local! {
    /// Tests: switches the prediction off (the general path for every
    /// segment), and counts the segments it handled.
    static PREDICTION: core::cell::Cell<(bool, u64)> = const { core::cell::Cell::new((true, 0)) };
}

/// Tests: turns header prediction off (`true`) or on on this thread.
#[cfg(test)]
pub(crate) fn no_prediction(off: bool) {
    PREDICTION.with(|p| p.set((!off, p.get().1)));
}

/// Tests: segments handled by the prediction on this thread so far.
#[cfg(test)]
pub(crate) fn predicted_count() -> u64 {
    PREDICTION.with(|p| p.get().1)
}

impl Tcb {
    /// Handles `seg` by header prediction if it is one of the two
    /// predicted segments (module docs); false, with nothing changed, if
    /// the general path must handle it. The caller has done the steps
    /// common to every segment (timestamps parsed, counters) and runs
    /// output afterwards either way.
    #[inline]
    pub(super) fn predicted(&mut self, seg: &TcpRepr<'_>, now: Instant) -> bool {
        #[cfg(test)]
        if !PREDICTION.with(|p| p.get().0) {
            return false;
        }
        if self.state != State::Established
            || seg.flags.without(TcpFlags::PSH) != TcpFlags::empty()
            || seg.seq != self.rcv_nxt
            || self.in_recovery
            || self.fin_ahead.is_some()
        {
            return false;
        }
        // The parsed segment carries ACK as `seg.ack`, not in the flags.
        let Some(ack) = seg.ack else { return false };
        let window = u32::from(seg.window) << self.snd_wscale;
        if window != self.snd_wnd {
            return false;
        }
        // RFC 7323 §5.3: PAWS passes (a segment without the option when
        // timestamps are in use goes the general way).
        if self.ts_ok && self.seg_ts.is_none_or(|(tsval, _)| seq::lt(tsval, self.ts_recent)) {
            return false;
        }
        // RFC 5961 §5.2: an acceptable ACK value.
        if seq::gt(ack, self.snd_max) || seq::lt(ack, self.snd_una.wrapping_sub(self.max_snd_wnd.max(1))) {
            return false;
        }
        if self.sack_ok && seg.options.sack().is_some() {
            return false;
        }
        let len = seg.payload.len();
        if len == 0 {
            // (a) A pure ACK of new data.
            if !seq::gt(ack, self.snd_una) || !seq::le(self.rcv_nxt, self.rcv_adv) {
                return false;
            }
            self.new_ack(ack, now);
        } else if ack != self.snd_una
            || !seq::lt(self.rcv_nxt, self.rcv_adv)
            || self.orphan
            || self.read_shut
            || self.rcvbuf.has_holes()
        {
            // (b) needs in-order data acknowledging nothing new.
            return false;
        }
        self.window_update(seg.seq, ack, window, now);
        self.update_ts_recent(seg.seq);
        if len > 0 {
            let advanced = self.rcvbuf.insert(0, seg.payload);
            self.took_data(0, advanced, len, now);
        }
        #[cfg(test)]
        PREDICTION.with(|p| p.set((true, p.get().1 + 1)));
        true
    }
}
