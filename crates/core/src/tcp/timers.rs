//! The retransmission timer's estimator (RFC 6298): SRTT, RTTVAR, RTO with
//! exponential back-off and bounds.

use crate::time::Instant;
use core::time::Duration;

/// RFC 6298 state.
#[derive(Debug, Clone)]
pub struct Rto {
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    min: Duration,
    max: Duration,
    /// Back-off exponent (doublings since the last valid sample).
    pub backoff: u32,
}

/// Clock granularity G of RFC 6298 §2 (our clock is nanoseconds; 1 ms keeps
/// RTO from collapsing onto SRTT).
const G: Duration = Duration::from_millis(1);

impl Rto {
    /// RFC 6298 §2.1: before any sample RTO is `initial` (1 s).
    pub fn new(initial: Duration, min: Duration, max: Duration) -> Self {
        Rto { srtt: None, rttvar: Duration::ZERO, rto: initial, min, max, backoff: 0 }
    }

    /// RFC 6298 §2.2/§2.3: folds in a measurement; clears the back-off
    /// (§5 note after 5.7).
    pub fn sample(&mut self, r: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(srtt) => {
                let delta = srtt.abs_diff(r);
                // RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R'|; SRTT <- 7/8 SRTT + 1/8 R'.
                self.rttvar = self.rttvar * 3 / 4 + delta / 4;
                self.srtt = Some(srtt * 7 / 8 + r / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(r);
        self.rto = (srtt + G.max(self.rttvar * 4)).clamp(self.min, self.max);
        self.backoff = 0;
    }

    /// The current timeout, backed off (RFC 6298 §5.5), at most `max`.
    pub fn timeout(&self) -> Duration {
        let f = 1u32.checked_shl(self.backoff.min(16)).unwrap_or(u32::MAX);
        self.rto.saturating_mul(f).min(self.max)
    }

    /// RFC 6298 §5.5: double on expiry.
    pub fn back_off(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }

    /// SRTT, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }
}

/// The TCB's timers: retransmission (RFC 6298 §5), persist (RFC 9293
/// §3.8.6.1), delayed ACK (§3.8.6.3), keepalive (§3.8.4), TIME-WAIT (2 MSL)
/// and the orphaned FIN-WAIT-2 limit.
impl super::tcb::Tcb {
    /// Runs whatever is due at `now`, then sends what became sendable.
    pub(crate) fn poll(&mut self, now: Instant) {
        use super::State;
        if self.tw_at.is_some_and(|t| t <= now) || self.fin_wait2_at.is_some_and(|t| t <= now) {
            self.enter_closed(None);
            return;
        }
        if self.rto_at.is_some_and(|t| t <= now) {
            self.rto_at = None;
            self.on_rto(now);
            if self.state == State::Closed {
                return;
            }
        }
        if self.persist_at.is_some_and(|t| t <= now) {
            self.persist_at = None;
            if self.snd_wnd == 0 {
                self.window_probe(now);
                self.persist_backoff = (self.persist_backoff + 1).min(16);
                let d =
                    self.rto.timeout().saturating_mul(1 << self.persist_backoff.min(6)).min(self.cfg.rto_max);
                self.persist_at = Some(now + d);
            }
        }
        if self.delack_at.is_some_and(|t| t <= now) {
            self.delack_at = None;
            self.ack_now = true;
        }
        if self.keep_at().is_some_and(|t| t <= now) {
            if self.keep_probes >= self.cfg.keep_cnt {
                self.abort(now);
                self.error = Some(crate::errno::Errno::ETIMEDOUT);
                return;
            }
            self.keepalive_probe(now);
            self.keep_probes += 1;
        }
        self.output(now);
    }

    /// The end of a receive burst: the ACK owed for in-order data goes now
    /// (see `Tcb::ack_decision`), with whatever else output allows.
    pub(crate) fn end_of_burst(&mut self, now: Instant) {
        if std::mem::take(&mut self.ack_owed) {
            self.ack_now = true;
            self.output(now);
        }
    }

    /// RFC 6298 §5.4-§5.6 and RFC 5681 §3.1: retransmit the earliest
    /// unacknowledged segment, back off, collapse cwnd; give up after the
    /// retry limit with ETIMEDOUT (or the soft error an ICMP message left).
    fn on_rto(&mut self, now: Instant) {
        use super::State;
        self.retries += 1;
        let handshake = matches!(self.state, State::SynSent | State::SynReceived);
        let limit = if handshake { self.cfg.syn_retries } else { self.cfg.max_retries };
        if self.retries > limit {
            let err = self.soft_error.unwrap_or(crate::errno::Errno::ETIMEDOUT);
            if self.state.is_synchronized() {
                self.abort(now);
            }
            self.enter_closed(Some(err));
            return;
        }
        self.rto.back_off();
        self.counters.timeouts += 1;
        self.rtt_probe = None;
        if handshake {
            self.snd_nxt = self.iss;
            self.counters.retransmits += 1;
            return;
        }
        let flight = super::seq::dist(self.snd_una, self.snd_max);
        self.cc.on_rto(flight);
        self.recover = Some(self.snd_max);
        self.in_recovery = false;
        self.dupacks = 0;
        self.limited_transmit = 0;
        self.scoreboard.rexmit_next = self.snd_una;
        self.snd_nxt = self.snd_una;
        self.rto_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rto() -> Rto {
        Rto::new(Duration::from_secs(1), Duration::from_millis(200), Duration::from_secs(60))
    }

    /// RFC 6298 §2.1: the initial RTO is 1 second.
    #[test]
    fn rfc6298_2_1_initial_rto_one_second() {
        assert_eq!(rto().timeout(), Duration::from_secs(1));
    }

    /// RFC 6298 §2.2: first sample R gives SRTT = R, RTTVAR = R/2,
    /// RTO = SRTT + 4 RTTVAR = 3R.
    #[test]
    fn rfc6298_2_2_first_measurement() {
        let mut r = rto();
        r.sample(Duration::from_millis(100));
        assert_eq!(r.srtt(), Some(Duration::from_millis(100)));
        assert_eq!(r.timeout(), Duration::from_millis(300));
    }

    /// RFC 6298 §2.3: subsequent samples with alpha 1/8, beta 1/4.
    #[test]
    fn rfc6298_2_3_subsequent_measurement() {
        let mut r = rto();
        r.sample(Duration::from_millis(100));
        r.sample(Duration::from_millis(200));
        // RTTVAR = 3/4*50 + 1/4*100 = 62.5; SRTT = 87.5 + 25 = 112.5
        assert_eq!(r.srtt(), Some(Duration::from_micros(112_500)));
        assert_eq!(r.timeout(), Duration::from_micros(112_500 + 250_000));
    }

    /// RFC 6298 §2.4/§2.5: RTO is bounded below and above.
    #[test]
    fn rfc6298_2_4_bounds() {
        let mut r = rto();
        r.sample(Duration::from_millis(1));
        assert_eq!(r.timeout(), Duration::from_millis(200));
        for _ in 0..20 {
            r.back_off();
        }
        assert_eq!(r.timeout(), Duration::from_secs(60));
    }

    /// RFC 6298 §5.5: each expiry doubles the timeout.
    #[test]
    fn rfc6298_5_5_back_off_doubles() {
        let mut r = rto();
        r.back_off();
        assert_eq!(r.timeout(), Duration::from_secs(2));
        r.back_off();
        assert_eq!(r.timeout(), Duration::from_secs(4));
    }
}
