//! The lab's virtual clock: nanoseconds since the start of the run, moved
//! only by the lab (never by a wall clock).

use core::time::Duration;
use via6_core::time::Instant;

/// A monotonic virtual clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    now: Instant,
}

impl Clock {
    /// A clock at the epoch.
    pub fn new() -> Self {
        Clock { now: Instant::ZERO }
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Moves the clock forward to `t`; a `t` in the past leaves it unchanged
    /// (virtual time never goes back).
    pub fn advance_to(&mut self, t: Instant) {
        if t > self.now {
            self.now = t;
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic() {
        let mut c = Clock::new();
        assert_eq!(c.now(), Instant::ZERO);
        c.advance(Duration::from_millis(5));
        assert_eq!(c.now(), Instant::from_millis(5));
        c.advance_to(Instant::from_millis(3));
        assert_eq!(c.now(), Instant::from_millis(5));
        c.advance_to(Instant::from_secs(1));
        assert_eq!(c.now().as_millis(), 1000);
    }
}
