//! Naming: catalogue objects projected into the frame, matched to detections, and checked for evidence where no
//! detector found them.
//!
//! A detection is named after the most prominent catalogue object whose centre it contains, inside whose catalogue
//! ellipse it lies, or whose ellipse's box it overlaps (IoU ≥ 0.2); each object names at most one detection. A catalogue object in the frame that
//! no detection claims is looked for in the pixels: the median of its inner ellipse against the median of a
//! surrounding annulus, in units of the annulus' robust noise (medians ignore the stars that cover a small share of
//! either region). Clear evidence makes it a detection with `source: catalogue`; otherwise it is listed as expected
//! but not seen. Nothing is ever named from outside the frame's catalogue field.
//!
//! With only a rough pointing (rotation unknown, centre uncertain), positions are not trusted: only an object close
//! to the pointing can name a detection that covers the frame centre, and nothing is claimed from evidence.

use dso_plugin_api::{Detection, Frame};
use serde::Serialize;

use super::catalog::{Catalog, CatalogObject};
use super::evidence::{EvidenceImage, Seen};
use super::{Field, FieldSummary, SolvedBy};

/// A catalogue identity attached to a detection (the JSON's naming fields).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Identity {
    /// What people call it first: `M 51`, else the catalogue identifier.
    pub name: String,
    /// The NGC/IC/… identifier: `NGC 5194`.
    pub catalog_id: String,
    /// The best-known common name, if any: `Whirlpool Galaxy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub common_name: Option<String>,
    /// What it is: `galaxy`, `planetary nebula`, …
    #[serde(rename = "type")]
    pub type_name: String,
    /// Catalogue RA, degrees J2000.
    pub ra: f64,
    /// Catalogue Dec, degrees J2000.
    pub dec: f64,
    /// Visual (else blue) magnitude.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magnitude: Option<f64>,
    /// The detector class of its type (`galaxy`, `nebula`, `cluster`).
    #[serde(skip)]
    pub class: Option<&'static str>,
}

impl Identity {
    /// The identity of a catalogue object.
    pub fn of(o: &CatalogObject) -> Self {
        Self {
            name: o.display_name(),
            catalog_id: o.catalog_id(),
            common_name: o.common.first().cloned(),
            type_name: o.type_name().to_owned(),
            ra: o.ra,
            dec: o.dec,
            magnitude: o.mag,
            class: o.class(),
        }
    }

    /// `M 51 (Whirlpool Galaxy)` or `NGC 4535`.
    pub fn label(&self) -> String {
        match &self.common_name {
            Some(c) => format!("{} ({c})", self.name),
            None => self.name.clone(),
        }
    }
}

/// A catalogue object in the frame that nothing showed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expected {
    /// Who it is.
    #[serde(flatten)]
    pub identity: Identity,
    /// Where it should be, frame pixels (centre).
    pub x: f64,
    /// Where it should be, frame pixels (centre).
    pub y: f64,
}

/// Everything naming found for one frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Identified {
    /// The field.
    pub field: FieldSummary,
    /// One entry per input detection, in order: its identity when it was named.
    pub names: Vec<Option<Identity>>,
    /// Catalogue objects no detector found that the image shows, as detections (confidence from the evidence).
    pub from_catalogue: Vec<(Detection, Identity)>,
    /// Catalogue objects in the frame not seen (the most prominent first, at most [`MAX_EXPECTED`]).
    pub expected: Vec<Expected>,
    /// Catalogue ids of every object the frame contains (for the target's state).
    in_frame: Vec<String>,
}

/// Most objects listed as expected.
pub const MAX_EXPECTED: usize = 10;
/// Most catalogue objects checked for evidence per frame (the most prominent first).
const MAX_CHECKED: usize = 40;
/// Size given to objects the catalogue has no size for, arcminutes.
const DEFAULT_SIZE_ARCMIN: f64 = 0.5;
/// Evidence needed: a signal-to-noise ratio of the inner median over the annulus' of at least this (and a contrast
/// of [`super::evidence`]'s `MIN_CONTRAST`).
pub(super) const MIN_SNR: f64 = 8.0;

/// A catalogue object projected into the frame.
#[derive(Clone, Copy)]
pub(super) struct Projected<'a> {
    pub(super) object: &'a CatalogObject,
    pub(super) x: f64,
    pub(super) y: f64,
    /// Semi-axes, pixels.
    pub(super) a: f64,
    pub(super) b: f64,
    /// Major axis direction on screen, radians clockwise from up.
    pub(super) angle: f64,
}

