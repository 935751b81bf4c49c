//! How the driver's binaries use memory: glibc's allocator with fewer arenas, transparent huge pages asked for
//! large blocks, and a few freed mid-size blocks kept for the next frame ([`reuse`]).
//!
//! **Arenas.** glibc gives threads their own arenas (up to 8 per core) and raises its mmap and trim thresholds to the
//! largest block freed so far, so after a few frames every arena keeps up to twice a frame buffer of free memory at its
//! top. The detectors start short-lived threads for row bands, so the arenas multiply: the 2-hour soak's driver held
//! 12 arenas with 9–17 MB resident each (~170 MB, `/proc/PID/smaps`) while analysing 1280×1024 frames that need a
//! fraction of it, and a 4-core Raspberry Pi could hold 32. [`limit_arenas`] caps them at [`ARENAS`].
//!
//! **Mapped blocks.** Capping the arenas was not enough: an 8-minute soak switching naive → YOLO → Pix2Pix → XRAI
//! twice still found the second naive phase 50 MB above the first (122 against 72 MB, docs/RELIABILITY.md). glibc's
//! mmap threshold starts at 128 KiB and rises to the largest mapped block freed (up to 32 MiB): after the learned
//! detectors free their model-sized buffers, every block below that size is carved from the arenas, where what is
//! freed between longer-lived blocks stays resident. [`limit_arenas`] therefore also fixes the threshold at
//! [`MMAP_THRESHOLD`], which turns the rising off: a block that large always gets its own mapping and goes back to
//! the kernel when freed.
//!
//! **Huge pages.** A 4096² frame passes through a handful of fresh buffers of 16–64 MB (the BLOB's base64 text, its
//! bytes, the frame's floats, the detector's planes), all freed when the frame is done: glibc hands blocks that large
//! straight back to the kernel, so every frame faults in every page again. With 4 KiB pages that was 22 % of the naive
//! detector's CPU time at 4096² (the flame graphs of docs/BENCHMARKS.md). `madvise(MADV_HUGEPAGE)` on a block of at
//! least [`THRESHOLD`] lets the kernel fault in 2 MiB at a time instead (it does so only where transparent huge pages
//! are `always` or `madvise`, as on Debian 12; elsewhere the call fails and nothing changes). Measured: 13–20 % off a
//! 4096² base64 frame's wall time, the same CPU cycles; the first frame after start is slower (docs/BENCHMARKS.md).
//! Small blocks are left alone: glibc reuses them without faults.
//!
//! **Reuse.** Blocks of 1–128 MiB, a frame's buffers, are kept when freed (48 at most, 384 MiB in all) and handed
//! to the next request of their size, or to a smaller block growing to it ([`reuse`]): the same buffers of the next
//! frame then cost no faults.

pub mod reuse;

use std::alloc::{GlobalAlloc, Layout, System};

/// glibc arenas at most (its default is 8 per core).
pub const ARENAS: i32 = 2;

/// Blocks at least this large get their own mapping, whatever was freed before (glibc starts at 128 KiB; a frame
/// row of a 4096-px RGB float image is 48 KiB, a 1280×1024 plane 5 MiB).
pub const MMAP_THRESHOLD: i32 = 1 << 20;

