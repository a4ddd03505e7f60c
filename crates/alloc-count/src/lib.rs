//! A counting global allocator for benchmarks: via6's allocator
//! ([`via6_hugealloc::HugePageAlloc`]: the system allocator, with large
//! blocks on transparent huge pages, as in the daemon) with two
//! relaxed atomic counters beside it — how many allocations (and
//! reallocations) were made, and how many bytes are live. A bench binary
//! installs it with
//!
//! ```text
//! #[global_allocator]
//! static ALLOC: via6_alloc_count::Counting = via6_alloc_count::Counting;
//! ```
//!
//! and reads [`allocations`] / [`live_bytes`] around the code it measures.
//! It lives in its own crate so that `wire`, `core` and `lab` (and their
//! benches) keep `unsafe` out entirely.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use via6_hugealloc::HugePageAlloc as Inner;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The counting allocator (forwards everything to [`Inner`]).
pub struct Counting;

/// Allocations and reallocations made so far by the process.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Bytes allocated and not yet freed.
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

// SAFETY: every method forwards to `Inner` (`HugePageAlloc`) with the caller's arguments
// unchanged, so `Inner`'s guarantees (and the caller's obligations) hold as
// they are; the only additions are relaxed atomic counters, which neither
// fail nor touch the memory handed out.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged (see the impl).
        let p = unsafe { Inner.alloc(layout) };
        if !p.is_null() {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged (see the impl).
        let p = unsafe { Inner.alloc_zeroed(layout) };
        if !p.is_null() {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged (see the impl); `ptr` came from this
        // allocator, hence from `Inner`, with `layout`.
        let p = unsafe { Inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            LIVE.fetch_add(new_size, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { Inner.dealloc(ptr, layout) }
    }
}
