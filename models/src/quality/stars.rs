//! Stars: found on the working image, measured on the full frame.
//!
//! Counting stars is what tells clouds (and dew, and a closed dust cap) from a clear sky, and it needs no
//! resolution: local maxima of the binned residual above a few noise sigmas. Their width and shape do need it —
//! binned 4 × 4, a 2.5-pixel star is under a pixel wide — so the brightest unsaturated stars are measured on small
//! full-resolution cut-outs around them, a few hundred pixels each.
//!
//! Width and shape come from Gaussian-windowed second moments (the adaptive moments of Bernstein & Jarvis 2002,
//! AJ 123, 583, as SExtractor's `*_WIN` parameters): the window keeps the noise of the wings out, weighs every
//! pixel smoothly so that undersampled stars are not measured on the two or three pixels a half-maximum cut would
//! leave them (whose "elongation" follows the pixel grid), and is divided out again per principal axis — a Gaussian
//! of variance σ² seen through a window of variance w² has variance σ²w²/(σ² + w²) — so the FWHM is 2.3548 σ and
//! the elongation the ratio of the axes.

use super::measures::Work;
use super::Params;

/// Largest cut-out radius, full-frame pixels: stars wider than this are too defocused to measure, and say so by
/// their count.
const MAX_RADIUS: usize = 40;

/// One star candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct Star {
    /// Position in the working image.
    pub x: usize,
    /// Position in the working image.
    pub y: usize,
    /// Peak above the sky in the working image, `0..=1`.
    pub peak: f32,
    /// Flux above the sky over the 3 × 3 working pixels around the peak.
    pub flux: f32,
    /// The brightest full-frame pixel of the star.
    pub full: (usize, usize),
    /// Its value, `0..=1`.
    pub full_value: f32,
}

/// Width and shape of the measured stars.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Shape {
    /// Median FWHM, full-frame pixels.
    pub fwhm: Option<f32>,
    /// Median elongation.
    pub elongation: Option<f32>,
    /// Mean major-axis direction, degrees, `0..180`.
    pub orientation: Option<f32>,
    /// Stars measured.
    pub count: usize,
}

/// Star candidates, brightest first: local maxima of the working residual at least `params.star_sigma` noise
/// sigmas high, less hot pixels (a single full-frame pixel far brighter than its four neighbours).
pub fn find(work: &Work, lum: &[f32], params: &Params) -> Vec<Star> {
    let r = &work.residual;
    let (w, h) = (r.width, r.height);
    let threshold = params.star_sigma * work.sigma;
    let mut out = Vec::new();
    for y in 1..h.saturating_sub(1) {
        for x in 1..w - 1 {
            let v = r.at(x, y);
            if v <= threshold {
                continue;
            }
            // Strictly above the earlier neighbours, at least the later ones: one maximum per flat-topped
            // (saturated) peak.
            let earlier = [r.at(x - 1, y - 1), r.at(x, y - 1), r.at(x + 1, y - 1), r.at(x - 1, y)];
            let later = [r.at(x + 1, y), r.at(x - 1, y + 1), r.at(x, y + 1), r.at(x + 1, y + 1)];
            if earlier.iter().any(|&n| n >= v) || later.iter().any(|&n| n > v) {
                continue;
            }
            let Some((full, full_value)) = brightest_in_block(lum, work, x, y) else { continue };
            let sky = work.background_at(x as f32, y as f32);
            if is_hot_pixel(lum, work, full, sky) {
                continue;
            }
            let flux: f32 = earlier.iter().chain(&later).sum::<f32>() + v;
            out.push(Star { x, y, peak: v, flux, full, full_value });
        }
    }
    out.sort_by(|a, b| b.peak.total_cmp(&a.peak));
    out
}

