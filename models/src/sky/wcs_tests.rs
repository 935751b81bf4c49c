use super::*;

fn cards(list: &[(&str, &str)]) -> Vec<HeaderCard> {
    list.iter().map(|(k, v)| HeaderCard { keyword: (*k).into(), value: (*v).into() }).collect()
}

/// The DSS Horsehead plate's WCS (../shared/data/real-fits/HorseHead.fits), CD form.
fn horsehead() -> Vec<HeaderCard> {
    cards(&[
        ("CTYPE1", "RA---TAN"),
        ("CTYPE2", "DEC--TAN"),
        ("CRPIX1", "446.0"),
        ("CRPIX2", "447.0"),
        ("CRVAL1", "85.274970"),
        ("CRVAL2", "-2.458265"),
        ("CD1_1", "-0.0002802651"),
        ("CD1_2", "0.0000003159"),
        ("CD2_1", "0.0000002767"),
        ("CD2_2", "0.0002798187"),
        ("EQUINOX", "2000.0"),
        ("RADESYS", "ICRS"),
    ])
}

fn sep_arcsec(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (a0, d0, a1, d1) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let c = d0.sin() * d1.sin() + d0.cos() * d1.cos() * (a0 - a1).cos();
    c.clamp(-1.0, 1.0).acos().to_degrees() * 3600.0
}

#[test]
fn reference_pixel_maps_to_reference_value() {
    let w = Wcs::from_header(&horsehead()).unwrap().unwrap();
    // FITS pixel 446 is box coordinate 445.5.
    let (ra, dec) = w.pixel_to_sky(445.5, 446.5);
    assert!((ra - 85.274970).abs() < 1e-9 && (dec + 2.458265).abs() < 1e-9, "{ra} {dec}");
    assert!((w.scale_arcsec() - 1.0082).abs() < 0.001, "{}", w.scale_arcsec());
}

#[test]
fn pixel_sky_round_trip() {
    let w = Wcs::from_header(&horsehead()).unwrap().unwrap();
    for (x, y) in [(0.0, 0.0), (890.0, 0.0), (100.5, 800.25), (445.5, 446.5)] {
        let (ra, dec) = w.pixel_to_sky(x, y);
        let (x2, y2) = w.sky_to_pixel(ra, dec).unwrap();
        assert!((x - x2).abs() < 1e-6 && (y - y2).abs() < 1e-6, "({x},{y}) → ({x2},{y2})");
    }
}

#[test]
fn horsehead_lands_where_dss_shows_it() {
    // B 33 at 85.2458, −2.4583 (OpenNGC): a little west and at the reference row of this plate.
    let w = Wcs::from_header(&horsehead()).unwrap().unwrap();
    let (x, y) = w.sky_to_pixel(85.245833, -2.458333).unwrap();
    // 0.0291° of RA west at dec −2.46 = 104.7″ ≈ 104 px; CD1_1 < 0 so west is +x.
    assert!((x - (445.5 + 104.0)).abs() < 2.0, "x {x}");
    // CD2_2 > 0 here: this DSS plate is stored bottom row first, so north is +y.
    assert!((y - 446.5).abs() < 2.0, "y {y}");
}

#[test]
fn pc_and_cdelt_form_as_the_seestar_writes_it() {
    let c = cards(&[
        ("CTYPE1", "RA---TAN"),
        ("CTYPE2", "DEC--TAN"),
        ("CRPIX1", "540.5"),
        ("CRPIX2", "960.5"),
        ("CRVAL1", "315.4433043481"),
        ("CRVAL2", "68.12628491387"),
        ("PC1_1", "0.0003505162396905"),
        ("PC1_2", "0.0005586766032592"),
        ("PC2_1", "-0.0005586160829179"),
        ("PC2_2", "0.0003504672443411"),
        ("CDELT1", "1.0"),
        ("CDELT2", "1.0"),
        ("LONPOLE", "180.0"),
        ("RADESYS", "FK5"),
    ]);
    let w = Wcs::from_header(&c).unwrap().unwrap();
    assert!((w.scale_arcsec() - 2.375).abs() < 0.01, "{}", w.scale_arcsec());
    // NGC 7023 (315.3984, 68.1696) falls inside the 1080×1920 frame.
    let (x, y) = w.sky_to_pixel(315.398417, 68.169556).unwrap();
    assert!((0.0..1080.0).contains(&x) && (0.0..1920.0).contains(&y), "({x}, {y})");
}