/// Caps glibc's arenas at [`ARENAS`] and fixes its mmap threshold at [`MMAP_THRESHOLD`]; call first thing in
/// `main`, before any thread starts. Elsewhere than glibc, nothing.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets parameters of glibc's allocator; called before other threads exist.
    unsafe {
        nix::libc::mallopt(nix::libc::M_ARENA_MAX, ARENAS);
        nix::libc::mallopt(nix::libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Frees the blocks kept for reuse ([`reuse`]) and hands the free pages of every glibc arena back to the system
/// (`malloc_trim`), as after a detector is dropped:
/// otherwise glibc keeps them for reuse. It cannot undo fragmentation: the 2-hour soak's driver, which called it at
/// each switch, still sat ~95 MB higher in its second naive phase than in its first, with 12 arenas (above).
pub fn release_free_memory() {
    if let Ok(mut cache) = reuse::CACHE.lock() {
        // SAFETY: the cache holds only blocks `LargeBlocks` took from `System` with these layouts.
        unsafe { cache.flush(system_free) };
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only walks glibc's own arenas under their locks; it takes no pointer of ours.
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

/// Blocks at least this large are advised (glibc serves them with their own mapping, so the advice covers no
/// neighbour's memory).
pub const THRESHOLD: usize = 8 << 20;

/// The huge-page size the advice is aligned to (x86-64 and arm64 with 4 KiB base pages).
const HUGE: usize = 2 << 20;

/// [`System`], with huge pages advised for large blocks and blocks of 1–32 MiB reused ([`reuse`]).
pub struct LargeBlocks;

/// [`System`]'s `dealloc`, for the blocks the cache frees.
unsafe fn system_free(ptr: *mut u8, layout: Layout) {
    // SAFETY: the cache's callers guarantee a block `System` allocated with this layout.
    unsafe { System.dealloc(ptr, layout) }
}

/// A kept block for `layout`, if one fits ([`reuse::Cache::take`]).
fn reused(layout: Layout) -> Option<*mut u8> {
    if !reuse::Cache::keeps(layout) {
        return None;
    }
    reuse::CACHE.lock().ok()?.take(layout)
}

// SAFETY: every block comes from `System` and goes back to it, either at once or when the cache frees it; a kept
// block is handed out only for a layout of at most its size and of an alignment its address has, and glibc's `free`
// and `realloc` take any block it allocated whatever size the caller states. The advice only tells the kernel how to
// back pages that the block already owns, and never changes their contents.
unsafe impl GlobalAlloc for LargeBlocks {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if let Some(p) = reused(layout) {
            return p;
        }
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if let Some(p) = reused(layout) {
            // SAFETY: the kept block holds at least `layout.size()` bytes and now belongs to this caller.
            unsafe { p.write_bytes(0, layout.size()) };
            return p;
        }
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc_zeroed(layout) };
        advise(p, layout.size());
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if reuse::Cache::keeps(layout) {
            if let Ok(mut cache) = reuse::CACHE.lock() {
                // SAFETY: the caller gives the block up; it was allocated with `layout` by this allocator, i.e. by
                // `System` (directly or through the cache).
                if unsafe { cache.put(ptr, layout, system_free) } {
                    return;
                }
            }
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Growing into a kept size (the INDI framer reserving room for a BLOB's text): a kept block if one fits,
        // as `alloc` would give, instead of fresh pages from `System`.
        if new_size > layout.size() {
            // SAFETY: `GlobalAlloc::realloc`'s caller guarantees that `new_size`, rounded up to the alignment, does
            // not overflow.
            let grown = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            if let Some(p) = reused(grown) {
                // SAFETY: `p` is a different block of at least `new_size` bytes now owned by the caller; the old
                // block holds `layout.size()` initialised-or-not bytes and is given up here.
                unsafe {
                    std::ptr::copy_nonoverlapping(ptr, p, layout.size());
                    self.dealloc(ptr, layout);
                }
                return p;
            }
        }
        // SAFETY: forwarded with the caller's guarantees (a reused block is one of `System`'s).
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if new_size > layout.size() {
            advise(p, new_size);
        }
        p
    }
}

/// Advises huge pages for the whole 2 MiB pages inside `[p, p + size)`, if the block is large enough.
fn advise(p: *mut u8, size: usize) {
    if p.is_null() || size < THRESHOLD {
        return;
    }
    let start = (p as usize).next_multiple_of(HUGE);
    let end = (p as usize + size) / HUGE * HUGE;
    if end > start {
        // SAFETY: the range lies inside the block just allocated, which this process owns; MADV_HUGEPAGE changes
        // how its pages are backed, never their contents. A failure (no transparent huge pages) is ignored.
        unsafe {
            nix::libc::madvise(start as *mut nix::libc::c_void, end - start, nix::libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_and_small_blocks_keep_their_contents_through_realloc() {
        let a = LargeBlocks;
        for size in [64, reuse::MIN_BLOCK, THRESHOLD - 1, THRESHOLD, 3 * THRESHOLD + 12345, reuse::MAX_BLOCK + 1] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            // SAFETY: non-zero size; every pointer is checked, written within its size and freed with its layout.
            unsafe {
                let p = a.alloc_zeroed(layout);
                assert!(!p.is_null());
                assert!(std::slice::from_raw_parts(p, size).iter().all(|&b| b == 0));
                p.write_bytes(7, size);
                let q = a.realloc(p, layout, size * 2);
                assert!(!q.is_null());
                assert!(std::slice::from_raw_parts(q, size).iter().all(|&b| b == 7));
                a.dealloc(q, Layout::from_size_align(size * 2, 8).unwrap());
                // A kept block comes back zeroed for a zeroed request, whatever it held.
                let r = a.alloc(layout);
                r.write_bytes(9, size);
                a.dealloc(r, layout);
                let z = a.alloc_zeroed(layout);
                assert!(std::slice::from_raw_parts(z, size).iter().all(|&b| b == 0));
                a.dealloc(z, layout);
            }
        }
        release_free_memory();
    }

    #[test]
    fn a_small_block_grown_to_a_kept_size_gets_the_kept_block() {
        let a = LargeBlocks;
        // An odd size no other test uses, so the kept block is this test's.
        let size = (5 << 20) + 3 * 4096;
        let big = Layout::from_size_align(size, 8).unwrap();
        let small = Layout::from_size_align(100, 8).unwrap();
        // SAFETY: every pointer is checked, written within its size and freed with its layout.
        unsafe {
            let kept = a.alloc(big);
            assert!(!kept.is_null());
            a.dealloc(kept, big);
            let p = a.alloc(small);
            p.write_bytes(5, 100);
            // As the INDI framer reserving room for a BLOB: the kept block, with the small block's bytes.
            let q = a.realloc(p, small, size);
            assert_eq!(q, kept, "the kept block is reused instead of fresh pages");
            assert!(std::slice::from_raw_parts(q, 100).iter().all(|&b| b == 5));
            q.write_bytes(6, size);
            a.dealloc(q, big);
        }
        release_free_memory();
    }
}
