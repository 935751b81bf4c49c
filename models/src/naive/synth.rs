//! Synthetic sky frames with a known truth, for the naive detector's tests and tuning tools.
//!
//! Real labelled frames are scarce and the dev set must not be tuned on, so the detector is tuned on renders where
//! the answer is known: Moffat stars (the standard seeing profile, A. F. J. Moffat, A&A 3, 1969, β ≈ 3 for
//! ground-based seeing), Sérsic galaxies (J. L. Sérsic 1963; n = 1 exponential discs, n = 4 de Vaucouleurs
//! bulges), satellite trails, sky gradients and Gaussian noise from a seeded generator (reproducible).

use crate::ops::Plane;

/// A small deterministic random generator (SplitMix64), so tests and tools are reproducible without a dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is negligible for the small `n` of tests).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `0..1`.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f32 {
        let u = self.uniform().max(1e-7);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

/// Adds a Moffat star of peak `peak` and full width at half maximum `fwhm` centred at `(x, y)`.
pub fn add_star(p: &mut Plane, x: f32, y: f32, peak: f32, fwhm: f32) {
    const BETA: f32 = 3.0;
    // FWHM = 2α√(2^(1/β) − 1) (Moffat 1969).
    let alpha = fwhm / (2.0 * (2f32.powf(1.0 / BETA) - 1.0).sqrt());
    let reach = (alpha * (peak / 1e-4).powf(1.0 / (2.0 * BETA))).min(60.0);
    paint(p, x, y, reach, |dx, dy| peak * (1.0 + (dx * dx + dy * dy) / (alpha * alpha)).powf(-BETA));
}

/// A Sérsic galaxy.
#[derive(Clone, Copy, Debug)]
pub struct Galaxy {
    /// Centre, x.
    pub x: f32,
    /// Centre, y.
    pub y: f32,
    /// Central surface brightness.
    pub peak: f32,
    /// Effective (half-light) radius along the major axis, pixels.
    pub re: f32,
    /// Sérsic index (1: exponential disc, 4: de Vaucouleurs).
    pub n: f32,
    /// Axis ratio, minor/major.
    pub q: f32,
    /// Position angle of the major axis, radians from +x.
    pub angle: f32,
}

/// Adds a Sérsic galaxy.
pub fn add_galaxy(p: &mut Plane, g: &Galaxy) {
    // b_n ≈ 2n − 1/3 (Ciotti & Bertin 1999, good for n ≳ 0.5).
    let b = 2.0 * g.n - 1.0 / 3.0;
    let (s, c) = g.angle.sin_cos();
    paint(p, g.x, g.y, 8.0 * g.re, |dx, dy| {
        let u = dx * c + dy * s;
        let v = (-dx * s + dy * c) / g.q.max(0.05);
        g.peak * (-b * ((u * u + v * v).sqrt() / g.re).powf(1.0 / g.n)).exp()
    });
}

/// Adds a straight trail of peak `peak` and Gaussian cross-section `fwhm` from `(x0, y0)` to `(x1, y1)`.
pub fn add_trail(p: &mut Plane, (x0, y0): (f32, f32), (x1, y1): (f32, f32), peak: f32, fwhm: f32) {
    let sigma = fwhm / 2.3548;
    let (dx, dy) = (x1 - x0, y1 - y0);
    let len2 = (dx * dx + dy * dy).max(1e-6);
    for y in 0..p.height {
        for x in 0..p.width {
            let t = (((x as f32 - x0) * dx + (y as f32 - y0) * dy) / len2).clamp(0.0, 1.0);
            let (ex, ey) = (x as f32 - (x0 + t * dx), y as f32 - (y0 + t * dy));
            p.data[y * p.width + x] += peak * (-(ex * ex + ey * ey) / (2.0 * sigma * sigma)).exp();
        }
    }
}

/// Adds Gaussian noise of standard deviation `sigma`.
pub fn add_noise(p: &mut Plane, sigma: f32, rng: &mut Rng) {
    for v in &mut p.data {
        *v += sigma * rng.normal();
    }
}

/// Adds `count` stars at random positions with peaks drawn from a power law between `min_peak` and `max_peak`
/// (many faint stars, few bright ones, as in real fields), all of the same FWHM.
pub fn add_star_field(p: &mut Plane, count: usize, min_peak: f32, max_peak: f32, fwhm: f32, rng: &mut Rng) {
    for _ in 0..count {
        let (x, y) = (rng.uniform() * p.width as f32, rng.uniform() * p.height as f32);
        // Inverse-CDF sample of dN/dpeak ∝ peak^-2.
        let u = rng.uniform();
        let peak = 1.0 / (1.0 / min_peak - u * (1.0 / min_peak - 1.0 / max_peak));
        add_star(p, x, y, peak, fwhm);
    }
}

/// The benchmarks' frame (`naive_bench`, `triage_bench`): a linear mono frame quantised to 16 bits, sky at 1000 ADU
/// with 20 ADU of noise, a star field and one galaxy, sized for `w × h` (FWHM and galaxy grow with the frame).
pub fn bench_frame(w: usize, h: usize) -> dso_plugin_api::Frame {
    let mut rng = Rng::new(42);
    let scale = (w.max(h) as f32 / 1024.0).max(1.0);
    let mut p = Plane::filled(w, h, 1000.0 / 65535.0);
    add_star_field(&mut p, w * h / 2000, 0.002, 0.9, 2.5 * scale, &mut rng);
    let g = Galaxy { x: w as f32 * 0.6, y: h as f32 * 0.4, peak: 0.004, re: 20.0 * scale, n: 1.0, q: 0.6, angle: 0.4 };
    add_galaxy(&mut p, &g);
    add_noise(&mut p, 20.0 / 65535.0, &mut rng);
    let data = p.data.iter().map(|v| (v.clamp(0.0, 1.0) * 65535.0).round() / 65535.0).collect();
    dso_plugin_api::Frame::new(w, h, vec![data], dso_plugin_api::Encoding::Linear).expect("valid frame")
}

/// The bounding box `[x, y, width, height]` of the pixels of `p` above `level`, if any.
pub fn extent(p: &Plane, level: f32) -> Option<[f32; 4]> {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in 0..p.height {
        for x in 0..p.width {
            if p.at(x, y) > level {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
        }
    }
    (x0 != usize::MAX).then(|| [x0 as f32, y0 as f32, (x1 - x0 + 1) as f32, (y1 - y0 + 1) as f32])
}

fn paint(p: &mut Plane, x: f32, y: f32, reach: f32, f: impl Fn(f32, f32) -> f32) {
    let x0 = (x - reach).floor().max(0.0) as usize;
    let y0 = (y - reach).floor().max(0.0) as usize;
    let x1 = ((x + reach).ceil().max(0.0) as usize).min(p.width);
    let y1 = ((y + reach).ceil().max(0.0) as usize).min(p.height);
    for yy in y0..y1 {
        for xx in x0..x1 {
            p.data[yy * p.width + xx] += f(xx as f32 - x, yy as f32 - y);
        }
    }
}
