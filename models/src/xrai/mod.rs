//! XRAI region attribution (Kapishnikov et al. 2019, arXiv:1906.02825), matched to Google PAIR's `saliency` 0.2.1.
//!
//! A detector's box says where it saw something; XRAI says which parts of the image made a classifier say so, as
//! regions rather than scattered pixels, which suits extended objects such as galaxies and nebulae. There is no Rust
//! implementation, and "XRAI" in the literature means what Google's library computes, so every stage here follows
//! that library (read from its source, `saliency/core/xrai.py` and `integrated_gradients.py`) and its
//! scikit-image 0.26 dependency, and is checked stage by stage against the library's own outputs
//! (`models/tests/fixtures/xrai/`):
//! 1. [`ig`]: Integrated Gradients from two constant baselines (the image's min and max), averaged, then the largest
//!    value over the colour channels;
//! 2. [`segments`]: Felzenszwalb segments ([`felzenszwalb`]) at six scales on the image normalised to `[-1, 1]` at
//!    224×224 ([`resize`]), every segment dilated by a disk of radius 5;
//! 3. [`rank`]: the greedy "full" ranking of those regions by attribution density.
//!
//! The rounding that decides ties is reproduced too: SciPy's Gaussian ([`gaussian`]) and NumPy's `float32` means
//! ([`numeric`]). On the fixture the segments are identical (69 of 69 masks), ranking the reference's own attribution
//! and segments gives its map bit for bit, and the whole method through ONNX Runtime gives the same region ranks at
//! every pixel. Gradients come from any [`Gradient`]; [`OnnxGradient`] runs a model's exported gradient graph in ONNX
//! Runtime. Cost (`cargo run --release -p dso-models --example xrai_bench`): about 30 ms of segmentation and 15 ms of
//! ranking for 224×224, the rest is the 2 × `steps` gradients.

pub mod detector;
pub mod felzenszwalb;
pub mod gaussian;
pub mod ig;
pub mod numeric;
pub mod onnx;
pub mod rank;
pub mod resize;
pub mod segments;

use ndarray::{Array2, Array3, ArrayView3};

pub use ig::{Gradient, IgError};
pub use onnx::OnnxGradient;
pub use rank::{RankConfig, Ranking, Region};
pub use segments::{Mask, SegmentConfig};

/// XRAI's parameters; [`Default`] is the reference's (`XRAIParameters()` with the `full` algorithm).
#[derive(Debug, Clone, PartialEq)]
pub struct XraiConfig {
    /// Integrated Gradients path points per baseline (`XRAIParameters.steps`, 100).
    pub steps: usize,
    /// Images per model call; 0 takes the model's [`Gradient::max_batch`]. (The result does not depend on it beyond
    /// `f32` rounding.)
    pub batch: usize,
    /// How candidate regions are made.
    pub segments: SegmentConfig,
    /// How they are ranked.
    pub rank: RankConfig,
}

impl Default for XraiConfig {
    fn default() -> Self {
        XraiConfig { steps: 100, batch: 0, segments: SegmentConfig::default(), rank: RankConfig::default() }
    }
}

/// Everything XRAI computed for one image.
#[derive(Debug, Clone)]
pub struct XraiOutput {
    /// The XRAI map, `H × W`: each pixel holds the attribution density of the region that took it (higher: more
    /// important). The reference's `attribution_mask`.
    pub map: Array2<f32>,
    /// Each pixel's region rank, `H × W`, 1 for the most important region (the reference's flattened `segments`).
    pub ranks: Array2<u32>,
    /// The ranked regions, most important first, with their gains.
    pub regions: Vec<Region>,
    /// The baselines' constant values: the image's min and max.
    pub baselines: [f32; 2],
    /// Integrated Gradients from each baseline, `H × W × 3` (the reference's `ig_attribution`).
    pub ig: Vec<Array3<f32>>,
    /// The pixel attribution XRAI ranks regions by: the baselines' mean, maximum over channels, `H × W`.
    pub attribution: Array2<f32>,
    /// The candidate regions, in the order they were considered.
    pub segments: Vec<Mask>,
}

/// Why XRAI could not explain an image.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum XraiError {
    /// Not an `H × W × 3` image with pixels.
    #[error("XRAI takes an H × W × 3 image, not {0} × {1} × {2}")]
    Shape(usize, usize, usize),
    /// NaN or infinite values.
    #[error("the image has values that are not finite")]
    NotFinite,
    /// Integrated Gradients failed (the model's own error included).
    #[error(transparent)]
    Gradients(#[from] IgError),
}

impl From<XraiError> for dso_plugin_api::Error {
    fn from(e: XraiError) -> Self {
        dso_plugin_api::Error::new(e.to_string())
    }
}

