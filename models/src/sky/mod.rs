//! "What is it?": where a frame points on the sky and which catalogued objects it shows.
//!
//! Detectors find smudges; this module names them. It is INDI-free and shared by the driver and `dso-detect`:
//! - [`wcs`]: pixel ↔ RA/Dec through a TAN(-SIP) WCS, read from the frame's keywords or made from a pointing;
//! - [`pointing`]: a rough pointing and pixel scale from keywords or a snooped mount (hints for the solver);
//! - [`solve`]: a local plate solve with astrometry.net's `solve-field`, as a child process with a timeout;
//! - [`catalog`]: OpenNGC, embedded;
//! - [`identify`](mod@identify): projects the catalogue into the frame, names detections, looks for evidence of catalogue objects
//!   no detector found, and says whether the observer's target is captured.
//!
//! Sources of position in order of trust ([`SolvedBy`]): a WCS in the frame, a plate solve, a pointing. A WCS
//! that contradicts the frame's own pointing keywords is not trusted ([`field_from_header`]).

pub mod catalog;
mod evidence;
pub mod identify;
pub mod pointing;
pub mod solve;
pub mod wcs;

use dso_plugin_api::{Frame, HeaderCard};
use serde::Serialize;

pub use catalog::{Catalog, CatalogObject};
pub use identify::{identify, Identified, Identity, TargetState};
pub use pointing::Pointing;
pub use wcs::{Wcs, WcsError};

/// Where a field's astrometry came from, most trusted first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SolvedBy {
    /// A WCS in the frame's own keywords.
    Header,
    /// A plate solve by astrometry.net.
    #[serde(rename = "astrometry.net")]
    AstrometryNet,
    /// Pointing and pixel scale only: a rough estimate, rotation unknown.
    Pointing,
}

impl SolvedBy {
    /// The JSON/CLI spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SolvedBy::Header => "header",
            SolvedBy::AstrometryNet => "astrometry.net",
            SolvedBy::Pointing => "pointing",
        }
    }
}

/// A frame placed on the sky.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// Pixel ↔ sky.
    pub wcs: Wcs,
    /// Where it came from.
    pub solved_by: SolvedBy,
    /// Frame width, pixels.
    pub width: usize,
    /// Frame height, pixels.
    pub height: usize,
}

/// The JSON `field` object: what a client needs to know about the frame's place on the sky.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldSummary {
    /// Right ascension of the frame centre, degrees J2000.
    pub ra: f64,
    /// Declination of the frame centre, degrees J2000.
    pub dec: f64,
    /// Arcseconds per pixel.
    pub scale: f64,
    /// Position angle of the frame's up direction, degrees east of north (meaningless for `pointing`).
    pub rotation: f64,
    /// Width on the sky, arcminutes.
    pub width_arcmin: f64,
    /// Height on the sky, arcminutes.
    pub height_arcmin: f64,
    /// `header`, `astrometry.net` or `pointing`.
    pub solved_by: SolvedBy,
}

impl Field {
    /// The summary for reports (rounded for people: 0.0001° ≈ 0.4″).
    pub fn summary(&self) -> FieldSummary {
        let r = |v: f64, k: f64| (v * k).round() / k;
        let (ra, dec) = self.centre();
        let (w, h) = self.wcs.size_arcmin(self.width, self.height);
        FieldSummary {
            ra: r(ra, 1e4),
            dec: r(dec, 1e4),
            scale: r(self.wcs.scale_arcsec(), 1e3),
            rotation: r(self.wcs.rotation_deg(), 10.0),
            width_arcmin: r(w, 10.0),
            height_arcmin: r(h, 10.0),
            solved_by: self.solved_by,
        }
    }

    /// RA, Dec of the frame centre, degrees.
    pub fn centre(&self) -> (f64, f64) {
        self.wcs.pixel_to_sky(self.width as f64 / 2.0, self.height as f64 / 2.0)
    }

    /// Half the frame's diagonal, degrees: every pixel is within this of the centre.
    pub fn radius(&self) -> f64 {
        let s = self.wcs.scale_arcsec() / 3600.0;
        0.5 * (self.width as f64).hypot(self.height as f64) * s
    }

    /// A rough field from a pointing with a known pixel scale (rotation assumed 0).
    pub fn from_pointing(p: &Pointing, width: usize, height: usize) -> Option<Field> {
        let wcs = Wcs::from_pointing(p.ra, p.dec, p.scale?, 0.0, width, height).ok()?;
        Some(Field { wcs, solved_by: SolvedBy::Pointing, width, height })
    }
}

/// What a frame's own keywords say about its place on the sky.
#[derive(Clone, Debug, PartialEq)]
pub struct HeaderAstrometry {
    /// The field from the frame's WCS, when it has a usable one.
    pub field: Option<Field>,
    /// Its pointing keywords (solver hints; a rough field when nothing better).
    pub pointing: Option<Pointing>,
    /// Why a WCS present in the header was not used.
    pub problem: Option<String>,
}

/// Reads a frame's WCS and pointing keywords. A WCS is refused (with the reason in `problem`) when it is malformed
/// or unsupported, or when its centre is further from the frame's own pointing keywords than the frame's size plus
/// 2° (a WCS left over from another target, as happens when a capture program copies old keywords).
pub fn field_from_header(header: &[HeaderCard], width: usize, height: usize) -> HeaderAstrometry {
    let pointing = Pointing::from_header(header);
    let (field, problem) = match Wcs::from_header(header) {
        Ok(Some(wcs)) => {
            let field = Field { wcs, solved_by: SolvedBy::Header, width, height };
            let (ra, dec) = field.centre();
            match pointing {
                Some(p) if pointing::separation(ra, dec, p.ra, p.dec) > 2.0 + 2.0 * field.radius() => {
                    let sep = pointing::separation(ra, dec, p.ra, p.dec);
                    (None, Some(format!("the frame's WCS is {sep:.1}° away from its RA/DEC keywords: not trusted")))
                }
                _ => (Some(field), None),
            }
        }
        Ok(None) => (None, None),
        Err(e) => (None, Some(format!("the frame's WCS is not usable: {e}"))),
    };
    HeaderAstrometry { field, pointing, problem }
}

/// [`field_from_header`] for a decoded frame.
pub fn frame_astrometry(frame: &Frame) -> HeaderAstrometry {
    field_from_header(&frame.header, frame.width, frame.height)
}

#[cfg(test)]
mod tests;
