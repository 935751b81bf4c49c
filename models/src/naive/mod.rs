//! The naive detector: classical image processing, no training — technique 1 of Parisot & Jaziri 2024 ("Deep Sky
//! Objects Detection with Deep Learning for Electronically Assisted Astronomy", §3.1): remove the stars, take the
//! edges of what is left, and box the regions they outline.
//!
//! It is the detector that always works: no model file, a few tens of milliseconds a frame, and answers that can be
//! explained pixel by pixel. The pipeline, each stage in its own module:
//! 1. working image ([`NaiveDetector::prepare`]): a colour-weighted mean of the planes ([`CHANNEL_WEIGHTS`]),
//!    binned by an integer factor so the long side is at most [`NaiveParams::work_size`] (speed, and binning also
//!    averages noise down), then stretched with [`crate::stretch`]'s AutoSTF if the frame is linear;
//! 2. star removal ([`starless`]): top-hat, threshold, grow, inpaint;
//! 3. sky background ([`background`]): a stiff quadratic lower envelope, subtracted;
//! 4. candidates ([`regions`]): smoothed at two scales, thresholded in noise sigmas, united with Canny edges,
//!    connected regions filtered for size, trails and star residues, overlapping boxes merged;
//! 5. confidence ([`score`]): local contrast against an annulus, through a logistic;
//! 6. coarse level ([`coarse`]): the same residual binned to ~160 px, segmented with hysteresis, for large faint
//!    objects and objects cut by the border; confidence from integrated signal-to-noise ratio; fine boxes inside
//!    a coarse box are dropped as pieces of it.
//!
//! The method has no notion of class, so every box is labelled `"dso"`.

pub mod background;
pub mod coarse;
pub mod regions;
pub mod score;
pub mod starless;
pub mod synth;

#[cfg(test)]
mod tests;

use dso_plugin_api::{Detection, Detections, Detector, Encoding, Error, Frame};

use crate::ops::{gaussian_blur, noise_sigma, quantile, Plane};
use coarse::CoarseParams;
use regions::{BoxI, RegionParams};
use starless::{StarParams, StarRemoval};

/// Weights of the red, green and blue planes in the detection channel (see [`NaiveDetector::prepare`]).
pub const CHANNEL_WEIGHTS: [f32; 3] = [0.35, 0.45, 0.2];

/// The naive detector's tunables. Sizes are in working pixels (after binning) or in stellar FWHM, so they mean the
/// same on a 640-px smart-telescope patch and on a 4096-px camera frame.
#[derive(Clone, Debug, PartialEq)]
pub struct NaiveParams {
    /// Longest side of the working image; larger frames are binned by the smallest integer factor that fits.
    /// 1024 px keeps a 4096-px frame's objects several pixels wide and the whole pipeline in tens of milliseconds.
    pub work_size: usize,
    /// Star removal.
    pub stars: StarParams,
    /// Small smoothing scale (Gaussian sigma) in FWHM: about one FWHM matches a compact galaxy's size.
    pub smooth_fwhm: f32,
    /// Large smoothing scale as a multiple of the small one, for faint extended nebulae and galaxy haloes.
    pub large_scale: f32,
    /// Segmentation threshold in noise sigmas of each smoothed plane (3σ: the usual detection threshold of
    /// SExtractor-like pipelines for smoothed images).
    pub threshold: f32,
    /// Canny hysteresis thresholds (low, high) as the slope of the small-scale plane in noise sigmas per pixel;
    /// `None` uses the threshold alone.
    pub canny: Option<(f32, f32)>,
    /// Boxes whose longer side is below this many FWHM are dropped (the smallest labelled object in the real
    /// smart-telescope set is 7 px of 640, about three FWHM).
    pub min_size_fwhm: f32,
    /// Regions more elongated than this (major/minor axis ratio)…
    pub max_elongation: f32,
    /// …and thinner than this many FWHM (minor-axis sigma) are trails, not objects.
    pub trail_width_fwhm: f32,
    /// Regions more than this fraction inside the star mask are star residues…
    pub max_star_fraction: f32,
    /// …unless more than a disk of this radius (in FWHM) of their area lies outside the mask: in a dense field a
    /// galaxy is mostly under star masks, but it is far larger than the ring a bright star's halo leaves.
    pub min_free_radius_fwhm: f32,
    /// Boxes are drawn at the isophote where the small-scale plane is this many pixel-noise sigmas above the sky:
    /// about where an object stops being visible on a stretched screen, which is what people label.
    pub extent_sigma: f32,
    /// Contrast (noise sigmas) that maps to confidence 0.5.
    pub contrast_mid: f32,
    /// Contrast sigmas per e-fold of the confidence odds.
    pub contrast_scale: f32,
    /// Candidates below this confidence are not returned at all.
    pub min_confidence: f32,
    /// The coarse level for large extended objects ([`coarse`]); `None` runs the fine level alone.
    pub coarse: Option<CoarseParams>,
    /// Integrated signal-to-noise ratio of a coarse region that maps to confidence 0.5.
    pub coarse_mid: f32,
    /// Natural-log units of that ratio per e-fold of the confidence odds.
    pub coarse_scale: f32,
    /// Coarse regions whose integrated signal-to-noise ratio is below this fraction of the frame's strongest are
    /// dropped: they are the strongest object's detached fragments or faint unlabelled nebulosity around it.
    pub coarse_dominance: f32,
}