/// Checks that an image is `H × W × 3`, non-empty and finite.
fn check(image: &ArrayView3<f32>) -> Result<(), XraiError> {
    let (h, w, c) = image.dim();
    if c != 3 || h == 0 || w == 0 {
        return Err(XraiError::Shape(h, w, c));
    }
    if image.iter().any(|v| !v.is_finite()) {
        return Err(XraiError::NotFinite);
    }
    Ok(())
}

/// Explains `class` of `model` on an `H × W × 3` image, at the model's input size and with values as the model takes
/// them: the reference passes the same array to the model and to the segmentation (which normalises and resizes its
/// own copy), so the regions follow what the model saw.
pub fn xrai<G: Gradient + ?Sized>(
    image: ArrayView3<f32>,
    model: &mut G,
    class: usize,
    cfg: &XraiConfig,
) -> Result<XraiOutput, XraiError> {
    check(&image)?;
    let baselines = ig::default_baselines(image);
    let ig = baselines
        .iter()
        .map(|&b| ig::integrated_gradients(image, b, model, class, cfg.steps, cfg.batch))
        .collect::<Result<Vec<_>, _>>()?;
    let attribution = ig::channel_max(&ig::mean(&ig).expect("two baselines"));
    let segments = segments::segment(image, &cfg.segments);
    let RegionMap { map, ranks, regions } = rank_regions(&attribution, &segments, &cfg.rank);
    Ok(XraiOutput { map, ranks, regions, baselines, ig, attribution, segments })
}

/// XRAI's result in image shape: the map, the ranks and the ranked regions.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionMap {
    /// Each pixel's attribution density of the region that took it, `H × W`.
    pub map: Array2<f32>,
    /// Each pixel's region rank, `H × W`, 1 for the most important region.
    pub ranks: Array2<u32>,
    /// The ranked regions, most important first.
    pub regions: Vec<Region>,
}

/// Ranks precomputed regions by a precomputed `H × W` attribution (the reference's `segments=` and
/// `base_attribution=` arguments).
pub fn rank_regions(attribution: &Array2<f32>, segments: &[Mask], cfg: &RankConfig) -> RegionMap {
    let dim = attribution.dim();
    let values: Vec<f32> = attribution.iter().copied().collect();
    let Ranking { map, ranks, regions } = rank::rank(&values, segments, cfg);
    let map = Array2::from_shape_vec(dim, map).expect("one value per pixel");
    let ranks = Array2::from_shape_vec(dim, ranks).expect("one rank per pixel");
    RegionMap { map, ranks, regions }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A "model" whose score is the sum of the red channel over the image's left half.
    struct LeftRed;

    impl Gradient for LeftRed {
        fn gradient(&mut self, batch: &[f32], shape: [usize; 4], _class: usize) -> Result<Vec<f32>, String> {
            let [_, _, h, w] = shape;
            Ok((0..batch.len()).map(|i| if i / (h * w) % 3 == 0 && i % w < w / 2 { 1.0 } else { 0.0 }).collect())
        }
    }

    #[test]
    fn xrai_ranks_the_region_the_model_looks_at_first() {
        // a bright disc on the left and one on the right; only the left half matters to the model
        let img = Array3::from_shape_fn((64, 64, 3), |(y, x, _)| {
            let d = |cx: f32| ((x as f32 - cx).powi(2) + (y as f32 - 32.0).powi(2)).sqrt();
            if d(16.0) < 10.0 || d(48.0) < 10.0 {
                0.9
            } else {
                0.1
            }
        });
        let cfg = XraiConfig {
            steps: 10,
            segments: SegmentConfig { size: None, min_size: 30, ..Default::default() },
            ..Default::default()
        };
        let out = xrai(img.view(), &mut LeftRed, 0, &cfg).unwrap();
        assert_eq!(out.map.dim(), (64, 64));
        assert_eq!(out.baselines, [0.1, 0.9]);
        assert!(out.map[[32, 16]] > out.map[[32, 48]], "{} vs {}", out.map[[32, 16]], out.map[[32, 48]]);
        assert_eq!(out.ranks[[32, 16]], 1);
        assert!(out.ranks.iter().all(|&r| r >= 1));
    }

    #[test]
    fn bad_images_are_refused() {
        let mut m = LeftRed;
        let cfg = XraiConfig::default();
        assert!(xrai(Array3::zeros((4, 4, 1)).view(), &mut m, 0, &cfg).is_err());
        let mut nan = Array3::zeros((4, 4, 3));
        nan[[0, 0, 0]] = f32::NAN;
        assert!(xrai(nan.view(), &mut m, 0, &cfg).unwrap_err().to_string().contains("finite"));
    }
}
