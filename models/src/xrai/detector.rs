//! The XRAI detector: a ResNet classifier says which tiles hold a deep-sky object, XRAI says where in the tile it
//! looked — technique 3 of Parisot & Jaziri 2024.
//!
//! The classifier (`models/weights/dso_classifier.onnx`, a ResNet18 at half width trained by
//! `dso_training.classifier.train`) answers one question per 224×224 tile: P(deep-sky object). It cannot say where, so
//! every tile it believes in (P ≥ [`XraiParams::min_probability`]) is explained with XRAI ([`super::xrai`]) through
//! the classifier's gradient graph (`dso_classifier_grad.onnx` beside it), and the attribution map, divided by
//! [`crate::pix2pix::MAP_SCALE`] and clipped to `0..=1`, is what the heat map shows; tiles it does not believe in
//! count as 0. Tiles, stitching and boxes are [`crate::heatmap`], shared with the Pix2Pix detector.
//!
//! A box's confidence is `P`, the largest P(deep-sky object) of the tiles its region touches: the classifier says
//! *whether* there is something, XRAI only *where* (the map's regions are ranked within the image, see
//! [`mod@crate::heatmap::boxes`], so their absolute level is no evidence).
//!
//! XRAI costs `2 × steps` gradients per explained tile (a second or more on a Raspberry Pi at the default 32 steps,
//! against the reference's 100), so the detector reports its progress after each explained tile through
//! [`Detector::set_progress`].

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dso_plugin_api::{Detections, Detector, Error, Frame};
use ndarray::Array3;

use super::{xrai, OnnxGradient, XraiConfig};
use crate::heatmap::{self, BoxParams, Stitcher, TileModel, TileSource, Tiling, INPUT};
use crate::onnx::OnnxError;
use crate::pix2pix::MAP_SCALE;
use crate::yolo::preprocess::Region;

/// File name of the shipped classifier's forward graph.
pub const MODEL_FILE: &str = "dso_classifier.onnx";

/// Environment variable naming another classifier's forward graph; its gradient graph is [`gradient_path`] of it.
pub const MODEL_ENV: &str = "DSO_CLASSIFIER_MODEL";

/// The classifier's class "deep-sky object in the tile" (index 1 of its two logits).
pub const DSO_CLASS: usize = 1;

/// Integrated Gradients steps per baseline by default: a third of the reference's 100, for a third of the time.
pub const DEFAULT_STEPS: usize = 32;

/// The gradient graph of a forward graph: `<stem>_grad.onnx` in the same folder.
pub fn gradient_path(forward: &Path) -> PathBuf {
    let stem = forward.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    forward.with_file_name(format!("{stem}_grad.onnx"))
}

/// The classifier's forward and gradient graphs: [`MODEL_ENV`] if set, else `[xrai] model` of [`crate::settings`],
/// else the shipped [`MODEL_FILE`] beside the
/// executable, in `<prefix>/share/dso-detector/` or in the source tree's `models/weights/`; the gradient graph
/// must be beside it.
pub fn model_paths() -> Result<(PathBuf, PathBuf), OnnxError> {
    let settings = crate::settings::get();
    settings.section_errors("xrai").map_err(OnnxError::Settings)?;
    let (forward, _) = crate::onnx::find_model(settings.xrai.model.as_ref(), "xrai", MODEL_ENV, MODEL_FILE)
        .map_err(|e| OnnxError::no_model("no classifier for XRAI", e))?;
    let gradient = gradient_path(&forward);
    if !gradient.is_file() {
        return Err(OnnxError::NoGradientGraph(gradient));
    }
    Ok((forward, gradient))
}

/// Whether the XRAI detector: both graphs are found and ONNX Runtime loads.
pub static AVAILABILITY: crate::onnx::Availability = crate::onnx::Availability::new(|| model_paths().map(drop));

/// The XRAI detector's tunables.
#[derive(Clone, Debug, PartialEq)]
pub struct XraiParams {
    /// How frames are cut into tiles.
    pub tiling: Tiling,
    /// How the stitched map becomes boxes.
    pub boxes: BoxParams,
    /// Tiles with P(deep-sky object) below this are not explained (their map is 0).
    pub min_probability: f32,
    /// XRAI's parameters; `steps` is [`DEFAULT_STEPS`], the rest the reference's.
    pub xrai: XraiConfig,
    /// ONNX Runtime intra-op threads for each graph; 0 lets it use every core.
    pub threads: usize,
}

