//! The real frames in `../shared/data/real-fits` (see its README): a Seestar S50 Bayer frame, an ASI1600 mono frame,
//! a DSS plate and an amateur CCD frame. Skipped, with a message, when the shared folder is absent.

use std::path::PathBuf;

use dso_plugin_api::Encoding;

use crate::decode::{decode, format_from_path, Limits};

fn real(name: &str) -> Option<Vec<u8>> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/real-fits")).join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            eprintln!("SKIP: {} not readable ({e}); the shared data folder is absent", path.display());
            None
        }
    }
}

/// Mean of a plane.
fn mean(plane: &[f32]) -> f32 {
    plane.iter().sum::<f32>() / plane.len() as f32
}

#[test]
fn seestar_bayer_frame_debayers_at_full_size() {
    let name = "Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs.fit";
    let Some(bytes) = real(name) else { return };
    let f = decode(&bytes, &format_from_path(name), &Limits::default()).unwrap();
    assert_eq!((f.width, f.height, f.planes.len(), f.encoding), (1080, 1920, 3, Encoding::Linear));
    assert_eq!(f.header_value("BAYERPAT"), Some("GRBG"));
    assert!(f.header_value("CRVAL1").is_some(), "WCS keywords are kept");
    // A sky background under an IR-cut filter: every channel has signal, green (two sites per cell, most
    // sensitive) the most; a wrong pattern phase would swap green with red/blue.
    let [r, g, b] = [mean(&f.planes[0]), mean(&f.planes[1]), mean(&f.planes[2])];
    assert!(r > 0.0 && g > 0.0 && b > 0.0);
    assert!(g > r && g > b, "R {r} G {g} B {b}");
    assert!(f.planes.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
}

#[test]
fn asi1600_mono_frame() {
    let Some(bytes) = real("ngc4535-autofocus3.fits") else { return };
    let f = decode(&bytes, ".fits", &Limits::default()).unwrap();
    assert_eq!((f.width, f.height, f.planes.len()), (2328, 1760, 1));
    let max = f.planes[0].iter().fold(0.0f32, |m, &v| m.max(v));
    // DATAMAX = 65504 in the header.
    assert!((max - 65504.0 / 65535.0).abs() < 1e-4, "{max}");
}

#[test]
fn dss_plate_and_m13() {
    let Some(bytes) = real("HorseHead.fits") else { return };
    let f = decode(&bytes, ".fits", &Limits::default()).unwrap();
    assert_eq!((f.width, f.height, f.planes.len()), (891, 893, 1));
    let max = f.planes[0].iter().fold(0.0f32, |m, &v| m.max(v));
    assert!((max - 22918.0 / 65535.0).abs() < 1e-4, "DATAMAX 22918: {max}");

    let Some(bytes) = real("M13_blue_0001.fits") else { return };
    let f = decode(&bytes, ".fits", &Limits::default()).unwrap();
    assert_eq!((f.width, f.height, f.planes.len()), (1392, 1040, 1));
}

#[test]
fn every_real_file_decodes() {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/real-fits"));
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIP: {} absent", dir.display());
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let format = format_from_path(&path);
        if format != ".fits" {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let f = decode(&bytes, &format, &Limits::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(f.planes.iter().flatten().all(|v| v.is_finite()), "{}", path.display());
    }
}

#[test]
fn the_fast_conversion_matches_cfitsio_on_every_real_frame() {
    for name in [
        "Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs.fit",
        "ngc4535-autofocus3.fits",
        "HorseHead.fits",
        "M13_blue_0001.fits",
        "ccd_simulator_with_wcs.fits",
    ] {
        let Some(bytes) = real(name) else { return };
        let fast = crate::decode::fits::decode_fits_with(&bytes, &Limits::default(), true).unwrap();
        let cfitsio = crate::decode::fits::decode_fits_with(&bytes, &Limits::default(), false).unwrap();
        assert_eq!(fast.planes.len(), cfitsio.planes.len(), "{name}");
        for (a, b) in fast.planes.iter().zip(&cfitsio.planes) {
            let same = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same, "{name}: the two paths differ");
        }
    }
}
