//! The working image every triage step reads: the frame binned to about 512 pixels a side, its sky background as a
//! smooth mesh, the residual above it, and the frame-level numbers (sky level, noise, saturation).
//!
//! Binning first is what keeps triage cheap at 4096² (one pass over the pixels, then a quarter megapixel's work whatever
//! the sensor), and it helps rather than hurts: averaging `f × f` blocks lowers the noise `f` times, so faint trails
//! and stars stand out more. The background is a median per 32-pixel cell, median-filtered over 3 × 3 cells and
//! interpolated bilinearly — the SExtractor recipe (Bertin & Arnouts 1996, A&AS 117, 393), which follows gradients
//! and moonlight without following stars.

use crate::ops::{self, Plane, MAD_TO_SIGMA};

use super::Params;

/// Background mesh cell, working pixels.
const CELL: usize = 32;

/// The binned frame and what is measured on it.
#[derive(Clone, Debug)]
pub struct Work {
    /// Full frame width.
    pub width: usize,
    /// Full frame height.
    pub height: usize,
    /// Binning factor.
    pub factor: usize,
    /// The binned luminance.
    pub binned: Plane,
    /// The binned frame minus its background.
    pub residual: Plane,
    /// Median sky level, `0..=1`.
    pub background: f32,
    /// Pixel noise of the full frame, `0..=1`.
    pub noise: f32,
    /// Noise of the binned frame, `0..=1`.
    pub sigma: f32,
    /// Fraction of saturated pixels.
    pub saturation: f32,
    /// The background mesh (cell values), for the background at a point.
    mesh: Plane,
}

impl Work {
    /// Bins `lum` (`width × height`, row-major), measures the background, noise and saturation.
    pub fn new(lum: &[f32], width: usize, height: usize, params: &Params) -> Self {
        let n = width * height;
        let lum = &lum[..n.min(lum.len())];
        let factor = width.max(height).div_ceil(params.work_side.max(16)).max(1);
        let (binned, sat) = bin_and_count(lum, width, height, factor, params.saturation);
        let noise = noise_of(lum, width, height);
        let saturation = if n > 0 { sat as f32 / n as f32 } else { 0.0 };
        let mesh = mesh(&binned);
        let background = ops::quantile(&mesh.data, 0.5, usize::MAX).unwrap_or(0.0);
        let mut residual = binned.clone();
        let mut sky = vec![0.0f32; binned.width];
        for (y, row) in residual.data.chunks_exact_mut(binned.width.max(1)).enumerate() {
            mesh_row(&mesh, y as f32, &mut sky);
            for (r, s) in row.iter_mut().zip(&sky) {
                let v = *r - s;
                *r = if v.is_finite() { v } else { 0.0 };
            }
        }
        let sigma = ops::noise_sigma(&residual, 1).max(f32::EPSILON);
        Self { width, height, factor, binned, residual, background, noise, sigma, saturation, mesh }
    }

    /// The sky background at a working-image position.
    pub fn background_at(&self, x: f32, y: f32) -> f32 {
        mesh_at(&self.mesh, x, y)
    }
}

/// Bins by `factor` (block means, NaN skipped) and counts the samples at or above `saturation`, in one pass over
/// the frame — the only full-resolution pass of triage — in horizontal bands on up to four threads.
fn bin_and_count(data: &[f32], width: usize, height: usize, factor: usize, saturation: f32) -> (Plane, usize) {
    let (w, h) = (width.div_ceil(factor), height.div_ceil(factor));
    let mut out = vec![f32::NAN; w * h];
    let threads = std::thread::available_parallelism().map_or(1, |c| c.get().min(4));
    let band = h.div_ceil(threads).max(1);
    let saturated = std::thread::scope(|scope| {
        let jobs: Vec<_> = data
            .chunks(band * factor * width)
            .zip(out.chunks_mut(band * w))
            .map(|(input, output)| scope.spawn(move || bin_band(input, width, factor, saturation, output)))
            .collect();
        jobs.into_iter().map(|j| j.join().unwrap_or(0)).sum()
    });
    (Plane { width: w, height: h, data: out }, saturated)
}

