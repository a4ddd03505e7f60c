//! The benchmarks' clock: this thread's time on a CPU, so that time spent
//! descheduled on a shared machine is not counted. Shared by the `via6-core`
//! benchmarks (`common/mod.rs`) and `via6-lab`'s `tcp_bulk` (by path).

use std::time::{Duration, Instant};

/// This thread's time on a CPU (`/proc/thread-self/schedstat`, ns); wall
/// time where the file does not exist.
///
/// The kernel brings a running thread's figure up to date only at a
/// scheduler tick (4 ms here) or when the thread leaves the CPU, so a bare
/// read is up to a tick stale. A `sched_yield` first (`yield_now`) makes
/// the scheduler account the time run so far: the read is then exact to
/// the system call.
pub fn cpu_time() -> Duration {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    std::thread::yield_now();
    if let Ok(s) = std::fs::read_to_string("/proc/thread-self/schedstat") {
        if let Some(ns) = s.split_whitespace().next().and_then(|x| x.parse::<u64>().ok()) {
            return Duration::from_nanos(ns);
        }
    }
    START.get_or_init(Instant::now).elapsed()
}
