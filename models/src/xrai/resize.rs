//! `skimage.transform.resize` the two ways XRAI's segmentation calls it.
//!
//! The reference segments every image at 224×224, so an image of any other size is resized there with
//! `resize(im, (224, 224), order=3, mode='constant', preserve_range=True, anti_aliasing=True)` and the label maps are
//! brought back with `order=0`. Segment boundaries follow the resampled colours, so the same resampling is done here:
//! - anti-aliasing: when shrinking an axis by `f = in/out > 1`, a Gaussian of `σ = (f − 1)/2` with zeros outside,
//!   stored in `f32` between axes ([`super::gaussian`]);
//! - SciPy's `zoom(order=3, mode='grid-constant', grid_mode=True)`: each line padded with 12 zeros on both sides
//!   (`_prepad_for_spline_filter`), turned into cubic B-spline coefficients with the mirror boundary
//!   (`ni_splines.c`), and sampled at `(k + ½)·f − ½`;
//! - the result in `f32`, clipped to the input's range (`_clip_warp_output`).
//!
//! SciPy samples the full tensor-product spline in one pass where this goes axis by axis; the two differ only in
//! `f64` rounding. Checked against skimage 0.26 on 300×260 and 100×150 images: identical `f32` output.
//!
//! Nearest neighbour (`order=0`) takes source index `⌊(k + ½)·f − ½ + ½⌋`, SciPy's rounding for even orders.

use ndarray::{Array3, ArrayView3};

use super::gaussian::{gaussian_filter, Boundary};

/// SciPy pads each line with this many zeros before computing spline coefficients in `grid-constant` mode.
const SPLINE_PAD: usize = 12;

/// The pole of the cubic B-spline prefilter, `√3 − 2`, as SciPy writes it (`get_filter_poles`).
const POLE: f64 = -0.267_949_192_431_122_7;

/// Cubic B-spline coefficients of `c` in place, with the mirror boundary, as SciPy's `spline_filter1d` computes them.
fn spline_coefficients(c: &mut [f64]) {
    let n = c.len();
    if n < 2 {
        return;
    }
    let z = POLE;
    let gain = (1.0 - z) * (1.0 - 1.0 / z);
    c.iter_mut().for_each(|v| *v *= gain);
    // causal initialisation for the mirror boundary
    let z_n1 = z.powi(n as i32 - 1);
    let mut z_i = z;
    let mut c0 = c[0] + z_n1 * c[n - 1];
    for i in 1..n - 1 {
        c0 += z_i * (c[i] + z_n1 * c[n - 1 - i]);
        z_i *= z;
    }
    c[0] = c0 / (1.0 - z_n1 * z_n1);
    for i in 1..n {
        c[i] += z * c[i - 1];
    }
    // anti-causal initialisation, then the backward pass
    c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1.0);
    for i in (0..n - 1).rev() {
        c[i] = z * (c[i + 1] - c[i]);
    }
}

/// Weights of the four coefficients around `x` (the first at `⌊x⌋ − 1`), as SciPy's
/// `get_spline_interpolation_weights` for order 3.
fn cubic_weights(x: f64) -> [f64; 4] {
    let t = x - x.floor();
    let u = 1.0 - t;
    let w1 = (t * t * (t - 2.0) * 3.0 + 4.0) / 6.0;
    let w2 = (u * u * (u - 2.0) * 3.0 + 4.0) / 6.0;
    let w0 = u * u * u / 6.0;
    [w0, w1, w2, 1.0 - w0 - w1 - w2]
}

/// Resamples every line along `axis` (of an `outer × len × inner` row-major array) to `out_len` samples.
fn zoom_axis(data: &[f64], outer: usize, len: usize, inner: usize, out_len: usize) -> Vec<f64> {
    let zoom = len as f64 / out_len as f64;
    let mut out = vec![0.0; outer * out_len * inner];
    let mut line = vec![0.0; len + 2 * SPLINE_PAD];
    // per output sample: first padded coefficient index and weights
    let taps: Vec<(usize, [f64; 4])> = (0..out_len)
        .map(|k| {
            let cc = (k as f64 + 0.5) * zoom - 0.5 + SPLINE_PAD as f64;
            ((cc.floor() as usize).saturating_sub(1), cubic_weights(cc))
        })
        .collect();
    for o in 0..outer {
        for i in 0..inner {
            line.iter_mut().for_each(|v| *v = 0.0);
            for k in 0..len {
                line[SPLINE_PAD + k] = data[(o * len + k) * inner + i];
            }
            spline_coefficients(&mut line);
            for (k, &(start, w)) in taps.iter().enumerate() {
                let c = &line[start..start + 4];
                out[(o * out_len + k) * inner + i] = c[0] * w[0] + c[1] * w[1] + c[2] * w[2] + c[3] * w[3];
            }
        }
    }
    out
}

