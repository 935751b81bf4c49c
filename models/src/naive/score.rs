//! Confidence of a candidate box: local contrast in units of background noise, squashed by a logistic.
//!
//! The naive method has no classifier, so its confidence is the plainest photometric evidence there is: how far the
//! mean of the box rises above the sky just around it (the median of an annulus, robust to the odd leftover star),
//! measured in noise sigmas of the smoothed plane the box was found in. A logistic turns that into `0..1` with 0.5
//! at `mid` sigmas, so that the host's default 0.5 threshold means "clearly above the noise".
//! When the box covers nearly the whole frame there is no sky left around it; the background model (already
//! subtracted, so 0) stands in for the annulus.

use super::regions::BoxI;
use crate::ops::{quantile, Plane};

/// Mean of `plane` over the box minus the median of a ring around it, in units of `sigma`.
pub fn contrast(plane: &Plane, b: &BoxI, sigma: f32) -> f32 {
    let (w, h) = (plane.width, plane.height);
    if sigma.is_nan() || sigma <= 0.0 || b.area() == 0 || b.x1 > w || b.y1 > h {
        return 0.0;
    }
    let mut sum = 0.0f64;
    for y in b.y0..b.y1 {
        sum += plane.data[y * w + b.x0..y * w + b.x1].iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    let inside = (sum / b.area() as f64) as f32;
    // Ring half as wide as the box's shorter side (at least 3 px), clipped to the frame.
    let ring = (b.width().min(b.height()) / 2).max(3);
    let (rx0, ry0) = (b.x0.saturating_sub(ring), b.y0.saturating_sub(ring));
    let (rx1, ry1) = ((b.x1 + ring).min(w), (b.y1 + ring).min(h));
    // Subsample large rings: a few thousand values give a stable median.
    let step = ((rx1 - rx0) * (ry1 - ry0)).div_ceil(8192).max(1);
    let mut values = Vec::new();
    let mut k = 0usize;
    for y in ry0..ry1 {
        for x in rx0..rx1 {
            if x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1 {
                continue;
            }
            k += 1;
            if k % step == 0 {
                values.push(plane.data[y * w + x]);
            }
        }
    }
    let enough = (values.len() * step) as f32 >= 0.2 * b.area() as f32 && values.len() >= 16;
    let around = if enough { quantile(&values, 0.5, values.len()).unwrap_or(0.0) } else { 0.0 };
    (inside - around) / sigma
}

/// Logistic squashing of a contrast: 0.5 at `mid`, `scale` sigmas per e-fold of the odds.
pub fn confidence(contrast: f32, mid: f32, scale: f32) -> f32 {
    if !contrast.is_finite() {
        return 0.0;
    }
    1.0 / (1.0 + (-(contrast - mid) / scale.max(1e-3)).exp())
}

/// Logistic squashing of the logarithm of a positive evidence ratio: 0.5 at `mid`, `scale` natural-log units per
/// e-fold of the odds; 0 for non-positive or non-finite ratios.
pub fn log_confidence(ratio: f32, mid: f32, scale: f32) -> f32 {
    if !ratio.is_finite() || ratio <= 0.0 || mid <= 0.0 {
        return 0.0;
    }
    confidence(ratio.ln(), mid.ln(), scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_of_a_bright_square() {
        let mut p = Plane::filled(60, 60, 1.0);
        for y in 20..30 {
            for x in 20..30 {
                p.data[y * 60 + x] = 6.0;
            }
        }
        let c = contrast(&p, &BoxI { x0: 20, y0: 20, x1: 30, y1: 30 }, 0.5);
        assert!((c - 10.0).abs() < 1e-4, "{c}");
        // A box over everything falls back on the subtracted background (0).
        let all = contrast(&p, &BoxI { x0: 0, y0: 0, x1: 60, y1: 60 }, 1.0);
        assert!((all - (1.0 + 5.0 * 100.0 / 3600.0)).abs() < 1e-3);
        assert!(confidence(10.0, 5.0, 1.0) > 0.99 && confidence(0.0, 5.0, 1.0) < 0.01);
        assert_eq!(confidence(f32::NAN, 5.0, 1.0), 0.0);
    }
}
