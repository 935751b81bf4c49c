//! A celestial world coordinate system: frame pixels ↔ RA/Dec (J2000), for the gnomonic (`TAN`) projection with
//! optional SIP distortion — what plate solvers (astrometry.net, ASTAP, PixInsight) and INDI's CCD driver write.
//!
//! Read from FITS/XISF keywords (FITS WCS papers I and II; SIP: Shupe et al. 2005): `CTYPEi` `RA---TAN`/`DEC--TAN`
//! (with or without `-SIP`), `CRVALi`, `CRPIXi`, and the linear part as `CDi_j`, or `PCi_j` × `CDELTi`, or
//! `CDELTi` + `CROTA2` (AIPS convention). Anything else (another projection, galactic axes, B1950) is refused
//! with a message rather than guessed: a wrong WCS would name the wrong objects.
//!
//! Pixel coordinates here are those of boxes: continuous, origin at the top-left corner of the first stored row, so
//! the centre of pixel `(i, j)` is `(i + 0.5, j + 0.5)` and FITS pixel `p` (1-based, centre at `p`) is `x + 0.5`.
//! The decoder keeps rows in stored order, so frame row 0 is FITS row 1.

use std::f64::consts::PI;

use dso_plugin_api::HeaderCard;

const D2R: f64 = PI / 180.0;

/// Why a frame's WCS keywords cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum WcsError {
    /// A projection or coordinate system this module does not implement.
    #[error("unsupported WCS: {0}")]
    Unsupported(String),
    /// Keywords present but inconsistent or out of range.
    #[error("invalid WCS: {0}")]
    Invalid(String),
}

/// SIP polynomial coefficients: `coeffs[p][q]` multiplies `u^p v^q`.
#[derive(Clone, Debug, PartialEq)]
struct Poly {
    order: usize,
    coeffs: Vec<Vec<f64>>,
}

impl Poly {
    fn read(cards: &[HeaderCard], prefix: &str) -> Result<Option<Self>, WcsError> {
        let Some(order) = number(cards, &format!("{prefix}_ORDER"))? else { return Ok(None) };
        if !(0.0..=9.0).contains(&order) || order.fract() != 0.0 {
            return Err(WcsError::Invalid(format!("{prefix}_ORDER = {order} (0–9 expected)")));
        }
        let order = order as usize;
        let mut coeffs = vec![vec![0.0; order + 1]; order + 1];
        for (p, row) in coeffs.iter_mut().enumerate() {
            for (q, c) in row.iter_mut().enumerate().take(order + 1 - p) {
                *c = number(cards, &format!("{prefix}_{p}_{q}"))?.unwrap_or(0.0);
            }
        }
        Ok(Some(Self { order, coeffs }))
    }

    fn eval(&self, u: f64, v: f64) -> f64 {
        let mut sum = 0.0;
        let mut up = 1.0;
        for row in &self.coeffs {
            let mut vq = 1.0;
            for c in row {
                sum += c * up * vq;
                vq *= v;
            }
            up *= u;
        }
        sum
    }
}

/// SIP distortion: forward (`A`, `B`) and, when the file has them, inverse (`AP`, `BP`) polynomials.
#[derive(Clone, Debug, PartialEq)]
struct Sip {
    a: Poly,
    b: Poly,
    inverse: Option<(Poly, Poly)>,
}

/// A TAN (optionally TAN-SIP) world coordinate system.
#[derive(Clone, Debug, PartialEq)]
pub struct Wcs {
    /// Reference pixel, FITS convention (1-based).
    crpix: [f64; 2],
    /// RA, Dec of the reference pixel, degrees.
    crval: [f64; 2],
    /// Linear transformation, degrees per pixel: `[[CD1_1, CD1_2], [CD2_1, CD2_2]]`.
    cd: [[f64; 2]; 2],
    sip: Option<Sip>,
}

