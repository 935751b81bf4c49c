//! Large-scale sky background: a tilted plane fitted to the lower envelope of tile medians.
//!
//! Light pollution, the Moon and vignetting add a smooth gradient that Canny and a threshold would otherwise
//! report as an object. The usual mesh background (SExtractor's 64-px tiles) follows anything larger than a tile,
//! and the objects we look for are often larger than that: in the real smart-telescope set a third of the labels
//! cover more than 70 % of the patch. So the background here is deliberately stiff: a plane (the gradient of light
//! pollution or moonlight) fitted to the medians of an 8×8 grid of tiles, refitted three times on the tiles lying at
//! or below the fit, which walks it down onto the sky between the objects rather than through them. A quadratic
//! (for vignetting too) was tried first: under an object a third of the frame wide it bent and ended 0.06 below the
//! sky in a corner, ten times the plane's error (the unit test's frame), so vignetting is left to flat fielding.

use crate::ops::{quantile, Plane};

/// Tile grid across the longer side; 8 tiles leaves each one large against the stars (which are already removed)
/// and still resolves a quadratic surface.
const TILES: usize = 8;
/// Refits on the lower half of the tiles.
const ITERATIONS: usize = 3;

/// Number of terms of the surface.
const N: usize = 3;

/// The plane's terms at normalised coordinates `(u, v)` in `-1..=1`.
fn terms(u: f32, v: f32) -> [f32; N] {
    [1.0, u, v]
}

/// Least-squares fit of the terms to `(u, v, value)` samples; `None` when singular.
fn fit(samples: &[(f32, f32, f32)]) -> Option<[f32; N]> {
    let mut a = [[0.0f64; N + 1]; N];
    for &(u, v, z) in samples {
        let t = terms(u, v);
        for i in 0..N {
            for j in 0..N {
                a[i][j] += f64::from(t[i] * t[j]);
            }
            a[i][N] += f64::from(t[i] * z);
        }
    }
    // Gauss–Jordan elimination with partial pivoting on the augmented system.
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        for row in 0..N {
            if row != col {
                let f = a[row][col] / a[col][col];
                let pivot_row = a[col];
                for (v, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                    *v -= f * p;
                }
            }
        }
    }
    let mut c = [0.0f32; N];
    for (i, ci) in c.iter_mut().enumerate() {
        *ci = (a[i][N] / a[i][i]) as f32;
    }
    Some(c)
}

/// Estimates the smooth sky background of a (starless) plane.
pub fn estimate(plane: &Plane) -> Plane {
    let (w, h) = (plane.width, plane.height);
    let tile = (w.max(h) / TILES).max(1);
    let (nx, ny) = (w.div_ceil(tile), h.div_ceil(tile));
    let norm = |x: f32, n: usize| if n > 1 { 2.0 * x / (n - 1) as f32 - 1.0 } else { 0.0 };
    let mut samples = Vec::with_capacity(nx * ny);
    let mut buf = Vec::new();
    for ty in 0..ny {
        for tx in 0..nx {
            buf.clear();
            for y in ty * tile..((ty + 1) * tile).min(h) {
                buf.extend_from_slice(&plane.data[y * w + tx * tile..y * w + ((tx + 1) * tile).min(w)]);
            }
            if let Some(m) = quantile(&buf, 0.5, 4096) {
                let cx = (tx * tile) as f32 + 0.5 * (((tx + 1) * tile).min(w) - tx * tile) as f32 - 0.5;
                let cy = (ty * tile) as f32 + 0.5 * (((ty + 1) * tile).min(h) - ty * tile) as f32 - 0.5;
                samples.push((norm(cx, w), norm(cy, h), m));
            }
        }
    }
    let constant = quantile(&samples.iter().map(|s| s.2).collect::<Vec<_>>(), 0.25, samples.len()).unwrap_or(0.0);
    let mut coef = None;
    if samples.len() >= 4 * N {
        let mut used = samples.clone();
        for _ in 0..ITERATIONS {
            let Some(c) = fit(&used) else { break };
            coef = Some(c);
            let resid: Vec<f32> = samples.iter().map(|&(u, v, z)| z - dot(&c, u, v)).collect();
            let cut = quantile(&resid, 0.5, resid.len()).unwrap_or(0.0);
            used = samples.iter().zip(&resid).filter(|(_, &r)| r <= cut).map(|(s, _)| *s).collect();
            if used.len() < 2 * N {
                break;
            }
        }
    }
    let mut out = Plane::filled(w, h, constant);
    if let Some(c) = coef {
        for y in 0..h {
            for x in 0..w {
                out.data[y * w + x] = dot(&c, norm(x as f32, w), norm(y as f32, h));
            }
        }
    }
    out
}

fn dot(c: &[f32; N], u: f32, v: f32) -> f32 {
    terms(u, v).iter().zip(c).map(|(t, c)| t * c).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_gradient_but_not_a_large_object() {
        let (w, h) = (256, 200);
        let mut p = Plane::filled(w, h, 0.0);
        for y in 0..h {
            for x in 0..w {
                let sky = 0.2 + 0.1 * x as f32 / w as f32 + 0.05 * y as f32 / h as f32;
                let (dx, dy) = (x as f32 - 90.0, y as f32 - 100.0);
                let object = 0.3 * (-(dx * dx + dy * dy) / (2.0 * 35.0f32.powi(2))).exp();
                p.data[y * w + x] = sky + object;
            }
        }
        let bg = estimate(&p);
        // Far from the object the fit is the sky; on the object it stays well below the object's light.
        let sky = |x: usize, y: usize| 0.2 + 0.1 * x as f32 / w as f32 + 0.05 * y as f32 / h as f32;
        assert!((bg.at(240, 10) - sky(240, 10)).abs() < 0.02, "{} vs {}", bg.at(240, 10), sky(240, 10));
        assert!(bg.at(90, 100) - sky(90, 100) < 0.1, "object eaten: {}", bg.at(90, 100) - sky(90, 100));
        assert_eq!(estimate(&Plane::filled(1, 1, 0.4)).data, vec![0.4]);
    }
}
