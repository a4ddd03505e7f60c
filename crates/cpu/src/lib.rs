//! CPU hints that stable Rust offers only as unsafe intrinsics.
//!
//! [`prefetch`] asks the cache hierarchy for the line holding a value the
//! caller will read soon. The FIB's burst lookups (`via6-core`,
//! `route/lpm.rs`) use it to have every lane's next node in flight while
//! the other lanes are worked on: without it, a lane's read is issued only
//! when the out-of-order window reaches it, a few lanes ahead of the one
//! retiring, and a table larger than the caches runs at memory latency
//! over a handful of lanes (see BENCHMARKS.md, FIB section).
//!
//! A prefetch changes no architectural state: it never faults, whatever
//! the address, and the program's results do not depend on whether it ran.
//! On other architectures than x86-64 it does nothing.

/// Hints that the cache line holding `slice[index]` will be read soon
/// (`T0`: into every cache level). Costs about one instruction: there is no
/// bounds check, because a prefetch of an address outside the slice is as
/// harmless as any other (it cannot fault and its only effect is on the
/// caches).
#[inline(always)]
pub fn prefetch<T>(slice: &[T], index: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // `wrapping_add` keeps the address computation safe for any index;
        // the pointer is never dereferenced.
        let line = slice.as_ptr().wrapping_add(index).cast::<i8>();
        // SAFETY: `_mm_prefetch` is unsafe only because it is a
        // `#[target_feature(enable = "sse")]` function, and every x86-64
        // CPU implements SSE (it is part of the architecture's baseline).
        // PREFETCHT0 does not access memory architecturally: it cannot
        // fault, whatever the address, and changes no register or memory.
        #[allow(unsafe_code)]
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(line);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slice, index);
}
