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
/// Planes of at most this many samples (about a 1280×800 frame) are read whole for their median and MAD: exact, and
/// about a millisecond.
pub const WHOLE_PLANE: usize = 1 << 20;
/// About this many samples estimate the median and MAD of a larger plane: 2¹⁸ put the median of a Gaussian
/// background within 0.003 σ of the plane's own (its standard error, 1.25 σ / √n) and take a quarter of the time of
/// 2²⁰ (a 4096² frame's stretch: 4.3 → 1.0 ms, on the way to every detector's first model run). Frames up to
/// [`WHOLE_PLANE`] stay exact: the naive detector's boxes on small synthetic frames moved with a subsampled estimate
/// (three of seven 800×600 test frames lost their galaxy), while the estimate's own error is negligible.
pub const MAX_SAMPLES: usize = 1 << 18;
/// Consecutive samples taken together when a plane is subsampled ([`median_mad`]): a quarter of a 4096-px row (a
/// 4096² frame's runs are then sixteen rows apart), and a prime, so that runs do not line up with rows or any other
/// power-of-two period of a frame (runs of 4096, whole rows 16 apart, weighed a bright band one row in 32 at four
/// times its share in the test below; runs of 4093 still missed its median by 1 %).
pub const RUN: usize = 1021;

/// One run of [`RUN`] samples in every `step` runs is read ([`median_mad`]).
fn sample_step(len: usize) -> usize {
    if len <= WHOLE_PLANE {
        1
    } else {
        len.div_ceil(MAX_SAMPLES)
    }
}

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

/// Median and MAD of a plane, from an evenly spaced subsample when the plane is larger than [`WHOLE_PLANE`]: runs of
/// [`RUN`] consecutive samples, one run in every `step` (about [`MAX_SAMPLES`] samples in all).
///
/// Runs, not single samples: one sample in every 16 of a 4096² frame lies in every cache line of it, so gathering
/// them read the whole 64 MB plane (4.5–7.9 ms for 2²⁰ samples); runs read a sixteenth of it (runs of 4096: 2.1
/// ms, the same number of samples). The samples are selected as integer keys that order like [`f32::total_cmp`]
/// (`total_order_key`): the same values as selecting the floats with it, with a cheaper comparison (one selection of
/// 2²⁰ samples: 1.3 ms instead of 1.8 on the project's machine).
pub fn median_mad(plane: &[f32]) -> (f32, f32) {
    if plane.is_empty() {
        return (0.0, 0.0);
    }
    let step = sample_step(plane.len());
    let mut s: Vec<u32> = Vec::with_capacity(plane.len().div_ceil(step) + RUN);
    for run in plane.chunks(step * RUN) {
        s.extend(run[..run.len().min(RUN)].iter().filter(|v| v.is_finite()).map(|&v| total_order_key(v)));
    }
    if s.is_empty() {
        return (0.0, 0.0);
    }
    let mid = s.len() / 2;
    let median = from_total_order_key(*s.select_nth_unstable(mid).1);
    for k in &mut s {
        *k = total_order_key((from_total_order_key(*k) - median).abs());
    }
    let mad = from_total_order_key(*s.select_nth_unstable(mid).1);
    (median, mad)
}

/// An integer whose order is [`f32::total_cmp`]'s order of `v` (negative floats flipped, positive ones lifted above
/// them).
fn total_order_key(v: f32) -> u32 {
    let b = v.to_bits();
    if b >> 31 == 1 {
        !b
    } else {
        b | 1 << 31
    }
}

