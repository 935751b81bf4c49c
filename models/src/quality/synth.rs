//! Frames with known faults, for the triage tests and figures: one star field observed under changing conditions.
//!
//! A session is a fixed [`Field`] (stars with a power-law brightness distribution, optionally an edge-on galaxy
//! and bright stars with diffraction spikes) rendered under [`Conditions`]: transparency (clouds dim every star and,
//! lit by a town, brighten the sky), seeing or focus (the FWHM; flux is kept, so a defocused star is fainter at its
//! peak), tracking (each star smeared along a line), a dither between frames, and satellite trails of known ends
//! and brightness. Stars are Moffat profiles (β = 3, [`crate::naive::synth::add_star`]); noise is a 10 ADU read
//! noise plus the sky's shot noise at one electron per ADU; the result is quantised to 16 bits and clipped, so
//! bright stars saturate as they do in a camera.

use dso_plugin_api::{Encoding, Frame};

use crate::naive::synth::{add_galaxy, add_star, Galaxy, Rng};
use crate::ops::Plane;

/// ADU per unit of the decoded frame.
const ADU: f32 = 65535.0;

/// What is in the sky.
#[derive(Clone, Debug)]
pub struct Field {
    /// Frame width.
    pub width: usize,
    /// Frame height.
    pub height: usize,
    /// Stars: x, y, peak (fraction of full scale) at FWHM [`REFERENCE_FWHM`].
    pub stars: Vec<(f32, f32, f32)>,
    /// Galaxies (edge-on ones test that trails are not confused with them).
    pub galaxies: Vec<Galaxy>,
    /// Diffraction spikes on the brightest stars (a Newtonian's spider), at this angle, degrees; `None`: a
    /// refractor.
    pub spikes: Option<f32>,
}

/// The FWHM at which [`Field::stars`] peaks are given, pixels.
pub const REFERENCE_FWHM: f32 = 2.5;

impl Field {
    /// A field of `density` stars per 10 000 pixels, peaks from 20 to 60 000 ADU (power law, many faint ones).
    pub fn new(width: usize, height: usize, density: f32, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let count = (width * height) as f32 * density / 10_000.0;
        let (lo, hi) = (20.0 / ADU, 60_000.0 / ADU);
        let stars = (0..count as usize)
            .map(|_| {
                let (x, y) = (rng.uniform() * width as f32, rng.uniform() * height as f32);
                // Inverse-CDF sample of dN/dpeak ∝ peak^-1.8.
                let u = rng.uniform();
                let a = 0.8f32;
                let peak = (lo.powf(-a) - u * (lo.powf(-a) - hi.powf(-a))).powf(-1.0 / a);
                (x, y, peak)
            })
            .collect();
        Self { width, height, stars, galaxies: Vec::new(), spikes: None }
    }

    /// Adds bright stars at the given places with a peak of `peak` (fraction of full scale; above 1 saturates).
    pub fn with_bright_stars(mut self, at: &[(f32, f32)], peak: f32) -> Self {
        self.stars.extend(at.iter().map(|&(x, y)| (x, y, peak)));
        self
    }
}

/// How the field is observed in one frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Conditions {
    /// Fraction of the starlight that gets through (1: clear; 0.3: thick cloud).
    pub transparency: f32,
    /// Sky level, ADU.
    pub sky: f32,
    /// Extra sky from clouds lit by a town, ADU per unit of lost transparency.
    pub cloud_glow: f32,
    /// Star FWHM, pixels (seeing and focus).
    pub fwhm: f32,
    /// Tracking error: the length each star is smeared over during the exposure, pixels.
    pub trailing: f32,
    /// Direction of the smear, degrees from +x.
    pub trailing_angle: f32,
    /// Pointing offset of this frame, pixels.
    pub dither: (f32, f32),
}

impl Default for Conditions {
    fn default() -> Self {
        Self {
            transparency: 1.0,
            sky: 1000.0,
            cloud_glow: 400.0,
            fwhm: REFERENCE_FWHM,
            trailing: 0.0,
            trailing_angle: 0.0,
            dither: (0.0, 0.0),
        }
    }
}

/// A satellite trail to draw: ends in pixels and peak brightness in units of the frame's noise.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrailSpec {
    /// One end.
    pub a: (f32, f32),
    /// The other end.
    pub b: (f32, f32),
    /// Peak above the sky, in noise sigmas.
    pub peak_sigma: f32,
}

/// The noise sigma of a frame under `c`, ADU.
pub fn noise_adu(c: &Conditions) -> f32 {
    (100.0 + sky_adu(c)).sqrt()
}

fn sky_adu(c: &Conditions) -> f32 {
    c.sky + c.cloud_glow * (1.0 - c.transparency).max(0.0)
}

