//! Classical star removal: white top-hat, threshold, grow, inpaint.
//!
//! The paper's naive method removes stars with StarNet before looking for edges (Parisot & Jaziri 2024, §3.1); we
//! have no StarNet weights, so this is the classical recipe measured in `shared/ML-NOTES.md` ("Star removal"): a
//! white top-hat with a disk about twice the stars' FWHM across keeps only features narrower than the disk (stars,
//! and unfortunately compact galaxy cores), thresholding it at median + 5·MAD finds the star pixels, each star's mask
//! is grown to cover its wings, and the holes are filled from the surrounding sky with [`crate::ops::inpaint`].
//! On synthetic frames with a known star-free truth this cut the error 9× (ML-NOTES); `docs/STAR-REMOVAL.md`
//! compares it with a pretrained network on real frames.

use imageproc::region_labelling::{connected_components, Connectivity};

use crate::ops::inpaint::inpaint;
use crate::ops::mask::{dilate, fill_holes, Mask};
use crate::ops::morph::{dilate_disk, white_tophat};
use crate::ops::{quantile, Plane, MAD_TO_SIGMA};

/// Tunables of [`remove_stars`].
#[derive(Clone, Debug, PartialEq)]
pub struct StarParams {
    /// Stars' full width at half maximum in working pixels; `None` measures it on the frame ([`estimate_fwhm`]).
    pub fwhm: Option<f32>,
    /// FWHM assumed when it cannot be measured (no usable star). 2.5 px is typical of a well-sampled frame.
    pub default_fwhm: f32,
    /// Top-hat disk radius in FWHM: 1.0 makes the disk two FWHM across, as in ML-NOTES. A Gaussian star keeps only
    /// 6 % of its peak under an opening of that radius.
    pub tophat_radius_fwhm: f32,
    /// Star pixels are top-hat values above median + `threshold_mad` × MAD of the top-hat (ML-NOTES: 5).
    pub threshold_mad: f32,
    /// Every star's mask grows by this many FWHM beyond the pixels that crossed the threshold, to cover the wings.
    pub grow_fwhm: f32,
    /// …plus this many times the star's own equivalent radius, so bright (wide) stars get proportionally wider masks.
    pub grow_size: f32,
    /// Laplace smoothing steps after the pyramid fill (see [`crate::ops::inpaint`]).
    pub smoothing: usize,
}

impl Default for StarParams {
    fn default() -> Self {
        Self {
            fwhm: None,
            default_fwhm: 2.5,
            tophat_radius_fwhm: 1.0,
            threshold_mad: 5.0,
            grow_fwhm: 1.0,
            grow_size: 0.5,
            smoothing: 6,
        }
    }
}

/// What [`remove_stars`] returns.
#[derive(Clone, Debug)]
pub struct StarRemoval {
    /// The plane with the stars filled in.
    pub starless: Plane,
    /// The pixels that were replaced.
    pub mask: Mask,
    /// The FWHM used, in pixels.
    pub fwhm: f32,
    /// How many stars (connected top-hat detections) were removed.
    pub stars: usize,
}