/// `skimage.transform.resize(image, (out_h, out_w), order=3, mode='constant', preserve_range=True,
/// anti_aliasing=True)` for an `H × W × C` image.
pub fn resize_cubic(image: ArrayView3<f32>, out_h: usize, out_w: usize) -> Array3<f32> {
    let (h, w, c) = image.dim();
    if (h, w) == (out_h, out_w) || h == 0 || w == 0 || out_h == 0 || out_w == 0 {
        // skimage's zoom by exactly 1 returns the input unchanged (checked on the reference fixture)
        return if (h, w) == (out_h, out_w) { image.to_owned() } else { Array3::zeros((out_h, out_w, c)) };
    }
    let data: Vec<f64> = image.iter().map(|&v| f64::from(v)).collect();
    let sigma = |n: usize, m: usize| ((n as f64 / m as f64 - 1.0) / 2.0).max(0.0);
    let smooth = gaussian_filter(&data, &[h, w, c], &[sigma(h, out_h), sigma(w, out_w), 0.0], Boundary::Zero, true);
    let rows = zoom_axis(&smooth, 1, h, w * c, out_h);
    let both = zoom_axis(&rows, out_h, w, c, out_w);
    let lo = image.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = image.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut out: Vec<f32> = both.iter().map(|&v| v as f32).collect();
    // the zero outside the image widens the clipping range when the output reaches it (`_clip_warp_output`)
    let (out_lo, out_hi) = out.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let (lo, hi) =
        if !(lo <= 0.0 && 0.0 <= hi) && out_lo <= 0.0 && 0.0 <= out_hi { (lo.min(0.0), hi.max(0.0)) } else { (lo, hi) };
    out.iter_mut().for_each(|v| *v = v.clamp(lo, hi));
    Array3::from_shape_vec((out_h, out_w, c), out).expect("shape matches the data")
}

/// Source index of each of `out_len` samples taken from `len` by SciPy's nearest-neighbour zoom (`grid_mode=True`).
pub fn nearest_indices(len: usize, out_len: usize) -> Vec<usize> {
    let zoom = len as f64 / out_len as f64;
    (0..out_len)
        .map(|k| ((((k as f64 + 0.5) * zoom - 0.5) + 0.5).floor() as usize).min(len.saturating_sub(1)))
        .collect()
}

/// `skimage.transform.resize(values, (out_h, out_w), order=0, anti_aliasing=False)` for a row-major `h × w` map.
pub fn resize_nearest<T: Copy>(values: &[T], (h, w): (usize, usize), (out_h, out_w): (usize, usize)) -> Vec<T> {
    let (ys, xs) = (nearest_indices(h, out_h), nearest_indices(w, out_w));
    ys.iter().flat_map(|&y| xs.iter().map(move |&x| values[y * w + x])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spline_coefficients_interpolate_the_samples() {
        let samples = [0.0, 1.0, 4.0, 2.0, -1.0, 3.0, 0.5];
        let mut c = samples.to_vec();
        spline_coefficients(&mut c);
        // the cubic B-spline at a knot is (c[i-1] + 4 c[i] + c[i+1]) / 6; with the mirror boundary c[-1] = c[1]
        for i in 0..samples.len() {
            let left = c[if i == 0 { 1 } else { i - 1 }];
            let right = c[if i + 1 == samples.len() { i - 1 } else { i + 1 }];
            assert!(((left + 4.0 * c[i] + right) / 6.0 - samples[i]).abs() < 1e-12, "sample {i}");
        }
    }

    #[test]
    fn cubic_weights_sum_to_one_and_pick_the_knot() {
        let at_knot = cubic_weights(3.0);
        assert_eq!(at_knot[..3], [1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0]);
        assert!(at_knot[3].abs() < 1e-15, "the last weight is 1 minus the others, as in SciPy");
        let w = cubic_weights(2.3);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn nearest_matches_scipy_grid_mode() {
        // skimage.transform.resize(np.arange(4), (6,), order=0) picks 0 1 1 2 3 3
        assert_eq!(nearest_indices(4, 6), [0, 1, 1, 2, 3, 3]);
        assert_eq!(nearest_indices(6, 3), [1, 3, 5]);
        assert_eq!(nearest_indices(5, 5), [0, 1, 2, 3, 4]);
        assert_eq!(resize_nearest(&[1, 2, 3, 4], (2, 2), (1, 4)), [3, 3, 4, 4]);
    }

    #[test]
    fn cubic_resize_keeps_flat_regions_and_the_value_range() {
        let img =
            Array3::from_shape_fn((40, 30, 3), |(y, x, c)| if x < 15 { -1.0 } else { 0.5 + 0.1 * (c + y % 2) as f32 });
        let out = resize_cubic(img.view(), 24, 24);
        assert_eq!(out.dim(), (24, 24, 3));
        assert!(out.iter().all(|&v| (-1.0..=0.8).contains(&v)));
        assert!((out[[12, 4, 0]] + 1.0).abs() < 1e-3, "{}", out[[12, 4, 0]]);
        let same = resize_cubic(img.view(), 40, 30);
        assert_eq!(same, img);
    }
}
