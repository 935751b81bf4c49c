//! Peak memory while decoding bombs (issue 15, part 2):
//! - compressed bombs: a few megabytes of zlib or gzip that inflate to gigabytes must be refused (or stopped where
//!   the image's header says it ends) without the output ever being held (a 4 MB gzip upload used to take the driver
//!   to about 1.1 GB before the 1 GiB inflate limit refused it);
//! - announced sizes: a small file whose header announces an absurd image (FITS `NAXISn`, tile-compressed FITS
//!   `ZNAXISn`/`ZTILEn`, XISF geometry, PNG and JPEG dimensions) must be refused from that header, before the pixel
//!   buffer is allocated, with a clear message.
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
fn bombs_are_refused_within_bounded_memory() {
    // Announced sizes first: cfitsio allocates with malloc, which the counter does not see, so its cases are also
    // judged by the process' resident high-water mark, which the compressed cases would raise.
    announced_sizes();
    compressed_bombs();
}

fn compressed_bombs() {
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

/// The process' resident high-water mark (`VmHWM`), MiB: counts what C libraries allocate too.
fn high_water_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024.0
}

/// The driver's frame limit (`DSO_MAX_FRAME_MB`, default 128 MiB) and the default pixel limit.
fn driver_limits() -> Limits {
    Limits { max_bytes: 128 << 20, ..Limits::default() }
}

/// Replaces the value of a FITS card (`KEY     = value`) in every header block of `bytes`.
fn set_card(bytes: &mut [u8], key: &str, value: u64) {
    let name = format!("{key:<8}=");
    let mut found = false;
    for card in bytes.chunks_exact_mut(80) {
        if card.starts_with(name.as_bytes()) {
            card.copy_from_slice(format!("{name} {value:>20}{:50}", "").as_bytes());
            found = true;
        }
    }
    assert!(found, "no {key} card");
}

