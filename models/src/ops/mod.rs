//! General image operations on single `f32` planes, shared by the classical detectors.
//!
//! imageproc works on 8-bit images for most of what we need (morphology, median), and quantising a stretched sky to
//! 256 levels throws away exactly the faint signal a detector looks for, so the operations the naive detector runs
//! on its working image live here, on `f32`: resampling, Gaussian smoothing, robust statistics, greyscale morphology
//! with disks ([`morph`]), binary masks and their growth ([`mask`]), and filling masked holes ([`inpaint`]).
//! Each is a free function `f(&Plane, …) -> Plane`, in the style of imageproc, and none panics on small or flat input.

use dso_plugin_api::Frame;

pub mod canny;
pub mod inpaint;
pub mod mask;
pub mod morph;

/// Factor turning a median absolute deviation into a standard deviation for Gaussian noise.
pub const MAD_TO_SIGMA: f32 = 1.4826;

/// One image plane: `width × height` samples, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height` samples, row-major.
    pub data: Vec<f32>,
}

impl Plane {
    /// A plane filled with one value.
    pub fn filled(width: usize, height: usize, value: f32) -> Self {
        Self { width, height, data: vec![value; width * height] }
    }

    /// Wraps samples; `None` when their count is not `width * height`.
    pub fn from_vec(width: usize, height: usize, data: Vec<f32>) -> Option<Self> {
        (width.checked_mul(height) == Some(data.len())).then_some(Self { width, height, data })
    }

    /// The sample at `(x, y)`; the caller keeps the coordinates in range.
    #[inline]
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// The sample at `(x, y)` with coordinates clamped to the plane (edge pixels repeat outwards).
    #[inline]
    pub fn at_clamped(&self, x: isize, y: isize) -> f32 {
        let x = x.clamp(0, self.width as isize - 1) as usize;
        let y = y.clamp(0, self.height as isize - 1) as usize;
        self.data[y * self.width + x]
    }

