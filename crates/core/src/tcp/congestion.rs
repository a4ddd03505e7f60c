//! Congestion control: slow start and congestion avoidance of RFC 5681 with
//! either NewReno's linear growth or CUBIC's (RFC 9438, the default). Fast
//! retransmit / recovery (RFC 5681 §3.2, RFC 6582) is driven by the TCB,
//! which calls [`Congestion::on_fast_loss`] and [`Congestion::on_rto`].

use crate::time::Instant;
use core::time::Duration;

/// Which growth function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// RFC 5681 / RFC 6582.
    NewReno,
    /// RFC 9438.
    Cubic,
}

/// RFC 9438 §4.6: the multiplicative decrease factor.
const BETA_CUBIC: f64 = 0.7;
/// RFC 9438 §5: the constant C.
const C_CUBIC: f64 = 0.4;

#[derive(Debug, Clone, Default)]
struct Cubic {
    w_max: f64,
    k: f64,
    epoch: Option<Instant>,
    w_est: f64,
}

/// The congestion state of one connection (bytes).
#[derive(Debug, Clone)]
pub struct Congestion {
    /// Which algorithm.
    pub alg: Algorithm,
    /// cwnd.
    pub cwnd: u32,
    /// ssthresh.
    pub ssthresh: u32,
    mss: u32,
    acked: u32,
    cubic: Cubic,
}

/// RFC 5681 §3.1 equation (1): the initial window.
pub fn initial_window(mss: u32) -> u32 {
    if mss > 2190 {
        2 * mss
    } else if mss > 1095 {
        3 * mss
    } else {
        4 * mss
    }
}

impl Congestion {
    /// A new connection: IW, ssthresh arbitrarily high (RFC 5681 §3.1).
    pub fn new(alg: Algorithm, mss: u32) -> Self {
        Congestion {
            alg,
            cwnd: initial_window(mss),
            ssthresh: u32::MAX,
            mss,
            acked: 0,
            cubic: Cubic::default(),
        }
    }

    /// The sender MSS changed (PMTU): keep cwnd in whole segments of the new
    /// size, never below one.
    pub fn set_mss(&mut self, mss: u32) {
        if mss < self.mss {
            let segs = (self.cwnd / self.mss.max(1)).max(1);
            self.cwnd = segs * mss;
        }
        self.mss = mss;
    }

    /// New data acknowledged outside recovery, counted as RFC 5681 §3.1
    /// equation (2) does: slow start grows by at most one SMSS per ACK.
    pub fn on_ack(&mut self, acked: u32, now: Instant, srtt: Option<Duration>) {
        if self.cwnd < self.ssthresh {
            // RFC 5681 §3.1 equation (2): cwnd += min(N, SMSS).
            self.cwnd = self.cwnd.saturating_add(acked.min(self.mss));
            return;
        }
        self.avoid(acked, now, srtt);
    }

    /// New data acknowledged outside recovery, counted by bytes (RFC 3465
    /// appropriate byte counting without the per-ACK limit L, as Linux
    /// does since its 2015 stretch-ACK fixes, `tcp_slow_start` returning the
    /// bytes left over):
    /// a stretch ACK from a receiver that coalesces its ACKs (GRO, or
    /// via6's end-of-burst ACK) stands for the ACKs every second segment
    /// would have had, so it grows cwnd as much as they would. Slow start
    /// stops at ssthresh and the rest of the bytes go to congestion
    /// avoidance (RFC 5681 §3.1). RFC 3465 §2.3's burst concern does not
    /// grow: every byte counted left the network.
    pub fn on_ack_bytes(&mut self, acked: u32, now: Instant, srtt: Option<Duration>) {
        let mut acked = acked;
        if self.cwnd < self.ssthresh {
            let room = self.ssthresh - self.cwnd;
            let grow = acked.min(room);
            self.cwnd = self.cwnd.saturating_add(grow);
            acked -= grow;
            if acked == 0 || self.cwnd < self.ssthresh {
                return;
            }
        }
        self.avoid(acked, now, srtt);
    }

    fn avoid(&mut self, acked: u32, now: Instant, srtt: Option<Duration>) {
        match self.alg {
            Algorithm::NewReno => self.reno_avoid(acked),
            Algorithm::Cubic => self.cubic_avoid(acked, now, srtt.unwrap_or(Duration::from_millis(100))),
        }
    }

    /// RFC 5681 §3.1 (byte counting variant): one SMSS per cwnd acknowledged.
    fn reno_avoid(&mut self, acked: u32) {
        self.acked = self.acked.saturating_add(acked);
        if self.acked >= self.cwnd {
            self.acked -= self.cwnd;
            self.cwnd = self.cwnd.saturating_add(self.mss);
        }
    }