impl Default for NaiveParams {
    fn default() -> Self {
        Self {
            work_size: 1024,
            stars: StarParams::default(),
            smooth_fwhm: 1.0,
            large_scale: 4.0,
            threshold: 3.0,
            canny: Some((0.75, 1.5)),
            min_size_fwhm: 3.0,
            max_elongation: 5.0,
            trail_width_fwhm: 2.0,
            max_star_fraction: 0.5,
            min_free_radius_fwhm: 3.0,
            extent_sigma: 1.0,
            contrast_mid: 5.0,
            contrast_scale: 1.5,
            min_confidence: 0.05,
            coarse: Some(CoarseParams::default()),
            // 450 brings the coarse level's best-F1 threshold on generated data near the default confidence 0.5
            // (docs/NAIVE.md, second pass: how it was measured, and the 350 before it).
            coarse_mid: 450.0,
            coarse_scale: 0.7,
            coarse_dominance: 0.5,
        }
    }
}

/// The working image and what the pipeline derived from it, for tools that want to look inside.
#[derive(Clone, Debug)]
pub struct Stages {
    /// Binning factor from the frame to the working image.
    pub factor: usize,
    /// Stretched detection channel (colour-weighted mean of the planes) at working resolution.
    pub work: Plane,
    /// Noise sigma of `work`.
    pub noise: f32,
    /// Star removal result.
    pub stars: StarRemoval,
    /// Starless minus background.
    pub residual: Plane,
    /// Candidate boxes in working pixels with their confidences.
    pub boxes: Vec<(BoxI, f32)>,
}

/// The naive detector (`"naive"`).
#[derive(Clone, Debug, Default)]
pub struct NaiveDetector {
    /// Its tunables.
    pub params: NaiveParams,
}

impl NaiveDetector {
    /// A detector with the default parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// A detector with these parameters.
    pub fn with_params(params: NaiveParams) -> Self {
        Self { params }
    }

    /// Stage 1: the binned, stretched detection channel and its binning factor.
    pub fn prepare(&self, frame: &Frame) -> Result<(Plane, usize), Error> {
        let (mut plane, factor) = self.binned_channel(frame)?;
        if frame.encoding == Encoding::Linear {
            let p = crate::stretch::auto_params(&plane.data);
            crate::stretch::apply_mut(&mut plane.data, p);
        }
        Ok((plane, factor))
    }