/// One band of [`bin_and_count`]: whole rows of `data` into whole rows of `out`.
fn bin_band(data: &[f32], width: usize, factor: usize, saturation: f32, out: &mut [f32]) -> usize {
    let w = width.div_ceil(factor);
    let (mut sum, mut count) = (vec![0.0f32; width], vec![0.0f32; width]);
    let mut saturated = 0usize;
    for (block, out_row) in data.chunks(factor * width).zip(out.chunks_mut(w)) {
        sum.fill(0.0);
        count.fill(0.0);
        for row in block.chunks_exact(width) {
            let mut sat = 0u32;
            for ((s, c), &v) in sum.iter_mut().zip(count.iter_mut()).zip(row) {
                let ok = v.is_finite();
                *s += if ok { v } else { 0.0 };
                *c += if ok { 1.0 } else { 0.0 };
                sat += u32::from(v >= saturation);
            }
            saturated += sat as usize;
        }
        for ((o, s), c) in out_row.iter_mut().zip(sum.chunks(factor)).zip(count.chunks(factor)) {
            let n: f32 = c.iter().sum();
            *o = if n > 0.0 { s.iter().sum::<f32>() / n } else { f32::NAN };
        }
    }
    saturated
}

/// Noise sigma from the MAD of horizontal neighbour differences (everything smoother than a pixel cancels), on
/// about 2^18 differences from evenly spaced rows: [`ops::noise_sigma`] for a borrowed plane.
pub fn noise_of(data: &[f32], width: usize, height: usize) -> f32 {
    if width < 2 || height == 0 {
        return 0.0;
    }
    let row_step = (height * (width - 1)).div_ceil(1 << 18).max(1);
    let mut d = Vec::with_capacity(1 << 18);
    for y in (0..height).step_by(row_step) {
        let Some(row) = data.get(y * width..(y + 1) * width) else { break };
        d.extend(row.windows(2).map(|p| (p[1] - p[0]).abs()).filter(|v| v.is_finite()));
    }
    if d.is_empty() {
        return 0.0;
    }
    let mid = d.len() / 2;
    let mad = *d.select_nth_unstable_by(mid, f32::total_cmp).1;
    MAD_TO_SIGMA * mad / std::f32::consts::SQRT_2
}

/// The background mesh: the median of each cell, then the median of each 3 × 3 block of cells (a cell covered by a
/// bright galaxy or a star cluster takes its neighbours' level).
fn mesh(p: &Plane) -> Plane {
    let (mw, mh) = (p.width.div_ceil(CELL).max(1), p.height.div_ceil(CELL).max(1));
    let mut cells = vec![f32::NAN; mw * mh];
    let mut buf = Vec::with_capacity(CELL * CELL);
    for cy in 0..mh {
        for cx in 0..mw {
            buf.clear();
            for y in cy * CELL..((cy + 1) * CELL).min(p.height) {
                let row = &p.data[y * p.width..(y + 1) * p.width];
                buf.extend(row[cx * CELL..((cx + 1) * CELL).min(p.width)].iter().copied().filter(|v| v.is_finite()));
            }
            if !buf.is_empty() {
                let mid = buf.len() / 2;
                cells[cy * mw + cx] = *buf.select_nth_unstable_by(mid, f32::total_cmp).1;
            }
        }
    }
    let mut out = cells.clone();
    let mut nine = Vec::with_capacity(9);
    for cy in 0..mh {
        for cx in 0..mw {
            nine.clear();
            // Symmetric neighbourhoods only: at an edge a 2 × 3 block's median would lean inwards on a gradient.
            let (ry, rx) = (usize::from(cy > 0 && cy + 1 < mh), usize::from(cx > 0 && cx + 1 < mw));
            for y in cy - ry..=cy + ry {
                for x in cx - rx..=cx + rx {
                    let v = cells[y * mw + x];
                    if v.is_finite() {
                        nine.push(v);
                    }
                }
            }
            if !nine.is_empty() {
                let mid = nine.len() / 2;
                out[cy * mw + cx] = *nine.select_nth_unstable_by(mid, f32::total_cmp).1;
            }
        }
    }
    let fill = ops::quantile(&out, 0.5, usize::MAX).unwrap_or(0.0);
    out.iter_mut().filter(|v| !v.is_finite()).for_each(|v| *v = fill);
    Plane { width: mw, height: mh, data: out }
}