    /// Bilinear sample at real coordinates (pixel centres at integers), clamped to the plane.
    pub fn bilinear(&self, x: f32, y: f32) -> f32 {
        let x = x.clamp(0.0, (self.width - 1) as f32);
        let y = y.clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let top = self.at(x0, y0) * (1.0 - fx) + self.at(x1, y0) * fx;
        let bottom = self.at(x0, y1) * (1.0 - fx) + self.at(x1, y1) * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

/// The `q`-quantile (`0..=1`) of the finite values, from at most `max_samples` evenly spaced ones; `None` if none
/// is finite.
pub fn quantile(values: &[f32], q: f32, max_samples: usize) -> Option<f32> {
    let step = values.len().div_ceil(max_samples.max(1)).max(1);
    let mut s: Vec<f32> = values.iter().step_by(step).copied().filter(|v| v.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    let k = ((s.len() - 1) as f32 * q.clamp(0.0, 1.0)).round() as usize;
    Some(*s.select_nth_unstable_by(k, f32::total_cmp).1)
}

/// Noise standard deviation from differences of pixels `lag` apart along rows: MAD of the differences, scaled to a
/// Gaussian sigma and divided by √2 (a difference of two independent samples has twice the variance).
///
/// Differences cancel everything smoother than `lag` pixels (sky gradients, nebulae, galaxies) so this measures the
/// noise of a frame full of objects without first having to find them. For a smoothed plane, pick `lag` larger
/// than the smoothing kernel so the two samples are independent.
pub fn noise_sigma(plane: &Plane, lag: usize) -> f32 {
    let lag = lag.max(1);
    if plane.width <= lag {
        return 0.0;
    }
    // About 2^18 differences are plenty for a robust scale; take whole rows, evenly spaced.
    let per_row = plane.width - lag;
    let row_step = (plane.height * per_row).div_ceil(1 << 18).max(1);
    let mut d = Vec::with_capacity(plane.height.div_ceil(row_step) * per_row);
    for y in (0..plane.height).step_by(row_step) {
        let row = &plane.data[y * plane.width..(y + 1) * plane.width];
        d.extend(row.iter().zip(&row[lag..]).map(|(a, b)| (b - a).abs()).filter(|v| v.is_finite()));
    }
    if d.is_empty() {
        return 0.0;
    }
    let mid = d.len() / 2;
    let mad = *d.select_nth_unstable_by(mid, f32::total_cmp).1;
    // The median of |a − b| for a Gaussian difference is 0.6745·σ_diff = 0.6745·√2·σ.
    MAD_TO_SIGMA * mad / std::f32::consts::SQRT_2
}

/// Downsamples by an integer factor, averaging each `factor × factor` block (partial blocks at the right and bottom
/// edges average what they have). Non-finite samples are skipped; a block with none becomes NaN.
pub fn bin(plane: &Plane, factor: usize) -> Plane {
    bin_samples(&plane.data, plane.width, plane.height, factor)
}

/// [`bin`] for borrowed `width × height` samples (a frame's plane, a heat map), without copying them into a
/// [`Plane`] first. Rows missing from a short `data` count as absent samples.
pub fn bin_samples(data: &[f32], width: usize, height: usize, factor: usize) -> Plane {
    let f = factor.max(1);
    let (w, h) = (width.div_ceil(f), height.div_ceil(f));
    let mut out = vec![f32::NAN; w * h];
    bin_samples_into(data, width, height, f, &mut out);
    Plane { width: w, height: h, data: out }
}

/// [`bin_samples`] into `out`, which holds `⌈width / factor⌉` samples per output row; as many output rows are
/// written as both `out` and the input have (callers bin bands of a plane concurrently this way).
pub fn bin_samples_into(data: &[f32], width: usize, height: usize, factor: usize, out: &mut [f32]) {
    let f = factor.max(1);
    let w = width.div_ceil(f);
    if w == 0 {
        return;
    }
    let rows: Vec<&[f32]> = data.chunks_exact(width).take(height).collect();
    if f == 2 {
        return bin2_into(&rows, width, out);
    }
    // Per output row: sum the block's input rows column by column (contiguous, so the compiler vectorises it),
    // then each run of `f` columns.
    let (mut sum, mut count) = (vec![0.0f32; width], vec![0.0f32; width]);
    for (block, out_row) in rows.chunks(f).zip(out.chunks_exact_mut(w)) {
        sum.fill(0.0);
        count.fill(0.0);
        for row in block {
            for ((s, c), &v) in sum.iter_mut().zip(count.iter_mut()).zip(row.iter()) {
                let ok = v.is_finite();
                *s += if ok { v } else { 0.0 };
                *c += if ok { 1.0 } else { 0.0 };
            }
        }
        for ((o, s), c) in out_row.iter_mut().zip(sum.chunks(f)).zip(count.chunks(f)) {
            let n: f32 = c.iter().sum();
            *o = if n > 0.0 { s.iter().sum::<f32>() / n } else { f32::NAN };
        }
    }
}

/// The frame binned by `factor` (block means, [`bin_samples`]), planes binned concurrently, without its header;
/// `None` for factor 1 or a frame whose planes are shorter than its size. The annotated picture of a large frame
/// starts from it, and so does the YOLO detector's view of a large frame, from the same 2×2 binning (the pipeline
/// makes it once for both: [`dso_plugin_api::Detector::detect_with_half`]).
pub fn bin_frame(frame: &Frame, factor: usize) -> Option<Frame> {
    let n = frame.width.checked_mul(frame.height)?;
    if factor <= 1 || frame.planes.iter().any(|p| p.len() < n) {
        return None;
    }
    let (width, height) = (frame.width.div_ceil(factor), frame.height.div_ceil(factor));
    let mut planes = vec![vec![0.0f32; width * height]; frame.planes.len()];
    // Bands of whole blocks binned concurrently, straight into the output: one band per plane for colour frames,
    // about one per core for mono ones.
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get().min(8));
    let bands = cores.div_ceil(frame.planes.len().max(1));
    let band_blocks = height.div_ceil(bands).max(1);
    std::thread::scope(|scope| {
        for (input, output) in frame.planes.iter().zip(planes.iter_mut()) {
            let inputs = input[..n].chunks(band_blocks * factor * frame.width);
            for (band, out) in inputs.zip(output.chunks_mut(band_blocks * width)) {
                let rows = band.len() / frame.width;
                scope.spawn(move || bin_samples_into(band, frame.width, rows, factor, out));
            }
        }
    });
    Frame::new(width, height, planes, frame.encoding).ok()
}

/// Whether `half` has the size and planes of `frame` binned 2×2 by [`bin_frame`]: what the picture and YOLO check
/// before reading a shared half plane instead of the frame.
pub fn is_half_of(half: &Frame, frame: &Frame) -> bool {
    (half.width, half.height, half.planes.len())
        == (frame.width.div_ceil(2), frame.height.div_ceil(2), frame.planes.len())
}

/// [`bin_samples_into`] by 2, the pictures' and YOLO's common case: each whole 2×2 block is
/// `((a + c) + (b + d)) / 4` (the general path's sums in the general path's order, so the same values), without the
/// per-sample finiteness bookkeeping; a block whose sum is not finite, and the partial blocks of odd sizes, take the
/// general path. 4096² to 2048² on one core: see `models/src/annotate/tests.rs` (`binned by 2`).
fn bin2_into(rows: &[&[f32]], width: usize, out: &mut [f32]) {
    let w = width.div_ceil(2);
    for (pair, out_row) in rows.chunks(2).zip(out.chunks_exact_mut(w)) {
        if let [top, bottom] = pair {
            let whole = width / 2;
            for ((o, t), b) in out_row[..whole].iter_mut().zip(top.chunks_exact(2)).zip(bottom.chunks_exact(2)) {
                *o = ((t[0] + b[0]) + (t[1] + b[1])) / 4.0;
            }
            for (x, o) in out_row[..whole].iter_mut().enumerate() {
                if !o.is_finite() {
                    *o = block_mean(pair, 2 * x, 2);
                }
            }
            if width % 2 == 1 {
                out_row[whole] = block_mean(pair, width - 1, 1);
            }
        } else {
            for (x, o) in out_row.iter_mut().enumerate() {
                *o = block_mean(pair, 2 * x, (width - 2 * x).min(2));
            }
        }
    }
}

/// The mean of the finite samples of columns `x..x + n` of `rows` (NaN when none), summed as the general path of
/// [`bin_samples_into`] sums: each column down the rows, then the columns.
fn block_mean(rows: &[&[f32]], x: usize, n: usize) -> f32 {
    let (mut total, mut count) = (0.0f32, 0.0f32);
    for c in x..x + n {
        let (mut s, mut k) = (0.0f32, 0.0f32);
        for row in rows {
            let v = row[c];
            s += if v.is_finite() { v } else { 0.0 };
            k += if v.is_finite() { 1.0 } else { 0.0 };
        }
        total += s;
        count += k;
    }
    if count > 0.0 {
        total / count
    } else {
        f32::NAN
    }
}

/// A normalised 1-D Gaussian kernel of standard deviation `sigma`, radius ⌈3σ⌉.
fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let r = (3.0 * sigma).ceil().max(1.0) as isize;
    let k: Vec<f32> = (-r..=r).map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let s: f32 = k.iter().sum();
    k.into_iter().map(|v| v / s).collect()
}

/// Runs `f(first_row, rows)` over bands of whole rows of `data` (`width` samples each), on up to four threads when
/// the plane is large enough (a quarter megapixel) for the threads to pay for themselves; rows are independent.
pub fn par_rows<T: Send>(data: &mut [T], width: usize, f: impl Fn(usize, &mut [T]) + Sync) {
    let rows = data.len().checked_div(width).unwrap_or(0);
    let threads =
        if data.len() < 1 << 18 { 1 } else { std::thread::available_parallelism().map_or(1, |c| c.get().min(4)) };
    if threads <= 1 || rows < 2 * threads {
        f(0, data);
        return;
    }
    let band = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        for (i, chunk) in data.chunks_mut(band * width).enumerate() {
            let f = &f;
            scope.spawn(move || f(i * band, chunk));
        }
    });
}