impl Default for XraiParams {
    fn default() -> Self {
        Self {
            tiling: Tiling::default(),
            boxes: BoxParams::default(),
            min_probability: 0.5,
            xrai: XraiConfig { steps: DEFAULT_STEPS, ..XraiConfig::default() },
            threads: 0,
        }
    }
}

/// What the last [`Detector::detect`] call did, for benchmarks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct XraiStats {
    /// Each tile's P(deep-sky object), in tile order.
    pub probabilities: Vec<f32>,
    /// Tiles explained with XRAI.
    pub explained: usize,
    /// Time classifying the tiles.
    pub classify: Duration,
    /// Time in XRAI.
    pub explain: Duration,
    /// Whole `detect` call.
    pub total: Duration,
}

/// The XRAI detector.
pub struct XraiDetector {
    classifier: TileModel,
    gradient: OnnxGradient,
    path: PathBuf,
    params: XraiParams,
    progress: Option<Box<dyn FnMut(f32) + Send>>,
    stats: XraiStats,
}

impl std::fmt::Debug for XraiDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XraiDetector")
            .field("classifier", &self.classifier)
            .field("gradient", &self.gradient)
            .field("path", &self.path)
            .field("params", &self.params)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// P(class 1) from two logits (softmax); 0 when they are not finite.
fn probability(logits: &[f32]) -> f32 {
    match logits {
        [a, b] if a.is_finite() && b.is_finite() => 1.0 / (1.0 + (a - b).exp()),
        _ => 0.0,
    }
}

/// A CHW tile input as the `H × W × 3` image XRAI takes.
fn to_hwc(chw: &[f32]) -> Array3<f32> {
    let plane = INPUT * INPUT;
    Array3::from_shape_fn((INPUT, INPUT, 3), |(y, x, c)| chw[c * plane + y * INPUT + x])
}

/// Whether any pixel of a region (row-major indices in a frame `width` wide, bounding box `(x0, y0, x1, y1)`) lies in
/// `tile`.
fn touches(pixels: &[usize], (x0, y0, x1, y1): (usize, usize, usize, usize), width: usize, tile: &Region) -> bool {
    let apart = x1 <= tile.x || tile.x + tile.width <= x0 || y1 <= tile.y || tile.y + tile.height <= y0;
    !apart
        && pixels.iter().any(|&i| {
            let (x, y) = (i % width, i / width);
            (tile.x..tile.x + tile.width).contains(&x) && (tile.y..tile.y + tile.height).contains(&y)
        })
}

impl XraiDetector {
    /// The detector with the graphs [`model_paths`] finds, the configured threads and default parameters.
    pub fn new() -> Result<Self, OnnxError> {
        let (forward, _) = model_paths()?;
        let threads = crate::settings::get().xrai.threads.unwrap_or(0);
        Self::load(&forward, XraiParams { threads, ..XraiParams::default() })
    }

    /// The detector with a given forward graph (input `input` `[N, 3, 224, 224]`, output `logits` `[N, 2]`) and its
    /// gradient graph [`gradient_path`], both checked.
    pub fn load(forward: &Path, params: XraiParams) -> Result<Self, OnnxError> {
        let classifier = TileModel::load(forward, params.threads, "classifier", "input", "logits", &[2])?;
        let grad_path = gradient_path(forward);
        let gradient = OnnxGradient::load(&grad_path, params.threads)?;
        if gradient.classes() != 2 || gradient.input_size().is_some_and(|s| s != (INPUT, INPUT)) {
            let why = format!(
                "{} classes, input {:?}; expected 2 classes and {INPUT}×{INPUT}",
                gradient.classes(),
                gradient.input_size()
            );
            return Err(OnnxError::model("gradient graph", grad_path, crate::onnx::ModelProblem::Invalid(why)));
        }
        log::info!("XRAI classifier {} and {}", forward.display(), grad_path.display());
        Ok(Self { classifier, gradient, path: forward.to_owned(), params, progress: None, stats: XraiStats::default() })
    }

    /// The forward graph in use.
    pub fn model_path(&self) -> &Path {
        &self.path
    }

