//! Automatic display stretch of linear data: the midtones transfer function (MTF) with the parameters PixInsight's
//! AutoSTF and KStars' FITS viewer compute from the image's median and MAD.
//!
//! A linear astronomical frame puts the sky a few percent above black and every faint object a few counts above the
//! sky; detectors trained on stretched smart-telescope images (and people) need it mapped so the background sits near
//! a quarter of full scale. The constants are PixInsight's AutoSTF defaults (shadows clipped 2.8 normalised MADs below
//! the median, target background 0.25), which KStars also uses for its default stretch.

use dso_plugin_api::{Encoding, Frame};

/// Parameters of one channel's stretch: shadows clipping point and midtones balance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StretchParams {
    /// Input value mapped to black.
    pub shadows: f32,
    /// Midtones balance `m` of the transfer function: the input (after clipping) mapped to 0.5.
    pub midtones: f32,
}

/// Shadows clip in normalised MADs below the median (PixInsight AutoSTF default).
pub const SHADOWS_CLIP: f32 = -2.8;
/// Where the median background lands after stretching (PixInsight AutoSTF default).
pub const TARGET_BACKGROUND: f32 = 0.25;
/// Factor turning a MAD into a standard-deviation estimate for Gaussian noise.
const MAD_TO_SIGMA: f32 = 1.4826;
/// At most this many samples are used to estimate the median and MAD of a plane.
const MAX_SAMPLES: usize = 1 << 20;

/// The midtones transfer function: maps 0 → 0, `m` → 0.5, 1 → 1, monotonically.
///
/// ```
/// use dso_models::stretch::mtf;
/// assert_eq!(mtf(0.25, 0.25), 0.5);
/// assert_eq!(mtf(0.25, 0.0), 0.0);
/// assert_eq!(mtf(0.25, 1.0), 1.0);
/// ```
pub fn mtf(m: f32, x: f32) -> f32 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    if x == m {
        return 0.5;
    }
    ((m - 1.0) * x) / ((2.0 * m - 1.0) * x - m)
}

/// Median and MAD of a plane, from an evenly spaced subsample when the plane is large.
pub fn median_mad(plane: &[f32]) -> (f32, f32) {
    if plane.is_empty() {
        return (0.0, 0.0);
    }
    let step = plane.len().div_ceil(MAX_SAMPLES);
    let mut s: Vec<f32> = plane.iter().step_by(step).copied().filter(|v| v.is_finite()).collect();
    if s.is_empty() {
        return (0.0, 0.0);
    }
    let mid = s.len() / 2;
    let median = *s.select_nth_unstable_by(mid, f32::total_cmp).1;
    for v in &mut s {
        *v = (*v - median).abs();
    }
    let mad = *s.select_nth_unstable_by(mid, f32::total_cmp).1;
    (median, mad)
}

/// AutoSTF parameters for one plane.
pub fn auto_params(plane: &[f32]) -> StretchParams {
    let (median, mad) = median_mad(plane);
    let sigma = MAD_TO_SIGMA * mad;
    let shadows = if sigma > 0.0 { (median + SHADOWS_CLIP * sigma).clamp(0.0, 1.0) } else { 0.0 };
    let range = (1.0 - shadows).max(f32::EPSILON);
    let midtones = mtf(TARGET_BACKGROUND, ((median - shadows) / range).clamp(0.0, 1.0));
    StretchParams { shadows, midtones }
}

/// Applies a stretch to one plane in place.
pub fn apply_mut(plane: &mut [f32], p: StretchParams) {
    let range = (1.0 - p.shadows).max(f32::EPSILON);
    for v in plane {
        let x = if v.is_finite() { (*v - p.shadows) / range } else { 0.0 };
        *v = mtf(p.midtones, x.clamp(0.0, 1.0));
    }
}

/// Stretches a linear frame for detection and display, each colour channel on its own (unlinked, as KStars does by
/// default, which also neutralises a light-polluted background). A frame that is already stretched is returned as is.
pub fn auto_stretch(frame: &Frame) -> Frame {
    let mut out = frame.clone();
    auto_stretch_mut(&mut out);
    out
}

/// In-place twin of [`auto_stretch`].
pub fn auto_stretch_mut(frame: &mut Frame) {
    if frame.encoding == Encoding::Stretched {
        return;
    }
    for plane in &mut frame.planes {
        let p = auto_params(plane);
        apply_mut(plane, p);
    }
    frame.encoding = Encoding::Stretched;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mtf_is_monotonic_and_anchored() {
        let m = 0.1;
        let mut last = -1.0;
        for i in 0..=100 {
            let y = mtf(m, i as f32 / 100.0);
            assert!(y >= last);
            last = y;
        }
        assert!((mtf(m, m) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn background_lands_near_target() {
        // A dark linear sky: median 0.02 with small noise, one bright star.
        let mut plane: Vec<f32> = (0..10_000).map(|i| 0.02 + 0.001 * ((i * 7919 % 13) as f32 - 6.0) / 6.0).collect();
        plane[5000] = 0.9;
        let mut f = Frame::new(100, 100, vec![plane], Encoding::Linear).unwrap();
        auto_stretch_mut(&mut f);
        assert_eq!(f.encoding, Encoding::Stretched);
        let (median, _) = median_mad(&f.planes[0]);
        assert!((median - TARGET_BACKGROUND).abs() < 0.02, "median {median}");
        assert!(f.planes[0][5000] > 0.95);
    }

    #[test]
    fn stretched_frames_pass_through() {
        let f = Frame::new(2, 1, vec![vec![0.1, 0.9]], Encoding::Stretched).unwrap();
        assert_eq!(auto_stretch(&f), f);
    }

    #[test]
    fn flat_and_nan_planes_do_not_panic() {
        let mut f = Frame::new(3, 1, vec![vec![0.5, f32::NAN, 0.5]], Encoding::Linear).unwrap();
        auto_stretch_mut(&mut f);
        assert!(f.planes[0].iter().all(|v| v.is_finite()));
    }
}
