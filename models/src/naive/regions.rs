//! From a starless, background-subtracted plane to candidate boxes: threshold and Canny edges, connected regions,
//! shape filters, merging.
//!
//! The paper's naive method (Parisot & Jaziri 2024, §3.1) takes Canny edges of the starless image and the bounding
//! boxes of their contours. Edges alone miss faint extended objects whose borders are gradual and fragment bright
//! ones into many boxes (a Python top-hat + Canny + contours pipeline scores F1 ≈ 0.06 on the dev set), so here the
//! edges are one input among two: the pixels of the smoothed plane that rise `threshold` noise sigmas above the sky,
//! at a small and a large smoothing scale, are united with the (closed) Canny edges, and the bounding boxes of the
//! 8-connected regions of that union are the candidates (the outer contour of a region, as `find_contours` would
//! trace it, has the same bounding box). Candidates are then filtered by size, by elongation (satellite and
//! aircraft trails are long and thin), and by how much of them is star mask (residues of bright stars), and boxes
//! that overlap are merged, since one galaxy or nebula often breaks into several regions.

use image::{GrayImage, Luma};
use imageproc::region_labelling::{connected_components, Connectivity};

use crate::ops::canny::canny;
use crate::ops::mask::{dilate, Mask};
use crate::ops::Plane;

/// An axis-aligned box in working pixels, `x0..x1 × y0..y1` (exclusive ends).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoxI {
    /// Left edge.
    pub x0: usize,
    /// Top edge.
    pub y0: usize,
    /// One past the right edge.
    pub x1: usize,
    /// One past the bottom edge.
    pub y1: usize,
}

impl BoxI {
    /// Width.
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }
    /// Height.
    pub fn height(&self) -> usize {
        self.y1 - self.y0
    }
    /// Area in pixels.
    pub fn area(&self) -> usize {
        self.width() * self.height()
    }
    /// Area of the intersection with another box.
    pub fn intersection(&self, o: &BoxI) -> usize {
        let w = self.x1.min(o.x1).saturating_sub(self.x0.max(o.x0));
        let h = self.y1.min(o.y1).saturating_sub(self.y0.max(o.y0));
        w * h
    }
    fn union(&self, o: &BoxI) -> BoxI {
        BoxI { x0: self.x0.min(o.x0), y0: self.y0.min(o.y0), x1: self.x1.max(o.x1), y1: self.y1.max(o.y1) }
    }
}

/// One connected region's statistics.
#[derive(Clone, Debug)]
struct Region {
    bbox: BoxI,
    /// Box of the region's pixels above the extent level (the object's visible outline), if any.
    tight: Option<BoxI>,
    count: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
    in_stars: f64,
}

impl Region {
    /// Square root of the ratio of the covariance eigenvalues (major/minor axis ratio) and the minor-axis sigma.
    fn shape(&self) -> (f64, f64) {
        let n = self.count.max(1.0);
        let (mx, my) = (self.sx / n, self.sy / n);
        let (a, b, c) = (self.sxx / n - mx * mx, self.sxy / n - mx * my, self.syy / n - my * my);
        let t = 0.5 * (a + c);
        let d = (0.25 * (a - c) * (a - c) + b * b).sqrt();
        let (l1, l2) = (t + d, (t - d).max(1.0 / 12.0)); // a single pixel row still has width 1
        ((l1 / l2).sqrt(), l2.sqrt())
    }
}

/// Tunables of [`candidates`], in working pixels or noise sigmas.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionParams {
    /// Pixels this many noise sigmas above the background (after smoothing) belong to a region.
    pub threshold: f32,
    /// Canny hysteresis thresholds as the slope of the smoothed plane, in noise sigmas per pixel; `None` disables.
    pub canny: Option<(f32, f32)>,
    /// Boxes whose both sides are shorter than this are dropped.
    pub min_size: f32,
    /// Regions with a major/minor axis ratio above this and a minor-axis sigma below `trail_width` are trails.
    pub max_elongation: f32,
    /// See `max_elongation`.
    pub trail_width: f32,
    /// Regions more than this fraction inside the star mask are residues of stars…
    pub max_star_fraction: f32,
    /// …unless they have at least this many pixels outside it (a galaxy in a dense star field is mostly under
    /// star masks, yet much larger than any star's leftover halo).
    pub min_free_area: f32,
    /// A region's box is drawn around its pixels where the first (small-scale) plane exceeds this level (the
    /// object's visible extent; smoothing at the large scale would otherwise inflate faint objects' boxes by
    /// its kernel); around all its pixels when none does.
    pub extent_level: f32,
}