    /// RFC 9438 §4.1-§4.4: W_cubic(t) = C (t - K)^3 + W_max in segments,
    /// with the Reno-friendly estimate W_est as a floor.
    fn cubic_avoid(&mut self, acked: u32, now: Instant, rtt: Duration) {
        let mss = f64::from(self.mss);
        let cwnd_seg = f64::from(self.cwnd) / mss;
        let epoch = *self.cubic.epoch.get_or_insert_with(|| {
            self.cubic.w_est = cwnd_seg;
            if self.cubic.w_max <= cwnd_seg {
                self.cubic.k = 0.0;
                self.cubic.w_max = cwnd_seg;
            }
            now
        });
        let t = (now - epoch).as_secs_f64();
        let target_t = t + rtt.as_secs_f64();
        let w_cubic = C_CUBIC * (target_t - self.cubic.k).powi(3) + self.cubic.w_max;
        // RFC 9438 §4.3: alpha_cubic = 3 (1 - beta) / (1 + beta).
        let alpha = 3.0 * (1.0 - BETA_CUBIC) / (1.0 + BETA_CUBIC);
        self.cubic.w_est += alpha * (f64::from(acked) / mss) / cwnd_seg;
        let target = if w_cubic < self.cubic.w_est {
            self.cubic.w_est
        } else {
            // §4.4: cap growth at 1.5x per RTT.
            w_cubic.min(1.5 * cwnd_seg)
        };
        if target > cwnd_seg {
            // (target - cwnd) / cwnd segments per segment acknowledged.
            let inc = (target - cwnd_seg) / cwnd_seg * (f64::from(acked) / mss) * mss;
            self.acked = self.acked.saturating_add(inc as u32);
            let whole = self.acked;
            self.acked = 0;
            self.cwnd = self.cwnd.saturating_add(whole);
        }
    }

    /// A loss detected by duplicate ACKs: ssthresh (RFC 5681 §3.2 equation
    /// (4) for NewReno; RFC 9438 §4.6-§4.7 with fast convergence for CUBIC).
    pub fn on_fast_loss(&mut self, flight: u32) {
        self.ssthresh = self.reduced(flight);
        self.acked = 0;
    }

    /// RFC 5681 §3.1 / RFC 9438 §4.8: a retransmission timeout collapses
    /// cwnd to the loss window (one segment).
    pub fn on_rto(&mut self, flight: u32) {
        self.ssthresh = self.reduced(flight);
        self.cwnd = self.mss;
        self.acked = 0;
    }

    fn reduced(&mut self, flight: u32) -> u32 {
        let floor = 2 * self.mss;
        match self.alg {
            Algorithm::NewReno => (flight / 2).max(floor),
            Algorithm::Cubic => {
                let mss = f64::from(self.mss);
                let cwnd_seg = f64::from(self.cwnd) / mss;
                // §4.7 fast convergence.
                self.cubic.w_max =
                    if cwnd_seg < self.cubic.w_max { cwnd_seg * (1.0 + BETA_CUBIC) / 2.0 } else { cwnd_seg };
                self.cubic.k = (self.cubic.w_max * (1.0 - BETA_CUBIC) / C_CUBIC).cbrt();
                self.cubic.epoch = None;
                ((f64::from(self.cwnd) * BETA_CUBIC) as u32).max(floor)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 5681 §3.1 equation (1): IW by SMSS.
    #[test]
    fn rfc5681_3_1_initial_window() {
        assert_eq!(initial_window(1460), 4380);
        assert_eq!(initial_window(536), 2144);
        assert_eq!(initial_window(4000), 8000);
    }

    /// RFC 5681 §3.1: slow start grows by at most SMSS per ACK; congestion
    /// avoidance by about one SMSS per RTT.
    #[test]
    fn rfc5681_3_1_slow_start_then_avoidance() {
        let mut c = Congestion::new(Algorithm::NewReno, 1000);
        c.on_ack(5000, Instant::ZERO, None);
        assert_eq!(c.cwnd, 5000);
        c.ssthresh = 5000;
        for _ in 0..5 {
            c.on_ack(1000, Instant::ZERO, None);
        }
        assert_eq!(c.cwnd, 6000);
    }

    /// RFC 5681 §3.2 equation (4) and §3.1 loss window after RTO.
    #[test]
    fn rfc5681_3_2_ssthresh_half_flight_and_rto_loss_window() {
        let mut c = Congestion::new(Algorithm::NewReno, 1000);
        c.on_fast_loss(10_000);
        assert_eq!(c.ssthresh, 5000);
        c.on_fast_loss(1000);
        assert_eq!(c.ssthresh, 2000);
        c.on_rto(8000);
        assert_eq!((c.cwnd, c.ssthresh), (1000, 4000));
    }

    /// RFC 3465 byte counting: one stretch ACK for ten segments grows slow
    /// start by ten segments (not one), stops at ssthresh, and gives the
    /// rest to congestion avoidance.
    #[test]
    fn rfc3465_stretch_ack_counts_bytes() {
        let mut c = Congestion::new(Algorithm::NewReno, 1000);
        c.on_ack_bytes(10_000, Instant::ZERO, None);
        assert_eq!(c.cwnd, 14_000);
        c.ssthresh = 20_000;
        c.on_ack_bytes(10_000, Instant::ZERO, None);
        assert_eq!(c.cwnd, 20_000, "slow start stops at ssthresh");
        for _ in 0..6 {
            c.on_ack_bytes(8_000, Instant::ZERO, None);
        }
        assert_eq!(c.cwnd, 22_000, "then one SMSS per cwnd acknowledged");
    }

    /// RFC 9438 §4.6: CUBIC reduces to beta_cubic = 0.7 of cwnd and grows
    /// back towards W_max.
    #[test]
    fn rfc9438_4_6_cubic_beta_and_regrowth() {
        let mut c = Congestion::new(Algorithm::Cubic, 1000);
        c.cwnd = 100_000;
        c.on_fast_loss(100_000);
        assert_eq!(c.ssthresh, 70_000);
        c.cwnd = c.ssthresh;
        let mut t = Instant::ZERO;
        for _ in 0..2000 {
            t += Duration::from_millis(5);
            c.on_ack(1000, t, Some(Duration::from_millis(10)));
        }
        assert!(c.cwnd > 100_000, "cwnd {}", c.cwnd);
    }
}
