//! TCP (RFC 9293). One file per job:
//!
//! | file | job |
//! |---|---|
//! | `seq` | wrapping sequence arithmetic (§3.4) |
//! | `isn` | RFC 6528 SipHash ISNs with the stack's secret |
//! | `buffer` | bounded send / receive buffers, out-of-order data, SACK blocks to send; payloads (in order or beyond a hole) staged into the receive ring while summed |
//! | `ring` | the receive buffer's byte ring: free space written in place, committed later |
//! | `tcb` | the connection block and the user calls (§3.10.1-§3.10.6) |
//! | `input` | segment arrival (§3.10.7), RFC 5961, PAWS, dup ACKs, NewReno recovery |
//! | `output` | what may be sent (windows, Nagle, SWS), options, window field |
//! | `timers` | RFC 6298 RTO, persist, delayed ACK, keepalive, TIME-WAIT |
//! | `congestion` | RFC 5681 slow start / avoidance with NewReno or CUBIC (RFC 9438) growth |
//! | `sack` | the sender's SACK scoreboard (RFC 2018, RFC 6675 NextSeg) |
//! | `syncookie` | RFC 4987 §3.6 SYN cookies: the codec and the stateless SYN-ACK / returning ACK |
//! | `emit` | one segment built straight into a pooled buffer behind its IP header, its payload copied from the send ring |
//! | `direct` | pure ACKs and lone data segments: the general path's IP header, the TCP header written field by field (no `TcpRepr` built and validated) |
//! | `glue` | the stack side: demultiplexing, listeners, emission over IPv4/IPv6, ICMP errors, timer queue |
//!
//! Closed ports are answered by `crate::closed`.

mod buffer;
pub mod congestion;
mod direct;
mod emit;
mod glue;
mod input;
pub mod isn;
mod lend;
mod output;
mod predict;
mod ring;
mod sack;
mod sendbuf;
pub mod seq;
pub mod syncookie;
pub mod tcb;
mod template;
mod timers;

#[cfg(test)]
mod inplace_tests;
#[cfg(test)]
mod predict_tests;
#[cfg(test)]
mod template_tests;
#[cfg(test)]
mod tests;

pub use congestion::Algorithm;
pub(crate) use lend::Lent;
pub use tcb::TcbCounters;

use crate::socket::SocketHandle;
use crate::time::Instant;
use core::time::Duration;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::IpAddr;

/// Connection states (RFC 9293 §3.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// No connection.
    Closed,
    /// Waiting for SYNs.
    Listen,
    /// SYN sent, waiting for SYN-ACK.
    SynSent,
    /// SYN received and SYN-ACK sent.
    SynReceived,
    /// Open.
    Established,
    /// We closed; our FIN unacknowledged.
    FinWait1,
    /// Our FIN acknowledged; waiting for the peer's.
    FinWait2,
    /// The peer closed; we may still send.
    CloseWait,
    /// Both closed at once; our FIN unacknowledged.
    Closing,
    /// The peer closed, then we did; our FIN unacknowledged.
    LastAck,
    /// Both closed; waiting 2 MSL.
    TimeWait,
}

impl State {
    /// Past the handshake (RFC 9293 "synchronized states").
    pub fn is_synchronized(&self) -> bool {
        !matches!(self, State::Closed | State::Listen | State::SynSent | State::SynReceived)
    }

    /// The name netstat prints.
    pub fn name(&self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN_SENT",
            State::SynReceived => "SYN_RCVD",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN_WAIT_1",
            State::FinWait2 => "FIN_WAIT_2",
            State::CloseWait => "CLOSE_WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST_ACK",
            State::TimeWait => "TIME_WAIT",
        }
    }
}