/// A tile-compressed (RICE_1) 64×64 16-bit image written by cfitsio, as fpack and INDI's `CCD_COMPRESSION` do.
fn small_fz() -> Vec<u8> {
    use fitsio::images::{ImageDescription, ImageType};
    let path = std::env::temp_dir().join(format!("dso-bomb-{}.fits", std::process::id()));
    {
        let mut f = fitsio::FitsFile::create(format!("{}[compress]", path.display())).open().unwrap();
        let desc = ImageDescription { data_type: ImageType::UnsignedShort, dimensions: &[64, 64] };
        let hdu = f.create_image("", &desc).unwrap();
        hdu.write_image(&mut f, &vec![1000u16; 64 * 64]).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

/// A PNG or JPEG of 16×16 pixels, encoded by the `image` crate.
fn small_raster(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(16, 16, image::Rgb([40, 80, 120]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// The PNG with its IHDR width and height replaced (and its CRC recomputed).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = small_raster(image::ImageFormat::Png);
    // Signature (8), IHDR length (4), "IHDR" (4), then width and height, ..., CRC over type and data (17 bytes).
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&png[12..29]);
    png[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    png
}

/// The JPEG with its start-of-frame height and width replaced.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = small_raster(image::ImageFormat::Jpeg);
    let sof = (2..jpeg.len() - 9)
        .find(|&i| jpeg[i] == 0xFF && matches!(jpeg[i + 1], 0xC0..=0xC2))
        .expect("a start-of-frame marker");
    // Marker (2), length (2), precision (1), then height and width.
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

/// An XISF file whose image announces this geometry and sample format, with a 16-byte attachment.
fn xisf_claiming(geometry: &str, sample_format: &str) -> Vec<u8> {
    let xml = format!(
        "<xisf version=\"1.0\"><Image geometry=\"{geometry}\" sampleFormat=\"{sample_format}\" \
         location=\"attachment:0:16\"/></xisf>"
    );
    let mut b = b"XISF0100".to_vec();
    b.extend((xml.len() as u32).to_le_bytes());
    b.extend([0; 4]);
    b.extend(xml.as_bytes());
    b.extend([0u8; 64]);
    b
}

/// Decodes `bytes` under the driver's limits; asserts a refusal of this kind whose message contains `says`, with a
/// peak heap under `most_mib`.
fn refused(what: &str, bytes: &[u8], format: &str, too_large: bool, says: &str, most_mib: f64) {
    let (result, peak) = peak_while(bytes, format, &driver_limits());
    eprintln!("  {what} ({} bytes): {result:?}, peak {peak:.2} MiB", bytes.len());
    match &result {
        Err(e @ DecodeError::TooLarge(_)) if too_large => assert!(e.to_string().contains(says), "{what}: {e}"),
        Err(e) if !too_large => assert!(e.to_string().contains(says), "{what}: {e}"),
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
    assert!(peak < most_mib, "{what}: peak {peak:.2} MiB");
}

fn announced_sizes() {
    eprintln!("announced sizes, under the driver's 128 MiB frame limit:");
    // FITS: 100000×100000 16-bit (20 GB) announced, 1 MB of data follows.
    let mut fits = fits_header(16, &[100_000, 100_000]);
    fits.resize(2880 + MIB, 0);
    refused("FITS 100000×100000", &fits, ".fits", true, "100000×100000", 2.0);

    // Tile-compressed FITS: the image size (ZNAXISn) and the tile size (ZTILEn) are both header values, read by
    // cfitsio, whose own allocations are judged by the resident high-water mark.
    let fz = small_fz();
    let hwm_before = high_water_mib();
    assert_eq!(peak_while(&fz, ".fits.fz", &driver_limits()).0.ok(), Some((64, 64)), "the unaltered file decodes");
    let mut big = fz.clone();
    set_card(&mut big, "ZNAXIS1", 200_000);
    set_card(&mut big, "ZNAXIS2", 200_000);
    refused(".fits.fz ZNAXIS 200000×200000", &big, ".fits.fz", true, "200000×200000", 2.0);
    let mut tiles = fz.clone();
    set_card(&mut tiles, "ZTILE1", 100_000_000);
    set_card(&mut tiles, "ZTILE2", 100_000_000);
    let (result, peak) = peak_while(&tiles, ".fits.fz", &driver_limits());
    eprintln!("  .fits.fz ZTILE 1e8×1e8: {result:?}, peak {peak:.2} MiB");
    assert!(peak < 8.0, "tiles announced at 1e8×1e8: peak {peak:.2} MiB");
    let hwm = high_water_mib() - hwm_before;
    eprintln!("  .fits.fz cases: resident high-water mark up {hwm:.1} MiB");
    assert!(hwm < 32.0, "cfitsio's allocations for the .fits.fz bombs: resident high-water mark up {hwm:.1} MiB");

    // XISF: 100000×100000×3 doubles (240 GB) announced, 16 bytes attached.
    let xisf = xisf_claiming("100000:100000:3", "Float64");
    refused("XISF 100000:100000:3 Float64", &xisf, ".xisf", true, "100000×100000", 2.0);
    // Within the pixel limit but past the frame limit: 12000×12000×1 Float64 is 1.15 GB of samples.
    let xisf = xisf_claiming("12000:12000:1", "Float64");
    refused("XISF 12000:12000:1 Float64", &xisf, ".xisf", true, "1 152 000 000 bytes, more than the 134 217 728", 2.0);

    // PNG and JPEG: headers of a 16×16 image rewritten to claim more.
    refused("PNG 100000×100000", &png_claiming(100_000, 100_000), ".png", true, "100000×100000", 2.0);
    // 12000×12000 RGB is 144 Mpx (under the pixel limit) and 432 MB of pixels (over the frame limit).
    refused("PNG 12000×12000", &png_claiming(12_000, 12_000), ".png", true, "needs more than the 134 217 728", 2.0);
    refused("JPEG 65000×65000", &jpeg_claiming(65_000, 65_000), ".jpg", true, "65000×65000", 2.0);
    let (result, peak) = peak_while(&jpeg_claiming(12_000, 12_000), ".jpg", &driver_limits());
    eprintln!("  JPEG 12000×12000: {result:?}, peak {peak:.2} MiB");
    assert!(result.is_err(), "a 16×16 JPEG's data cannot fill 12000×12000: {result:?}");
    assert!(peak < 2.0, "JPEG claiming 12000×12000: peak {peak:.2} MiB");
}