    /// The detection channel (colour-weighted mean of the planes) binned by the smallest integer factor that fits
    /// [`NaiveParams::work_size`], with non-finite samples replaced by the median; not stretched.
    fn binned_channel(&self, frame: &Frame) -> Result<(Plane, usize), Error> {
        let (w, h) = (frame.width, frame.height);
        if frame.planes.iter().any(|p| p.len() != w * h) || frame.planes.is_empty() {
            return Err(Error::new("malformed frame: plane sizes do not match its dimensions"));
        }
        let factor = w.max(h).div_ceil(self.params.work_size.max(16)).max(1);
        let (bw, bh) = (w.div_ceil(factor), h.div_ceil(factor));
        if bw < 16 || bh < 16 {
            return Err(Error::new(format!("frame too small for the naive detector ({w}×{h}; needs 16×16)")));
        }

        // The detection channel weighs red and blue more than Rec.709 luminance does (0.21 R, 0.72 G, 0.07 B):
        // luminance keeps a fifth of a red (Hα) emission nebula's signal and a fourteenth of a blue (OIII,
        // reflection) one; these weights keep 0.35 and 0.2 and, for grey objects (galaxies, clusters), change
        // nothing. On generated data this blend scores as luminance does, and better than an equal-weight mean
        // (docs/NAIVE.md, second pass).
        let weights: &[f32] = if frame.planes.len() == 3 { &CHANNEL_WEIGHTS } else { &[1.0] };
        // One block of `factor` rows at a time: the weighted rows, then binned as ops::bin does; bands of blocks
        // on all cores.
        let mut data = vec![f32::NAN; bw * bh];
        crate::ops::par_rows(&mut data, bw, |by0, band| {
            let mut rows = vec![0.0f32; factor * w];
            for (dby, out) in band.chunks_exact_mut(bw).enumerate() {
                let by = by0 + dby;
                let n = factor.min(h - by * factor);
                let block = &mut rows[..n * w];
                block.fill(0.0);
                for (plane, &k) in frame.planes.iter().zip(weights) {
                    let src = &plane[by * factor * w..][..n * w];
                    block.iter_mut().zip(src).for_each(|(r, v)| *r += k * v);
                }
                crate::ops::bin_samples_into(block, w, n, factor, out);
            }
        });
        let median = quantile(&data, 0.5, 1 << 20).ok_or_else(|| Error::new("frame has no finite sample"))?;
        data.iter_mut().filter(|v| !v.is_finite()).for_each(|v| *v = median);
        Ok((Plane { width: bw, height: bh, data }, factor))
    }

    /// Runs every stage on a frame and keeps the intermediate results.
    pub fn stages(&self, frame: &Frame) -> Result<Stages, Error> {
        let p = &self.params;
        let (mut work, factor) = self.binned_channel(frame)?;
        let mut star_params = p.stars.clone();
        if frame.encoding == Encoding::Linear {
            // Measure the stars before stretching: the stretch lifts their wings into wide plateaus, so a FWHM
            // measured after it describes the stretch, not the seeing.
            if star_params.fwhm.is_none() {
                star_params.fwhm = starless::estimate_fwhm(&work, noise_sigma(&work, 1));
            }
            let sp = crate::stretch::auto_params(&work.data);
            crate::stretch::apply_mut(&mut work.data, sp);
        }
        let noise = noise_sigma(&work, 1);
        let stars = starless::remove_stars(&work, &star_params, noise);
        let mut stages = Stages { factor, residual: work.clone(), work, noise, stars, boxes: Vec::new() };
        if noise.is_nan() || noise <= 1e-6 {
            return Ok(stages); // a flat frame: nothing to find
        }
        let bg = background::estimate(&stages.stars.starless);
        let bg_level = quantile(&stages.work.data, 0.5, 1 << 18).unwrap_or(0.0);
        let residual = Plane {
            width: bg.width,
            height: bg.height,
            data: stages.stars.starless.data.iter().zip(&bg.data).map(|(a, b)| a - b).collect(),
        };
        let fwhm = stages.stars.fwhm;
        let s1 = (p.smooth_fwhm * fwhm).max(1.0);
        let smoothed = |s: f32| -> (Plane, f32) {
            let sm = gaussian_blur(&residual, s);
            // The noise of the smoothed plane from differences at a lag beyond the kernel (independent
            // samples)… or, when larger, from the spread of its lower half (median − 16th percentile), which
            // also holds what star removal and the background model left behind (halos, fills, gradients).
            let white = noise_sigma(&sm, (3.0 * s).ceil() as usize);
            let lower = match (quantile(&sm.data, 0.5, 1 << 18), quantile(&sm.data, 0.1587, 1 << 18)) {
                (Some(m), Some(q)) => m - q,
                _ => 0.0,
            };
            (sm, white.max(lower))
        };
        let rp = RegionParams {
            threshold: p.threshold,
            canny: p.canny,
            min_size: p.min_size_fwhm * fwhm,
            max_elongation: p.max_elongation,
            trail_width: p.trail_width_fwhm * fwhm,
            max_star_fraction: p.max_star_fraction,
            min_free_area: std::f32::consts::PI * (p.min_free_radius_fwhm * fwhm).powi(2),
            extent_level: p.extent_sigma * noise,
        };
        // The small scale's Canny edges and the coarse level need nothing from the large scale: they run beside
        // its smoothing, on the other core.
        let small = smoothed(s1);
        let (large, edges, coarse_found) = std::thread::scope(|scope| {
            let edges = scope.spawn(|| regions::edges((&small.0, small.1), &rp));
            let coarse = p.coarse.as_ref().map(|cp| scope.spawn(|| coarse::candidates(&residual, cp)));
            let large = smoothed(s1 * p.large_scale.max(1.0));
            let join = "a naive detector stage panicked";
            (large, edges.join().expect(join), coarse.map(|c| c.join().expect(join)))
        });
        let scales = [small, large];
        let boxes = regions::candidates(&scales, edges.as_ref(), &stages.stars.mask, &rp);
        stages.boxes = boxes
            .into_iter()
            .map(|b| {
                let c = scales.iter().map(|(pl, s)| score::contrast(pl, &b, *s)).fold(f32::MIN, f32::max);
                (b, score::confidence(c, p.contrast_mid, p.contrast_scale))
            })
            .collect();
        // A fine box around a saturated star (the frame's top level) that is largely star mask is the star's halo
        // left by star removal, the commonest false detection in dense stretched fields.
        let top = stages.work.data.iter().copied().fold(f32::MIN, f32::max);
        let work = &stages.work;
        let mask = &stages.stars.mask;
        stages.boxes.retain(|(b, _)| {
            let (mut masked, mut peak) = (0usize, f32::MIN);
            for y in b.y0..b.y1 {
                for x in b.x0..b.x1 {
                    masked += usize::from(mask.data[y * work.width + x]);
                    peak = peak.max(work.data[y * work.width + x]);
                }
            }
            !(peak >= top - 0.02 * (top - bg_level) && masked as f32 > 0.3 * b.area() as f32)
        });
        if let Some(mut found) = coarse_found {
            let top = found.iter().map(|c| c.snr).fold(0.0f32, f32::max);
            found.retain(|c| c.snr >= p.coarse_dominance * top);
            let big: Vec<(BoxI, f32)> = found
                .into_iter()
                .map(|c| (c.bbox, score::log_confidence(c.snr, p.coarse_mid, p.coarse_scale)))
                .collect();
            stages.boxes = combine(big, std::mem::take(&mut stages.boxes));
        }
        stages.boxes.retain(|(_, c)| *c >= p.min_confidence);
        stages.residual = residual;
        Ok(stages)
    }
}