    /// The parameters, to adjust.
    pub fn params_mut(&mut self) -> &mut XraiParams {
        &mut self.params
    }

    /// What the last frame took.
    pub fn last_stats(&self) -> &XraiStats {
        &self.stats
    }

    fn report(&mut self, fraction: f32) {
        if let Some(report) = self.progress.as_mut() {
            report(fraction);
        }
    }
}

impl Detector for XraiDetector {
    fn name(&self) -> &str {
        "xrai"
    }

    /// Reports, after each explained tile, the fraction of the tiles to explain that are done (classifying every
    /// tile first is quick beside XRAI); 1.0 once when no tile needs explaining.
    fn set_progress(&mut self, report: Box<dyn FnMut(f32) + Send>) {
        self.progress = Some(report);
    }

    fn detect(&mut self, frame: &Frame) -> Result<Detections, Error> {
        heatmap::check_frame(frame)?;
        let start = Instant::now();
        self.stats = XraiStats::default();
        let source = TileSource::new(frame);
        let tiles = self.params.tiling.tiles(frame.width, frame.height);
        let logits = heatmap::run_tiles(&source, &tiles, &mut self.classifier).map_err(Error::new)?;
        let probabilities: Vec<f32> = logits.iter().map(|l| probability(l)).collect();
        self.stats.classify = start.elapsed();
        let min_p = self.params.min_probability;
        let to_explain = probabilities.iter().filter(|&&p| p >= min_p).count();
        let mut stitcher = Stitcher::new(frame.width, frame.height);
        for (tile, &p) in tiles.iter().zip(&probabilities) {
            if p < min_p {
                stitcher.add_constant(*tile, 0.0);
                continue;
            }
            let started = Instant::now();
            let image = to_hwc(&source.input(*tile));
            let out = xrai(image.view(), &mut self.gradient, DSO_CLASS, &self.params.xrai)?;
            let scaled: Vec<f32> = out.map.iter().map(|v| (v / MAP_SCALE).clamp(0.0, 1.0)).collect();
            stitcher.add(*tile, &scaled);
            self.stats.explain += started.elapsed();
            self.stats.explained += 1;
            self.report(self.stats.explained as f32 / to_explain as f32);
        }
        if to_explain == 0 {
            self.report(1.0);
        }
        let map = stitcher.finish();
        let objects = heatmap::boxes(&map, &self.params.boxes, |b| {
            tiles
                .iter()
                .zip(&probabilities)
                .filter(|(t, _)| touches(&b.pixels, b.bbox, frame.width, t))
                .fold(0.0f32, |m, (_, &p)| m.max(p))
        });
        self.stats.probabilities = probabilities;
        self.stats.total = start.elapsed();
        Ok(Detections { objects, heatmap: Some(map) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_graph_is_beside_the_forward_one() {
        assert_eq!(gradient_path(Path::new("/m/dso_classifier.onnx")), PathBuf::from("/m/dso_classifier_grad.onnx"));
    }

    #[test]
    fn probability_is_the_softmax_of_class_one() {
        assert!((probability(&[0.0, 0.0]) - 0.5).abs() < 1e-6);
        assert!(probability(&[-5.0, 5.0]) > 0.99);
        assert_eq!(probability(&[1.0]), 0.0);
        assert_eq!(probability(&[f32::NAN, 1.0]), 0.0);
    }

    #[test]
    fn tiles_go_to_xrai_as_hwc() {
        let chw: Vec<f32> = (0..3 * INPUT * INPUT).map(|i| i as f32).collect();
        let hwc = to_hwc(&chw);
        assert_eq!(hwc[[0, 1, 0]], 1.0);
        assert_eq!(hwc[[1, 0, 2]], (2 * INPUT * INPUT + INPUT) as f32);
    }

    #[test]
    fn a_region_touches_the_tiles_holding_its_pixels() {
        let t = Region { x: 10, y: 10, width: 10, height: 10 };
        assert!(touches(&[5, 15 * 100 + 15], (5, 0, 16, 16), 100, &t));
        assert!(!touches(&[5, 15 * 100 + 25], (5, 0, 26, 16), 100, &t));
        assert!(!touches(&[50 * 100 + 50], (50, 50, 51, 51), 100, &t));
    }
}