/// One connected top-hat detection.
#[derive(Clone, Copy, Debug)]
struct Star {
    count: usize,
    peak: f32,
    at: usize,
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

/// Measures the typical stellar FWHM: at up to 100 bright, unsaturated local maxima, the area above half the peak
/// (over the local background) gives an equivalent diameter, kept when that area is round (axis ratio ≤ 1.5, so
/// trails and galaxies do not count) and inside the window; the median over stars is returned.
/// `None` when no star qualifies.
pub fn estimate_fwhm(plane: &Plane, noise: f32) -> Option<f32> {
    const R: usize = 12; // window radius: measures FWHM up to ~18 px, defocused stars included
    let (w, h) = (plane.width, plane.height);
    if w < 2 * R + 1 || h < 2 * R + 1 || noise.is_nan() || noise <= 0.0 {
        return None;
    }
    let median = quantile(&plane.data, 0.5, 1 << 18)?;
    let top = plane.data.iter().copied().filter(|v| v.is_finite()).fold(f32::MIN, f32::max);
    let local_max = dilate_disk(plane, 2);
    let mut peaks: Vec<(f32, usize, usize)> = Vec::new();
    for y in R..h - R {
        for x in R..w - R {
            let v = plane.at(x, y);
            // Clearly above the noise (6σ) but below 60 % of the range: in a stretched frame the brightest stars
            // are flattened into plateaus much wider than the seeing.
            if v > median + 6.0 * noise && v < median + 0.6 * (top - median) && v >= local_max.at(x, y) {
                peaks.push((v, x, y));
            }
        }
    }
    peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut sizes: Vec<f32> = Vec::new();
    for &(peak, x, y) in peaks.iter().take(300) {
        if sizes.len() >= 100 {
            break;
        }
        let mut ring: Vec<f32> = Vec::with_capacity(8 * R);
        for d in 0..=2 * R {
            ring.extend([plane.at(x - R + d, y - R), plane.at(x - R + d, y + R)]);
            ring.extend([plane.at(x - R, y - R + d), plane.at(x + R, y - R + d)]);
        }
        let bg = quantile(&ring, 0.5, ring.len())?;
        let half = bg + 0.5 * (peak - bg);
        // Area and second moments of the pixels above half maximum: a star's are round and inside the window;
        // a trail's, a galaxy's or a blend's are not.
        let (mut n, mut sxx, mut syy, mut sxy, mut edge) = (0.0f32, 0.0f32, 0.0f32, 0.0f32, false);
        for yy in y - R..=y + R {
            for xx in x - R..=x + R {
                if plane.at(xx, yy) > half {
                    let (dx, dy) = (xx as f32 - x as f32, yy as f32 - y as f32);
                    (n, sxx, syy, sxy) = (n + 1.0, sxx + dx * dx, syy + dy * dy, sxy + dx * dy);
                    edge |= xx == x - R || xx == x + R || yy == y - R || yy == y + R;
                }
            }
        }
        let (a, c, b) = (sxx / n, syy / n, sxy / n);
        let d = (0.25 * (a - c) * (a - c) + b * b).sqrt();
        let (l1, l2) = (0.5 * (a + c) + d, (0.5 * (a + c) - d).max(1.0 / 12.0));
        if edge || l1 / l2 > 2.25 {
            continue; // axis ratio above 1.5
        }
        sizes.push(2.0 * (n / std::f32::consts::PI).sqrt());
    }
    quantile(&sizes, 0.5, sizes.len().max(1))
}

/// Removes the stars from a (stretched) plane; see the module documentation for the method.
pub fn remove_stars(plane: &Plane, params: &StarParams, noise: f32) -> StarRemoval {
    let fwhm = params.fwhm.or_else(|| estimate_fwhm(plane, noise)).unwrap_or(params.default_fwhm).clamp(1.0, 10.0);
    let (w, h) = (plane.width, plane.height);
    let radius = (params.tophat_radius_fwhm * fwhm).round().clamp(2.0, 15.0) as usize;
    let tophat = white_tophat(plane, radius);
    let med = quantile(&tophat.data, 0.5, 1 << 18).unwrap_or(0.0);
    let mad = {
        let dev: Vec<f32> =
            tophat.data.iter().step_by((w * h).div_ceil(1 << 18).max(1)).map(|v| (v - med).abs()).collect();
        quantile(&dev, 0.5, dev.len()).unwrap_or(0.0)
    };
    // A flat top-hat (MAD 0) would flag every pixel above the median: fall back on the noise estimate.
    let spread = if mad > 0.0 { mad } else { noise / MAD_TO_SIGMA };
    let threshold = med + params.threshold_mad * spread;
    let mut seed_mask = Mask::new(w, h);
    if spread > 0.0 {
        seed_mask.data.iter_mut().zip(&tophat.data).for_each(|(m, &t)| *m = t > threshold);
    }
    // Saturated stars leave only a ring in the top-hat around a flat core wider than the disk: fill rings up to
    // 10 FWHM across.
    let seed_mask = fill_holes(&seed_mask, (std::f32::consts::PI * 25.0 * fwhm * fwhm) as usize);
    let stars = components(&seed_mask, plane);
    let grow = params.grow_fwhm * fwhm;
    let mut mask = dilate(&seed_mask, grow);
    paint_compact(&mut mask, &stars, w, |r_eq| (grow + (1.0 + params.grow_size) * r_eq).min(10.0 * fwhm));
    // Saturated cores wider than the disk leave no top-hat at all: take the compact, star-sized plateaus at the
    // frame's top level (a stretched frame puts every saturated star there) and mask them with their halo, which
    // in a stretched frame reaches about twice the plateau's radius.
    let median = quantile(&plane.data, 0.5, 1 << 18).unwrap_or(0.0);
    let top = plane.data.iter().copied().filter(|v| v.is_finite()).fold(f32::MIN, f32::max);
    if top > median + 8.0 * noise {
        let level = top - (3.0 * noise).max(0.02 * (top - median));
        let sat = Mask { width: w, height: h, data: plane.data.iter().map(|&v| v >= level).collect() };
        let plateaus: Vec<Star> = components(&sat, plane)
            .into_iter()
            .filter(|s| s.count >= 4 && s.count as f32 <= std::f32::consts::PI * 36.0 * fwhm * fwhm)
            .collect();
        paint_compact(&mut mask, &plateaus, w, |r_eq| grow + 2.0 * (1.0 + params.grow_size) * r_eq);
    }
    let starless = inpaint(plane, &mask, params.smoothing);
    StarRemoval { starless, mask, fwhm, stars: stars.len() }
}

/// The 8-connected components of a mask, with their size, brightest pixel in `plane` and bounding box.
fn components(seeds: &Mask, plane: &Plane) -> Vec<Star> {
    let (w, h) = (seeds.width, seeds.height);
    let img = image::GrayImage::from_fn(w as u32, h as u32, |x, y| {
        image::Luma([u8::from(seeds.data[y as usize * w + x as usize])])
    });
    let labels = connected_components(&img, Connectivity::Eight, image::Luma([0u8]));
    let mut stars: Vec<Star> = Vec::new();
    for (i, l) in labels.pixels().enumerate() {
        let l = l.0[0] as usize;
        if l == 0 {
            continue;
        }
        if stars.len() < l {
            stars.resize(l, Star { count: 0, peak: f32::MIN, at: 0, x0: w, y0: h, x1: 0, y1: 0 });
        }
        let s = &mut stars[l - 1];
        let (x, y) = (i % w, i / w);
        s.count += 1;
        (s.x0, s.y0, s.x1, s.y1) = (s.x0.min(x), s.y0.min(y), s.x1.max(x + 1), s.y1.max(y + 1));
        if plane.data[i] > s.peak {
            (s.peak, s.at) = (plane.data[i], i);
        }
    }
    stars.retain(|s| s.count > 0);
    stars
}

/// Paints a disk of radius `radius(equivalent radius)` at the peak of every compact component. Only compact ones
/// are stars: a disk fills 79 % of its bounding box, a diagonal trail or a nebula filament little of it.
fn paint_compact(mask: &mut Mask, stars: &[Star], w: usize, radius: impl Fn(f32) -> f32) {
    for s in stars {
        let box_area = (s.x1.saturating_sub(s.x0) * s.y1.saturating_sub(s.y0)).max(1);
        if s.count * 2 >= box_area {
            let r_eq = (s.count as f32 / std::f32::consts::PI).sqrt();
            mask.paint_disk((s.at % w) as f32, (s.at / w) as f32, radius(r_eq));
        }
    }
}
