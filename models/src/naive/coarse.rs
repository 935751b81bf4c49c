//! The coarse level: large, faint, extended objects (nebulae, big galaxies, objects cut by the frame's border).
//!
//! The fine level ([`super::regions`]) looks at the working image a few pixels at a time; a nebula filling half the
//! frame is there only a slow rise of a few hundredths of a noise sigma per pixel, which neither a threshold on a
//! lightly smoothed plane nor Canny sees as one object. In the real smart-telescope set most labels are like that
//! (83 of 113 are larger than 96² px of 640, a third cover more than 70 % of the patch, 62 % touch its border).
//! So the starless, background-subtracted residual is also binned to about [`COARSE_SIZE`] px on its long side —
//! binning by `f` divides the pixel noise by `f` — lightly smoothed, and segmented with hysteresis: seeds
//! `high` sigmas above the sky, grown through every connected pixel above `low` sigmas (as in Canny's edge
//! tracking, Canny 1986). Regions may touch or cross the frame's border: nothing here assumes a ring of sky
//! around an object.
//!
//! The noise of the coarse plane is the larger of the white noise left after binning and the RMS of its negative
//! values: once the background is subtracted the sky sits at zero, so what dips below zero is sky fluctuation —
//! residues of star removal, background-model error, unlabelled faint nebulosity — and, unlike a median-based
//! spread, it is not inflated by an object that covers most of the frame.
//!
//! Each region's evidence is its integrated signal-to-noise ratio, `Σ v / (σ √n)` over its `n` coarse pixels,
//! which grows with both surface brightness and extent: a large coherent region of modest brightness is as sure
//! as a small bright one.

use super::regions::BoxI;
use crate::ops::{bin, gaussian_blur, noise_sigma, Plane};

/// Target long side of the coarse plane: 160 px resolves objects down to ~4 % of the frame (≈ 25 px of a 640-px
/// patch, where the fine level takes over) and keeps the segmentation cheap.
pub const COARSE_SIZE: usize = 160;

/// Tunables of [`candidates`].
#[derive(Clone, Debug, PartialEq)]
pub struct CoarseParams {
    /// Gaussian smoothing of the coarse plane, in coarse pixels.
    pub smooth: f32,
    /// Seeds: coarse pixels at least this many sigmas above the sky.
    pub high: f32,
    /// Regions grow through connected pixels at least this many sigmas above the sky.
    pub low: f32,
    /// Regions smaller than this many coarse pixels are left to the fine level.
    pub min_area: usize,
}

impl Default for CoarseParams {
    fn default() -> Self {
        Self { smooth: 1.0, high: 4.0, low: 2.5, min_area: 12 }
    }
}

/// One coarse candidate: its box in working pixels and its integrated signal-to-noise ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coarse {
    /// Box in working pixels, clipped to the working image.
    pub bbox: BoxI,
    /// `Σ v / (σ √n)` over the region.
    pub snr: f32,
    /// Mean level of the region in sigmas.
    pub mean: f32,
    /// Region pixels over bounding-box pixels (at coarse resolution).
    pub fill: f32,
    /// Fraction of the region's variance explained by a plane fitted to it: near 1 for a sky gradient or
    /// vignetting the background model left, low for a peaked galaxy or a textured nebula.
    pub planarity: f32,
}

/// Binning factor that brings the long side of a `w × h` plane to at most [`COARSE_SIZE`].
pub fn factor(w: usize, h: usize) -> usize {
    w.max(h).div_ceil(COARSE_SIZE).max(1)
}

/// The noise of a (background-subtracted) plane as described in the module documentation.
pub fn sky_sigma(plane: &Plane) -> f32 {
    let white = noise_sigma(plane, 2);
    let (mut s2, mut n) = (0.0f64, 0usize);
    for &v in &plane.data {
        if v < 0.0 {
            s2 += f64::from(v) * f64::from(v);
            n += 1;
        }
    }
    let neg = if n > 0 { (s2 / n as f64).sqrt() as f32 } else { 0.0 };
    white.max(neg)
}