/// Tunables (FreeBSD `net.inet.tcp.*` in spirit; MSL small-configurable for
/// tests).
#[derive(Debug, Clone, PartialEq)]
pub struct TcpConfig {
    /// Maximum segment lifetime; TIME-WAIT lasts 2 MSL (FreeBSD msl 30 s).
    pub msl: Duration,
    /// RFC 6298 §2.1 initial RTO.
    pub rto_initial: Duration,
    /// Lower bound of RTO (RFC 6298 §2.4 says 1 s; FreeBSD and Linux use
    /// far less — 200 ms here, as Linux).
    pub rto_min: Duration,
    /// Upper bound of RTO (RFC 6298 §2.5: at least 60 s).
    pub rto_max: Duration,
    /// Retransmissions of data before ETIMEDOUT.
    pub max_retries: u32,
    /// Retransmissions of a SYN / SYN-ACK before giving up.
    pub syn_retries: u32,
    /// Delayed-ACK timeout (RFC 9293 §3.8.6.3: < 0.5 s).
    pub delack: Duration,
    /// Segments ACKed at once at the start (quick-ack).
    pub quickack: u32,
    /// Send buffer bytes.
    pub sndbuf: usize,
    /// Receive buffer bytes.
    pub rcvbuf: usize,
    /// Keepalive idle time (RFC 1122 §4.2.3.6: ≥ 2 h by default).
    pub keep_idle: Duration,
    /// Keepalive probe interval.
    pub keep_intvl: Duration,
    /// Unanswered keepalive probes before ETIMEDOUT.
    pub keep_cnt: u32,
    /// How long an orphaned FIN-WAIT-2 lives.
    pub fin_timeout: Duration,
    /// RFC 7323 window scaling.
    pub window_scaling: bool,
    /// RFC 7323 timestamps.
    pub timestamps: bool,
    /// RFC 2018 SACK.
    pub sack: bool,
    /// Congestion control.
    pub congestion: Algorithm,
    /// RFC 5961 §7: challenge ACKs per second, stack-wide.
    pub challenge_ack_limit: u32,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            msl: Duration::from_secs(30),
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(60),
            max_retries: 12,
            syn_retries: 6,
            delack: Duration::from_millis(40),
            quickack: 16,
            sndbuf: 512 * 1024,
            rcvbuf: 512 * 1024,
            keep_idle: Duration::from_secs(7200),
            keep_intvl: Duration::from_secs(75),
            keep_cnt: 8,
            fin_timeout: Duration::from_secs(60),
            window_scaling: true,
            timestamps: true,
            sack: true,
            congestion: Algorithm::Cubic,
            challenge_ack_limit: 1000,
        }
    }
}

/// A connection's identity, addresses unmapped.
pub(crate) type ConnKey = (IpAddr, u16, IpAddr, u16);

/// A listener's queues.
#[derive(Debug, Default)]
pub struct Listen {
    /// listen(2) backlog.
    pub backlog: usize,
    /// Children still in SYN-RECEIVED.
    pub embryonic: usize,
    /// Established children not yet accepted.
    pub ready: VecDeque<SocketHandle>,
}

/// Stack-wide TCP state, kept with the socket table.
#[derive(Debug, Default)]
pub struct TcpShared {
    pub(crate) config: TcpConfig,
    pub(crate) conns: HashMap<ConnKey, SocketHandle>,
    /// The last `conns` hit (a bulk flow hits the same entry segment after
    /// segment); cleared by every insert and removal so it never disagrees
    /// with the map.
    pub(crate) last_conn: Option<(ConnKey, SocketHandle)>,
    pub(crate) timers: BinaryHeap<Reverse<(Instant, u32)>>,
    /// Connections owing an ACK at the end of the receive burst
    /// (`Tcb::ack_decision`), and when the first of them began owing.
    pub(crate) acks_owed: Vec<SocketHandle>,
    pub(crate) acks_owed_since: Option<Instant>,
    pub(crate) challenge_window: (u64, u32),
    /// Segments refused for a full backlog.
    pub listen_drops: u64,
    /// Resets sent for segments to closed ports.
    pub resets_sent: u64,
    /// Segments emitted as a patched copy of their run's first segment
    /// (`template.rs`), for the tests that compare it with the general path.
    pub(crate) templated: u64,
    /// Segments written directly (`direct.rs`), for the same tests.
    pub(crate) direct: u64,
    /// Data segments queued with their payload lent from the send ring
    /// (`lend.rs`), and how many of them found their sum ready in a chunk
    /// (`sendbuf.rs`).
    pub(crate) lent: u64,
    pub(crate) chunk_sums: u64,
    /// Connections whose send rings queued frames lend (`lend.rs`).
    pub(crate) pinned: Vec<SocketHandle>,
    /// The last connection serial handed out (`Tcb::serial`).
    pub(crate) serials: u64,
}

impl TcpShared {
    /// The connection with this 4-tuple (local addr, port, remote addr,
    /// port), through the one-entry `last_conn` cache, compared field by
    /// field against the addresses where they are: a key assembled from
    /// them first was read back in other widths than it was written (a
    /// store-forwarding stall per segment); the tuple is built only for
    /// the map.
    #[inline]
    pub(crate) fn conn_by(
        &mut self,
        local: &IpAddr,
        lport: u16,
        remote: &IpAddr,
        rport: u16,
    ) -> Option<SocketHandle> {
        if let Some((k, h)) = &self.last_conn {
            if k.1 == lport && k.3 == rport && k.0 == *local && k.2 == *remote {
                return Some(*h);
            }
        }
        let key = (*local, lport, *remote, rport);
        let h = *self.conns.get(&key)?;
        self.last_conn = Some((key, h));
        Some(h)
    }

    /// Indexes a connection.
    pub(crate) fn conn_insert(&mut self, key: ConnKey, h: SocketHandle) {
        self.last_conn = None;
        self.conns.insert(key, h);
    }

    /// Drops a connection's index entry.
    pub(crate) fn conn_remove(&mut self, key: &ConnKey) {
        self.last_conn = None;
        self.conns.remove(key);
    }
}
