//! The image decoder on arbitrary bytes labelled `.fits`: FITS of every BITPIX through cfitsio and the fast
//! converter, and — since the magic bytes decide — tile-compressed FITS, zlib/gzip-wrapped data, XISF, JPEG and PNG
//! as well. Limits are small so that a valid huge header is refused quickly rather than allocated.
//!
//! Checked: no panic, and a decoded frame is consistent (planes of width × height samples in `0..=1`).
#![no_main]

use dso_models::decode::{decode, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_pixels: 1 << 22, max_bytes: 1 << 26 };
    if let Ok(frame) = decode(data, ".fits", &limits) {
        assert!(!frame.planes.is_empty());
        for plane in &frame.planes {
            assert_eq!(plane.len(), frame.width * frame.height);
            assert!(plane.iter().all(|v| (0.0..=1.0).contains(v)), "sample outside 0..=1");
        }
    }
});
