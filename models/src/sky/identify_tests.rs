use super::*;
use dso_plugin_api::Encoding;

use crate::sky::Wcs;

/// A 1200×900 frame at 2.67″/px centred between NGC 4535 and NGC 4492 (the Virgo field of the real ASI1600 frame),
/// north up, with noise, and a galaxy drawn at each position in `drawn` (catalogue ids).
fn virgo(drawn: &[&str]) -> (Frame, Field) {
    virgo_with(drawn, 6.0)
}

/// [`virgo`] with the galaxies' Gaussian σ = catalogue major axis / `per_major` (larger: more compact).
fn virgo_with(drawn: &[&str], per_major: f64) -> (Frame, Field) {
    let (w, h) = (1200, 900);
    let wcs = Wcs::from_pointing(188.17, 8.14, 2.67, 0.0, w, h).unwrap();
    let field = Field { wcs: wcs.clone(), solved_by: SolvedBy::Header, width: w, height: h };
    let mut data = vec![0.1f32; w * h];
    // Deterministic noise: a small LCG, σ ≈ 0.01.
    let mut state = 12345u64;
    for v in &mut data {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let u = ((state >> 33) as f64 / (1u64 << 31) as f64) - 0.5;
        *v += (u * 0.0346) as f32;
    }
    for id in drawn {
        let o = Catalog::openngc().objects().iter().find(|o| o.id == *id).unwrap();
        let (cx, cy) = wcs.sky_to_pixel(o.ra, o.dec).unwrap();
        let sigma = o.major.unwrap() * 60.0 / 2.67 / per_major;
        for y in 0..h {
            for x in 0..w {
                let r2 = ((x as f64 + 0.5 - cx).powi(2) + (y as f64 + 0.5 - cy).powi(2)) / (2.0 * sigma * sigma);
                if r2 < 30.0 {
                    data[y * w + x] += (0.2 * (-r2).exp()) as f32;
                }
            }
        }
    }
    (Frame::new(w, h, vec![data], Encoding::Linear).unwrap(), field)
}

fn box_around(field: &Field, id: &str, half: f32) -> Detection {
    let o = Catalog::openngc().objects().iter().find(|o| o.id == id).unwrap();
    let (x, y) = field.wcs.sky_to_pixel(o.ra, o.dec).unwrap();
    Detection {
        x: x as f32 - half,
        y: y as f32 - half,
        width: 2.0 * half,
        height: 2.0 * half,
        label: "cluster".into(),
        confidence: 0.8,
    }
}

#[test]
fn a_detection_on_a_galaxy_is_named_and_a_missed_one_is_found_by_evidence() {
    let (frame, field) = virgo(&["NGC4535", "NGC4492"]);
    let det = box_around(&field, "NGC4535", 60.0);
    let got = identify(&frame, &[det], &field, Catalog::openngc());
    let name = got.names[0].as_ref().expect("named");
    assert_eq!((name.catalog_id.as_str(), name.type_name.as_str(), name.class), ("NGC 4535", "galaxy", Some("galaxy")));
    let found: Vec<&str> = got.from_catalogue.iter().map(|(_, i)| i.catalog_id.as_str()).collect();
    assert_eq!(found, vec!["NGC 4492"], "only the drawn galaxy is claimed from evidence");
    let (d, _) = &got.from_catalogue[0];
    assert!(d.confidence >= 0.5 && d.label == "galaxy", "{d:?}");
    assert!(got.expected.iter().all(|e| e.identity.catalog_id != "NGC 4492" && e.identity.catalog_id != "NGC 4535"));
    let target = Catalog::openngc().lookup("NGC 4492").unwrap();
    assert_eq!(got.target_state(target), TargetState::Captured);
    assert_eq!(got.target_state(Catalog::openngc().lookup("M 94").unwrap()), TargetState::NotInField);
}