/// The float of a [`total_order_key`].
fn from_total_order_key(k: u32) -> f32 {
    f32::from_bits(if k >> 31 == 1 { k & !(1 << 31) } else { !k })
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
    fn every_other_column_is_sampled_on_an_even_width_colour_frame() {
        // A debayered plane's samples alternate between measured and interpolated pixels, whose noise differs. One
        // sample in every 2 of a 1080-px-wide frame was always an even column: on a Seestar frame of NGC 7023 the
        // red MAD came out 14 % low and the blue one 18 % high. Runs take both.
        let (w, h) = (1080, 1920);
        let mut x = 7u32;
        let plane: Vec<f32> = (0..w * h)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let amplitude = if i % 2 == 0 { 0.004 } else { 0.001 };
                0.1 + (x as f32 / u32::MAX as f32 - 0.5) * amplitude
            })
            .collect();
        let mut dev: Vec<f32> = plane.clone();
        dev.sort_by(f32::total_cmp);
        let median = dev[dev.len() / 2];
        let mut dev: Vec<f32> = plane.iter().map(|v| (v - median).abs()).collect();
        dev.sort_by(f32::total_cmp);
        let mad = dev[dev.len() / 2];
        let (_, d) = median_mad(&plane);
        assert!((d - mad).abs() < 0.02 * mad, "{d} vs {mad}");
    }

    #[test]
    fn a_large_plane_is_estimated_from_runs_close_to_its_exact_figures() {
        // 2²² samples of a noisy sky (median ~0.1) with a bright band in one row of 2048 in 64; a sixteenth of the
        // samples are read, in runs of RUN. Planes of at most WHOLE_PLANE are read whole (other tests).
        let n = 1 << 22;
        let mut x = 1u32;
        let plane: Vec<f32> = (0..n)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let noise = (x as f32 / u32::MAX as f32 - 0.5) * 0.035;
                0.1 + noise + if (i / 2048) % 64 == 0 { 0.5 } else { 0.0 }
            })
            .collect();
        let mut sorted = plane.clone();
        sorted.sort_by(f32::total_cmp);
        let median = sorted[n / 2];
        let mut dev: Vec<f32> = plane.iter().map(|v| (v - median).abs()).collect();
        dev.sort_by(f32::total_cmp);
        let mad = dev[n / 2];
        let (m, d) = median_mad(&plane);
        assert!((m - median).abs() < 0.001 && (d - mad).abs() < 0.02 * mad, "{m} {d} vs {median} {mad}");
    }

    /// The selection on floats that `median_mad` replaced.
    fn median_mad_by_total_cmp(plane: &[f32]) -> (f32, f32) {
        let step = sample_step(plane.len());
        let mut s: Vec<f32> = plane.iter().step_by(step).copied().filter(|v| v.is_finite()).collect();
        let mid = s.len() / 2;
        let median = *s.select_nth_unstable_by(mid, f32::total_cmp).1;
        s.iter_mut().for_each(|v| *v = (*v - median).abs());
        (median, *s.select_nth_unstable_by(mid, f32::total_cmp).1)
    }

    #[test]
    fn integer_keys_select_what_total_cmp_selects() {
        let mut x = 12345u32;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let planes: Vec<Vec<f32>> = vec![
            (0..10_001).map(|_| (next() % 65536) as f32 / 65535.0).collect(),
            (0..5_000).map(|_| (next() % 2001) as f32 / 1000.0 - 1.0).collect(),
            vec![-0.0, 0.0, -0.0, 0.0, 1.0, f32::NAN, -f32::MAX, f32::MAX, f32::INFINITY],
            (0..(3 << 20)).map(|i| (i % 977) as f32 * 1e-3).collect(),
        ];
        for p in &planes {
            let (a, b) = (median_mad(p), median_mad_by_total_cmp(p));
            assert_eq!((a.0.to_bits(), a.1.to_bits()), (b.0.to_bits(), b.1.to_bits()), "{a:?} vs {b:?}");
        }
        for v in [-f32::MAX, -1.0, -0.0, 0.0, f32::MIN_POSITIVE, 1.0, f32::MAX, f32::INFINITY, f32::NEG_INFINITY] {
            assert_eq!(from_total_order_key(total_order_key(v)).to_bits(), v.to_bits());
        }
    }

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
