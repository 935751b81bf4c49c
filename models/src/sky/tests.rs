//! The sky module on the real frames of `../shared/data/real-fits` (skipped when that folder is absent, failed
//! instead when `DSO_REQUIRE_DATA=1`).

use std::path::PathBuf;

use super::*;
use crate::decode::{decode, Limits};

fn real(name: &str) -> Option<Frame> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/real-fits").join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Some(decode(&bytes, ".fits", &Limits::default()).unwrap()),
        Err(e) => {
            crate::skip(format!("{}: {e}", path.display()));
            None
        }
    }
}

fn in_frame(field: &Field, query: &str) -> bool {
    let o = Catalog::openngc().lookup(query).unwrap();
    field
        .wcs
        .sky_to_pixel(o.ra, o.dec)
        .is_some_and(|(x, y)| (0.0..field.width as f64).contains(&x) && (0.0..field.height as f64).contains(&y))
}

#[test]
fn header_wcs_of_real_frames_puts_their_targets_in_the_frame() {
    for (file, target, scale) in [
        ("HorseHead.fits", "Horsehead Nebula", 1.008),
        ("Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs.fit", "NGC 7023", 2.375),
        ("ngc4535-autofocus3.fits", "NGC 4535", 2.67),
    ] {
        let Some(frame) = real(file) else { return };
        let a = frame_astrometry(&frame);
        let field = a.field.unwrap_or_else(|| panic!("{file}: {:?}", a.problem));
        assert_eq!(field.solved_by, SolvedBy::Header);
        assert!((field.wcs.scale_arcsec() - scale).abs() < 0.05, "{file}: {}", field.wcs.scale_arcsec());
        assert!(in_frame(&field, target), "{file}: {target}");
    }
}

#[test]
fn pointing_only_frames_have_a_pointing_and_no_field() {
    let Some(frame) = real("Light_M94_10.0s_IRCUT_20250326-212046.fit") else { return };
    let a = frame_astrometry(&frame);
    assert!(a.field.is_none() && a.problem.is_none());
    let p = a.pointing.unwrap();
    assert!((p.scale.unwrap() - 2.39).abs() < 0.01);
    let m94 = Catalog::openngc().lookup("M 94").unwrap();
    assert!(p.separation(&Pointing { ra: m94.ra, dec: m94.dec, scale: None }) < 0.5);
}

#[test]
fn a_wcs_contradicting_the_pointing_is_not_trusted() {
    let Some(frame) = real("HorseHead.fits") else { return };
    let mut header = frame.header.clone();
    header.retain(|c| c.keyword != "RA" && c.keyword != "DEC");
    header.push(HeaderCard { keyword: "RA".into(), value: "192.72".into() });
    header.push(HeaderCard { keyword: "DEC".into(), value: "41.12".into() });
    let a = field_from_header(&header, frame.width, frame.height);
    assert!(a.field.is_none());
    assert!(a.problem.unwrap().contains("away from its RA/DEC"));
}
