//! The evidence check: is a catalogue object that no detector found visible in the pixels? Its inner ellipse's
//! median against a surrounding annulus' median, in units of the annulus' robust noise, on a binned luminance copy
//! of the frame, and how much of its catalogue ellipse shows (for the box drawn).
//!
//! Apart from [`super::identify`]'s matching because it is the one part that reads pixels, with its own constants.

use dso_plugin_api::Frame;

use super::identify::{Projected, MIN_SNR};
use crate::ops::{self, Plane};
use crate::stretch::median_mad;

/// Evidence needed: inner median above the annulus by this many noise sigmas…
const MIN_CONTRAST: f64 = 0.25;
/// The smallest noise the evidence check assumes, in the frame's 0–1 units (one 12-bit step).
const MIN_SIGMA: f64 = 1.0 / 4096.0;
/// Binned image size for the evidence check: the longest side at most this many pixels.
const EVIDENCE_SIDE: usize = 1024;

/// The frame's luminance, binned for the evidence check.
pub(super) struct EvidenceImage {
    plane: Plane,
    factor: f64,
}

impl EvidenceImage {
    pub(super) fn new(frame: &Frame) -> Self {
        let factor = frame.width.max(frame.height).div_ceil(EVIDENCE_SIDE).max(1);
        // Bin first, then weigh the colours: no full-size luminance copy of a 60-Mpx frame.
        let mut binned = frame.planes.iter().map(|p| ops::bin_samples(p, frame.width, frame.height, factor));
        let mut plane = binned.next().expect("a frame has at least one plane");
        if let (Some(g), Some(b)) = (binned.next(), binned.next()) {
            for ((r, g), b) in plane.data.iter_mut().zip(&g.data).zip(&b.data) {
                *r = 0.2126 * *r + 0.7152 * g + 0.0722 * b;
            }
        }
        Self { plane, factor: factor as f64 }
    }

    /// The signal-to-noise ratio of the object's surface brightness over its surroundings when it is clearly there
    /// (dark nebulae: darker), with how much of its catalogue ellipse shows; `None` when it is not there, or when
    /// the frame has too little sky around it to tell.
    pub(super) fn evidence(&self, p: &Projected) -> Option<Seen> {
        let f = self.factor;
        let q = Projected {
            object: p.object,
            x: p.x / f,
            y: p.y / f,
            a: (p.a / f).max(2.0),
            b: (p.b / f).max(2.0),
            angle: p.angle,
        };
        // Two inner sizes: catalogue diameters (D25) reach far beyond what a short exposure shows, so a compact
        // core is judged on the inner 30 %, an extended object on the inner 60 %.
        let (ring_in, ring_out) = (1.3, 2.2);
        let r = q.a * ring_out;
        let (w, h) = (self.plane.width as i64, self.plane.height as i64);
        if r > w.max(h) as f64 {
            return None; // larger than the frame: no sky around it to compare with
        }
        let (mut inner, mut core, mut ring) = (Vec::new(), Vec::new(), Vec::new());
        // Elliptical annuli 0.05 of the catalogue ellipse wide, for the extent that shows.
        let mut annuli: Vec<Vec<f32>> = vec![Vec::new(); SCALE_STEPS];
        let mut ring_nominal = 0usize;
        for y in (q.y - r).floor() as i64..=(q.y + r).ceil() as i64 {
            for x in (q.x - r).floor() as i64..=(q.x + r).ceil() as i64 {
                let r2 = q.radius2(x as f64 + 0.5, y as f64 + 0.5, 1.0);
                let in_ring = (ring_in * ring_in..=ring_out * ring_out).contains(&r2);
                ring_nominal += usize::from(in_ring);
                if !(0..w).contains(&x) || !(0..h).contains(&y) {
                    continue;
                }
                let v = self.plane.at(x as usize, y as usize);
                if !v.is_finite() {
                    continue;
                }
                if r2 <= 0.3 * 0.3 {
                    core.push(v);
                }
                if let Some(a) = annuli.get_mut((r2.sqrt() * SCALE_STEPS as f64) as usize) {
                    a.push(v);
                }
                if r2 <= 0.6 * 0.6 {
                    inner.push(v);
                } else if in_ring {
                    ring.push(v);
                }
            }
        }
        if ring.len() < 20 || ring.len() * 10 < ring_nominal * 3 {
            return None;
        }
        let (mr, mad) = median_mad(&ring);
        // A perfectly flat surround (an 8-bit picture with its black point clipped, a sky set to 0) has no spread:
        // count one 12-bit step as its noise rather than call every object in it unseen.
        let sigma = (1.4826 * mad as f64).max(MIN_SIGMA);
        let sign = if p.object.is_dark() { -1.0 } else { 1.0 };
        let snr = [inner, core]
            .into_iter()
            .filter(|v| v.len() >= 5)
            .filter_map(|v| {
                let n = v.len() as f64;
                let (mi, _) = median_mad(&v);
                let contrast = sign * (mi - mr) as f64 / sigma;
                // The median of n Gaussian samples has a standard error of 1.2533·σ/√n.
                let snr = contrast * n.sqrt() / 1.2533;
                (contrast >= MIN_CONTRAST && snr >= MIN_SNR).then_some(snr)
            })
            .max_by(f64::total_cmp)?;
        // Dark nebulae are boxed at their catalogue size: their edge fades into the nebulosity behind them.
        let scale = if p.object.is_dark() { 1.0 } else { shown_scale(&annuli, mr as f64 + sigma) };
        Some(Seen { snr, scale })
    }
}

/// Found by its evidence in the image.
pub(super) struct Seen {
    pub(super) snr: f64,
    /// The share of the catalogue ellipse that shows, [`MIN_SCALE`]–1.
    pub(super) scale: f64,
}

/// Annuli of the evidence measure: 0.05 of the catalogue ellipse each.
const SCALE_STEPS: usize = 20;
/// The smallest box drawn for a catalogue find, as a share of its catalogue ellipse.
const MIN_SCALE: f64 = 0.15;

/// Where the object's radial profile (annulus medians, innermost first) first falls to the sky plus one σ: a
/// 10-s sub-frame shows a galaxy's core, a small share of its D25 ellipse (M 94: 72 of 194 px). Annuli with too
/// few samples (off the frame) end nothing.
fn shown_scale(annuli: &[Vec<f32>], edge: f64) -> f64 {
    let step = 1.0 / annuli.len() as f64;
    let fall = annuli.iter().enumerate().find(|(_, a)| a.len() >= 5 && f64::from(median_mad(a).0) < edge);
    fall.map_or(1.0, |(i, _)| (i as f64 + 0.5) * step).clamp(MIN_SCALE, 1.0)
}
