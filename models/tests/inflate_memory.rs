//! Peak memory while decoding compressed bombs: a few megabytes of zlib or gzip that inflate to gigabytes must be
//! refused (or stopped where the image's header says it ends) without the output ever being held (issue 15: a 4 MB
//! gzip upload used to take the driver to about 1.1 GB before the 1 GiB inflate limit refused it).
//!
//! A counting global allocator measures the peak of live heap bytes, so this file is its own test binary and holds
//! a single test (the harness' other threads would otherwise add their allocations to the peak).

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use dso_models::decode::{decode, DecodeError, Limits};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's arguments.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as if old and new blocks coexisted, as they may while realloc copies.
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MIB: usize = 1 << 20;

/// `head`, then `zeros` zero bytes, zlib- or gzip-compressed without ever holding the whole input.
fn packed(head: &[u8], zeros: usize, gzip: bool) -> Vec<u8> {
    fn feed<W: Write>(mut w: W, head: &[u8], zeros: usize) -> W {
        w.write_all(head).unwrap();
        let block = vec![0u8; MIB];
        for _ in 0..zeros / MIB {
            w.write_all(&block).unwrap();
        }
        w
    }
    let level = flate2::Compression::best();
    if gzip {
        feed(flate2::write::GzEncoder::new(Vec::new(), level), head, zeros).finish().unwrap()
    } else {
        feed(flate2::write::ZlibEncoder::new(Vec::new(), level), head, zeros).finish().unwrap()
    }
}

/// A FITS primary header (one block) for an image of these axes.
fn fits_header(bitpix: i32, axes: &[u64]) -> Vec<u8> {
    let mut cards = vec![
        "SIMPLE  =                    T".to_owned(),
        format!("BITPIX  = {bitpix:>20}"),
        format!("NAXIS   = {:>20}", axes.len()),
    ];
    for (i, a) in axes.iter().enumerate() {
        cards.push(format!("{:<8}= {a:>20}", format!("NAXIS{}", i + 1)));
    }
    cards.push("END".into());
    let mut out: Vec<u8> = cards.iter().flat_map(|c| format!("{c:<80}").into_bytes()).collect();
    out.resize(2880, b' ');
    out
}

/// Decodes and returns the result with the peak of live heap bytes above what was live before, in MiB.
fn peak_while(bytes: &[u8], format: &str, limits: &Limits) -> (Result<(usize, usize), DecodeError>, f64) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let result = decode(bytes, format, limits).map(|f| (f.width, f.height));
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    (result, peak as f64 / MIB as f64)
}

#[test]
fn compressed_bombs_are_refused_within_bounded_memory() {
    let frame_limit = Limits { max_bytes: 128 << 20, ..Limits::default() };

    // 1 GiB of zeros (about 1 MB of zlib): not an image, refused after the first chunk.
    let zeros = packed(b"", 1 << 30, false);
    eprintln!("zlib bomb: {} bytes → 1 GiB", zeros.len());
    let (result, peak) = peak_while(&zeros, ".fits.z", &frame_limit);
    eprintln!("  zeros: {result:?}, peak {peak:.2} MiB");
    assert!(matches!(&result, Err(DecodeError::Corrupt(m)) if m.contains("does not hold an image")), "{result:?}");
    assert!(peak < 2.0, "peak {peak:.2} MiB inflating a bomb of zeros");

    // A FITS header announcing 40000×40000×32-bit (6.4 GB), then zeros: refused from the header.
    let fits_big = packed(&fits_header(32, &[40_000, 40_000]), 256 * MIB, true);
    let (result, peak) = peak_while(&fits_big, ".fits.gz", &frame_limit);
    eprintln!("  FITS announcing 6.4 GB: {result:?}, peak {peak:.2} MiB");
    assert!(matches!(&result, Err(DecodeError::TooLarge(m)) if m.contains("40000×40000×32-bit")), "{result:?}");
    assert!(peak < 2.0, "peak {peak:.2} MiB refusing an announced 6.4 GB FITS");

    // A FITS header announcing a real 1000×1000×16-bit frame, then 256 MiB of zeros: only the frame is inflated
    // (2 MB) and it decodes.
    let fits_ok = packed(&fits_header(16, &[1000, 1000]), 256 * MIB, false);
    let (result, peak) = peak_while(&fits_ok, ".fits.z", &frame_limit);
    eprintln!("  FITS 1000×1000 then 256 MiB: {result:?}, peak {peak:.2} MiB");
    assert_eq!(result.as_ref().ok(), Some(&(1000, 1000)), "{result:?}");
    assert!(peak < 24.0, "peak {peak:.2} MiB decoding a 2 MB FITS followed by 256 MiB of zeros");

    // A PNG signature then 256 MiB of zeros announces no length: the frame limit bounds it (here 16 MiB).
    let small_limit = Limits { max_bytes: 16 << 20, ..Limits::default() };
    let png = packed(b"\x89PNG\r\n\x1a\n", 256 * MIB, false);
    let (result, peak) = peak_while(&png, ".png.z", &small_limit);
    eprintln!("  PNG then 256 MiB, 16 MiB limit: {result:?}, peak {peak:.2} MiB");
    assert!(matches!(&result, Err(DecodeError::TooLarge(_))), "{result:?}");
    // The buffer doubles up to the limit; the counter takes a realloc's old and new blocks together (as if copied),
    // so the last step from 8 to 16 MiB counts 24: 1.5 × the limit, never more.
    assert!(peak < 25.0, "peak {peak:.2} MiB with a 16 MiB limit");
}