/// The range, in noise sigmas, the Canny edges are taken over: −2 σ … +14 σ, what the 8-bit plane given to
/// imageproc's Canny spanned before [`crate::ops::canny`] (kept so that the edges did not move). Inside cores
/// brighter than that there are no edges, and none are needed: the threshold mask holds them already.
const CANNY_RANGE: (f32, f32) = (-2.0, 223.0 / 16.0);
/// Blur of the Canny stage, pixels (imageproc's, kept likewise).
const CANNY_SIGMA: f32 = 1.4;
/// Sobel's response to a ramp of slope 1 per pixel (the 3×3 kernel's weights on one side sum to 4, across a
/// two-pixel baseline).
const SOBEL_GAIN: f32 = 8.0;

/// Binary mask of `plane / sigma > threshold`.
fn threshold_mask(plane: &Plane, sigma: f32, threshold: f32) -> Mask {
    let cut = threshold * sigma;
    Mask { width: plane.width, height: plane.height, data: plane.data.iter().map(|&v| v > cut).collect() }
}

/// Canny edges of a smoothed plane (noise `sigma`), closed by one pixel so that broken outlines connect.
fn canny_mask(plane: &Plane, sigma: f32, (low, high): (f32, f32)) -> Mask {
    let (lo, hi) = CANNY_RANGE;
    let data = plane.data.iter().map(|v| (v / sigma).clamp(lo, hi)).collect();
    let sigmas = Plane { width: plane.width, height: plane.height, data };
    dilate(&canny(&sigmas, CANNY_SIGMA, SOBEL_GAIN * low, SOBEL_GAIN * high), 1.0)
}

/// The closed Canny edges of the small-scale plane `(plane, noise sigma)` that [`candidates`] unites with its
/// thresholds (`p.canny`); `None` when Canny is off or the plane cannot have edges. Separate so that it can run
/// beside the large scale's smoothing.
pub fn edges((plane, sigma): (&Plane, f32), p: &RegionParams) -> Option<Mask> {
    let c = p.canny?;
    (!sigma.is_nan() && sigma > 0.0 && plane.width >= 3 && plane.height >= 3).then(|| canny_mask(plane, sigma, c))
}

/// Candidate boxes from smoothed residual planes `(plane, noise sigma)` (small scale first), the small scale's
/// [`edges`], and the star mask.
pub fn candidates(scales: &[(Plane, f32)], edges: Option<&Mask>, stars: &Mask, p: &RegionParams) -> Vec<BoxI> {
    let Some((first, _)) = scales.first() else { return Vec::new() };
    let (w, h) = (first.width, first.height);
    let mut mask = Mask::new(w, h);
    for (plane, sigma) in scales {
        if sigma.is_nan() || *sigma <= 0.0 || plane.width != w || plane.height != h {
            continue;
        }
        let t = threshold_mask(plane, *sigma, p.threshold);
        mask.data.iter_mut().zip(&t.data).for_each(|(m, t)| *m |= *t);
    }
    if let Some(e) = edges.filter(|e| e.width == w && e.height == h) {
        mask.data.iter_mut().zip(&e.data).for_each(|(m, e)| *m |= *e);
    }
    let img = GrayImage::from_fn(w as u32, h as u32, |x, y| Luma([u8::from(mask.data[y as usize * w + x as usize])]));
    let labels = connected_components(&img, Connectivity::Eight, Luma([0u8]));
    let mut regions: Vec<Region> = Vec::new();
    for (i, l) in labels.pixels().enumerate() {
        let l = l.0[0] as usize;
        if l == 0 {
            continue;
        }
        if regions.len() < l {
            let r0 = Region {
                bbox: EMPTY,
                tight: None,
                count: 0.0,
                sx: 0.0,
                sy: 0.0,
                sxx: 0.0,
                syy: 0.0,
                sxy: 0.0,
                in_stars: 0.0,
            };
            regions.resize(l, r0);
        }
        let (x, y) = (i % w, i / w);
        let r = &mut regions[l - 1];
        r.bbox = grow(r.bbox, x, y);
        if first.data[i] > p.extent_level {
            r.tight = Some(grow(r.tight.unwrap_or(EMPTY), x, y));
        }
        let (xf, yf) = (x as f64, y as f64);
        r.count += 1.0;
        (r.sx, r.sy) = (r.sx + xf, r.sy + yf);
        (r.sxx, r.syy, r.sxy) = (r.sxx + xf * xf, r.syy + yf * yf, r.sxy + xf * yf);
        r.in_stars += f64::from(u8::from(stars.data[i]));
    }
    let boxes = regions
        .iter()
        .filter(|r| r.count > 0.0)
        .map(|r| Region { bbox: r.tight.unwrap_or(r.bbox), ..r.clone() })
        .filter(|r| (r.bbox.width().max(r.bbox.height()) as f32) >= p.min_size)
        .filter(|r| {
            let (elong, minor) = r.shape();
            !(elong > f64::from(p.max_elongation) && minor < f64::from(p.trail_width))
        })
        .filter(|r| {
            r.in_stars / r.count <= f64::from(p.max_star_fraction) || r.count - r.in_stars >= f64::from(p.min_free_area)
        })
        .map(|r| r.bbox)
        .collect();
    merge(boxes)
}

