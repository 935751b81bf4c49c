//! The Hough accumulator scored against what noise alone votes along each chord, and the lines it finds.

use super::{ANGLE_STEP, RHO_STEP};
use crate::ops::Plane;

/// The Hough accumulator: angle rows, distance columns, distances from the image centre.
pub(super) struct Hough {
    w: usize,
    h: usize,
    cos: Vec<f32>,
    sin: Vec<f32>,
    n_rho: usize,
    acc: Vec<i32>,
    /// Each cell's chord through the image (its length is what noise votes in proportion to).
    chord: std::sync::Arc<Vec<f32>>,
    /// Cells already examined.
    done: Vec<bool>,
}

impl Hough {
    pub(super) fn new(w: usize, h: usize) -> Self {
        let n_theta = (180.0 / ANGLE_STEP) as usize;
        let (sin, cos): (Vec<f32>, Vec<f32>) =
            (0..n_theta).map(|k| (k as f32 * ANGLE_STEP).to_radians().sin_cos()).unzip();
        let n_rho = ((w as f32).hypot(h as f32) / RHO_STEP).ceil() as usize + 2;
        let cells = n_theta * n_rho;
        Self {
            w,
            h,
            cos,
            sin,
            n_rho,
            acc: vec![0; cells],
            chord: chords(w, h, n_theta, n_rho),
            done: vec![false; cells],
        }
    }

    pub(super) fn rho_index(&self, rho: f32) -> usize {
        ((rho + self.n_rho as f32 * RHO_STEP / 2.0) / RHO_STEP) as usize
    }

    pub(super) fn vote(&mut self, x: f32, y: f32, by: i32) {
        let (xc, yc) = (x - self.w as f32 / 2.0, y - self.h as f32 / 2.0);
        for k in 0..self.cos.len() {
            let rho = xc * self.cos[k] + yc * self.sin[k];
            let j = self.rho_index(rho).min(self.n_rho - 1);
            self.acc[k * self.n_rho + j] += by;
        }
    }

    /// The most significant pair of neighbouring distance cells: `(theta_deg, rho, z)`.
    pub(super) fn best(&self, p_vote: f32) -> Option<(f32, f32, f32)> {
        let mut best: Option<(usize, f32)> = None;
        let scale = p_vote * 2.0 * RHO_STEP;
        for (i, pair) in self.acc.windows(2).enumerate() {
            let votes = (pair[0] + pair[1]) as f32;
            if votes < 8.0 || self.done[i] || (i + 1) % self.n_rho == 0 {
                continue;
            }
            let expected = scale * self.chord[i] + 1.0;
            let excess = votes - expected;
            // z = excess / √expected, compared without the root: z² · sign.
            let z2 = excess * excess.abs() / expected;
            if best.is_none_or(|b| z2 > b.1) {
                best = Some((i, z2));
            }
        }
        let (i, z2) = best?;
        let (k, j) = (i / self.n_rho, i % self.n_rho);
        let rho = (j as f32 + 1.0) * RHO_STEP - self.n_rho as f32 * RHO_STEP / 2.0;
        Some((k as f32 * ANGLE_STEP, rho, z2.signum() * z2.abs().sqrt()))
    }

    /// Marks the cells around a peak as examined.
    pub(super) fn suppress(&mut self, theta: f32, rho: f32) {
        let n_theta = self.cos.len() as isize;
        let k0 = (theta / ANGLE_STEP).round() as isize;
        let j0 = self.rho_index(rho) as isize;
        for dk in -4..=4 {
            let k = (k0 + dk).rem_euclid(n_theta) as usize;
            // Past 180° the same line has the opposite distance.
            let j = if k0 + dk < 0 || k0 + dk >= n_theta { self.n_rho as isize - 1 - j0 } else { j0 };
            for dj in -3..=3 {
                if let Ok(j) = usize::try_from(j + dj) {
                    if j < self.n_rho {
                        self.done[k * self.n_rho + j] = true;
                    }
                }
            }
        }
    }
}

/// The chord of every accumulator cell, computed once per working-image size (a camera's frames all have one).
pub(super) fn chords(w: usize, h: usize, n_theta: usize, n_rho: usize) -> std::sync::Arc<Vec<f32>> {
    type Cache = std::sync::Mutex<Option<((usize, usize), std::sync::Arc<Vec<f32>>)>>;
    static CACHE: Cache = std::sync::Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((size, chord)) = cache.as_ref() {
        if *size == (w, h) {
            return std::sync::Arc::clone(chord);
        }
    }
    let mut chord = vec![0.0f32; n_theta * n_rho];
    for k in 0..n_theta {
        for j in 0..n_rho - 1 {
            let rho = (j as f32 + 1.0) * RHO_STEP - n_rho as f32 * RHO_STEP / 2.0;
            chord[k * n_rho + j] = Line::new(w, h, k as f32 * ANGLE_STEP, rho).map_or(0.0, |l| l.t_max - l.t_min);
        }
    }
    let chord = std::sync::Arc::new(chord);
    *cache = Some(((w, h), std::sync::Arc::clone(&chord)));
    chord
}

/// A line across the working image: points `origin + t · dir`, `t` in `t_min..=t_max` inside the image.
#[derive(Clone, Copy, Debug)]
pub(super) struct Line {
    pub(super) ox: f32,
    pub(super) oy: f32,
    pub(super) dx: f32,
    pub(super) dy: f32,
    pub(super) t_min: f32,
    pub(super) t_max: f32,
}

impl Line {
    /// The line at distance `rho` from the image centre along the normal at `theta_deg`; `None` when it misses
    /// the image.
    pub(super) fn new(w: usize, h: usize, theta_deg: f32, rho: f32) -> Option<Self> {
        let (s, c) = theta_deg.to_radians().sin_cos();
        let (ox, oy) = (w as f32 / 2.0 + rho * c, h as f32 / 2.0 + rho * s);
        let (dx, dy) = (-s, c);
        let (mut t0, mut t1) = (f32::NEG_INFINITY, f32::INFINITY);
        for (o, d, hi) in [(ox, dx, w as f32 - 1.0), (oy, dy, h as f32 - 1.0)] {
            if d.abs() < 1e-6 {
                if o < 0.0 || o > hi {
                    return None;
                }
            } else {
                let (a, b) = ((0.0 - o) / d, (hi - o) / d);
                t0 = t0.max(a.min(b));
                t1 = t1.min(a.max(b));
            }
        }
        (t1 > t0).then_some(Self { ox, oy, dx, dy, t_min: t0, t_max: t1 })
    }

    pub(super) fn at(&self, t: f32) -> (f32, f32) {
        (self.ox + t * self.dx, self.oy + t * self.dy)
    }

    /// Shifted by `d` along the normal.
    pub(super) fn aside(&self, d: f32) -> Self {
        Self { ox: self.ox - d * self.dy, oy: self.oy + d * self.dx, ..*self }
    }

    /// The samples along the line at unit steps (nearest pixel), `t_min` first; outside the image is NaN.
    pub(super) fn profile(&self, p: &Plane) -> Vec<f32> {
        let n = (self.t_max - self.t_min).max(0.0) as usize + 1;
        (0..n)
            .map(|i| {
                let (x, y) = self.at(self.t_min + i as f32);
                let (xi, yi) = (x.round(), y.round());
                if xi < 0.0 || yi < 0.0 || xi >= p.width as f32 || yi >= p.height as f32 {
                    f32::NAN
                } else {
                    p.at(xi as usize, yi as usize)
                }
            })
            .collect()
    }
}