impl Wcs {
    /// The frame's WCS, `Ok(None)` when it has no celestial WCS keywords at all (no `CTYPE1`/`CRVAL1`).
    pub fn from_header(cards: &[HeaderCard]) -> Result<Option<Self>, WcsError> {
        let ctype1 = text(cards, "CTYPE1");
        let ctype2 = text(cards, "CTYPE2");
        if ctype1.is_none() && number(cards, "CRVAL1")?.is_none() {
            return Ok(None);
        }
        let (Some(c1), Some(c2)) = (ctype1, ctype2) else {
            return Err(WcsError::Invalid("CRVAL without CTYPE1/CTYPE2".into()));
        };
        let c1 = c1.trim().to_ascii_uppercase();
        let c2 = c2.trim().to_ascii_uppercase();
        let sip = c1.ends_with("-SIP") && c2.ends_with("-SIP");
        let (base1, base2) = (c1.trim_end_matches("-SIP"), c2.trim_end_matches("-SIP"));
        if !(base1.starts_with("RA--") && base2.starts_with("DEC-")) {
            return Err(WcsError::Unsupported(format!("axes '{c1}'/'{c2}' (only RA/Dec in that order)")));
        }
        for base in [base1, base2] {
            let proj = base.rsplit('-').next().unwrap_or("");
            if proj != "TAN" {
                return Err(WcsError::Unsupported(format!("projection '{proj}' in '{base}' (only TAN and TAN-SIP)")));
            }
        }
        if let Some(sys) = text(cards, "RADESYS").or_else(|| text(cards, "RADECSYS")) {
            let sys = sys.trim().to_ascii_uppercase();
            if !matches!(sys.as_str(), "ICRS" | "FK5" | "") {
                return Err(WcsError::Unsupported(format!("reference system '{sys}' (only ICRS and FK5 J2000)")));
            }
        }
        if let Some(eq) = number(cards, "EQUINOX")?.or(number(cards, "EPOCH")?) {
            if (eq - 2000.0).abs() > 0.01 {
                return Err(WcsError::Unsupported(format!("equinox {eq} (only J2000)")));
            }
        }
        if let Some(lonpole) = number(cards, "LONPOLE")? {
            if (lonpole - 180.0).abs() > 1e-6 {
                return Err(WcsError::Unsupported(format!("LONPOLE = {lonpole} (only the default 180°)")));
            }
        }
        let req = |k: &str| number(cards, k)?.ok_or_else(|| WcsError::Invalid(format!("{k} is missing")));
        let crval = [req("CRVAL1")?, req("CRVAL2")?];
        let crpix = [req("CRPIX1")?, req("CRPIX2")?];
        let cd = linear_part(cards)?;
        let sip = if sip {
            let (Some(a), Some(b)) = (Poly::read(cards, "A")?, Poly::read(cards, "B")?) else {
                return Err(WcsError::Invalid("CTYPE says SIP but A_ORDER/B_ORDER are missing".into()));
            };
            let inverse = match (Poly::read(cards, "AP")?, Poly::read(cards, "BP")?) {
                (Some(ap), Some(bp)) => Some((ap, bp)),
                _ => None,
            };
            Some(Sip { a, b, inverse })
        } else {
            None
        };
        Self::checked(crpix, crval, cd, sip).map(Some)
    }

    /// A WCS from a pointing: `(ra, dec)` degrees at the frame's centre, `scale` arcseconds per pixel, `rotation`
    /// degrees (position angle of the frame's up direction, east of north; 0 = north up, east left, as a camera on
    /// an equatorial mount without a flip sees the sky on screen).
    pub fn from_pointing(
        ra: f64,
        dec: f64,
        scale: f64,
        rotation: f64,
        width: usize,
        height: usize,
    ) -> Result<Self, WcsError> {
        let s = scale / 3600.0;
        let (sin, cos) = (rotation * D2R).sin_cos();
        // Frame y grows downwards. Up (0, −1) points at position angle `rotation`: (east, north) = s·(sin, cos);
        // right (1, 0) at `rotation` − 90° for an unmirrored sky: s·(−cos, sin).
        let cd = [[-s * cos, -s * sin], [s * sin, -s * cos]];
        let crpix = [width as f64 / 2.0 + 0.5, height as f64 / 2.0 + 0.5];
        Self::checked(crpix, [ra, dec], cd, None)
    }

