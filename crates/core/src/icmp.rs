//! ICMP policy shared by both families: the error rate limiter
//! (`net.inet.icmp.icmplim`, `net.inet6.icmp6.errppslimit`).

use crate::time::Instant;

/// A token bucket refilled to `rate` tokens each second (FreeBSD's
/// `ppsratecheck`): at most `rate` errors in any one-second window.
#[derive(Debug, Clone, Default)]
pub struct RateLimit {
    window_start: Instant,
    sent: u64,
}

impl RateLimit {
    /// Whether one more error may go out now. `rate` ≤ 0 means unlimited
    /// (FreeBSD: 0 or -1 disable the limit).
    pub fn allow(&mut self, now: Instant, rate: i64) -> bool {
        if rate <= 0 {
            return true;
        }
        if now.saturating_since(self.window_start).as_secs() >= 1 || self.window_start > now {
            self.window_start = now;
            self.sent = 0;
        }
        if self.sent < rate as u64 {
            self.sent += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_second() {
        let mut r = RateLimit::default();
        let t = Instant::from_secs(10);
        assert_eq!((0..250).filter(|_| r.allow(t, 100)).count(), 100);
        assert!(r.allow(Instant::from_secs(11), 100));
        assert!((0..10).all(|_| r.allow(t, 0)));
    }
}