impl Projected<'_> {
    fn bbox(&self) -> [f64; 4] {
        let (s, c) = self.angle.sin_cos();
        let hx = (self.a * s).hypot(self.b * c);
        let hy = (self.a * c).hypot(self.b * s);
        [self.x - hx, self.y - hy, self.x + hx, self.y + hy]
    }

    /// `(x, y)` in the ellipse scaled by `k`: its squared normalised radius.
    pub(super) fn radius2(&self, x: f64, y: f64, k: f64) -> f64 {
        let (s, c) = self.angle.sin_cos();
        let (dx, dy) = (x - self.x, y - self.y);
        // Major axis along (sin, −cos) on screen.
        let along = dx * s - dy * c;
        let across = dx * c + dy * s;
        (along / (k * self.a)).powi(2) + (across / (k * self.b)).powi(2)
    }

    fn inside(&self, w: usize, h: usize) -> bool {
        (0.0..w as f64).contains(&self.x) && (0.0..h as f64).contains(&self.y)
    }

    /// Brighter and larger first: `(16 − mag)` clamped, plus the log size.
    fn prominence(&self) -> f64 {
        let mag = (16.0 - self.object.mag.unwrap_or(15.0)).clamp(0.0, 12.0) / 12.0;
        let size = (self.object.major.unwrap_or(DEFAULT_SIZE_ARCMIN).max(0.1).log10() + 1.0).clamp(0.0, 3.0) / 3.0;
        mag + size
    }
}

/// The catalogue objects of a field: centre in the frame, or an ellipse covering the frame centre.
fn project<'a>(field: &Field, catalog: &'a Catalog) -> Vec<Projected<'a>> {
    let (ra, dec) = field.centre();
    let px_per_arcmin = 60.0 / field.wcs.scale_arcsec();
    let (cx, cy) = (field.width as f64 / 2.0, field.height as f64 / 2.0);
    let mut out: Vec<Projected> = catalog
        .near(ra, dec, field.radius())
        .filter_map(|o| {
            let (x, y) = field.wcs.sky_to_pixel(o.ra, o.dec)?;
            let major = o.major.unwrap_or(DEFAULT_SIZE_ARCMIN);
            let minor = o.minor.unwrap_or(major).min(major);
            let angle = field.wcs.screen_angle(o.pa.unwrap_or(0.0)).to_radians();
            let p =
                Projected { object: o, x, y, a: major * px_per_arcmin / 2.0, b: minor * px_per_arcmin / 2.0, angle };
            (p.inside(field.width, field.height) || p.radius2(cx, cy, 1.0) <= 1.0).then_some(p)
        })
        .collect();
    out.sort_by(|p, q| q.prominence().total_cmp(&p.prominence()));
    out
}

/// A catalogue object placed in a frame (what `dso-detect identify` lists).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InFrame {
    /// Who it is.
    #[serde(flatten)]
    pub identity: Identity,
    /// Centre, frame pixels.
    pub x: f64,
    /// Centre, frame pixels.
    pub y: f64,
    /// Major axis, pixels (the catalogue's size, or 0.5′ when it has none).
    pub size: f64,
}

/// The catalogue objects of a field, the most prominent first: centre in the frame, or an ellipse covering the
/// frame centre.
pub fn objects_in(field: &Field, catalog: &Catalog) -> Vec<InFrame> {
    project(field, catalog)
        .iter()
        .map(|p| InFrame { identity: Identity::of(p.object), x: round1(p.x), y: round1(p.y), size: round1(2.0 * p.a) })
        .collect()
}

/// Intersection over union of two corner boxes, by the detectors' own [`crate::yolo::nms::iou`].
fn iou(a: [f64; 4], b: [f64; 4]) -> f64 {
    let f = |r: [f64; 4]| r.map(|v| v as f32);
    f64::from(crate::yolo::nms::iou(&f(a), &f(b)))
}

fn corners(d: &Detection) -> [f64; 4] {
    let (x, y, w, h) = (d.x as f64, d.y as f64, d.width as f64, d.height as f64);
    [x, y, x + w, y + h]
}

