//! Segment generation (RFC 9293 §3.8.6, §3.7.4): what may be sent now given
//! the peer's window, cwnd, Nagle and sender SWS avoidance; the options every
//! segment carries (RFC 7323 timestamps, RFC 2018 SACK); the advertised
//! window with receiver SWS avoidance and window scaling (RFC 7323 §2).

use super::seq;
use super::tcb::{OutSeg, Tcb};
use super::State;
use crate::time::Instant;
use via6_wire::tcp::TcpFlags;
use via6_wire::tcp_option::{SackBlocks, TcpOption, TcpOptions};

/// The most payload one run of segments carries (Linux's GSO limit).
const MAX_RUN: usize = 64 * 1024;

impl Tcb {
    /// The timestamp clock (RFC 7323 §5.4: 1 ms ticks, a random offset per
    /// connection).
    pub(crate) fn ts_now(&self, now: Instant) -> u32 {
        (now.as_millis() as u32).wrapping_add(self.ts_offset)
    }

    /// The options of a SYN or SYN-ACK (RFC 9293 §3.7.1, RFC 7323 §2.2/§3.2,
    /// RFC 2018 §2); on a SYN-ACK only what the peer offered.
    fn syn_options(&self, now: Instant) -> TcpOptions<'static> {
        let synack = self.state == State::SynReceived;
        let mut o: Vec<TcpOption<'static>> = vec![TcpOption::Mss(self.path_mss.min(65535) as u16)];
        if self.cfg.sack && (!synack || self.sack_ok) {
            o.push(TcpOption::SackPermitted);
        }
        if self.cfg.timestamps && (!synack || self.ts_ok) {
            let tsecr = if synack { self.ts_recent } else { 0 };
            o.push(TcpOption::Timestamps { tsval: self.ts_now(now), tsecr });
        }
        if self.cfg.window_scaling && (!synack || self.rcv_wscale_ok()) {
            o.push(TcpOption::Nop);
            o.push(TcpOption::WindowScale(self.rcv_wscale));
        }
        TcpOptions::from_options(&o).unwrap_or(TcpOptions::EMPTY)
    }

    fn rcv_wscale_ok(&self) -> bool {
        self.snd_wscale_seen
    }

    /// Options of a non-SYN segment: timestamps when negotiated, SACK blocks
    /// on an ACK while holes exist (RFC 2018 §4: up to 3 with timestamps).
    fn data_options(&self, now: Instant, with_sack: bool) -> TcpOptions<'static> {
        let sack = with_sack && self.sack_ok && self.rcvbuf.has_holes();
        if self.ts_ok && !sack {
            // The common case, written directly (RFC 7323 Appendix A layout).
            return TcpOptions::timestamps_only(self.ts_now(now), self.ts_recent);
        }
        // NOP, NOP, Timestamps, then NOP, NOP, SACK while holes exist,
        // written directly (`TcpOptions::ack_block`: no option list, no
        // emit-then-validate round trip per ACK).
        let ts = self.ts_ok.then(|| (self.ts_now(now), self.ts_recent));
        let blocks = if sack {
            let max = if self.ts_ok { 3 } else { 4 };
            self.rcvbuf.sack_blocks(self.rcv_nxt, max)
        } else {
            SackBlocks::new()
        };
        TcpOptions::ack_block(ts, blocks.as_slice()).unwrap_or(TcpOptions::EMPTY)
    }

    /// The window field (RFC 9293 §3.8.6.2.2 receiver SWS avoidance; never
    /// shrinking the right edge; RFC 7323 §2.3 scaled except on SYNs).
    fn window_field(&mut self, syn: bool) -> u16 {
        let avail = self.advertisable();
        let cur = seq::dist(self.rcv_nxt, self.rcv_adv);
        let step = (self.rcvbuf.cap() as u32 / 2).min(self.mss);
        let wnd =
            if avail >= cur.saturating_add(step) || avail == self.rcvbuf.cap() as u32 { avail } else { cur };
        let wnd = wnd.max(cur);
        let (field, shift) =
            if syn { (wnd.min(65535), 0) } else { ((wnd >> self.rcv_wscale).min(65535), self.rcv_wscale) };
        let edge = self.rcv_nxt.wrapping_add(field << shift);
        if seq::gt(edge, self.rcv_adv) || !self.state.is_synchronized() {
            self.rcv_adv = edge;
        }
        field as u16
    }

    /// Builds and queues a segment carrying ACK (except a first SYN) and
    /// the `ring` bytes of the send buffer from `seq_no` on (copied into the
    /// frame when it is emitted, not here).
    fn send_seg(&mut self, seq_no: u32, flags: TcpFlags, ring: u32, options: TcpOptions<'static>) {
        let syn = flags.contains(TcpFlags::SYN);
        let ack = (self.state != State::SynSent || !syn).then_some(self.rcv_nxt);
        let ack = if self.state == State::SynSent && syn { None } else { ack };
        let window = self.window_field(syn);
        if let Some(a) = ack {
            self.last_ack_sent = a;
            self.ack_now = false;
            self.ack_owed = false;
            self.delack_at = None;
            self.unacked_bytes = 0;
        }
        self.push(OutSeg {
            seq: seq_no,
            ack,
            flags,
            window,
            options,
            payload: Vec::new(),
            ring,
            challenge: false,
            seg_size: 0,
        });
    }

    /// Queues a bare ACK now.
    pub(crate) fn send_ack(&mut self, now: Instant) {
        let opts = self.data_options(now, true);
        self.send_seg(self.snd_nxt, TcpFlags::empty(), 0, opts);
    }

    /// Queues an RFC 5961 challenge ACK.
    pub(crate) fn challenge_ack(&mut self, now: Instant) {
        self.counters.challenge_acks += 1;
        self.send_ack(now);
        if let Some(s) = self.out.last_mut() {
            s.challenge = true;
        }
    }

    /// (Re)sends the SYN or SYN-ACK.
    fn send_syn(&mut self, now: Instant) {
        if self.retries == 0 && self.syn_sent_at.is_none() {
            self.syn_sent_at = Some(now);
        }
        let opts = self.syn_options(now);
        self.send_seg(self.iss, TcpFlags::SYN, 0, opts);
        self.snd_nxt = self.iss.wrapping_add(1);
        self.snd_max = seq::max(self.snd_max, self.snd_nxt);
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rto.timeout());
        }
    }

    /// Sends one segment starting at `at` (a retransmission), at most
    /// `limit` bytes; returns the sequence space it covered.
    pub(crate) fn send_one(&mut self, at: u32, limit: u32, now: Instant) -> u32 {
        if matches!(self.state, State::SynSent | State::SynReceived) {
            self.send_syn(now);
            return 1;
        }
        let opts = self.data_options(now, true);
        let maxp = self.mss.saturating_sub(opts.len() as u32).max(1).min(limit.max(1));
        let off = seq::dist(self.buf_seq, at) as usize;
        let len = (self.sndbuf.len().saturating_sub(off)).min(maxp as usize);
        let fin_seq = self.buf_seq.wrapping_add(self.sndbuf.len() as u32);
        let fin = self.fin_queued && off + len == self.sndbuf.len() && seq::lt(fin_seq, self.snd_max);
        if len == 0 && !fin {
            return 0;
        }
        let mut flags = if fin { TcpFlags::FIN } else { TcpFlags::empty() };
        if len > 0 && off + len == self.sndbuf.len() {
            flags.insert(TcpFlags::PSH);
        }
        self.send_seg(at, flags, len as u32, opts);
        self.counters.retransmits += 1;
        self.rtt_probe = None;
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.rto.timeout());
        }
        len as u32 + u32::from(fin)
    }

    /// Sends whatever the state, windows and Nagle allow, then a pending ACK.
    pub(crate) fn output(&mut self, now: Instant) {
        match self.state {
            State::SynSent | State::SynReceived => {
                if self.snd_nxt == self.iss {
                    self.send_syn(now);
                } else if self.ack_now && self.state == State::SynReceived {
                    // RFC 9293 §3.5 Figure 8 line 4: an unacceptable
                    // SYN-ACK in SYN-RECEIVED is answered with an ACK.
                    self.send_ack(now);
                }
                return;
            }
            State::Closed | State::Listen => return,
            State::TimeWait | State::FinWait2 => {
                if self.ack_now {
                    self.send_ack(now);
                }
                return;
            }
            _ => {}
        }
        // Nothing unsent, no FIN to send and no go-back-N resend pending
        // (the receiving side of a bulk transfer, on every segment): only a
        // pending ACK can go, and the zero-window persist timer below needs
        // data waiting, so the option block and the send loop are skipped.
        let unsent = self.sndbuf.len().saturating_sub(seq::dist(self.buf_seq, self.snd_nxt) as usize);
        let fin_seq = self.buf_seq.wrapping_add(self.sndbuf.len() as u32);
        if unsent == 0
            && !(self.fin_queued && seq::le(self.snd_nxt, fin_seq))
            && !seq::lt(self.snd_nxt, self.snd_max)
        {
            if self.ack_now {
                self.send_ack(now);
            }
            return;
        }
        // One option block for the whole run: the timestamp clock, TS.Recent
        // and the SACK blocks do not change while sending.
        let opts = self.data_options(now, true);
        // The send buffer sums its bytes in chunks of a full segment (with
        // timestamps, no SACK blocks) cut from the send point.
        let full = self.mss.saturating_sub(if self.ts_ok { 12 } else { 0 }).max(1) as usize;
        self.sndbuf.align_chunks(full, seq::dist(self.buf_seq, self.snd_nxt) as usize);
        let mut budget = 1024;
        while budget > 0 {
            budget -= 1;
            // A go-back-N resend skips what the receiver SACKed (RFC 6675
            // §5.1 keeps the scoreboard; RFC 2018 §8 lets us).
            let mut span = None;
            if self.sack_ok && seq::lt(self.snd_nxt, self.snd_max) {
                match self.scoreboard.resend_span(self.snd_nxt) {
                    Ok(end) => {
                        self.snd_nxt = seq::max(self.snd_nxt, end);
                        continue;
                    }
                    Err(s) => span = s,
                }
            }
            let off = seq::dist(self.buf_seq, self.snd_nxt) as usize;
            let unsent = self.sndbuf.len().saturating_sub(off);
            let fin_seq = self.buf_seq.wrapping_add(self.sndbuf.len() as u32);
            let fin_pending = self.fin_queued && seq::le(self.snd_nxt, fin_seq);
            // RFC 3042 limited transmit adds up to two segments on the
            // first duplicate ACKs.
            let wnd = self.snd_wnd.min(self.cc.cwnd.saturating_add(self.limited_transmit));
            let usable = seq::dist(self.snd_nxt, self.snd_una.wrapping_add(wnd));
            let maxp = self.mss.saturating_sub(opts.len() as u32).max(1) as usize;
            let len = unsent.min(maxp).min(usable as usize).min(span.map_or(usize::MAX, |s| s as usize));
            let fin = fin_pending && off + len == self.sndbuf.len();
            if len == 0 && !fin {
                break;
            }
            let outstanding = seq::lt(self.snd_una, self.snd_nxt);
            if len < maxp && !fin && outstanding {
                // RFC 9293 §3.7.4 Nagle: hold a small segment while data is
                // unacknowledged; §3.8.6.2.1 sender SWS avoidance.
                if !self.nodelay || (len < unsent && (len as u32) < self.max_snd_wnd / 2) {
                    break;
                }
            }
            let retrans = seq::lt(self.snd_nxt, self.snd_max);
            // Full segments that may all go now are queued as one run
            // (`OutSeg::seg_size`): a resend does not run past SND.MAX, and
            // a FIN due goes on a segment of its own making.
            let (len, pieces) = if len == maxp && !fin && maxp <= usize::from(u16::MAX) {
                let mut room = unsent.min(usable as usize).min(MAX_RUN);
                if let Some(s) = span {
                    room = room.min(s as usize);
                }
                if retrans {
                    room = room.min(seq::dist(self.snd_nxt, self.snd_max) as usize);
                }
                let mut pieces = (room / maxp).clamp(1, budget + 1);
                if fin_pending && off + pieces * maxp == self.sndbuf.len() && pieces > 1 {
                    pieces -= 1;
                }
                budget -= pieces - 1;
                (pieces * maxp, pieces)
            } else {
                (len, 1)
            };
            let mut flags = if fin { TcpFlags::FIN } else { TcpFlags::empty() };
            if len > 0 && off + len == self.sndbuf.len() {
                flags.insert(TcpFlags::PSH);
            }
            let at = self.snd_nxt;
            self.send_seg(at, flags, len as u32, opts);
            if pieces > 1 {
                if let Some(r) = self.out.last_mut() {
                    r.seg_size = maxp as u16;
                }
                self.counters.segs_out += pieces as u64 - 1;
            }
            self.snd_nxt = self.snd_nxt.wrapping_add(len as u32 + u32::from(fin));
            if retrans {
                self.counters.retransmits += pieces as u64;
            } else if !self.ts_ok && self.rtt_probe.is_none() {
                // RFC 6298 §3 (Karn): time only new data.
                self.rtt_probe = Some((at, now));
            }
            self.snd_max = seq::max(self.snd_max, self.snd_nxt);
            if self.rto_at.is_none() {
                self.rto_at = Some(now + self.rto.timeout());
            }
            self.persist_at = None;
        }
        // RFC 9293 §3.8.6.1: a zero window with data waiting starts the
        // persist timer.
        let waiting = self.sndbuf.len() > seq::dist(self.buf_seq, self.snd_nxt) as usize;
        if self.snd_wnd == 0 && waiting && self.snd_una == self.snd_max && self.persist_at.is_none() {
            self.persist_at = Some(now + self.rto.timeout());
            self.rto_at = None;
        }
        if self.ack_now {
            self.send_ack(now);
        }
    }

    /// A zero-window probe (RFC 9293 §3.8.6.1): one byte of new data past
    /// the closed window; the persist timer, not the RTO, repeats it.
    pub(crate) fn window_probe(&mut self, now: Instant) {
        self.counters.window_probes += 1;
        let opts = self.data_options(now, true);
        let off = seq::dist(self.buf_seq, self.snd_una) as usize;
        let len = self.sndbuf.len().saturating_sub(off).min(1) as u32;
        let at = self.snd_una;
        let flags = if len == 0 && self.fin_queued { TcpFlags::FIN } else { TcpFlags::empty() };
        if len > 0 {
            self.snd_max = seq::max(self.snd_max, at.wrapping_add(1));
        }
        self.send_seg(at, flags, len, opts);
    }

    /// A keepalive probe (RFC 9293 §3.8.4): SEG.SEQ = SND.NXT - 1, no data.
    pub(crate) fn keepalive_probe(&mut self, now: Instant) {
        self.counters.keepalive_probes += 1;
        let opts = self.data_options(now, false);
        self.send_seg(self.snd_nxt.wrapping_sub(1), TcpFlags::empty(), 0, opts);
    }
}