/// Separable Gaussian blur with edge samples repeated outwards; `sigma <= 0` returns a copy.
pub fn gaussian_blur(plane: &Plane, sigma: f32) -> Plane {
    if sigma.is_nan() || sigma <= 0.0 || plane.data.is_empty() {
        return plane.clone();
    }
    let k = gaussian_kernel(sigma);
    let r = (k.len() / 2) as isize;
    let (w, h) = (plane.width, plane.height);
    let mut tmp = vec![0.0f32; w * h];
    par_rows(&mut tmp, w, |y0, band| {
        let mut padded = vec![0.0f32; w + 2 * r as usize];
        for (dy, dst) in band.chunks_exact_mut(w).enumerate() {
            let y = y0 + dy;
            let row = &plane.data[y * w..(y + 1) * w];
            for (i, p) in padded.iter_mut().enumerate() {
                *p = row[(i as isize - r).clamp(0, w as isize - 1) as usize];
            }
            for (x, d) in dst.iter_mut().enumerate() {
                *d = k.iter().zip(&padded[x..]).map(|(a, b)| a * b).sum();
            }
        }
    });
    let mut out = vec![0.0f32; w * h];
    // Vertical pass row by row (cache friendly): out[y] = Σ k[i] · tmp[clamp(y + i − r)].
    par_rows(&mut out, w, |y0, band| {
        for (dy, dst) in band.chunks_exact_mut(w).enumerate() {
            let y = y0 + dy;
            for (i, &kv) in k.iter().enumerate() {
                let sy = (y as isize + i as isize - r).clamp(0, h as isize - 1) as usize;
                for (d, s) in dst.iter_mut().zip(&tmp[sy * w..(sy + 1) * w]) {
                    *d += kv * s;
                }
            }
        }
    });
    Plane { width: w, height: h, data: out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binning_by_two_gives_the_general_block_means() {
        // Odd and even sizes, NaN and infinite samples, a block with none finite.
        for (w, h) in [(8, 6), (7, 5), (1, 3), (9, 1)] {
            let mut data: Vec<f32> = (0..w * h).map(|i| ((i * 37) % 101) as f32 / 101.0).collect();
            data[0] = f32::NAN;
            if w * h > 5 {
                data[5] = f32::INFINITY;
            }
            if w >= 2 && h >= 2 {
                (data[w], data[w + 1], data[1]) = (f32::NAN, f32::NAN, f32::NAN);
            }
            let got = bin_samples(&data, w, h, 2);
            let rows: Vec<&[f32]> = data.chunks_exact(w).collect();
            for (i, v) in got.data.iter().enumerate() {
                let (x, y) = (i % got.width, i / got.width);
                let block: Vec<&[f32]> = rows[2 * y..(2 * y + 2).min(h)].to_vec();
                let want = block_mean(&block, 2 * x, (w - 2 * x).min(2));
                assert!(v.to_bits() == want.to_bits() || (v.is_nan() && want.is_nan()), "{w}×{h} ({x}, {y})");
            }
            if w >= 2 && h >= 2 {
                assert!(got.data[0].is_nan(), "a block with no finite sample");
            }
        }
        let flat = bin_samples(&[0.25, 0.75, 0.5, 0.5], 2, 2, 2);
        assert_eq!(flat.data, vec![0.5]);
    }

    #[test]
    fn binning_averages_blocks_and_skips_nan() {
        let p = Plane::from_vec(3, 2, vec![1.0, 3.0, 5.0, f32::NAN, 2.0, 7.0]).unwrap();
        let b = bin(&p, 2);
        assert_eq!((b.width, b.height), (2, 1));
        assert!((b.data[0] - 2.0).abs() < 1e-6);
        assert!((b.data[1] - 6.0).abs() < 1e-6);
    }

    #[test]
    fn blur_keeps_flux_and_flat_planes() {
        let mut p = Plane::filled(21, 21, 0.0);
        p.data[10 * 21 + 10] = 1.0;
        let b = gaussian_blur(&p, 2.0);
        let total: f32 = b.data.iter().sum();
        assert!((total - 1.0).abs() < 1e-4, "{total}");
        assert!(b.at(10, 10) < 0.1 && b.at(10, 10) > b.at(13, 10));
        let flat = gaussian_blur(&Plane::filled(5, 1, 0.3), 4.0);
        assert!(flat.data.iter().all(|v| (v - 0.3).abs() < 1e-6));
    }

    #[test]
    fn noise_sigma_ignores_gradients() {
        // Deterministic pseudo-random Gaussian noise (sum of uniforms) on a strong ramp.
        let mut state = 12345u32;
        let mut uniform = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            state as f32 / u32::MAX as f32
        };
        let (w, h) = (256, 256);
        let data = (0..w * h)
            .map(|i| {
                let g: f32 = (0..12).map(|_| uniform()).sum::<f32>() - 6.0;
                (i % w) as f32 * 0.01 + 0.05 * g
            })
            .collect();
        let s = noise_sigma(&Plane::from_vec(w, h, data).unwrap(), 1);
        assert!((s - 0.05).abs() < 0.005, "sigma {s}");
    }

    #[test]
    fn quantile_of_values() {
        let v: Vec<f32> = (0..101).map(|i| i as f32).collect();
        assert_eq!(quantile(&v, 0.5, 1000), Some(50.0));
        assert_eq!(quantile(&v, 0.0, 1000), Some(0.0));
        assert_eq!(quantile(&[f32::NAN], 0.5, 10), None);
    }
}
