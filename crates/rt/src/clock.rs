//! The real clock: monotonic time since the daemon started, in the core's
//! `Instant`.

use via6_core::Instant;

/// A monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: std::time::Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Clock { start: std::time::Instant::now() }
    }
}

impl Clock {
    /// Starts now.
    pub fn new() -> Self {
        Self::default()
    }

    /// Now, as the core's instant.
    pub fn now(&self) -> Instant {
        Instant::from_nanos(u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    /// The std instant of a core instant (for timers).
    pub fn to_std(&self, at: Instant) -> std::time::Instant {
        self.start + std::time::Duration::from_nanos(at.as_nanos())
    }
}