/// Renders a mono 16-bit-quantised linear frame.
pub fn render(field: &Field, c: &Conditions, trails: &[TrailSpec], seed: u64) -> Frame {
    let (w, h) = (field.width, field.height);
    let sky = sky_adu(c) / ADU;
    let mut p = Plane::filled(w, h, sky);
    let flux_scale = c.transparency * (REFERENCE_FWHM / c.fwhm).powi(2);
    // A trailed star is the sum of its positions during the exposure.
    let steps = (c.trailing / (0.5 * c.fwhm)).ceil().max(1.0) as usize;
    let (ts, tc) = c.trailing_angle.to_radians().sin_cos();
    for &(x, y, peak) in &field.stars {
        let (x, y) = (x + c.dither.0, y + c.dither.1);
        let peak = peak * flux_scale;
        for i in 0..steps {
            let f = if steps == 1 { 0.0 } else { i as f32 / (steps - 1) as f32 - 0.5 };
            add_star(&mut p, x + f * c.trailing * tc, y + f * c.trailing * ts, peak / steps as f32, c.fwhm);
        }
        if let Some(angle) = field.spikes.filter(|_| peak > 0.5) {
            for k in 0..4 {
                let a = (angle + 90.0 * k as f32).to_radians();
                let len = 25.0 * (peak / 0.5).sqrt() * (c.fwhm / REFERENCE_FWHM).sqrt();
                add_spike(&mut p, (x, y), a, len, 0.2 * peak, 0.8 * c.fwhm);
            }
        }
    }
    for g in &field.galaxies {
        let g = Galaxy { x: g.x + c.dither.0, y: g.y + c.dither.1, peak: g.peak * c.transparency, ..*g };
        add_galaxy(&mut p, &g);
    }
    let noise = noise_adu(c) / ADU;
    for t in trails {
        add_segment(&mut p, t.a, t.b, t.peak_sigma * noise, c.fwhm);
    }
    let mut rng = Rng::new(seed);
    let data = p.data.iter().map(|v| ((v + noise * rng.normal()).clamp(0.0, 1.0) * ADU).round() / ADU).collect();
    Frame::new(w, h, vec![data], Encoding::Linear).expect("a rendered frame is valid")
}

/// A straight trail with a Gaussian cross-section, painted over its bounding box only.
pub fn add_segment(p: &mut Plane, (x0, y0): (f32, f32), (x1, y1): (f32, f32), peak: f32, fwhm: f32) {
    let sigma = fwhm / 2.3548;
    let reach = 4.0 * sigma;
    let (dx, dy) = (x1 - x0, y1 - y0);
    let len2 = (dx * dx + dy * dy).max(1e-6);
    let bx0 = (x0.min(x1) - reach).floor().max(0.0) as usize;
    let by0 = (y0.min(y1) - reach).floor().max(0.0) as usize;
    let bx1 = ((x0.max(x1) + reach).ceil().max(0.0) as usize).min(p.width);
    let by1 = ((y0.max(y1) + reach).ceil().max(0.0) as usize).min(p.height);
    for y in by0..by1 {
        for x in bx0..bx1 {
            let t = (((x as f32 - x0) * dx + (y as f32 - y0) * dy) / len2).clamp(0.0, 1.0);
            let (ex, ey) = (x as f32 - (x0 + t * dx), y as f32 - (y0 + t * dy));
            let d2 = ex * ex + ey * ey;
            if d2 < reach * reach {
                p.data[y * p.width + x] += peak * (-d2 / (2.0 * sigma * sigma)).exp();
            }
        }
    }
}

/// One diffraction spike: a thin line from a star outwards, fading linearly to nothing over `len` pixels.
fn add_spike(p: &mut Plane, (x, y): (f32, f32), angle: f32, len: f32, peak: f32, fwhm: f32) {
    let (s, c) = angle.sin_cos();
    let steps = (2.0 * len) as usize;
    for i in 0..steps {
        let t = i as f32 * 0.5;
        let fade = 1.0 - t / len;
        // Short Gaussian dabs along the spike, each carrying half a pixel of its length.
        add_dab(p, x + t * c, y + t * s, 0.5 * peak * fade, fwhm);
    }
}

fn add_dab(p: &mut Plane, x: f32, y: f32, peak: f32, fwhm: f32) {
    let sigma = fwhm / 2.3548;
    let r = (3.0 * sigma).ceil() as isize;
    for dy in -r..=r {
        for dx in -r..=r {
            let (xx, yy) = (x.round() as isize + dx, y.round() as isize + dy);
            if xx < 0 || yy < 0 || xx >= p.width as isize || yy >= p.height as isize {
                continue;
            }
            let d2 = (xx as f32 - x).powi(2) + (yy as f32 - y).powi(2);
            p.data[yy as usize * p.width + xx as usize] += peak * (-d2 / (2.0 * sigma * sigma)).exp();
        }
    }
}