const EMPTY: BoxI = BoxI { x0: usize::MAX, y0: usize::MAX, x1: 0, y1: 0 };

fn grow(b: BoxI, x: usize, y: usize) -> BoxI {
    BoxI { x0: b.x0.min(x), y0: b.y0.min(y), x1: b.x1.max(x + 1), y1: b.y1.max(y + 1) }
}

/// Merges boxes that overlap (IoU above 0.3, or one mostly inside the other) into their union, until none do.
pub fn merge(mut boxes: Vec<BoxI>) -> Vec<BoxI> {
    loop {
        let mut merged = false;
        let mut i = 0;
        while i < boxes.len() {
            let mut j = i + 1;
            while j < boxes.len() {
                let inter = boxes[i].intersection(&boxes[j]) as f32;
                let (a, b) = (boxes[i].area() as f32, boxes[j].area() as f32);
                if inter > 0.0 && (inter / (a + b - inter) > 0.3 || inter / a.min(b) > 0.6) {
                    boxes[i] = boxes[i].union(&boxes[j]);
                    boxes.swap_remove(j);
                    merged = true;
                } else {
                    j += 1;
                }
            }
            i += 1;
        }
        if !merged {
            return boxes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_unites_overlaps_only() {
        let b = |x0, y0, x1, y1| BoxI { x0, y0, x1, y1 };
        let out = merge(vec![b(0, 0, 10, 10), b(2, 2, 8, 8), b(50, 50, 60, 60), b(5, 0, 15, 10)]);
        assert_eq!(out.len(), 2);
        assert!(out.contains(&b(0, 0, 15, 10)));
        assert!(out.contains(&b(50, 50, 60, 60)));
    }

    #[test]
    fn trails_and_tiny_regions_are_rejected() {
        let (w, h) = (120, 80);
        let mut plane = Plane::filled(w, h, 0.0);
        for x in 5..115 {
            plane.data[40 * w + x] = 10.0; // a one-pixel-wide line
            plane.data[41 * w + x] = 10.0;
        }
        plane.data[10 * w + 10] = 10.0; // a hot pixel
        for y in 55..75 {
            for x in 20..45 {
                plane.data[y * w + x] = 10.0; // a blob
            }
        }
        let p = RegionParams {
            threshold: 3.0,
            canny: None,
            min_size: 5.0,
            max_elongation: 5.0,
            trail_width: 4.0,
            max_star_fraction: 0.5,
            min_free_area: 1000.0,
            extent_level: 0.0,
        };
        let e = edges((&plane, 1.0), &p);
        let boxes = candidates(&[(plane, 1.0)], e.as_ref(), &Mask::new(w, h), &p);
        assert_eq!(boxes, vec![BoxI { x0: 20, y0: 55, x1: 45, y1: 75 }]);
    }
}