#[test]
fn cdelt_and_crota_as_the_ccd_simulator_writes_them() {
    let c = cards(&[
        ("CTYPE1", "RA---TAN"),
        ("CTYPE2", "DEC--TAN"),
        ("CRPIX1", "400"),
        ("CRPIX2", "300"),
        ("CRVAL1", "120.0"),
        ("CRVAL2", "30.0"),
        ("CDELT1", "-2.0E-04"),
        ("CDELT2", "2.0E-04"),
        ("CROTA2", "90"),
    ]);
    let w = Wcs::from_header(&c).unwrap().unwrap();
    // Rotated 90°: a step in +x moves along Dec, not RA.
    let (ra0, dec0) = w.pixel_to_sky(399.5, 299.5);
    let (ra1, dec1) = w.pixel_to_sky(409.5, 299.5);
    assert!((ra1 - ra0).abs() < 1e-6, "{ra0} {ra1}");
    assert!(((dec1 - dec0).abs() - 0.002).abs() < 1e-6, "{dec0} {dec1}");
}

#[test]
fn pointing_puts_north_up_and_east_left() {
    let w = Wcs::from_pointing(100.0, 20.0, 2.0, 0.0, 1000, 800).unwrap();
    let (cx, cy) = w.sky_to_pixel(100.0, 20.0).unwrap();
    assert!((cx - 500.0).abs() < 1e-6 && (cy - 400.0).abs() < 1e-6);
    let (_, ny) = w.sky_to_pixel(100.0, 20.05).unwrap();
    assert!(ny < cy - 80.0, "north is up: {ny}");
    let (ex, _) = w.sky_to_pixel(100.05, 20.0).unwrap();
    assert!(ex < cx - 80.0, "east is left: {ex}");
    assert!(w.rotation_deg().abs() < 1e-9 && !w.is_flipped());
    let r = Wcs::from_pointing(100.0, 20.0, 2.0, 30.0, 1000, 800).unwrap();
    assert!((r.rotation_deg() - 30.0).abs() < 1e-9, "{}", r.rotation_deg());
    assert!((r.scale_arcsec() - 2.0).abs() < 1e-9);
}

#[test]
fn sip_forward_only_inverts_by_iteration() {
    let mut c = horsehead();
    for card in c.iter_mut().filter(|c| c.keyword.starts_with("CTYPE")) {
        card.value.push_str("-SIP");
    }
    c.extend(cards(&[("A_ORDER", "2"), ("A_2_0", "2e-5"), ("A_0_2", "-1e-5"), ("B_ORDER", "2"), ("B_1_1", "3e-5")]));
    let w = Wcs::from_header(&c).unwrap().unwrap();
    let plain = Wcs::from_header(&horsehead()).unwrap().unwrap();
    let corner = w.pixel_to_sky(0.0, 0.0);
    assert!(sep_arcsec(corner, plain.pixel_to_sky(0.0, 0.0)) > 1.0, "the distortion moves the corner");
    let (x, y) = w.sky_to_pixel(corner.0, corner.1).unwrap();
    assert!(x.abs() < 1e-3 && y.abs() < 1e-3, "({x}, {y})");
}

#[test]
fn no_wcs_is_none_and_bad_ones_are_refused() {
    assert_eq!(Wcs::from_header(&cards(&[("OBJECT", "M 31")])).unwrap(), None);
    let with = |k: &str, v: &str| {
        let mut c = horsehead();
        c.retain(|card| card.keyword != k);
        c.push(HeaderCard { keyword: k.into(), value: v.into() });
        Wcs::from_header(&c)
    };
    assert!(matches!(with("CTYPE1", "RA---SIN"), Err(WcsError::Unsupported(m)) if m.contains("SIN")));
    assert!(matches!(with("CTYPE1", "GLON-TAN"), Err(WcsError::Unsupported(_))));
    assert!(matches!(with("CRVAL2", "95"), Err(WcsError::Invalid(_))));
    assert!(matches!(with("CD1_1", "abc"), Err(WcsError::Invalid(m)) if m.contains("CD1_1")));
    assert!(matches!(with("EQUINOX", "1950"), Err(WcsError::Unsupported(_))));
    assert!(matches!(with("CD2_2", "0.02"), Err(WcsError::Invalid(m)) if m.contains("square")));
    let mut no_scale = horsehead();
    no_scale.retain(|c| !c.keyword.starts_with("CD"));
    assert!(matches!(Wcs::from_header(&no_scale), Err(WcsError::Invalid(_))));
}

#[test]
fn behind_the_tangent_plane_is_none() {
    let w = Wcs::from_header(&horsehead()).unwrap().unwrap();
    assert_eq!(w.sky_to_pixel(85.27 + 180.0, 2.45), None);
}