/// The brightest full-frame pixel of working pixel `(x, y)`'s block, one pixel of margin around it.
fn brightest_in_block(lum: &[f32], work: &Work, x: usize, y: usize) -> Option<((usize, usize), f32)> {
    let f = work.factor;
    let (x0, y0) = ((x * f).saturating_sub(1), (y * f).saturating_sub(1));
    let (x1, y1) = (((x + 1) * f + 1).min(work.width), ((y + 1) * f + 1).min(work.height));
    let mut best: Option<((usize, usize), f32)> = None;
    for yy in y0..y1 {
        for xx in x0..x1 {
            let v = *lum.get(yy * work.width + xx)?;
            if v.is_finite() && best.is_none_or(|(_, b)| v > b) {
                best = Some(((xx, yy), v));
            }
        }
    }
    best
}

/// A single pixel standing far above its four neighbours: no optics makes a star that sharp (a Gaussian of FWHM
/// 1.2 px already gives its neighbours 15 % of its peak), a warm sensor pixel or a cosmic ray does.
fn is_hot_pixel(lum: &[f32], work: &Work, (x, y): (usize, usize), sky: f32) -> bool {
    let w = work.width;
    if x == 0 || y == 0 || x + 1 >= w || y + 1 >= work.height {
        return false;
    }
    let at = |xx: usize, yy: usize| lum[yy * w + xx] - sky;
    let peak = at(x, y);
    let around = (at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1)) / 4.0;
    peak > 5.0 * work.noise && around < 0.15 * peak
}

/// Median flux of the `n` brightest stars (0 without stars).
pub fn median_flux(stars: &[Star], n: usize) -> f32 {
    let mut f: Vec<f32> = stars.iter().take(n).map(|s| s.flux).collect();
    if f.is_empty() {
        return 0.0;
    }
    let mid = f.len() / 2;
    *f.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// Width, elongation and orientation from the brightest unsaturated stars that stand at least 10 sigmas above the
/// sky on the full frame.
pub fn shape(stars: &[Star], work: &Work, lum: &[f32], params: &Params) -> Shape {
    let mut fwhm = Vec::new();
    let mut elong = Vec::new();
    let (mut c2, mut s2) = (0.0f32, 0.0f32);
    for s in stars {
        if fwhm.len() >= params.max_measured {
            break;
        }
        // Stars near saturation are flattened (and non-linear before they clip).
        if s.full_value >= 0.8 * params.saturation {
            continue;
        }
        let sky = work.background_at(s.x as f32, s.y as f32);
        if s.full_value - sky < 10.0 * work.noise {
            continue;
        }
        if let Some(m) = moments(lum, work.width, work.height, s.full, sky) {
            fwhm.push(m.fwhm);
            elong.push(m.elongation);
            // Doubled angles average axes that point either way; round stars weigh nothing.
            let (s, c) = (2.0 * m.angle.to_radians()).sin_cos();
            c2 += c * (m.elongation - 1.0);
            s2 += s * (m.elongation - 1.0);
        }
    }
    if fwhm.len() < 3 {
        return Shape { count: fwhm.len(), ..Shape::default() };
    }
    let median = |v: &mut Vec<f32>| {
        let mid = v.len() / 2;
        *v.select_nth_unstable_by(mid, f32::total_cmp).1
    };
    let orientation = (c2 != 0.0 || s2 != 0.0).then(|| (0.5 * s2.atan2(c2).to_degrees()).rem_euclid(180.0));
    Shape { fwhm: Some(median(&mut fwhm)), elongation: Some(median(&mut elong)), orientation, count: fwhm.len() }
}

/// One star's width and shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StarShape {
    /// Geometric mean of the FWHM along the two axes, pixels.
    pub fwhm: f32,
    /// Major over minor axis.
    pub elongation: f32,
    /// Major axis direction, degrees from +x towards +y, `0..180`.
    pub angle: f32,
}

