//! Tile-compressed FITS (`.fits.fz`), made by cfitsio itself: a file name ending in `[compress]` makes every image
//! HDU created in it tile-compressed (RICE_1 by default), as fpack and INDI's `CCD_COMPRESSION` do.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use fitsio::images::{ImageDescription, ImageType};
use fitsio::FitsFile;

use crate::decode::{decode, DecodeError, Limits};

/// A fresh path in the system temp folder (removed again by [`fz_bytes`]).
fn temp_path() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("dso-models-fz-{}-{n}.fits", std::process::id()))
}

/// A `.fits.fz` file: an empty primary HDU, then a RICE_1-compressed unsigned 16-bit image with `keys`.
fn fz_bytes(width: usize, height: usize, counts: &[u16], keys: &[(&str, &str)]) -> Vec<u8> {
    let path = temp_path();
    {
        let mut f = FitsFile::create(format!("{}[compress]", path.display())).open().unwrap();
        let desc = ImageDescription { data_type: ImageType::UnsignedShort, dimensions: &[height, width] };
        let hdu = f.create_image("", &desc).unwrap();
        hdu.write_image(&mut f, counts).unwrap();
        for (k, v) in keys {
            hdu.write_key(&mut f, k, v.to_string()).unwrap();
        }
    }
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    bytes
}

#[test]
fn rice_compressed_image_decodes_from_the_first_extension() {
    let (w, h) = (64, 48);
    let counts: Vec<u16> = (0..w * h).map(|i| (i * 13 % 65536) as u16).collect();
    let bytes = fz_bytes(w, h, &counts, &[("OBJECT", "M 42")]);
    assert!(bytes.windows(6).any(|s| s == b"RICE_1"), "cfitsio wrote a RICE_1 tile-compressed HDU");
    let f = decode(&bytes, ".fits.fz", &Limits::default()).unwrap();
    assert_eq!((f.width, f.height, f.planes.len()), (w, h, 1));
    for (i, (&got, &c)) in f.planes[0].iter().zip(&counts).enumerate() {
        assert!((got - f32::from(c) / 65535.0).abs() < 1e-6, "pixel {i}: {got} vs {c}");
    }
    // The header describes the image, not the binary table that carries it.
    assert_eq!(f.header_value("OBJECT"), Some("M 42"));
    assert_eq!(f.header_value("NAXIS1"), Some("64"));
    assert_eq!(f.header_value("NAXIS2"), Some("48"));
    assert_eq!(f.header_value("BITPIX"), Some("16"));
    for table_key in ["ZIMAGE", "TTYPE1", "TFORM1", "ZCMPTYPE", "TFIELDS", "ZBITPIX", "XTENSION"] {
        assert_eq!(f.header_value(table_key), None, "{table_key} leaked");
    }
}

#[test]
fn compressed_bayer_frames_are_debayered() {
    let (w, h) = (8, 6);
    // A pure green scene through GRBG: G sites lit.
    let counts: Vec<u16> = (0..w * h).map(|i| if (i % w + i / w) % 2 == 0 { 50000 } else { 0 }).collect();
    let bytes = fz_bytes(w, h, &counts, &[("BAYERPAT", "GRBG"), ("ROWORDER", "TOP-DOWN")]);
    let f = decode(&bytes, ".fits.fz", &Limits::default()).unwrap();
    assert_eq!(f.planes.len(), 3);
    assert!(f.planes[1].iter().all(|&v| (v - 50000.0 / 65535.0).abs() < 1e-5));
    assert!(f.planes[0].iter().chain(&f.planes[2]).all(|&v| v == 0.0));
}

#[test]
fn truncated_compressed_files_are_refused() {
    let counts: Vec<u16> = (0..128 * 128).map(|i| (i * 7919 % 65536) as u16).collect();
    let bytes = fz_bytes(128, 128, &counts, &[]);
    let cut = &bytes[..bytes.len() - 4000];
    let err = decode(cut, ".fits.fz", &Limits::default()).unwrap_err();
    assert!(matches!(err, DecodeError::Truncated { .. }), "{err:?}");
    assert!(err.to_string().contains("tile-compressed 128×128×16-bit"), "{err}");
}

#[test]
fn compressed_size_is_limited_before_decompressing() {
    let counts = vec![0u16; 256 * 256];
    let bytes = fz_bytes(256, 256, &counts, &[]);
    let err = decode(&bytes, ".fits.fz", &Limits { max_bytes: 1000, ..Limits::default() }).unwrap_err();
    assert!(matches!(err, DecodeError::TooLarge(_)), "{err:?}");
}