/// The mesh interpolated bilinearly between cell centres at working-image position `(x, y)`, extrapolated
/// linearly over the half cell between the outer centres and the edges (a gradient continues there).
fn mesh_at(mesh: &Plane, x: f32, y: f32) -> f32 {
    let c = CELL as f32;
    let (x0, x1, fx) = mesh_axis((x + 0.5) / c - 0.5, mesh.width);
    let (y0, y1, fy) = mesh_axis((y + 0.5) / c - 0.5, mesh.height);
    let top = mesh.at(x0, y0) * (1.0 - fx) + mesh.at(x1, y0) * fx;
    let bottom = mesh.at(x0, y1) * (1.0 - fx) + mesh.at(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// [`mesh_at`] along working-image row `y`, into `out` (one sample per column).
fn mesh_row(mesh: &Plane, y: f32, out: &mut [f32]) {
    let c = CELL as f32;
    let (y0, y1, fy) = mesh_axis((y + 0.5) / c - 0.5, mesh.height);
    let (top, bottom) =
        (&mesh.data[y0 * mesh.width..(y0 + 1) * mesh.width], &mesh.data[y1 * mesh.width..(y1 + 1) * mesh.width]);
    let column: Vec<f32> = top.iter().zip(bottom).map(|(t, b)| t * (1.0 - fy) + b * fy).collect();
    for (x, o) in out.iter_mut().enumerate() {
        let (x0, x1, fx) = mesh_axis((x as f32 + 0.5) / c - 0.5, mesh.width);
        *o = column[x0] * (1.0 - fx) + column[x1] * fx;
    }
}

/// The two mesh cells around mesh coordinate `u` and the weight of the second, extrapolating up to half a cell.
fn mesh_axis(u: f32, n: usize) -> (usize, usize, f32) {
    if n < 2 {
        return (0, 0, 0.0);
    }
    let i0 = (u.floor().max(0.0) as usize).min(n - 2);
    (i0, i0 + 1, (u - i0 as f32).clamp(-0.5, 1.5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gradient_is_followed_and_the_noise_measured() {
        let (w, h) = (512, 384);
        let mut rng = crate::naive::synth::Rng::new(3);
        let data: Vec<f32> =
            (0..w * h).map(|i| 0.02 + 0.01 * (i % w) as f32 / w as f32 + 0.001 * rng.normal()).collect();
        let work = Work::new(&data, w, h, &Params { work_side: 256, ..Params::default() });
        assert_eq!(work.factor, 2);
        assert!((work.noise - 0.001).abs() < 0.0001, "noise {}", work.noise);
        assert!((work.sigma - 0.0005).abs() < 0.0001, "binned noise {}", work.sigma);
        assert!((work.background - 0.025).abs() < 0.001, "background {}", work.background);
        // The gradient is gone from the residual: left and right edges average to zero.
        let col_mean = |x: usize| (0..work.residual.height).map(|y| work.residual.at(x, y)).sum::<f32>() / 192.0;
        assert!(col_mean(3).abs() < 0.0003 && col_mean(250).abs() < 0.0003, "{} {}", col_mean(3), col_mean(250));
        assert_eq!(work.saturation, 0.0);
    }
}
