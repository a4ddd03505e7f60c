//! The transmission control block: one connection's state (RFC 9293 §3.3.1)
//! and the user calls on it (§3.10.1-§3.10.6). Arrivals are in `input.rs`,
//! segment generation in `output.rs`, timers in `timers.rs`. A TCB is a pure
//! state machine: it queues [`OutSeg`]s for the stack to emit.

use super::buffer::RecvBuf;
use super::congestion::Congestion;
use super::sack::Scoreboard;
use super::sendbuf::SendBuf;
use super::seq;
use super::timers::Rto;
use super::{State, TcpConfig};
use crate::addr::IfIndex;
use crate::errno::Errno;
use crate::time::Instant;
use core::time::Duration;
use std::net::IpAddr;
use via6_wire::tcp::TcpFlags;
use via6_wire::tcp_option::TcpOptions;

/// A segment the TCB wants sent.
#[derive(Debug, Clone)]
pub struct OutSeg {
    /// SEG.SEQ.
    pub seq: u32,
    /// SEG.ACK when the ACK bit is set.
    pub ack: Option<u32>,
    /// Control bits other than ACK.
    pub flags: TcpFlags,
    /// SEG.WND as sent.
    pub window: u16,
    /// Options.
    pub options: TcpOptions<'static>,
    /// Payload held by the segment itself (segments not built by the TCB's
    /// own send path, and tests).
    pub payload: Vec<u8>,
    /// Payload bytes in the send buffer from `seq` on: copied from the
    /// ring's one or two slices straight into the frame when the segment
    /// is emitted. Zero when `payload` carries the data.
    pub ring: u32,
    /// An RFC 5961 challenge ACK (subject to the global rate limit).
    pub challenge: bool,
    /// Non-zero for a run of data segments queued as one (as Linux's GSO
    /// hands a driver one large segment): the `ring` bytes are cut into
    /// segments of this many payload bytes, the last possibly shorter,
    /// each with the same ACK, window and options; PSH goes on the last
    /// one only ([`OutSeg::piece`]). Built by `Tcb::output` only.
    pub seg_size: u16,
}

/// One segment of an [`OutSeg`] run: where it starts, its payload bytes
/// in the send ring and its control bits (ACK aside).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// SEG.SEQ.
    pub seq: u32,
    /// Payload bytes.
    pub len: u32,
    /// Control bits other than ACK.
    pub flags: TcpFlags,
}

impl OutSeg {
    /// Segment `i` (below [`OutSeg::pieces`]) of a run, or the whole
    /// segment when it is not one.
    #[inline]
    pub fn piece_at(&self, i: u32) -> Piece {
        if self.seg_size == 0 {
            return Piece { seq: self.seq, len: self.ring, flags: self.flags };
        }
        let size = u32::from(self.seg_size);
        let off = i * size;
        let last = off + size >= self.ring;
        Piece {
            seq: self.seq.wrapping_add(off),
            len: if last { self.ring - off } else { size },
            flags: if last { self.flags } else { TcpFlags::empty() },
        }
    }

    /// How many segments this one stands for (see [`OutSeg::seg_size`]).
    #[inline]
    pub fn pieces(&self) -> u32 {
        let size = u32::from(self.seg_size);
        if size == 0 || self.ring <= size {
            1
        } else {
            self.ring.div_ceil(size)
        }
    }

    /// Segment `i` (below [`OutSeg::pieces`]) of a run, as a segment of
    /// its own.
    pub fn piece(&self, i: u32) -> OutSeg {
        let p = self.piece_at(i);
        OutSeg {
            seq: p.seq,
            ack: self.ack,
            flags: p.flags,
            window: self.window,
            options: self.options,
            payload: Vec::new(),
            ring: p.len,
            challenge: false,
            seg_size: 0,
        }
    }
}

