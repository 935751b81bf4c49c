//! Where a frame roughly points without a plate solve: the telescope's coordinates and the optics' pixel scale, as
//! cameras write them into the frame (`RA`/`DEC` or `OBJCTRA`/`OBJCTDEC`, `FOCALLEN`, `XPIXSZ`/`PIXSIZE1`,
//! `XBINNING`, `SCALE`) or as the driver snoops them from the mount and camera.
//!
//! This is a hint for the solver and a labelled rough estimate on its own: a mount's coordinates can be off by
//! arcminutes to degrees before an alignment, and nothing here knows the camera's rotation.

use dso_plugin_api::HeaderCard;

use super::wcs::text;

/// A rough pointing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pointing {
    /// J2000 right ascension of the frame centre, degrees.
    pub ra: f64,
    /// J2000 declination, degrees.
    pub dec: f64,
    /// Arcseconds per (binned) pixel, when the optics are known.
    pub scale: Option<f64>,
}

impl Pointing {
    /// The pointing a frame's keywords give, `None` when they give no coordinates. Malformed values are skipped.
    pub fn from_header(cards: &[HeaderCard]) -> Option<Self> {
        let (ra, dec) = match (number(cards, "RA"), number(cards, "DEC")) {
            (Some(ra), Some(dec)) => (ra, dec),
            _ => {
                let ra = sexagesimal(text(cards, "OBJCTRA")?)? * 15.0;
                let dec = sexagesimal(text(cards, "OBJCTDEC")?)?;
                (ra, dec)
            }
        };
        if !ra.is_finite() || !dec.is_finite() || dec.abs() > 90.0 {
            return None;
        }
        Some(Self { ra: ra.rem_euclid(360.0), dec, scale: scale_from_header(cards) })
    }

    /// Angular distance to another pointing, degrees.
    pub fn separation(&self, other: &Pointing) -> f64 {
        separation(self.ra, self.dec, other.ra, other.dec)
    }
}

/// Arcseconds per pixel from `SCALE`, `PIXSCALE`, or `FOCALLEN` (mm) with the binned pixel size (µm): `XPIXSZ`
/// (binned, as INDI and ASCOM write it) or `PIXSIZE1` × `XBINNING`.
pub fn scale_from_header(cards: &[HeaderCard]) -> Option<f64> {
    let direct = number(cards, "SCALE").or_else(|| number(cards, "PIXSCALE"));
    if let Some(s) = direct.filter(|s| *s > 0.0 && s.is_finite()) {
        return Some(s);
    }
    let focal = number(cards, "FOCALLEN").filter(|f| *f > 0.0)?;
    let pixel = number(cards, "XPIXSZ")
        .or_else(|| Some(number(cards, "PIXSIZE1")? * number(cards, "XBINNING").unwrap_or(1.0)))
        .filter(|p| *p > 0.0)?;
    Some(pixel_scale(pixel, focal))
}

/// Arcseconds per pixel of a `pixel_um` pixel behind a `focal_mm` focal length.
pub fn pixel_scale(pixel_um: f64, focal_mm: f64) -> f64 {
    206.264_806 * pixel_um / focal_mm
}

/// Angular distance between two points, degrees.
pub fn separation(ra0: f64, dec0: f64, ra1: f64, dec1: f64) -> f64 {
    let (a0, d0, a1, d1) = (ra0.to_radians(), dec0.to_radians(), ra1.to_radians(), dec1.to_radians());
    // Haversine: exact for the small separations that matter here.
    let h = ((d1 - d0) / 2.0).sin().powi(2) + d0.cos() * d1.cos() * ((a1 - a0) / 2.0).sin().powi(2);
    2.0 * h.sqrt().min(1.0).asin().to_degrees()
}

/// Precesses JNow (the equinox of `year`, e.g. 2026.9, as mounts report `EQUATORIAL_EOD_COORD`) to J2000, degrees
/// in and out. IAU 1976 precession (Lieske et al. 1977); nutation and aberration (< 40″) are ignored, which is far
/// below a rough pointing's error.
pub fn jnow_to_j2000(ra: f64, dec: f64, year: f64) -> (f64, f64) {
    // Angles for precessing J2000 → date, arcseconds (Meeus, Astronomical Algorithms, 21.2 with T0 = J2000).
    let t = (year - 2000.0) / 100.0;
    let arc = |a: f64| (a / 3600.0).to_radians();
    let zeta = arc(2306.2181 * t + 0.30188 * t * t + 0.017998 * t * t * t);
    let z = arc(2306.2181 * t + 1.09468 * t * t + 0.018203 * t * t * t);
    let theta = arc(2004.3109 * t - 0.42665 * t * t - 0.041833 * t * t * t);
    // The inverse rotation: date → J2000.
    let (a, d) = (ra.to_radians() - z, dec.to_radians());
    let aa = d.cos() * a.sin();
    let bb = theta.cos() * d.cos() * a.cos() + theta.sin() * d.sin();
    let cc = -theta.sin() * d.cos() * a.cos() + theta.cos() * d.sin();
    let ra0 = aa.atan2(bb) - zeta;
    let dec0 = cc.clamp(-1.0, 1.0).asin();
    (ra0.to_degrees().rem_euclid(360.0), dec0.to_degrees())
}