    fn checked(crpix: [f64; 2], crval: [f64; 2], cd: [[f64; 2]; 2], sip: Option<Sip>) -> Result<Self, WcsError> {
        if crval.iter().chain(&crpix).chain(cd.iter().flatten()).any(|v| !v.is_finite()) {
            return Err(WcsError::Invalid("a WCS value is not a number".into()));
        }
        if crval[1].abs() > 90.0 {
            return Err(WcsError::Invalid(format!("CRVAL2 = {} is not a declination", crval[1])));
        }
        let wcs = Self { crpix, crval: [crval[0].rem_euclid(360.0), crval[1]], cd, sip };
        let scale = wcs.scale_arcsec();
        if !(0.01..=3600.0).contains(&scale) {
            return Err(WcsError::Invalid(format!("pixel scale {scale:.3e}″/px is not plausible")));
        }
        let (sx, sy) = (cd[0][0].hypot(cd[1][0]), cd[0][1].hypot(cd[1][1]));
        if (sx / sy - 1.0).abs() > 0.2 {
            return Err(WcsError::Invalid(format!(
                "pixels {:.2}″ × {:.2}″ are far from square",
                sx * 3600.0,
                sy * 3600.0
            )));
        }
        Ok(wcs)
    }

    /// Arcseconds per pixel (the geometric mean of the two axes).
    pub fn scale_arcsec(&self) -> f64 {
        let det = self.cd[0][0] * self.cd[1][1] - self.cd[0][1] * self.cd[1][0];
        det.abs().sqrt() * 3600.0
    }

    /// Position angle of the frame's up direction (−y), degrees east of north, 0–360.
    pub fn rotation_deg(&self) -> f64 {
        // Up is pixel direction (0, −1): its intermediate coordinates are (−CD1_2, −CD2_2) = (east, north).
        let (east, north) = (-self.cd[0][1], -self.cd[1][1]);
        east.atan2(north).to_degrees().rem_euclid(360.0)
    }

    /// True when the image is mirrored (east is clockwise from north on screen).
    pub fn is_flipped(&self) -> bool {
        // Frame y points down: an unflipped sky (east left of north-up) has det(CD) > 0 in these axes.
        self.cd[0][0] * self.cd[1][1] - self.cd[0][1] * self.cd[1][0] < 0.0
    }

    /// RA, Dec (degrees) of a point in frame pixels (box coordinates).
    pub fn pixel_to_sky(&self, x: f64, y: f64) -> (f64, f64) {
        let mut u = x + 0.5 - self.crpix[0];
        let mut v = y + 0.5 - self.crpix[1];
        if let Some(sip) = &self.sip {
            let (du, dv) = (sip.a.eval(u, v), sip.b.eval(u, v));
            u += du;
            v += dv;
        }
        let xi = (self.cd[0][0] * u + self.cd[0][1] * v) * D2R;
        let eta = (self.cd[1][0] * u + self.cd[1][1] * v) * D2R;
        let (a0, d0) = (self.crval[0] * D2R, self.crval[1] * D2R);
        let den = d0.cos() - eta * d0.sin();
        let ra = a0 + xi.atan2(den);
        let dec = (eta * d0.cos() + d0.sin()).atan2(xi.hypot(den));
        (ra.to_degrees().rem_euclid(360.0), dec.to_degrees())
    }

    /// Frame pixel (box coordinates) of RA, Dec (degrees); `None` when the point is 90° or more from the
    /// reference point (behind the tangent plane).
    pub fn sky_to_pixel(&self, ra: f64, dec: f64) -> Option<(f64, f64)> {
        let (a, d) = (ra * D2R, dec * D2R);
        let (a0, d0) = (self.crval[0] * D2R, self.crval[1] * D2R);
        let da = a - a0;
        let cosc = d0.sin() * d.sin() + d0.cos() * d.cos() * da.cos();
        if cosc <= 1e-6 {
            return None;
        }
        let xi = (d.cos() * da.sin() / cosc).to_degrees();
        let eta = ((d0.cos() * d.sin() - d0.sin() * d.cos() * da.cos()) / cosc).to_degrees();
        let det = self.cd[0][0] * self.cd[1][1] - self.cd[0][1] * self.cd[1][0];
        let u1 = (self.cd[1][1] * xi - self.cd[0][1] * eta) / det;
        let v1 = (-self.cd[1][0] * xi + self.cd[0][0] * eta) / det;
        let (u, v) = match &self.sip {
            None => (u1, v1),
            Some(Sip { inverse: Some((ap, bp)), .. }) => (u1 + ap.eval(u1, v1), v1 + bp.eval(u1, v1)),
            Some(Sip { a, b, inverse: None }) => {
                // Fixed-point iteration of u + A(u, v) = u1: converges for the small distortions SIP describes.
                let (mut u, mut v) = (u1, v1);
                for _ in 0..20 {
                    let (nu, nv) = (u1 - a.eval(u, v), v1 - b.eval(u, v));
                    let done = (nu - u).abs() + (nv - v).abs() < 1e-6;
                    (u, v) = (nu, nv);
                    if done {
                        break;
                    }
                }
                (u, v)
            }
        };
        let (x, y) = (u + self.crpix[0] - 0.5, v + self.crpix[1] - 0.5);
        (x.is_finite() && y.is_finite()).then_some((x, y))
    }

