//! A few freed mid-size blocks kept for the next frame, so that its buffers of the same sizes land in memory that is
//! already faulted in.
//!
//! Why: glibc gives every block of at least its mmap threshold (fixed at 1 MiB, [`super::MMAP_THRESHOLD`]) a mapping
//! of its own and unmaps it when freed, so each frame faults in all of its large buffers again: at 4096² the BLOB's
//! base64 text (44 MB) and bytes (32 MB), the 2×2 binned frame (16 MiB), the naive detector's planes, the picture's
//! pixels (12 MiB), ten model inputs (1.2 MiB each). On the project's VM a fault costs ~2 µs a 4 KiB page, and huge
//! pages were sometimes far slower (the binned frame took 8–16 ms in most frames and 41–118 ms in some). Camera
//! frames keep their size all night, so the same sizes come back every frame: the YOLO benchmark's overhead around
//! the model at 4096² fell from 98–114 ms to 52–66 ms when glibc was allowed to reuse blocks of 1–32 MiB
//! (docs/YOLO.md). With only those kept, zeroing fresh pages was still ~30 % of the reader's and the worker's CPU on a
//! 4096² frame received as base64 (`perf`, seventh session); keeping blocks up to [`MAX_BLOCK`] took the naive frame
//! from 490 to 241 ms and the YOLO frame from 499 to 241 ms (medians of 6, the two builds alternating on the same
//! frames, docs/BENCHMARKS.md), for a high-water mark 27–50 MB higher.
//!
//! Letting glibc do it (a higher mmap threshold) is what fragmented its arenas before (`super`'s docs); here only
//! whole blocks are kept, at most [`SLOTS`] of them and [`MAX_BYTES`] in all, and a block is handed out only for a
//! request of its own size or up to a quarter smaller, so nothing fragments and the memory held is bounded: while
//! frames arrive back to back the driver holds about one frame's peak, and the worker empties the cache
//! ([`super::release_free_memory`]) after two seconds without a frame.

use std::alloc::Layout;
use std::sync::Mutex;

/// Smallest block kept: glibc's mmap threshold (smaller blocks are reused from its arenas without faults anyway).
pub const MIN_BLOCK: usize = super::MMAP_THRESHOLD as usize;
/// Largest block kept: a 6248×4176 frame's samples as floats (104 MB) or its BLOB's base64 text (70 MB); larger
/// frames' blocks go back to the system. (A frame's samples are reused by `dso_models::decode::raw::recycle`.)
pub const MAX_BLOCK: usize = 128 << 20;
/// Most bytes held in kept blocks: a 4096² frame's buffers with room to spare (the driver's high-water mark with
/// them was 290–294 MB, docs/BENCHMARKS.md).
pub const MAX_BYTES: usize = 384 << 20;
/// Most blocks held.
pub const SLOTS: usize = 48;

/// One kept block: where, and the layout it was freed with.
#[derive(Clone, Copy, Debug)]
struct Block {
    ptr: usize,
    size: usize,
    align: usize,
}

/// The kept blocks, oldest first (`blocks[..len]`). Holds no allocation of its own: the allocator calls into it.
#[derive(Debug)]
pub struct Cache {
    blocks: [Block; SLOTS],
    len: usize,
    bytes: usize,
}

impl Cache {
    /// An empty cache.
    pub const fn new() -> Self {
        Self { blocks: [Block { ptr: 0, size: 0, align: 1 }; SLOTS], len: 0, bytes: 0 }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Blocks held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no block is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether blocks of this layout are kept at all.
    pub fn keeps(layout: Layout) -> bool {
        (MIN_BLOCK..=MAX_BLOCK).contains(&layout.size())
    }

    /// A kept block for `layout`: one freed with at least its size and at most a third more (the request is then at
    /// most a quarter smaller), at an address of its alignment, the closest in size and then the oldest; it leaves
    /// the cache.
    pub fn take(&mut self, layout: Layout) -> Option<*mut u8> {
        if !Self::keeps(layout) {
            return None;
        }
        let (size, most) = (layout.size(), layout.size() + layout.size() / 3);
        let (at, block) = self.blocks[..self.len]
            .iter()
            .enumerate()
            .filter(|(_, b)| (size..=most).contains(&b.size) && b.ptr % layout.align() == 0)
            .min_by_key(|(_, b)| b.size)?;
        let ptr = block.ptr as *mut u8;
        self.remove(at);
        Some(ptr)
    }

    /// Removes `blocks[at]`, keeping the order of the rest.
    fn remove(&mut self, at: usize) -> Block {
        let block = self.blocks[at];
        self.blocks[at..self.len].rotate_left(1);
        self.len -= 1;
        self.bytes -= block.size;
        block
    }

    /// Keeps a freed block, first freeing the oldest kept ones with `free` while the cache would be over [`SLOTS`]
    /// or [`MAX_BYTES`]; `false` (nothing kept) when blocks of this layout are not kept: the caller frees it.
    ///
    /// # Safety
    /// `ptr` was allocated with `layout` by the allocator that `free` returns blocks to, and the caller does not use
    /// it again.
    pub unsafe fn put(&mut self, ptr: *mut u8, layout: Layout, free: unsafe fn(*mut u8, Layout)) -> bool {
        if !Self::keeps(layout) {
            return false;
        }
        let size = layout.size();
        while self.len > 0 && (self.len == SLOTS || self.bytes + size > MAX_BYTES) {
            let oldest = self.remove(0);
            // SAFETY: the block was given to `put` with this layout (the caller's guarantee) and has left the cache.
            unsafe { free(oldest.ptr as *mut u8, Layout::from_size_align_unchecked(oldest.size, oldest.align)) };
        }
        self.blocks[self.len] = Block { ptr: ptr as usize, size, align: layout.align() };
        self.len += 1;
        self.bytes += size;
        true
    }

    /// Frees every kept block with `free`.
    ///
    /// # Safety
    /// As for [`Cache::put`].
    pub unsafe fn flush(&mut self, free: unsafe fn(*mut u8, Layout)) {
        while self.len > 0 {
            let block = self.remove(self.len - 1);
            // SAFETY: as in `put`.
            unsafe { free(block.ptr as *mut u8, Layout::from_size_align_unchecked(block.size, block.align)) };
        }
    }
}

impl Default for Cache {
    fn default() -> Self {
        Self::new()
    }
}

/// The process's cache, used by [`super::LargeBlocks`].
pub(super) static CACHE: Mutex<Cache> = Mutex::new(Cache::new());

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{GlobalAlloc, System};