/// Half-maximum moments of the star whose brightest pixel is `(cx, cy)` over a sky of `sky`; `None` when the
/// star is too wide, too close to the edge, or flat.
pub fn moments(lum: &[f32], w: usize, h: usize, (cx, cy): (usize, usize), sky: f32) -> Option<StarShape> {
    let at = |x: usize, y: usize| lum[y * w + x] - sky;
    let peak = at(cx, cy);
    if peak.is_nan() || peak <= 0.0 {
        return None;
    }
    let half = 0.5 * peak;
    // How far the half-maximum isophote reaches along the axes sizes the cut-out.
    let mut reach = 1usize;
    for (dx, dy) in [(1isize, 0isize), (-1, 0), (0, 1), (0, -1)] {
        let mut r = 1usize;
        loop {
            let (x, y) = (cx as isize + dx * r as isize, cy as isize + dy * r as isize);
            if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
                return None;
            }
            if at(x as usize, y as usize) < half {
                break;
            }
            r += 1;
            if r > MAX_RADIUS {
                return None;
            }
        }
        reach = reach.max(r);
    }
    let rad = (3 * reach + 2).min(MAX_RADIUS);
    if cx < rad || cy < rad || cx + rad >= w || cy + rad >= h {
        return None;
    }
    // Gaussian-windowed moments, three times: the window starts at the half-maximum reach and then takes the size of the
    // star it measured. Every pixel of the cut-out weighs smoothly, so an undersampled star's moments do not jump
    // with where its centre falls on the pixel grid (half-maximum cuts of a 2-pixel star keep two or three pixels,
    // and their "elongation" follows the grid).
    let mut sw2 = (reach as f64 / 1.1774).powi(2).max(0.8);
    let (mut mx, mut my) = (0.0f64, 0.0f64);
    let mut cov = (0.0f64, 0.0f64, 0.0f64);
    let mut used = sw2;
    for _ in 0..3 {
        used = sw2;
        let (mut s0, mut sx, mut sy, mut xx, mut yy, mut xy) = (0.0f64, 0.0, 0.0, 0.0, 0.0, 0.0);
        for dy in -(rad as isize)..=rad as isize {
            for dx in -(rad as isize)..=rad as isize {
                let v = at((cx as isize + dx) as usize, (cy as isize + dy) as usize) as f64;
                let (x, y) = (dx as f64 - mx, dy as f64 - my);
                let wgt = (-(x * x + y * y) / (2.0 * sw2)).exp() * v;
                s0 += wgt;
                sx += wgt * x;
                sy += wgt * y;
                xx += wgt * x * x;
                yy += wgt * y * y;
                xy += wgt * x * y;
            }
        }
        if s0.is_nan() || s0 <= 0.0 {
            return None;
        }
        let (ox, oy) = (sx / s0, sy / s0);
        cov = (xx / s0 - ox * ox, yy / s0 - oy * oy, xy / s0 - ox * oy);
        mx += ox;
        my += oy;
        // A Gaussian of variance σ² seen through a window of variance w²: measured σ²w²/(σ² + w²).
        let m = 0.5 * (cov.0 + cov.1);
        if m.is_nan() || m <= 0.0 || m >= 0.95 * sw2 {
            sw2 *= 2.0;
            continue;
        }
        sw2 = (m * sw2 / (sw2 - m)).max(0.25);
    }
    let (xx, yy, xy) = cov;
    let mean = 0.5 * (xx + yy);
    let diff = (0.25 * (xx - yy).powi(2) + xy * xy).sqrt();
    let (m1, m2) = (mean + diff, (mean - diff).max(1e-6));
    // Undo the window on each principal axis.
    let unwindow = |m: f64| if m < 0.95 * used { m * used / (used - m) } else { m * 20.0 };
    let (l1, l2) = (unwindow(m1), unwindow(m2).max(1e-6));
    let to_fwhm = |l: f64| 2.3548 * l.sqrt();
    Some(StarShape {
        fwhm: (to_fwhm(l1) * to_fwhm(l2)).sqrt() as f32,
        elongation: (l1 / l2).sqrt() as f32,
        angle: (0.5 * (2.0 * xy).atan2(xx - yy)).to_degrees().rem_euclid(180.0) as f32,
    })
}
