//! SciPy's `ndimage.gaussian_filter`, reproduced closely enough to give the same bits.
//!
//! Both Gaussian smoothings on XRAI's path go through SciPy: the one inside skimage's Felzenszwalb (mode `reflect`, in
//! `f64`) and the anti-aliasing inside skimage's `resize` (mode `grid-constant`, i.e. zeros outside, stored in the
//! image's `f32` between axes). Felzenszwalb's merge decisions compare edge weights against thresholds, so the weights
//! are worth getting exactly: the kernel is SciPy's `_gaussian_kernel1d` (radius `int(truncate·σ + 0.5)`, normalised by
//! NumPy's pairwise sum), axes are filtered first to last, and each output sample is summed in the order of
//! `NI_Correlate1D`'s symmetric branch: centre first, then the pairs from the outermost inwards.

use super::numeric::pairwise_sum;

/// How far SciPy's Gaussian kernel reaches, in standard deviations (`truncate=4.0`).
const TRUNCATE: f64 = 4.0;

/// What lies beyond the image edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// SciPy's `reflect`: `d c b a | a b c d | d c b a`.
    Reflect,
    /// SciPy's `constant` / `grid-constant` with `cval=0`.
    Zero,
}

/// SciPy's `_gaussian_kernel1d(sigma, 0, radius)`: `exp(-x²/2σ²)` for `x` in `-radius..=radius`, normalised.
pub fn kernel(sigma: f64) -> Vec<f64> {
    let radius = (TRUNCATE * sigma + 0.5) as i64;
    let c = -0.5 / (sigma * sigma);
    let phi: Vec<f64> = (-radius..=radius).map(|x| (c * (x * x) as f64).exp()).collect();
    let sum = pairwise_sum(&phi);
    phi.iter().map(|p| p / sum).collect()
}

/// The index `i` folded into `0..n` by SciPy's `reflect` boundary.
pub fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    let period = 2 * n;
    let i = i.rem_euclid(period);
    (if i >= n { period - 1 - i } else { i }) as usize
}

/// One axis of a row-major array seen as `outer × len × inner`.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    /// Samples along the axis.
    pub len: usize,
    /// Product of the sizes of the axes before it.
    pub outer: usize,
    /// Product of the sizes of the axes after it.
    pub inner: usize,
}

impl Axis {
    /// Axis `axis` of an array of shape `shape`.
    pub fn of(shape: &[usize], axis: usize) -> Axis {
        Axis { len: shape[axis], outer: shape[..axis].iter().product(), inner: shape[axis + 1..].iter().product() }
    }
}

/// Correlates `data` along `axis` with the symmetric kernel `w` (odd length), in `f64`.
pub fn correlate(data: &[f64], axis: Axis, w: &[f64], boundary: Boundary) -> Vec<f64> {
    let r = w.len() / 2;
    let Axis { len, outer, inner } = axis;
    let mut out = vec![0.0; data.len()];
    // neighbour indices for each pair, outermost first; `None` reads zero
    let mut taps: Vec<(Option<usize>, Option<usize>)> = Vec::with_capacity(r);
    for k in 0..len {
        taps.clear();
        taps.extend((1..=r).rev().map(|j| {
            let (lo, hi) = (k as isize - j as isize, k as isize + j as isize);
            match boundary {
                Boundary::Reflect => (Some(reflect(lo, len)), Some(reflect(hi, len))),
                Boundary::Zero => (usize::try_from(lo).ok(), Some(hi as usize).filter(|&i| i < len)),
            }
        }));
        for o in 0..outer {
            let line = &data[o * len * inner..(o + 1) * len * inner];
            let dst = &mut out[(o * len + k) * inner..(o * len + k + 1) * inner];
            for (i, d) in dst.iter_mut().enumerate() {
                let at = |t: Option<usize>| t.map_or(0.0, |t| line[t * inner + i]);
                let mut acc = line[k * inner + i] * w[r];
                for (&(lo, hi), &wj) in taps.iter().zip(&w[..r]) {
                    acc += (at(lo) + at(hi)) * wj;
                }
                *d = acc;
            }
        }
    }
    out
}

/// `scipy.ndimage.gaussian_filter(data, sigmas, mode=…, truncate=4.0)` on a row-major array of shape `shape`;
/// axes with `σ ≤ 1e-15` are left alone, as SciPy does. With `round_f32` every pass is stored in `f32`, as SciPy does
/// for an `f32` array.
pub fn gaussian_filter(data: &[f64], shape: &[usize], sigmas: &[f64], boundary: Boundary, round_f32: bool) -> Vec<f64> {
    let mut cur = data.to_vec();
    if cur.is_empty() {
        return cur;
    }
    for (axis, &sigma) in sigmas.iter().enumerate() {
        if sigma <= 1e-15 {
            continue;
        }
        cur = correlate(&cur, Axis::of(shape, axis), &kernel(sigma), boundary);
        if round_f32 {
            cur.iter_mut().for_each(|v| *v = f64::from(*v as f32));
        }
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_is_scipys() {
        let k = kernel(0.8);
        assert_eq!(k.len(), 7, "radius int(4 * 0.8 + 0.5) = 3");
        assert!((k.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        assert_eq!(k[0], k[6]);
        // scipy.ndimage._filters._gaussian_kernel1d(0.8, 0, 3)[3]
        assert_eq!(k[3], 0.498_676_452_006_474_87);
    }

    #[test]
    fn reflect_repeats_the_edge_sample() {
        let got: Vec<usize> = (-4..8).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, [3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0]);
        assert_eq!(reflect(-3, 1), 0);
    }

    #[test]
    fn reflect_keeps_a_constant_and_zero_boundary_darkens_edges() {
        let flat = vec![0.25; 5 * 6];
        let r = gaussian_filter(&flat, &[5, 6], &[0.8, 0.8], Boundary::Reflect, false);
        assert!(r.iter().all(|v| (v - 0.25).abs() < 1e-15));
        let z = gaussian_filter(&flat, &[5, 6], &[0.8, 0.8], Boundary::Zero, false);
        assert!(z[0] < 0.25 && (z[2 * 6 + 3] - 0.25).abs() < 1e-3);
    }

    #[test]
    fn an_impulse_spreads_symmetrically_and_zero_sigma_axes_are_skipped() {
        let mut dot = vec![0.0; 9 * 9];
        dot[4 * 9 + 4] = 1.0;
        let s = gaussian_filter(&dot, &[9, 9], &[0.8, 0.8], Boundary::Reflect, false);
        assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(s[3 * 9 + 4], s[5 * 9 + 4]);
        assert_eq!(s[4 * 9 + 3], s[3 * 9 + 4]);
        let rows_only = gaussian_filter(&dot, &[9, 9], &[0.8, 0.0], Boundary::Reflect, false);
        assert!((0..9).all(|y| (0..9).all(|x| x == 4 || rows_only[y * 9 + x] == 0.0)));
    }
}
