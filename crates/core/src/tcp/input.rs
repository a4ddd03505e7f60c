//! Segment arrival for a connection (RFC 9293 §3.10.7.3 SYN-SENT,
//! §3.10.7.4 other states), with RFC 5961 (challenge ACKs for RST, SYN and
//! out-of-window ACKs), RFC 7323 (PAWS, timestamp echo, RTTM), RFC 5681 /
//! RFC 6582 (duplicate ACKs, fast retransmit, NewReno recovery) and RFC
//! 2018 (SACK).

use super::seq;
use super::tcb::{OutSeg, Tcb};
use super::State;
use crate::errno::Errno;
use crate::time::Instant;
use core::time::Duration;
use via6_wire::tcp::{TcpFlags, TcpRepr};
use via6_wire::tcp_option::TcpOptions;

impl Tcb {
    /// Takes the peer's SYN options (RFC 9293 §3.7.1, RFC 7323 §2.2/§3.2,
    /// RFC 2018 §2).
    fn take_syn_options(&mut self, seg: &TcpRepr<'_>) {
        let v6 = self.remote.0.is_ipv6();
        let mss = seg.options.mss().map_or(super::tcb::default_mss(v6), u32::from);
        let tsval = seg.options.timestamps().map(|(tsval, _)| tsval);
        self.adopt_peer_options(mss, seg.options.window_scale(), seg.options.sack_permitted(), tsval);
    }

    /// Adopts what the peer's SYN offered — from the SYN itself or, for a
    /// SYN cookie, from the cookie and the returning ACK: its MSS (RFC 9293
    /// §3.7.1), window scale (RFC 7323 §2.2/§2.3), timestamps (RFC 7323
    /// §3.2) and SACK-permitted (RFC 2018 §2), each only where our
    /// configuration enables it.
    pub(crate) fn adopt_peer_options(
        &mut self,
        peer_mss: u32,
        wscale: Option<u8>,
        sack: bool,
        tsval: Option<u32>,
    ) {
        self.peer_mss = peer_mss.max(64);
        self.mss = self.peer_mss.min(self.path_mss);
        match wscale {
            Some(s) if self.cfg.window_scaling => {
                // RFC 7323 §2.3: a shift above 14 is used as 14.
                self.snd_wscale = s.min(14);
                self.snd_wscale_seen = true;
            }
            _ => {
                self.snd_wscale = 0;
                self.rcv_wscale = 0;
            }
        }
        if let Some(tsval) = tsval.filter(|_| self.cfg.timestamps) {
            self.ts_ok = true;
            self.ts_recent = tsval;
        }
        self.sack_ok = self.cfg.sack && sack;
        self.cc = super::congestion::Congestion::new(self.cfg.congestion, self.mss);
    }