/// Per-connection counters (`tcp_info`-like).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcbCounters {
    /// Segments sent.
    pub segs_out: u64,
    /// Segments received.
    pub segs_in: u64,
    /// Segments retransmitted (any cause).
    pub retransmits: u64,
    /// Fast retransmits (RFC 5681 §3.2).
    pub fast_retransmits: u64,
    /// Retransmission timeouts.
    pub timeouts: u64,
    /// RFC 5961 challenge ACKs queued.
    pub challenge_acks: u64,
    /// Zero-window probes sent.
    pub window_probes: u64,
    /// Keepalive probes sent.
    pub keepalive_probes: u64,
    /// Duplicate ACKs received.
    pub dupacks: u64,
    /// Times the MSS was lowered by a path MTU message.
    pub pmtu_lowered: u64,
}

/// One connection.
#[derive(Debug)]
pub struct Tcb {
    pub(crate) state: State,
    pub(crate) cfg: TcpConfig,
    /// Local (address, port), unmapped.
    pub(crate) local: (IpAddr, u16),
    /// Remote (address, port), unmapped.
    pub(crate) remote: (IpAddr, u16),
    /// Zone of a link-local peer.
    pub(crate) zone: Option<IfIndex>,
    pub(crate) passive: bool,
    // Send sequence space (RFC 9293 §3.3.1).
    pub(crate) iss: u32,
    pub(crate) snd_una: u32,
    pub(crate) snd_nxt: u32,
    /// The highest sequence number sent + 1 (SND.NXT moves back on RTO).
    pub(crate) snd_max: u32,
    pub(crate) snd_wnd: u32,
    pub(crate) max_snd_wnd: u32,
    pub(crate) snd_wl1: u32,
    pub(crate) snd_wl2: u32,
    /// Sequence number of the send buffer's first byte.
    pub(crate) buf_seq: u32,
    pub(crate) sndbuf: SendBuf,
    /// A number no other connection of the stack had (0 until its first
    /// payload is lent: `tcp/lend.rs`).
    pub(crate) serial: u64,
    pub(crate) fin_queued: bool,
    pub(crate) snd_wscale: u8,
    /// The peer's SYN carried Window Scale.
    pub(crate) snd_wscale_seen: bool,
    pub(crate) rcv_wscale: u8,
    // Receive sequence space.
    pub(crate) irs: u32,
    pub(crate) rcv_nxt: u32,
    /// Right edge of the window last advertised.
    pub(crate) rcv_adv: u32,
    pub(crate) rcvbuf: RecvBuf,
    /// A FIN that arrived ahead of RCV.NXT.
    pub(crate) fin_ahead: Option<u32>,
    pub(crate) fin_rcvd: bool,
    pub(crate) read_shut: bool,
    // Options.
    /// Largest payload + options per segment (SMSS, RFC 6691).
    pub(crate) mss: u32,
    /// What the path allows (route or PMTU).
    pub(crate) path_mss: u32,
    /// What the peer announced.
    pub(crate) peer_mss: u32,
    pub(crate) ts_ok: bool,
    pub(crate) ts_recent: u32,
    /// The timestamps of the segment being processed (when `ts_ok`).
    pub(crate) seg_ts: Option<(u32, u32)>,
    pub(crate) ts_offset: u32,
    pub(crate) last_ack_sent: u32,
    pub(crate) sack_ok: bool,
    pub(crate) scoreboard: Scoreboard,
    // Timers.
    pub(crate) rto: Rto,
    pub(crate) rto_at: Option<Instant>,
    pub(crate) retries: u32,
    pub(crate) rtt_probe: Option<(u32, Instant)>,
    /// When the first SYN went out (its RTT is a valid sample).
    pub(crate) syn_sent_at: Option<Instant>,
    pub(crate) delack_at: Option<Instant>,
    pub(crate) ack_now: bool,
    /// In-order data owes an ACK at the end of the receive batch
    /// ([`Tcb::ack_decision`]).
    pub(crate) ack_owed: bool,
    /// This TCB is on the stack's list of owed ACKs.
    pub(crate) ack_listed: bool,
    pub(crate) unacked_bytes: u32,
    pub(crate) quickack: u32,
    pub(crate) persist_at: Option<Instant>,
    pub(crate) persist_backoff: u32,
    pub(crate) keepalive: bool,
    pub(crate) keep_probes: u32,
    pub(crate) last_rcv: Instant,
    pub(crate) tw_at: Option<Instant>,
    pub(crate) fin_wait2_at: Option<Instant>,
    // Congestion.
    pub(crate) cc: Congestion,
    pub(crate) dupacks: u32,
    /// RFC 3042: bytes beyond cwnd allowed by the first two dup ACKs.
    pub(crate) limited_transmit: u32,
    pub(crate) in_recovery: bool,
    pub(crate) recover: Option<u32>,
    // User.
    pub(crate) error: Option<Errno>,
    pub(crate) soft_error: Option<Errno>,
    pub(crate) nodelay: bool,
    /// The user closed the socket: free it once CLOSED.
    pub(crate) orphan: bool,
    /// Became ESTABLISHED since the stack last looked (for the listener).
    pub(crate) just_established: bool,
    pub(crate) out: Vec<OutSeg>,
    /// IPv4 identification and cached route (`emit`).
    pub(crate) emit: super::emit::EmitCache,
    /// The earliest entry this TCB has in the stack's timer queue.
    pub(crate) timer_queued: Option<Instant>,
    pub(crate) counters: TcbCounters,
}