/// Large-object candidates in a starless, background-subtracted residual at working resolution.
pub fn candidates(residual: &Plane, p: &CoarseParams) -> Vec<Coarse> {
    let f = factor(residual.width, residual.height);
    let coarse = gaussian_blur(&bin(residual, f), p.smooth);
    let (w, h) = (coarse.width, coarse.height);
    let sigma = sky_sigma(&coarse);
    if w < 4 || h < 4 || sigma.is_nan() || sigma <= 0.0 {
        return Vec::new();
    }
    let z: Vec<f32> = coarse.data.iter().map(|v| v / sigma).collect();
    let mut label = vec![0u32; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if label[start] != 0 || z[start] < p.high {
            continue;
        }
        // Flood fill (8-connected) from the seed through pixels above `low`.
        let id = out.len() as u32 + 1;
        label[start] = id;
        stack.push(start);
        let (mut n, mut sum) = (0usize, 0.0f64);
        let mut pf = PlaneFit::default();
        let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            n += 1;
            sum += f64::from(z[i]);
            pf.add(x as f64, y as f64, f64::from(z[i]));
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
            for dy in -1isize..=1 {
                for dx in -1isize..=1 {
                    let (nx, ny) = (x as isize + dx, y as isize + dy);
                    if nx < 0 || ny < 0 || nx >= w as isize || ny >= h as isize {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if label[j] == 0 && z[j] >= p.low {
                        label[j] = id;
                        stack.push(j);
                    }
                }
            }
        }
        let bbox = BoxI { x0: x0 * f, y0: y0 * f, x1: (x1 * f).min(residual.width), y1: (y1 * f).min(residual.height) };
        let fill = n as f32 / ((x1 - x0) * (y1 - y0)) as f32;
        let planarity = pf.r2() as f32;
        out.push(Coarse {
            bbox,
            snr: (sum / (n as f64).sqrt()) as f32,
            mean: (sum / n as f64) as f32,
            fill,
            planarity,
        });
        // Keep the id sequence aligned with `out` even for regions dropped below.
        if n < p.min_area {
            out.last_mut().expect("just pushed").snr = f32::NAN;
        }
    }
    out.retain(|c| c.snr.is_finite());
    out
}

/// Running sums for a least-squares plane `z = a + b·x + c·y` and its coefficient of determination.
#[derive(Default)]
struct PlaneFit {
    n: f64,
    x: f64,
    y: f64,
    z: f64,
    xx: f64,
    yy: f64,
    xy: f64,
    xz: f64,
    yz: f64,
    zz: f64,
}

impl PlaneFit {
    fn add(&mut self, x: f64, y: f64, z: f64) {
        self.n += 1.0;
        (self.x, self.y, self.z) = (self.x + x, self.y + y, self.z + z);
        (self.xx, self.yy, self.xy) = (self.xx + x * x, self.yy + y * y, self.xy + x * y);
        (self.xz, self.yz, self.zz) = (self.xz + x * z, self.yz + y * z, self.zz + z * z);
    }

    /// R² of the fit: explained over total variance (0 when degenerate).
    fn r2(&self) -> f64 {
        let n = self.n;
        if n < 3.0 {
            return 0.0;
        }
        // Centred second moments.
        let sxx = self.xx - self.x * self.x / n;
        let syy = self.yy - self.y * self.y / n;
        let sxy = self.xy - self.x * self.y / n;
        let sxz = self.xz - self.x * self.z / n;
        let syz = self.yz - self.y * self.z / n;
        let szz = self.zz - self.z * self.z / n;
        let det = sxx * syy - sxy * sxy;
        if det.abs() < 1e-9 || szz <= 1e-12 {
            return 0.0;
        }
        let b = (sxz * syy - syz * sxy) / det;
        let c = (syz * sxx - sxz * sxy) / det;
        ((b * sxz + c * syz) / szz).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_faint_plateau_cut_by_the_border_is_one_region() {
        // A plateau of 0.5 pixel-noise sigmas covering the right 60 % of the frame: invisible pixel by pixel,
        // obvious once binned.
        let (w, h) = (640, 480);
        let mut state = 7u32;
        let mut noise = || {
            let mut g = 0.0;
            for _ in 0..12 {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                g += state as f32 / u32::MAX as f32;
            }
            g - 6.0
        };
        let data = (0..w * h).map(|i| if i % w >= 256 { 0.5 } else { 0.0 } + noise()).collect();
        let found = candidates(&Plane::from_vec(w, h, data).unwrap(), &CoarseParams::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let b = found[0].bbox;
        assert!(b.x0.abs_diff(256) <= 12 && b.x1 == w && b.y0 == 0 && b.y1 == h, "{b:?}");
        // Pure noise gives nothing.
        let empty: Vec<f32> = (0..w * h).map(|_| noise()).collect();
        assert!(candidates(&Plane::from_vec(w, h, empty).unwrap(), &CoarseParams::default()).is_empty());
    }
}