    /// A SYN reached a listener (RFC 9293 §3.10.7.2): this new TCB enters
    /// SYN-RECEIVED and queues its SYN-ACK.
    pub(crate) fn accept_syn(&mut self, seg: &TcpRepr<'_>, now: Instant) {
        self.passive = true;
        self.irs = seg.seq;
        self.rcv_nxt = seg.seq.wrapping_add(1);
        self.take_syn_options(seg);
        self.snd_wnd = u32::from(seg.window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = seg.seq;
        self.state = State::SynReceived;
        self.counters.segs_in += 1;
        self.output(now);
    }

    fn rst_for(&mut self, seg: &TcpRepr<'_>) {
        // RFC 9293 §3.10.7.1 form of a reset for an unacceptable segment.
        let (seq_no, ack) = match seg.ack {
            Some(a) => (a, None),
            None => (0, Some(seg.seq.wrapping_add(seg.segment_len() as u32))),
        };
        let flags = TcpFlags::RST;
        self.push(OutSeg {
            seq: seq_no,
            ack,
            flags,
            window: 0,
            options: TcpOptions::EMPTY,
            payload: Vec::new(),
            ring: 0,
            challenge: false,
            seg_size: 0,
        });
    }

    /// One arriving segment for this connection.
    pub(crate) fn on_segment(&mut self, seg: &TcpRepr<'_>, now: Instant) {
        self.counters.segs_in += 1;
        // RFC 7323 §3.2: parse the timestamps once per segment; PAWS, the
        // TS.Recent update and RTTM below read them from here.
        self.seg_ts = if self.ts_ok { seg.options.timestamps() } else { None };
        self.last_rcv = now;
        self.keep_probes = 0;
        if !self.predicted(seg, now) {
            match self.state {
                State::Closed | State::Listen => {}
                State::SynSent => self.syn_sent(seg, now),
                _ => self.synchronized(seg, now),
            }
        }
        self.output(now);
    }

    /// RFC 9293 §3.10.7.3.
    fn syn_sent(&mut self, seg: &TcpRepr<'_>, now: Instant) {
        let rst = seg.flags.contains(TcpFlags::RST);
        if let Some(ack) = seg.ack {
            if seq::le(ack, self.iss) || seq::gt(ack, self.snd_max) {
                if !rst {
                    self.rst_for(seg);
                }
                return;
            }
        }
        if rst {
            // RFC 5961 §3.2 leaves SYN-SENT as RFC 793: an acceptable ACK
            // makes the reset valid.
            if seg.ack.is_some() {
                self.enter_closed(Some(Errno::ECONNREFUSED));
            }
            return;
        }
        if !seg.flags.contains(TcpFlags::SYN) {
            return;
        }
        self.irs = seg.seq;
        self.rcv_nxt = seg.seq.wrapping_add(1);
        self.take_syn_options(seg);
        match seg.ack {
            Some(ack) => {
                self.snd_una = ack;
                if seq::lt(self.snd_nxt, ack) {
                    self.snd_nxt = ack;
                }
                // RFC 6298 §2: a SYN's RTT counts unless it was retransmitted.
                if self.retries == 0 {
                    if let Some(t0) = self.syn_sent_at {
                        self.rto.sample(now - t0);
                    }
                }
                self.rto_at = None;
                self.retries = 0;
                self.snd_wnd = u32::from(seg.window);
                self.max_snd_wnd = self.snd_wnd;
                self.snd_wl1 = seg.seq;
                self.snd_wl2 = ack;
                self.state = State::Established;
                self.just_established = true;
                self.ack_now = true;
                self.process_data(seg, now);
            }
            None => {
                // Simultaneous open: SYN-RECEIVED, SYN-ACK.
                self.state = State::SynReceived;
                self.snd_wnd = u32::from(seg.window);
                self.max_snd_wnd = self.snd_wnd;
                self.snd_wl1 = seg.seq;
                self.snd_nxt = self.iss;
                self.rto_at = None;
            }
        }
    }

    /// RFC 9293 §3.10.7.4 for SYN-RECEIVED and every synchronized state.
    fn synchronized(&mut self, seg: &TcpRepr<'_>, now: Instant) {
        let rst = seg.flags.contains(TcpFlags::RST);
        let syn = seg.flags.contains(TcpFlags::SYN);
        // SYN-RECEIVED: the peer repeating its SYN gets our SYN-ACK again.
        if self.state == State::SynReceived && syn && seg.ack.is_none() && seg.seq == self.irs {
            self.snd_nxt = self.iss;
            return;
        }
        // RFC 7323 §5.3 PAWS.
        if self.ts_ok && !rst {
            if let Some((tsval, _)) = self.seg_ts {
                if seq::lt(tsval, self.ts_recent) {
                    self.ack_now = true;
                    return;
                }
            }
        }
        // First: sequence number acceptability.
        let seg_len = seg.segment_len() as u32;
        let wnd = seq::dist(self.rcv_nxt, self.rcv_adv).max(self.advertisable());
        let acceptable = match (seg_len, wnd) {
            (0, 0) => seg.seq == self.rcv_nxt,
            (0, w) => seq::in_range(self.rcv_nxt, seg.seq, self.rcv_nxt.wrapping_add(w)),
            (_, 0) => false,
            (l, w) => {
                let end = self.rcv_nxt.wrapping_add(w);
                seq::in_range(self.rcv_nxt, seg.seq, end)
                    || seq::in_range(self.rcv_nxt, seg.seq.wrapping_add(l - 1), end)
            }
        };
        let zero_window_ack = !acceptable && wnd == 0 && seg.seq == self.rcv_nxt;
        if !acceptable && !zero_window_ack {
            if !rst {
                self.ack_now = true;
                // §3.10.7.4 TIME-WAIT: a retransmitted FIN restarts 2 MSL.
                if self.state == State::TimeWait && seg.flags.contains(TcpFlags::FIN) {
                    self.enter_time_wait(now);
                }
            }
            return;
        }
        // Second: RST (RFC 5961 §3.2).
        if rst {
            if seg.seq == self.rcv_nxt {
                let err = match self.state {
                    State::SynReceived if self.passive => None,
                    State::SynReceived => Some(Errno::ECONNREFUSED),
                    State::Closing | State::LastAck | State::TimeWait => None,
                    _ => Some(Errno::ECONNRESET),
                };
                self.enter_closed(err);
            } else {
                self.challenge_ack(now);
            }
            return;
        }
        // Fourth: SYN (RFC 5961 §4.2).
        if syn {
            self.challenge_ack(now);
            return;
        }
        // Fifth: ACK.
        let Some(ack) = seg.ack else { return };
        if self.state == State::SynReceived {
            if seq::lt(self.snd_una, ack) && seq::le(ack, self.snd_max) {
                self.state = State::Established;
                self.just_established = true;
                self.snd_wnd = u32::from(seg.window) << self.snd_wscale;
                self.max_snd_wnd = self.snd_wnd;
                self.snd_wl1 = seg.seq;
                self.snd_wl2 = ack;
                if self.fin_queued {
                    self.state = State::FinWait1;
                }
            } else {
                self.rst_for(seg);
                return;
            }
        }
        if !self.process_ack(seg, ack, now) {
            return;
        }
        self.update_ts_recent(seg.seq);
        if zero_window_ack {
            if seg_len > 0 {
                self.ack_now = true;
            }
            return;
        }
        // Seventh and eighth: text and FIN.
        self.process_data(seg, now);
    }

    /// RFC 7323 §4.3: TS.Recent from the segment that covers
    /// Last.ACK.sent.
    #[inline]
    pub(super) fn update_ts_recent(&mut self, seg_seq: u32) {
        if self.ts_ok {
            if let Some((tsval, _)) = self.seg_ts {
                if seq::le(seg_seq, self.last_ack_sent) && seq::ge(tsval, self.ts_recent) {
                    self.ts_recent = tsval;
                }
            }
        }
    }

    /// The ACK field (RFC 9293 §3.10.7.4 fifth, RFC 5961 §5.2); false when
    /// the segment must be dropped.
    fn process_ack(&mut self, seg: &TcpRepr<'_>, ack: u32, now: Instant) -> bool {
        if seq::gt(ack, self.snd_max) {
            self.challenge_ack(now);
            return false;
        }
        if seq::lt(ack, self.snd_una.wrapping_sub(self.max_snd_wnd.max(1))) {
            self.challenge_ack(now);
            return false;
        }
        let window = u32::from(seg.window) << self.snd_wscale;
        if self.sack_ok {
            if let Some(blocks) = seg.options.sack() {
                self.scoreboard.update(blocks.as_slice(), ack, self.snd_max);
            }
        }
        if seq::gt(ack, self.snd_una) {
            self.new_ack(ack, now);
        } else if ack == self.snd_una
            && seg.payload.is_empty()
            && !seg.flags.contains(TcpFlags::FIN)
            && window == self.snd_wnd
            && seq::lt(self.snd_una, self.snd_max)
        {
            self.dup_ack(now);
        }
        self.window_update(seg.seq, ack, window, now);
        // FIN acknowledged?
        let fin_acked = self.fin_queued
            && ack == self.buf_seq.wrapping_add(self.sndbuf.len() as u32).wrapping_add(1)
            && self.sndbuf.is_empty();
        match self.state {
            State::FinWait1 if fin_acked => {
                self.state = State::FinWait2;
                if self.orphan {
                    self.fin_wait2_at = Some(now + self.cfg.fin_timeout);
                }
            }
            State::Closing if fin_acked => self.enter_time_wait(now),
            State::LastAck if fin_acked => {
                self.enter_closed(None);
                return false;
            }
            State::TimeWait => {
                // A retransmitted FIN: acknowledge, restart 2 MSL.
                if seg.flags.contains(TcpFlags::FIN) {
                    self.ack_now = true;
                    self.enter_time_wait(now);
                }
                return false;
            }
            _ => {}
        }
        true
    }

    /// The send window update (RFC 9293 §3.10.7.4 fifth, "If SND.UNA =<
    /// SEG.ACK =< SND.NXT, the send window should be updated"), from a
    /// segment newer than the last one that set it (SND.WL1, SND.WL2).
    #[inline]
    pub(super) fn window_update(&mut self, seg_seq: u32, ack: u32, window: u32, now: Instant) {
        if seq::lt(self.snd_wl1, seg_seq) || (self.snd_wl1 == seg_seq && seq::le(self.snd_wl2, ack)) {
            let reopened = self.snd_wnd == 0 && window > 0;
            self.snd_wnd = window;
            self.max_snd_wnd = self.max_snd_wnd.max(window);
            self.snd_wl1 = seg_seq;
            self.snd_wl2 = ack;
            if reopened {
                self.persist_at = None;
                self.persist_backoff = 0;
                if seq::lt(self.snd_una, self.snd_nxt) && self.rto_at.is_none() {
                    self.rto_at = Some(now + self.rto.timeout());
                }
            }
        }
    }

    /// New data acknowledged.
    pub(super) fn new_ack(&mut self, ack: u32, now: Instant) {
        // RTT (RFC 7323 §4 with timestamps, else RFC 6298 Karn timing).
        let mut sample = None;
        if self.ts_ok {
            if let Some((_, tsecr)) = self.seg_ts {
                let d = self.ts_now(now).wrapping_sub(tsecr);
                if tsecr != 0 && d < 60_000 {
                    sample = Some(Duration::from_millis(u64::from(d.max(1))));
                }
            }
        } else if let Some((s, t0)) = self.rtt_probe {
            if seq::gt(ack, s) {
                sample = Some(now - t0);
                self.rtt_probe = None;
            }
        }
        if let Some(r) = sample {
            self.rto.sample(r);
        }
        let acked = seq::dist(self.snd_una, ack);
        let data = (seq::dist(self.buf_seq, ack) as usize).min(self.sndbuf.len());
        self.sndbuf.consume(data);
        self.buf_seq = self.buf_seq.wrapping_add(data as u32);
        self.snd_una = ack;
        if seq::lt(self.snd_nxt, ack) {
            self.snd_nxt = ack;
        }
        self.retries = 0;
        self.scoreboard.update(&[], ack, self.snd_max);
        if seq::gt(ack, self.scoreboard.rexmit_next) {
            self.scoreboard.rexmit_next = ack;
        }
        if self.in_recovery {
            let recover = self.recover.unwrap_or(self.snd_max);
            if seq::ge(ack, recover) {
                // RFC 6582 §3.2 step 3, full acknowledgment.
                let flight = seq::dist(self.snd_una, self.snd_max);
                self.cc.cwnd = self.cc.ssthresh.min(flight + self.mss).max(self.mss);
                self.in_recovery = false;
                self.dupacks = 0;
                self.scoreboard.clear();
            } else {
                // Partial acknowledgment: retransmit the next hole, deflate.
                self.retransmit_next_hole(now);
                self.cc.cwnd = self.cc.cwnd.saturating_sub(acked);
                if acked >= self.mss {
                    self.cc.cwnd += self.mss;
                }
                self.cc.cwnd = self.cc.cwnd.max(self.mss);
                self.rto_at = Some(now + self.rto.timeout());
            }
        } else {
            self.dupacks = 0;
            self.limited_transmit = 0;
            self.cc.on_ack_bytes(acked, now, self.rto.srtt());
        }
        self.rto_at = if self.snd_una == self.snd_max { None } else { Some(now + self.rto.timeout()) };
    }

    /// A duplicate ACK (RFC 5681 §3.2, RFC 6582 §3.2).
    fn dup_ack(&mut self, now: Instant) {
        self.dupacks += 1;
        self.counters.dupacks += 1;
        if self.in_recovery {
            // Step 4: inflate; with SACK also fill the next hole.
            self.cc.cwnd = self.cc.cwnd.saturating_add(self.mss);
            if self.sack_ok {
                self.retransmit_next_hole(now);
            }
            return;
        }
        // RFC 6675 §4 IsLost: more than 2 SMSS SACKed above SND.UNA.
        let sack_says_lost = self.sack_ok && self.scoreboard.sacked_bytes() > 2 * self.full_payload();
        // RFC 5827 early retransmit: with fewer than four segments out and
        // nothing new to send, the threshold is one less than them.
        let flight = seq::dist(self.snd_una, self.snd_max);
        let unsent = self.sndbuf.len() > seq::dist(self.buf_seq, self.snd_max) as usize;
        let segs_out = flight.div_ceil(self.full_payload());
        let thresh = if segs_out < 4 && !unsent { segs_out.saturating_sub(1).max(1) } else { 3 };
        if self.dupacks >= thresh || sack_says_lost {
            // RFC 6582 §3.2 step 2: only if the ACK covers more than
            // `recover` — unless SACK shows a real hole (duplicates from a
            // go-back-N resend carry no new SACK blocks).
            if self.recover.is_some_and(|r| seq::lt(self.snd_una, r)) && !sack_says_lost {
                return;
            }
            self.limited_transmit = 0;
            let flight = seq::dist(self.snd_una, self.snd_max);
            self.cc.on_fast_loss(flight);
            self.recover = Some(self.snd_max);
            self.in_recovery = true;
            self.dupacks = 3;
            self.counters.fast_retransmits += 1;
            self.scoreboard.rexmit_next = self.snd_una;
            self.retransmit_next_hole(now);
            self.cc.cwnd = self.cc.ssthresh + 3 * self.mss;
        } else if self.dupacks <= 2 {
            self.limited_transmit = self.dupacks * self.mss;
        }
    }

    /// The payload of a full-sized segment (SMSS less the timestamp
    /// option every segment carries).
    fn full_payload(&self) -> u32 {
        self.mss.saturating_sub(if self.ts_ok { 12 } else { 0 }).max(1)
    }

    /// Retransmits the first lost segment: the first SACK hole, else SND.UNA.
    fn retransmit_next_hole(&mut self, now: Instant) {
        let (at, limit) = match self.scoreboard.next_hole(self.snd_una) {
            Some(h) if self.sack_ok => h,
            _ => {
                if seq::gt(self.scoreboard.rexmit_next, self.snd_una) && self.sack_ok {
                    return;
                }
                (self.snd_una, self.mss)
            }
        };
        let n = self.send_one(at, limit, now);
        self.scoreboard.rexmit_next = at.wrapping_add(n.max(1));
    }

    /// In-order data has reached two full-sized segments since the last ACK
    /// (RFC 5681 §4.2, RFC 9293 §3.8.6.3: "at least every second
    /// full-sized segment"). Like Linux, whose GRO hands TCP a whole receive
    /// burst as one segment, the ACK is *owed* rather than sent: the stack
    /// sends one ACK for everything that arrived in the burst when its
    /// driver next calls `poll` (`Stack::tcp_flush_acks`), which every
    /// driver does right after a batch of `receive` calls. The delay is
    /// therefore zero in the driver's time, far below the delayed-ACK bound
    /// (§3.8.6.3: less than 0.5 s). Bounds kept:
    /// - an ACK goes at once when [`Tcb::stretch_limit`] bytes are
    ///   unacknowledged, so a long burst still clocks the sender;
    /// - every immediate ACK of RFC 5681 §4.2 stays immediate: out-of-order
    ///   data, a segment filling a hole, a duplicate, FIN, the quick-ack
    ///   segments after the handshake — those set `ack_now` in
    ///   [`Tcb::process_data`], not this;
    /// - the sender counts a stretch ACK by bytes (RFC 3465;
    ///   `Congestion::on_ack_bytes`), so fewer ACKs do not slow its growth.
    fn ack_decision(&mut self) {
        if self.unacked_bytes >= self.stretch_limit() {
            self.ack_now = true;
        } else {
            self.ack_owed = true;
        }
    }

    /// The most in-order bytes held unacknowledged within one receive
    /// burst: a quarter of the receive buffer (so the peer always has
    /// three quarters of the window to keep sending into), at most 64 KiB
    /// (what one Linux GRO segment carries), at least two full segments.
    pub(crate) fn stretch_limit(&self) -> u32 {
        let quarter = (self.rcvbuf.cap() / 4).min(64 * 1024) as u32;
        quarter.max(2 * self.full_payload())
    }

    /// For a segment whose checksum is not yet known: if its payload starts
    /// at or after RCV.NXT in a state that takes text (no SYN or RST) and
    /// fits the window without touching out-of-order data already held,
    /// copies it into the receive buffer's free space at its place while
    /// summing it and returns the payload's sum,
    /// for the caller to finish the checksum (RFC 9293 §3.1) before
    /// [`Tcb::on_segment`], which then only commits the bytes. One pass
    /// over the payload instead of a verify pass and a copy.
    pub(crate) fn stage_payload(&mut self, seg: &TcpRepr<'_>) -> Option<u16> {
        let takes_data = matches!(self.state, State::Established | State::FinWait1 | State::FinWait2);
        if !takes_data
            || self.read_shut
            || self.orphan
            || seq::lt(seg.seq, self.rcv_nxt)
            || seg.flags.contains(TcpFlags::SYN)
            || seg.flags.contains(TcpFlags::RST)
        {
            return None;
        }
        // In order, or out of order beyond RCV.NXT (`stage` refuses what
        // would not fit the window whole or would overlap held data).
        self.rcvbuf.stage(seq::dist(self.rcv_nxt, seg.seq), seg.payload)
    }

    /// After `advanced` bytes of a `len`-byte payload stored `off` bytes
    /// after RCV.NXT: RCV.NXT advances and the ACK is scheduled — at once
    /// for out-of-order data, a hole being filled or nothing new (RFC 5681
    /// §4.2), else delayed or owed for the burst (RFC 9293 §3.8.6.3).
    #[inline]
    pub(super) fn took_data(&mut self, off: u32, advanced: u32, len: usize, now: Instant) {
        self.rcv_nxt = self.rcv_nxt.wrapping_add(advanced);
        if off > 0 || self.rcvbuf.has_holes() || advanced == 0 || advanced as usize > len {
            // Out of order, a hole being filled, or nothing new: ACK now.
            self.ack_now = true;
        } else {
            self.unacked_bytes += advanced;
            if self.quickack > 0 {
                self.quickack -= 1;
                self.ack_now = true;
            } else if self.unacked_bytes >= 2 * self.full_payload() {
                self.ack_decision();
            } else if self.delack_at.is_none() {
                self.delack_at = Some(now + self.cfg.delack);
            }
        }
    }

    /// Segment text and FIN (RFC 9293 §3.10.7.4 seventh and eighth), with
    /// delayed ACKs (RFC 9293 §3.8.6.3, RFC 5681 §4.2; quick ACKs at start).
    fn process_data(&mut self, seg: &TcpRepr<'_>, now: Instant) {
        let mut start = seg.seq.wrapping_add(u32::from(seg.flags.contains(TcpFlags::SYN)));
        let mut payload = seg.payload;
        let fin_at = start.wrapping_add(payload.len() as u32);
        let takes_data = matches!(self.state, State::Established | State::FinWait1 | State::FinWait2);
        if !payload.is_empty() && takes_data {
            if self.orphan && seq::gt(fin_at, self.rcv_nxt) {
                // Data for a closed socket: nobody will read it (RFC 9293
                // §3.10.7.4 / RFC 2525 §2.17): reset.
                self.abort(now);
                return;
            }
            if seq::lt(start, self.rcv_nxt) {
                let cut = (seq::dist(start, self.rcv_nxt) as usize).min(payload.len());
                payload = &payload[cut..];
                start = self.rcv_nxt;
            }
            let off = seq::dist(self.rcv_nxt, start);
            let advanced = if self.read_shut {
                if off == 0 {
                    payload.len() as u32
                } else {
                    0
                }
            } else {
                self.rcvbuf.insert(off, payload)
            };
            self.took_data(off, advanced, payload.len(), now);
        } else if !payload.is_empty() {
            self.ack_now = true;
        }
        if seg.flags.contains(TcpFlags::FIN) {
            self.fin_ahead = Some(fin_at);
            self.ack_now = true;
        }
        if let Some(f) = self.fin_ahead {
            if f == self.rcv_nxt && !self.fin_rcvd {
                self.fin_rcvd = true;
                self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
                self.ack_now = true;
                match self.state {
                    State::SynReceived | State::Established => self.state = State::CloseWait,
                    State::FinWait1 => {
                        let fin_seq = self.buf_seq.wrapping_add(self.sndbuf.len() as u32);
                        if self.snd_una == fin_seq.wrapping_add(1) {
                            self.enter_time_wait(now);
                        } else {
                            self.state = State::Closing;
                        }
                    }
                    State::FinWait2 => self.enter_time_wait(now),
                    _ => {}
                }
            }
        }
    }
}