    /// The frame's size on the sky, arcminutes (width, height).
    pub fn size_arcmin(&self, width: usize, height: usize) -> (f64, f64) {
        let s = self.scale_arcsec() / 60.0;
        (width as f64 * s, height as f64 * s)
    }

    /// The position angle on screen (degrees, clockwise from up) of a sky direction given as a position angle east
    /// of north, e.g. a galaxy's major axis.
    pub fn screen_angle(&self, position_angle: f64) -> f64 {
        let rot = self.rotation_deg();
        if self.is_flipped() {
            position_angle - rot
        } else {
            rot - position_angle
        }
    }

    /// The WCS as FITS cards (TAN, CD matrix; SIP dropped), e.g. to hand a solution to another tool.
    pub fn to_cards(&self) -> Vec<HeaderCard> {
        let card = |k: &str, v: String| HeaderCard { keyword: k.into(), value: v };
        vec![
            card("CTYPE1", "RA---TAN".into()),
            card("CTYPE2", "DEC--TAN".into()),
            card("CRVAL1", format!("{:.8}", self.crval[0])),
            card("CRVAL2", format!("{:.8}", self.crval[1])),
            card("CRPIX1", format!("{:.4}", self.crpix[0])),
            card("CRPIX2", format!("{:.4}", self.crpix[1])),
            card("CD1_1", format!("{:.10e}", self.cd[0][0])),
            card("CD1_2", format!("{:.10e}", self.cd[0][1])),
            card("CD2_1", format!("{:.10e}", self.cd[1][0])),
            card("CD2_2", format!("{:.10e}", self.cd[1][1])),
        ]
    }
}

/// `CDi_j`, else `CDELTi` × `PCi_j`, else `CDELTi` with `CROTA2`.
fn linear_part(cards: &[HeaderCard]) -> Result<[[f64; 2]; 2], WcsError> {
    let cd: Vec<Option<f64>> =
        ["CD1_1", "CD1_2", "CD2_1", "CD2_2"].iter().map(|k| number(cards, k)).collect::<Result<_, _>>()?;
    if cd.iter().any(Option::is_some) {
        let g = |i: usize| cd[i].unwrap_or(0.0);
        return Ok([[g(0), g(1)], [g(2), g(3)]]);
    }
    let (Some(d1), Some(d2)) = (number(cards, "CDELT1")?, number(cards, "CDELT2")?) else {
        return Err(WcsError::Invalid("neither CDi_j nor CDELTi is given".into()));
    };
    let pc: Vec<Option<f64>> =
        ["PC1_1", "PC1_2", "PC2_1", "PC2_2"].iter().map(|k| number(cards, k)).collect::<Result<_, _>>()?;
    if pc.iter().any(Option::is_some) {
        let p = |i: usize, default: f64| pc[i].unwrap_or(default);
        return Ok([[d1 * p(0, 1.0), d1 * p(1, 0.0)], [d2 * p(2, 0.0), d2 * p(3, 1.0)]]);
    }
    let rho = number(cards, "CROTA2")?.or(number(cards, "CROTA1")?).unwrap_or(0.0) * D2R;
    let (s, c) = rho.sin_cos();
    Ok([[d1 * c, -d2 * s], [d1 * s, d2 * c]])
}

/// A keyword's value (keywords compare case-insensitively); shared with [`super::pointing`].
pub(super) fn text<'a>(cards: &'a [HeaderCard], key: &str) -> Option<&'a str> {
    cards.iter().find(|c| c.keyword.eq_ignore_ascii_case(key)).map(|c| c.value.as_str())
}

/// A numeric keyword; present but not a number is an error (a corrupt header must not be half-trusted).
fn number(cards: &[HeaderCard], key: &str) -> Result<Option<f64>, WcsError> {
    match text(cards, key) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .replace(['D', 'd'], "E")
            .parse::<f64>()
            .map(Some)
            .map_err(|_| WcsError::Invalid(format!("{key} = '{v}' is not a number"))),
    }
}

#[cfg(test)]
#[path = "wcs_tests.rs"]
mod tests;