/// Unites the coarse level's boxes with the fine level's. A fine box mostly (60 %) inside a coarse one that is at
/// least as confident is a piece of the same object (a bright knot of a nebula, a star left on it) and is dropped.
/// A more confident fine box is kept, and when it also covers a sixth of the coarse box they are the same compact
/// object seen at both scales, and the fine (tighter) box replaces the coarse one.
fn combine(big: Vec<(BoxI, f32)>, fine: Vec<(BoxI, f32)>) -> Vec<(BoxI, f32)> {
    let mut keep_big = vec![true; big.len()];
    let mut out = Vec::new();
    for (b, c) in fine {
        let inside = |g: &BoxI| b.intersection(g) as f32 > 0.6 * b.area() as f32;
        let mut keep = true;
        for ((g, gc), k) in big.iter().zip(keep_big.iter_mut()) {
            if !inside(g) {
                continue;
            }
            if c <= *gc {
                keep = false;
            } else if 6 * b.area() >= g.area() {
                *k = false;
            }
        }
        if keep {
            out.push((b, c));
        }
    }
    out.extend(big.into_iter().zip(keep_big).filter(|(_, k)| *k).map(|(g, _)| g));
    out
}

impl Detector for NaiveDetector {
    fn name(&self) -> &str {
        "naive"
    }

    fn detect(&mut self, frame: &Frame) -> Result<Detections, Error> {
        let stages = self.stages(frame)?;
        let f = stages.factor as f32;
        let (fw, fh) = (frame.width as f32, frame.height as f32);
        let objects = stages
            .boxes
            .iter()
            .map(|(b, c)| {
                let (x0, y0) = ((b.x0 as f32 * f).min(fw), (b.y0 as f32 * f).min(fh));
                let (x1, y1) = ((b.x1 as f32 * f).min(fw), (b.y1 as f32 * f).min(fh));
                Detection { x: x0, y: y0, width: x1 - x0, height: y1 - y0, label: "dso".into(), confidence: *c }
            })
            .collect();
        Ok(Detections { objects, heatmap: None })
    }
}