    unsafe fn free(p: *mut u8, l: Layout) {
        // SAFETY: the tests give the cache only blocks from `System` with these layouts.
        unsafe { System.dealloc(p, l) }
    }

    fn block(size: usize) -> (*mut u8, Layout) {
        let l = Layout::from_size_align(size, 16).unwrap();
        // SAFETY: non-zero size.
        let p = unsafe { System.alloc(l) };
        assert!(!p.is_null());
        (p, l)
    }

    #[test]
    fn blocks_come_back_for_their_size_and_the_cache_stays_bounded() {
        let mut c = Cache::new();
        let (p, l) = block(3 << 20);
        // SAFETY: blocks from `System`, not used after `put`.
        unsafe {
            assert!(c.put(p, l, free));
            assert_eq!(c.bytes(), 3 << 20);
            // Too large a request, or one more than a quarter smaller: not this block.
            assert_eq!(c.take(Layout::from_size_align(4 << 20, 16).unwrap()), None);
            assert_eq!(c.take(Layout::from_size_align(2 << 20, 16).unwrap()), None);
            // Its own size, or a little smaller: this block.
            assert_eq!(c.take(Layout::from_size_align((3 << 20) - 4096, 16).unwrap()), Some(p));
            assert_eq!(c.bytes(), 0);
            assert_eq!(c.take(l), None, "handed out once");
            free(p, l);

            // Outside the kept sizes: refused (the caller frees them).
            for size in [MIN_BLOCK - 1, MAX_BLOCK + 1] {
                let (p, l) = block(size);
                assert!(!c.put(p, l, free));
                free(p, l);
            }

            // Never more than MAX_BYTES or SLOTS: the oldest go first.
            let sizes = [100 << 20, 100 << 20, 100 << 20, 100 << 20, 1 << 20];
            let given: Vec<_> = sizes.iter().map(|&s| block(s)).collect();
            for &(p, l) in &given {
                assert!(c.put(p, l, free));
                assert!(c.bytes() <= MAX_BYTES);
            }
            const { assert!(4 * (100 << 20) > MAX_BYTES && 3 * (100 << 20) + (1 << 20) <= MAX_BYTES) };
            assert_eq!(c.bytes(), (300 << 20) + (1 << 20), "the first 100 MiB block was freed");
            assert_eq!(
                c.take(Layout::from_size_align(100 << 20, 16).unwrap()),
                Some(given[1].0),
                "closest size, oldest"
            );
            free(given[1].0, given[1].1);
            for _ in 0..2 * SLOTS {
                let (p, l) = block(MIN_BLOCK);
                assert!(c.put(p, l, free));
                assert!(c.len() <= SLOTS && c.bytes() <= MAX_BYTES);
            }
            assert_eq!((c.len(), c.bytes()), (SLOTS, SLOTS * MIN_BLOCK), "only the newest, all 1 MiB");
            c.flush(free);
            assert_eq!(c.bytes(), 0);
            assert!(c.is_empty());
        }
    }

    #[test]
    fn alignment_is_respected() {
        let mut c = Cache::new();
        let (p, l) = block(2 << 20);
        // SAFETY: as above.
        unsafe {
            assert!(c.put(p, l, free));
            let odd = (p as usize).trailing_zeros();
            // An alignment the block's address does not have: not handed out.
            let wider = Layout::from_size_align(2 << 20, 1 << (odd + 1)).unwrap();
            assert_eq!(c.take(wider), None);
            c.flush(free);
        }
    }
}
