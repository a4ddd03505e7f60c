//! A global allocator that backs large allocations with transparent huge
//! pages (2 MiB on x86-64), for the binaries that hold a full-table FIB.
//!
//! A lookup in a 7 MiB FIB touches a few cache lines spread over the whole
//! structure. With 4 KiB pages each of those lines sits on its own page,
//! and under a hypervisor a TLB miss is a two-dimensional page walk: on the
//! full IPv4 table the walks, not the cache misses, set the lookup rate
//! (see BENCHMARKS.md, FIB section). Linux hands out huge pages to regions
//! marked `MADV_HUGEPAGE` whenever `/sys/kernel/mm/transparent_hugepage/
//! enabled` is `madvise` (the Debian default) or `always`, and with `defrag`
//! at its default (`madvise`) it compacts memory at fault time to find them.
//!
//! [`HugePageAlloc`] serves every allocation of at least [`THRESHOLD`] bytes
//! from its own anonymous mapping, aligned to and rounded up to whole huge
//! pages, and marks it `MADV_HUGEPAGE` before the first touch; everything
//! smaller goes to the system allocator unchanged. Install it with
//!
//! ```text
//! #[global_allocator]
//! static ALLOC: via6_hugealloc::HugePageAlloc = via6_hugealloc::HugePageAlloc;
//! ```
//!
//! [`set_advise`] turns the advice off (the mappings stay aligned), so a
//! benchmark can show the same binary with and without huge pages. Other
//! systems than Linux get the system allocator for everything.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, Ordering};

/// The huge page size this allocator aligns to (x86-64 and arm64 with 4 KiB
/// base pages).
pub const HUGE_PAGE: usize = 2 << 20;

/// Allocations of at least this many bytes get a mapping of their own on
/// huge pages: half a huge page, so the IPv4 FIB's 1 MiB first-level table
/// qualifies, at the price of at most doubling such a block's footprint.
pub const THRESHOLD: usize = HUGE_PAGE / 2;

static ADVISE: AtomicBool = AtomicBool::new(true);

/// Whether new large mappings get `MADV_HUGEPAGE` (default: yes). Affects
/// only allocations made afterwards.
pub fn set_advise(on: bool) {
    ADVISE.store(on, Ordering::Relaxed);
}

/// Whether new large mappings get `MADV_HUGEPAGE`.
pub fn advise() -> bool {
    ADVISE.load(Ordering::Relaxed)
}