/// Names the detections of a frame placed on the sky, and looks for the catalogue objects they missed.
pub fn identify(frame: &Frame, detections: &[Detection], field: &Field, catalog: &Catalog) -> Identified {
    let objects = project(field, catalog);
    let in_frame = objects.iter().map(|p| p.object.id.clone()).collect();
    let mut names = vec![None; detections.len()];
    let mut claimed = vec![false; objects.len()];
    if field.solved_by == SolvedBy::Pointing {
        name_near_centre(field, detections, &objects, &mut names, &mut claimed);
    } else {
        name_by_overlap(detections, &objects, &mut names, &mut claimed);
    }
    let mut from_catalogue = Vec::new();
    let mut expected = Vec::new();
    let evidence = (field.solved_by != SolvedBy::Pointing).then(|| EvidenceImage::new(frame));
    let mut checked = 0;
    for (p, _) in objects.iter().zip(&claimed).filter(|(_, c)| !**c) {
        if !p.inside(field.width, field.height) {
            continue;
        }
        let seen = match &evidence {
            Some(img) if checked < MAX_CHECKED => {
                checked += 1;
                img.evidence(p)
            }
            _ => None,
        };
        let identity = Identity::of(p.object);
        match seen {
            Some(Seen { snr, scale }) => {
                // The box is what the image shows of the object, not its catalogue (D25) extent.
                let shown = Projected { a: p.a * scale, b: p.b * scale, ..*p };
                let [x0, y0, x1, y1] = shown.bbox();
                let d = Detection {
                    x: x0 as f32,
                    y: y0 as f32,
                    width: (x1 - x0) as f32,
                    height: (y1 - y0) as f32,
                    label: identity.class.unwrap_or("dso").to_owned(),
                    confidence: evidence_confidence(snr),
                };
                if let Some(d) = d.clipped(field.width as f32, field.height as f32) {
                    from_catalogue.push((d, identity));
                }
            }
            None if expected.len() < MAX_EXPECTED && notable(p.object) => {
                expected.push(Expected { identity, x: round1(p.x), y: round1(p.y) });
            }
            None => {}
        }
    }
    Identified { field: field.summary(), names, from_catalogue, expected, in_frame }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Worth telling an observer about when not seen: brighter than 13th magnitude or larger than 1.5′.
fn notable(o: &CatalogObject) -> bool {
    o.mag.is_some_and(|m| m <= 13.0) || o.major.is_some_and(|m| m >= 1.5) || o.messier.is_some()
}

/// 0.5 at the evidence threshold, rising towards 0.99 as the signal-to-noise ratio grows.
fn evidence_confidence(snr: f64) -> f32 {
    (0.5 + 0.49 * (1.0 - (-(snr - MIN_SNR) / 30.0).exp())).clamp(0.5, 0.99) as f32
}

fn name_by_overlap(
    detections: &[Detection],
    objects: &[Projected],
    names: &mut [Option<Identity>],
    claimed: &mut [bool],
) {
    let mut pairs = Vec::new();
    for (i, d) in detections.iter().enumerate() {
        let b = corners(d);
        for (j, p) in objects.iter().enumerate() {
            let centre_in = (b[0]..=b[2]).contains(&p.x) && (b[1]..=b[3]).contains(&p.y);
            // A box on a galaxy's core lies inside its catalogue ellipse (D25 reaches far beyond what shows).
            let inside_ellipse = p.radius2((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 1.0) <= 1.0;
            let overlap = iou(b, p.bbox());
            if centre_in || inside_ellipse || overlap >= 0.2 {
                let bonus = if centre_in {
                    0.5
                } else if inside_ellipse {
                    0.3
                } else {
                    0.0
                };
                let score = overlap + bonus + 0.3 * p.prominence();
                pairs.push((score, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (_, i, j) in pairs {
        if names[i].is_none() && !claimed[j] {
            names[i] = Some(Identity::of(objects[j].object));
            claimed[j] = true;
        }
    }
}

/// Rough pointing: an object within a tenth of the short side of the centre names the detection that covers the
/// frame centre.
fn name_near_centre(
    field: &Field,
    detections: &[Detection],
    objects: &[Projected],
    names: &mut [Option<Identity>],
    claimed: &mut [bool],
) {
    let (cx, cy) = (field.width as f64 / 2.0, field.height as f64 / 2.0);
    let near = 0.1 * field.width.min(field.height) as f64;
    let Some(j) = objects.iter().position(|p| (p.x - cx).hypot(p.y - cy) <= near.max(p.a)) else { return };
    let covering = detections
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            let b = corners(d);
            (b[0]..=b[2]).contains(&cx) && (b[1]..=b[3]).contains(&cy)
        })
        .max_by(|a, b| a.1.confidence.total_cmp(&b.1.confidence));
    if let Some((i, _)) = covering {
        names[i] = Some(Identity::of(objects[j].object));
        claimed[j] = true;
    }
}

/// Where the observer's target stands in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    /// In the frame and found (by a detector, or by its evidence in the image).
    Captured,
    /// In the frame but not seen yet: keep stacking.
    InField,
    /// Not in the frame.
    NotInField,
    /// The frame's place on the sky is unknown or only roughly known.
    Unknown,
}

impl TargetState {
    /// What the control panel shows.
    pub fn describe(self) -> &'static str {
        match self {
            TargetState::Captured => "captured",
            TargetState::InField => "in field, not yet visible",
            TargetState::NotInField => "not in field",
            TargetState::Unknown => "unknown (no plate solution)",
        }
    }
}

impl Identified {
    /// The target's state in this frame. With a rough pointing, "in field" only when the target is within a third
    /// of the short side of the pointing, and never "not in field" unless it is further than twice the diagonal.
    pub fn target_state(&self, target: &CatalogObject) -> TargetState {
        let named = self.names.iter().flatten().chain(self.from_catalogue.iter().map(|(_, i)| i));
        let found = named.clone().any(|i| i.catalog_id == target.catalog_id());
        if self.field.solved_by == SolvedBy::Pointing {
            let sep = super::pointing::separation(self.field.ra, self.field.dec, target.ra, target.dec) * 60.0;
            let short = self.field.width_arcmin.min(self.field.height_arcmin);
            let diagonal = self.field.width_arcmin.hypot(self.field.height_arcmin);
            return match () {
                _ if found => TargetState::Captured,
                _ if sep > diagonal => TargetState::NotInField,
                _ if sep < short / 3.0 => TargetState::InField,
                _ => TargetState::Unknown,
            };
        }
        if found {
            TargetState::Captured
        } else if self.in_frame.contains(&target.id) {
            TargetState::InField
        } else {
            TargetState::NotInField
        }
    }
}

#[cfg(test)]
#[path = "identify_tests.rs"]
mod tests;