/// `"05 41 06.000"`, `"+68:10:12"`, `"-02 27 30"` → decimal (hours or degrees, as given).
pub fn sexagesimal(s: &str) -> Option<f64> {
    let s = s.trim();
    let negative = s.starts_with('-');
    let parts: Vec<f64> = s
        .trim_start_matches(['+', '-'])
        .split([' ', ':', 'h', 'm', 's', 'd', '°', '\'', '"'])
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| !p.is_finite() || *p < 0.0) {
        return None;
    }
    let value = parts.iter().zip([1.0, 60.0, 3600.0]).map(|(p, d)| p / d).sum::<f64>();
    Some(if negative { -value } else { value })
}

fn number(cards: &[HeaderCard], key: &str) -> Option<f64> {
    text(cards, key)?.trim().parse().ok().filter(|v: &f64| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cards(list: &[(&str, &str)]) -> Vec<HeaderCard> {
        list.iter().map(|(k, v)| HeaderCard { keyword: (*k).into(), value: (*v).into() }).collect()
    }

    #[test]
    fn seestar_keywords_give_pointing_and_scale() {
        let p = Pointing::from_header(&cards(&[
            ("FOCALLEN", "250"),
            ("XBINNING", "1"),
            ("XPIXSZ", "2.90000009536743"),
            ("RA", "193.04166"),
            ("DEC", "40.970556"),
        ]))
        .unwrap();
        assert_eq!((p.ra, p.dec), (193.04166, 40.970556));
        assert!((p.scale.unwrap() - 2.3926).abs() < 0.001, "{:?}", p.scale);
    }

    #[test]
    fn sexagesimal_object_coordinates_and_pixsize_with_binning() {
        let p = Pointing::from_header(&cards(&[
            ("OBJCTRA", "05 41 06.000"),
            ("OBJCTDEC", "-02 27 30.00"),
            ("FOCALLEN", "500"),
            ("PIXSIZE1", "3.76"),
            ("XBINNING", "2"),
        ]))
        .unwrap();
        assert!((p.ra - 85.275).abs() < 1e-9 && (p.dec + 2.458333).abs() < 1e-6, "{p:?}");
        assert!((p.scale.unwrap() - pixel_scale(7.52, 500.0)).abs() < 1e-9);
        assert_eq!(Pointing::from_header(&cards(&[("OBJECT", "M 31")])), None);
        assert_eq!(Pointing::from_header(&cards(&[("RA", "10"), ("DEC", "95")])), None);
        assert_eq!(sexagesimal("12:30:00"), Some(12.5));
        assert_eq!(sexagesimal("-00 30 00"), Some(-0.5));
        assert_eq!(sexagesimal("abc"), None);
        assert_eq!(sexagesimal("1 2 3 4"), None);
    }

    #[test]
    fn precession_matches_a_published_example() {
        // Meeus example 21.b runs J2000 → 2028.9 for θ Persei: (41.054063°, 49.227750°) → (41.547214°, 49.348483°).
        // The way back must land on the J2000 position within a few arcseconds.
        let (ra, dec) = jnow_to_j2000(41.547214, 49.348483, 2028.86);
        assert!(separation(ra, dec, 41.054063, 49.227750) * 3600.0 < 5.0, "{ra} {dec}");
        let (ra, dec) = jnow_to_j2000(120.0, 30.0, 2000.0);
        assert!(separation(ra, dec, 120.0, 30.0) < 1e-9);
    }

    #[test]
    fn separation_is_symmetric_and_exact_on_meridians() {
        assert!((separation(10.0, 20.0, 10.0, 21.5) - 1.5).abs() < 1e-9);
        assert!((separation(359.9, 0.0, 0.1, 0.0) - 0.2).abs() < 1e-9);
        assert_eq!(separation(1.0, 2.0, 3.0, 4.0), separation(3.0, 4.0, 1.0, 2.0));
    }
}