/// The MSS a peer is assumed to accept without the option (RFC 9293
/// §3.7.1: 536 for IPv4; RFC 8200 §8.3: 1220 for IPv6).
pub fn default_mss(v6: bool) -> u32 {
    if v6 {
        1220
    } else {
        536
    }
}

/// The MSS for a path MTU (RFC 9293 §3.7.1, RFC 6691): MTU minus fixed IP
/// and TCP headers.
pub fn mss_for_mtu(mtu: u32, v6: bool) -> u32 {
    let min = if v6 { 1280 } else { 68 };
    mtu.max(min) - if v6 { 60 } else { 40 }
}

/// RFC 7323 §2.3: the smallest shift that lets `buf` fit the 16-bit field.
pub fn wscale_for(buf: usize) -> u8 {
    let mut s = 0u8;
    while s < 14 && (buf >> s) > 65535 {
        s += 1;
    }
    s
}

impl Tcb {
    /// A TCB in CLOSED with everything chosen but the state.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        cfg: &TcpConfig,
        local: (IpAddr, u16),
        remote: (IpAddr, u16),
        zone: Option<IfIndex>,
        iss: u32,
        path_mtu: u32,
        ts_offset: u32,
        now: Instant,
    ) -> Tcb {
        let v6 = remote.0.is_ipv6();
        let path_mss = mss_for_mtu(path_mtu, v6);
        let rcv_wscale = if cfg.window_scaling { wscale_for(cfg.rcvbuf) } else { 0 };
        Tcb {
            state: State::Closed,
            cfg: cfg.clone(),
            local,
            remote,
            zone,
            passive: false,
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: 0,
            snd_wl2: 0,
            buf_seq: iss.wrapping_add(1),
            sndbuf: SendBuf::new(cfg.sndbuf),
            serial: 0,
            fin_queued: false,
            snd_wscale: 0,
            snd_wscale_seen: false,
            rcv_wscale,
            irs: 0,
            rcv_nxt: 0,
            rcv_adv: 0,
            rcvbuf: RecvBuf::new(cfg.rcvbuf),
            fin_ahead: None,
            fin_rcvd: false,
            read_shut: false,
            mss: default_mss(v6).min(path_mss),
            path_mss,
            peer_mss: default_mss(v6),
            ts_ok: false,
            ts_recent: 0,
            seg_ts: None,
            ts_offset,
            last_ack_sent: 0,
            sack_ok: false,
            scoreboard: Scoreboard::default(),
            rto: Rto::new(cfg.rto_initial, cfg.rto_min, cfg.rto_max),
            rto_at: None,
            retries: 0,
            rtt_probe: None,
            syn_sent_at: None,
            delack_at: None,
            ack_now: false,
            ack_owed: false,
            ack_listed: false,
            unacked_bytes: 0,
            quickack: cfg.quickack,
            persist_at: None,
            persist_backoff: 0,
            keepalive: false,
            keep_probes: 0,
            last_rcv: now,
            tw_at: None,
            fin_wait2_at: None,
            cc: Congestion::new(cfg.congestion, default_mss(v6).min(path_mss)),
            dupacks: 0,
            limited_transmit: 0,
            in_recovery: false,
            recover: None,
            error: None,
            soft_error: None,
            nodelay: false,
            orphan: false,
            just_established: false,
            out: Vec::new(),
            emit: Default::default(),
            timer_queued: None,
            counters: TcbCounters::default(),
        }
    }

    /// OPEN, active (RFC 9293 §3.10.1): SYN-SENT and a SYN queued.
    pub(crate) fn connect(&mut self, now: Instant) {
        self.state = State::SynSent;
        self.output(now);
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Counters.
    pub fn counters(&self) -> TcbCounters {
        self.counters
    }

    /// The send MSS.
    pub fn mss(&self) -> u32 {
        self.mss
    }

    /// cwnd.
    pub fn cwnd(&self) -> u32 {
        self.cc.cwnd
    }

    /// SRTT.
    pub fn srtt(&self) -> Option<Duration> {
        self.rto.srtt()
    }

    /// Whether the state allows the user to send.
    fn can_send(&self) -> bool {
        matches!(self.state, State::SynSent | State::SynReceived | State::Established | State::CloseWait)
    }

    /// SEND (RFC 9293 §3.10.2): queues what fits in the send buffer.
    pub(crate) fn send(&mut self, data: &[u8], now: Instant) -> Result<usize, Errno> {
        if let Some(e) = self.error {
            return Err(e);
        }
        if !self.can_send() || self.fin_queued {
            return Err(Errno::ENOTCONN);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let n = self.sndbuf.write(data);
        if n == 0 {
            return Err(Errno::EWOULDBLOCK);
        }
        self.output(now);
        Ok(n)
    }

    /// RECEIVE (RFC 9293 §3.10.3): in-order bytes; `Ok(0)` at end of
    /// stream; EWOULDBLOCK when nothing is there yet.
    pub(crate) fn recv(&mut self, buf: &mut [u8], now: Instant) -> Result<usize, Errno> {
        if !self.rcvbuf.is_empty() {
            let n = self.rcvbuf.read(buf);
            // RFC 9293 §3.8.6.2.2: announce the window again once it opened
            // by min(RCV.BUFF/2, MSS) since the last announcement.
            let grown = self.advertisable().saturating_sub(seq::dist(self.rcv_nxt, self.rcv_adv));
            let step = (self.rcvbuf.cap() as u32 / 2).min(self.mss);
            if grown >= step && self.state.is_synchronized() {
                self.ack_now = true;
                self.output(now);
            }
            return Ok(n);
        }
        if let Some(e) = self.error {
            return Err(e);
        }
        if self.fin_rcvd || self.read_shut || self.state == State::Closed {
            return Ok(0);
        }
        Err(Errno::EWOULDBLOCK)
    }

    /// The window we could advertise now.
    pub(crate) fn advertisable(&self) -> u32 {
        (self.rcvbuf.window() as u32).min(65535u32 << self.rcv_wscale)
    }

    /// CLOSE of the sending direction (shutdown(SHUT_WR), RFC 9293 §3.10.4):
    /// FIN after the queued data.
    pub(crate) fn shutdown_write(&mut self, now: Instant) {
        match self.state {
            State::Established => self.state = State::FinWait1,
            State::CloseWait => self.state = State::LastAck,
            State::SynReceived => self.state = State::FinWait1,
            State::SynSent | State::Listen => {
                self.enter_closed(None);
                return;
            }
            _ => return,
        }
        self.fin_queued = true;
        self.output(now);
    }

    /// shutdown(SHUT_RD): unread and future data is discarded.
    pub(crate) fn shutdown_read(&mut self) {
        self.read_shut = true;
        self.rcvbuf.discard();
    }

    /// close(2): a graceful close, or an abort when unread data would be
    /// lost (RFC 9293 §3.10.4 note / RFC 2525 §2.17). Returns whether the TCB
    /// can be freed at once.
    pub(crate) fn close(&mut self, now: Instant) -> bool {
        self.orphan = true;
        match self.state {
            State::Closed | State::Listen | State::SynSent => {
                self.state = State::Closed;
                return true;
            }
            _ => {}
        }
        if !self.rcvbuf.is_empty() && self.state.is_synchronized() {
            self.abort(now);
            return true;
        }
        self.shutdown_write(now);
        if self.state == State::FinWait2 {
            self.fin_wait2_at = Some(now + self.cfg.fin_timeout);
        }
        self.state == State::Closed
    }

    /// ABORT (RFC 9293 §3.10.5): RST and CLOSED.
    pub(crate) fn abort(&mut self, now: Instant) {
        if self.state.is_synchronized() {
            let seg = OutSeg {
                seq: self.snd_nxt,
                ack: None,
                flags: TcpFlags::RST,
                window: 0,
                options: TcpOptions::EMPTY,
                payload: Vec::new(),
                ring: 0,
                challenge: false,
                seg_size: 0,
            };
            self.push(seg);
        }
        let _ = now;
        self.enter_closed(None);
    }

    /// Enters CLOSED with an optional error for the user.
    pub(crate) fn enter_closed(&mut self, err: Option<Errno>) {
        self.state = State::Closed;
        if err.is_some() && self.error.is_none() {
            self.error = err;
        }
        self.rto_at = None;
        self.persist_at = None;
        self.delack_at = None;
        self.tw_at = None;
        self.fin_wait2_at = None;
    }

    /// Enters TIME-WAIT for 2 MSL (RFC 9293 §3.10.7.4).
    pub(crate) fn enter_time_wait(&mut self, now: Instant) {
        self.state = State::TimeWait;
        self.tw_at = Some(now + self.cfg.msl * 2);
        self.rto_at = None;
        self.persist_at = None;
        self.fin_wait2_at = None;
    }

    /// Tests: cuts the queued runs into their segments (as `tcp_after`
    /// emits them).
    #[cfg(test)]
    pub(crate) fn split_runs(&mut self) {
        let out = std::mem::take(&mut self.out);
        for s in out {
            match s.pieces() {
                1 => self.out.push(OutSeg { seg_size: 0, ..s }),
                n => self.out.extend((0..n).map(|i| s.piece(i))),
            }
        }
    }

    pub(crate) fn push(&mut self, seg: OutSeg) {
        self.counters.segs_out += 1;
        self.out.push(seg);
    }

    /// The earliest timer.
    pub fn deadline(&self) -> Option<Instant> {
        // The earliest armed timer, folded as numbers without a loop (a
        // fold of `Option<Instant>`s cost 60 instructions a call, and this
        // runs once per segment).
        let fold = |(at, armed): (u64, bool), t: Option<Instant>| match t {
            Some(i) => (at.min(i.as_nanos()), true),
            None => (at, armed),
        };
        let mut d = (u64::MAX, false);
        d = fold(d, self.rto_at);
        d = fold(d, self.persist_at);
        d = fold(d, self.delack_at);
        d = fold(d, self.tw_at);
        d = fold(d, self.fin_wait2_at);
        d = fold(d, self.keep_at());
        d.1.then_some(Instant::from_nanos(d.0))
    }

    /// When the next keepalive probe is due (RFC 9293 §3.8.4, RFC 1122
    /// §4.2.3.6).
    pub(crate) fn keep_at(&self) -> Option<Instant> {
        (self.keepalive && self.state == State::Established)
            .then(|| self.last_rcv + self.cfg.keep_idle + self.cfg.keep_intvl * self.keep_probes)
    }

    /// A path MTU message (RFC 1191 §6.3, RFC 8201 §5.2) lowered the path
    /// MTU: shrink the MSS and resend what the smaller packets must carry.
    pub(crate) fn set_path_mtu(&mut self, mtu: u32, now: Instant) -> bool {
        let v6 = self.remote.0.is_ipv6();
        let new = mss_for_mtu(mtu, v6).max(if v6 { 1220 } else { 88 });
        if new >= self.path_mss {
            return false;
        }
        self.path_mss = new;
        self.mss = self.peer_mss.min(new);
        self.cc.set_mss(self.mss);
        self.counters.pmtu_lowered += 1;
        if self.state.is_synchronized() && seq::lt(self.snd_una, self.snd_max) {
            // RFC 1191 §6.3: retransmit at once, without a congestion
            // response (the loss was not congestion).
            self.snd_nxt = self.snd_una;
            self.rtt_probe = None;
            self.output(now);
        }
        true
    }
}