#[test]
fn an_empty_field_claims_nothing_from_evidence_and_lists_what_is_expected() {
    let (frame, field) = virgo(&[]);
    let got = identify(&frame, &[], &field, Catalog::openngc());
    assert!(got.from_catalogue.is_empty(), "noise is no evidence: {:?}", got.from_catalogue);
    let expected: Vec<&str> = got.expected.iter().map(|e| e.identity.catalog_id.as_str()).collect();
    assert!(expected.contains(&"NGC 4535"), "{expected:?}");
    assert!(expected.len() <= MAX_EXPECTED);
    let target = Catalog::openngc().lookup("NGC 4535").unwrap();
    assert_eq!(got.target_state(target), TargetState::InField);
}

#[test]
fn a_detection_far_from_any_catalogue_object_stays_unnamed() {
    let (frame, field) = virgo(&[]);
    // A corner of the frame with nothing catalogued near it.
    let det = Detection { x: 5.0, y: 5.0, width: 20.0, height: 20.0, label: "galaxy".into(), confidence: 0.9 };
    let got = identify(&frame, &[det], &field, Catalog::openngc());
    assert_eq!(got.names, vec![None]);
}

#[test]
fn rough_pointing_names_only_what_covers_the_centre() {
    let (frame, mut field) = virgo(&["NGC4535"]);
    // Point straight at NGC 4535, as a mount would for a GOTO, rotation unknown.
    let o = Catalog::openngc().lookup("NGC 4535").unwrap();
    field.wcs = Wcs::from_pointing(o.ra, o.dec, 2.67, 0.0, 1200, 900).unwrap();
    field.solved_by = SolvedBy::Pointing;
    let centre = Detection { x: 550.0, y: 400.0, width: 100.0, height: 100.0, label: "nebula".into(), confidence: 0.7 };
    let off = Detection { x: 10.0, y: 10.0, width: 100.0, height: 100.0, label: "nebula".into(), confidence: 0.9 };
    let got = identify(&frame, &[off, centre], &field, Catalog::openngc());
    assert_eq!(got.names[0], None);
    assert_eq!(got.names[1].as_ref().map(|i| i.catalog_id.as_str()), Some("NGC 4535"));
    assert!(got.from_catalogue.is_empty(), "no evidence claims from a rough pointing");
    assert_eq!(got.target_state(o), TargetState::Captured);
    let m94 = Catalog::openngc().lookup("M 94").unwrap();
    assert_eq!(got.target_state(m94), TargetState::NotInField);
}

#[test]
fn confidence_from_evidence_is_monotonic_and_bounded() {
    let c: Vec<f32> = [MIN_SNR, 20.0, 50.0, 500.0].iter().map(|s| evidence_confidence(*s)).collect();
    assert!(c.windows(2).all(|w| w[0] < w[1]), "{c:?}");
    assert!(c[0] >= 0.5 && c[3] <= 0.99);
}

#[test]
fn a_catalogue_find_is_boxed_at_the_size_that_shows() {
    // NGC 4492: 1.7′, 38 px across at 2.67″/px. Drawn with σ = major/6 its light meets sky + 1σ at ≈ 0.8 of the
    // major axis; drawn 4× more compact (a short sub-frame's core), at ≈ 0.2, and the box shrinks with it.
    let major_px = |field: &Field| {
        let o = Catalog::openngc().lookup("NGC 4492").unwrap();
        o.major.unwrap() * 60.0 / field.wcs.scale_arcsec()
    };
    let side = |per_major: f64| {
        let (frame, field) = virgo_with(&["NGC4492"], per_major);
        let got = identify(&frame, &[], &field, Catalog::openngc());
        let (d, i) = got.from_catalogue.iter().find(|(_, i)| i.catalog_id == "NGC 4492").expect("found by evidence");
        assert_eq!(i.class, Some("galaxy"));
        f64::from(d.width.max(d.height)) / major_px(&field)
    };
    let (extended, compact) = (side(6.0), side(24.0));
    assert!((0.6..=1.05).contains(&extended), "extended: {extended:.2} of the catalogue size");
    assert!(compact < 0.5 * extended, "compact: {compact:.2} of the catalogue size, extended {extended:.2}");
}