/// Bytes of this process's anonymous memory backed by huge pages right now
/// (`AnonHugePages` of `/proc/self/smaps_rollup`), where the kernel tells.
pub fn anon_huge_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    let line = text.lines().find(|l| l.starts_with("AnonHugePages:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The length of the mapping that serves `layout`, or `None` when the
/// system allocator serves it. A pure function of the layout, so `dealloc`
/// and `realloc` find the same answer as `alloc` did.
fn mapped_len(layout: Layout) -> Option<usize> {
    if cfg!(target_os = "linux") && layout.size() >= THRESHOLD && layout.align() <= HUGE_PAGE {
        layout.size().checked_add(HUGE_PAGE - 1).map(|n| n & !(HUGE_PAGE - 1))
    } else {
        None
    }
}

/// The global allocator (see the crate documentation).
pub struct HugePageAlloc;

// SAFETY: small layouts are forwarded to `System` unchanged. Large ones get
// a fresh anonymous mapping of `mapped_len(layout)` bytes aligned to
// HUGE_PAGE (so to `layout.align()`, which is at most HUGE_PAGE), readable,
// writable, zero-filled, and owned by nobody else until `dealloc` unmaps
// exactly that range; `mapped_len` depends on the layout alone, which the
// caller must pass unchanged to `dealloc`/`realloc`.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match mapped_len(layout) {
            Some(len) => os::map_aligned(len, advise()),
            // SAFETY: forwarded unchanged.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match mapped_len(layout) {
            // Fresh anonymous mappings are zero-filled.
            Some(len) => os::map_aligned(len, advise()),
            // SAFETY: forwarded unchanged.
            None => unsafe { System.alloc_zeroed(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match mapped_len(layout) {
            // SAFETY: `ptr` came from `map_aligned(len)` for this layout.
            Some(len) => unsafe { os::unmap(ptr, len) },
            // SAFETY: forwarded unchanged.
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded up to
        // `layout.align()`, does not overflow isize.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (mapped_len(layout), mapped_len(new_layout)) {
            // SAFETY: both small: forwarded unchanged.
            (None, None) => unsafe { System.realloc(ptr, layout, new_size) },
            // The same mapping fits both sizes: nothing to move (`dealloc`
            // with the new layout unmaps the same length).
            (Some(old), Some(new)) if new == old => ptr,
            _ => {
                // SAFETY: `new_layout` is valid (see above) and non-zero.
                let p = unsafe { self.alloc(new_layout) };
                if !p.is_null() {
                    // SAFETY: both blocks are live, distinct, and at least
                    // `min(old, new)` bytes long; the old one is freed with
                    // the layout it was allocated with.
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                p
            }
        }
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod os {
    use super::HUGE_PAGE;
    use std::ffi::{c_int, c_long, c_void};

    const PROT_READ: c_int = 1;
    const PROT_WRITE: c_int = 2;
    const MAP_PRIVATE: c_int = 2;
    const MAP_ANONYMOUS: c_int = 0x20;
    const MADV_HUGEPAGE: c_int = 14;

    extern "C" {
        fn mmap(
            addr: *mut c_void,
            len: usize,
            prot: c_int,
            flags: c_int,
            fd: c_int,
            off: c_long,
        ) -> *mut c_void;
        fn munmap(addr: *mut c_void, len: usize) -> c_int;
        fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
    }

    /// A fresh zero-filled mapping of `len` bytes (a multiple of HUGE_PAGE)
    /// aligned to HUGE_PAGE, marked MADV_HUGEPAGE if `advise`; null on
    /// failure.
    pub(super) fn map_aligned(len: usize, advise: bool) -> *mut u8 {
        let Some(span) = len.checked_add(HUGE_PAGE) else {
            return std::ptr::null_mut();
        };
        // SAFETY: an anonymous private mapping at an address of the
        // kernel's choosing aliases nothing; the arguments are plain values.
        let raw = unsafe {
            mmap(std::ptr::null_mut(), span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        };
        if raw as isize == -1 {
            return std::ptr::null_mut();
        }
        let start = raw as usize;
        let aligned = (start + HUGE_PAGE - 1) & !(HUGE_PAGE - 1);
        let head = aligned - start;
        let tail = span - head - len;
        // SAFETY: the head and tail are page-aligned pieces of the mapping
        // just made, outside [aligned, aligned + len), and nothing refers to
        // them; unmapping them cannot fail for valid ranges, and if it did
        // the bytes would only stay mapped.
        unsafe {
            if head > 0 {
                munmap(raw, head);
            }
            if tail > 0 {
                munmap((aligned + len) as *mut c_void, tail);
            }
        }
        if advise {
            // SAFETY: [aligned, aligned + len) is our mapping; the advice
            // changes how it is backed, never its contents. A kernel without
            // THP returns EINVAL and the mapping stays on small pages.
            unsafe {
                madvise(aligned as *mut c_void, len, MADV_HUGEPAGE);
            }
        }
        aligned as *mut u8
    }

    /// Unmaps what `map_aligned(len)` returned.
    ///
    /// # Safety
    /// `ptr` came from `map_aligned(len)` and is not used afterwards.
    pub(super) unsafe fn unmap(ptr: *mut u8, len: usize) {
        // SAFETY: the caller hands back a whole mapping of ours.
        unsafe {
            munmap(ptr.cast(), len);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    // `mapped_len` is always None off Linux: these are never called.
    pub(super) fn map_aligned(_len: usize, _advise: bool) -> *mut u8 {
        std::ptr::null_mut()
    }
    pub(super) unsafe fn unmap(_ptr: *mut u8, _len: usize) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_layouts_go_to_the_system_allocator() {
        assert_eq!(mapped_len(Layout::from_size_align(4096, 8).unwrap()), None);
        assert_eq!(mapped_len(Layout::from_size_align(THRESHOLD - 1, 64).unwrap()), None);
    }

    #[test]
    fn large_layouts_round_up_to_whole_huge_pages() {
        if cfg!(target_os = "linux") {
            assert_eq!(mapped_len(Layout::from_size_align(THRESHOLD, 8).unwrap()), Some(HUGE_PAGE));
            assert_eq!(mapped_len(Layout::from_size_align(HUGE_PAGE, 8).unwrap()), Some(HUGE_PAGE));
            assert_eq!(mapped_len(Layout::from_size_align(HUGE_PAGE + 1, 8).unwrap()), Some(2 * HUGE_PAGE));
            assert_eq!(mapped_len(Layout::from_size_align(HUGE_PAGE, 2 * HUGE_PAGE).unwrap()), None);
        }
    }

    #[allow(unsafe_code)]
    #[test]
    fn alloc_realloc_dealloc_keep_contents_and_alignment() {
        let a = HugePageAlloc;
        let small = Layout::from_size_align(1000, 8).unwrap();
        // SAFETY: layouts are non-zero; every block is freed with the layout
        // (or the size after realloc) it has.
        unsafe {
            let p = a.alloc(small);
            assert!(!p.is_null());
            for i in 0..1000 {
                *p.add(i) = i as u8;
            }
            // small -> large: moves into a mapping.
            let q = a.realloc(p, small, 3 * HUGE_PAGE + 5);
            assert!(!q.is_null());
            assert_eq!(q as usize % HUGE_PAGE, 0);
            assert!((0..1000).all(|i| *q.add(i) == i as u8));
            *q.add(3 * HUGE_PAGE + 4) = 7;
            let large = Layout::from_size_align(3 * HUGE_PAGE + 5, 8).unwrap();
            // large -> larger within the rounded mapping: stays.
            let r = a.realloc(q, large, 4 * HUGE_PAGE - 1);
            assert_eq!(r, q);
            let larger = Layout::from_size_align(4 * HUGE_PAGE - 1, 8).unwrap();
            // large -> small: back to the system allocator.
            let s = a.realloc(r, larger, 500);
            assert!(!s.is_null());
            assert!((0..500).all(|i| *s.add(i) == i as u8));
            a.dealloc(s, Layout::from_size_align(500, 8).unwrap());
            // zeroed large allocation reads as zeros.
            let z = a.alloc_zeroed(large);
            assert!(!z.is_null());
            assert!((0..large.size()).step_by(4099).all(|i| *z.add(i) == 0));
            a.dealloc(z, large);
        }
    }
}
