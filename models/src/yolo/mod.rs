//! The YOLO detector: a YOLO model exported to ONNX, run with ONNX Runtime, on the whole frame and on tiles.
//!
//! The pipeline, each pure stage in its own module and tested without a model:
//! 1. which model ([`model_path`]): the astronomer's own export named in [`crate::settings`], else the shipped
//!    `models/weights/dso_yolo.onnx` (trained here, see `models/weights/YOLO_CARD.md`);
//! 2. the model ([`model`]): opened with ONNX Runtime ([`crate::onnx`]), its shapes and class names checked at load;
//! 3. where to look ([`tiling`]): a downscaled pass over the whole frame, plus overlapping tiles on large frames;
//! 4. input ([`preprocess`]): area-averaged, stretched with [`crate::stretch`] if the frame is linear, letterboxed;
//! 5. output ([`decode`]): YOLOv5/v7 or YOLOv8/v11 layout told apart by shape;
//! 6. merging ([`tiling::keep_tile_box`], [`nms`]): boxes cut by inner tile edges dropped, class-aware NMS.

pub mod decode;
pub mod model;
pub mod nms;
pub mod preprocess;
pub mod tiling;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use dso_plugin_api::{Detection, Detections, Detector, Encoding, Error, Frame};

use crate::onnx::OnnxError;
use crate::settings::Settings;
use crate::stretch::{self, StretchParams};
use model::Model;
use nms::Scored;
use preprocess::{Map, Transform};
use tiling::TilePlan;

/// `confidence = score ^ power` for the shipped model: its best-F1 score threshold on the real dev set (raw score
/// 0.026) maps to the driver's default confidence 0.5: ln 0.5 / ln 0.026 = 0.19. How it was chosen, and the
/// calibration before it, are in `models/weights/YOLO_CARD.md`. User models get 1 (raw scores) unless `score_power`
/// under `[yolo]` ([`crate::settings`]) says otherwise.
pub const DEFAULT_MODEL_SCORE_POWER: f32 = 0.19;

/// The YOLO detector's tunables.
#[derive(Clone, Debug, PartialEq)]
pub struct YoloParams {
    /// Candidates whose confidence (after [`Self::score_power`]) is below this are not returned at all; the host
    /// applies the user's own threshold above it.
    pub min_confidence: f32,
    /// IoU above which NMS suppresses the less confident of two same-class boxes (ultralytics' default 0.7 is for
    /// crowded everyday scenes; deep-sky objects rarely overlap that much, and tiles duplicate them).
    pub iou: f32,
    /// After NMS, a box of any class that lies this much inside a more confident one (or contains it: the share of
    /// the smaller box covered) is dropped; above 1 keeps all. The model boxes one object at several scales and
    /// often as two classes (the whole-frame pass and the tiles add more); 0.8 was chosen on generated held-out
    /// data (its figures: `docs/YOLO.md`, "How a frame is processed", step 4).
    pub nested: f32,
    /// Most boxes returned.
    pub max_detections: usize,
    /// Tiling of large frames.
    pub tiles: TilePlan,
    /// Reported confidence = model score ^ this (a monotonic calibration; 1 keeps the model's scores).
    pub score_power: f32,
    /// ONNX Runtime intra-op threads; 0 lets it use every core.
    pub threads: usize,
    /// Whether a linear frame's stretch is applied before or after shrinking it to the input. After (binning then
    /// stretching, the default) and before (as the training images were made) measured level on generated raw
    /// frames with known boxes, after slightly ahead (docs/REAL-SKY.md).
    pub curve_order: preprocess::CurveOrder,
}

impl Default for YoloParams {
    fn default() -> Self {
        Self {
            min_confidence: 0.05,
            iou: 0.5,
            nested: 0.8,
            max_detections: 300,
            tiles: TilePlan::default(),
            score_power: 1.0,
            threads: 0,
            curve_order: preprocess::CurveOrder::default(),
        }
    }
}

/// Timings of the last [`Detector::detect`] call, for benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Model runs (whole-frame pass + tiles).
    pub runs: usize,
    /// Time inside ONNX Runtime's `Session::run`.
    pub model: Duration,
    /// Whole `detect` call.
    pub total: Duration,
}

/// The YOLO detector.
#[derive(Debug)]
pub struct YoloDetector {
    model: Model,
    path: PathBuf,
    params: YoloParams,
    stats: Stats,
}

/// File name of the shipped model.
pub const DEFAULT_MODEL_FILE: &str = "dso_yolo.onnx";

/// The model to load and whether it is the shipped one: `DSO_YOLO_MODEL`, else `[yolo] model` of the settings, else
/// the shipped [`DEFAULT_MODEL_FILE`]; the error says where it looked.
pub fn model_path(settings: &Settings) -> Result<(PathBuf, bool), OnnxError> {
    settings.section_errors("yolo").map_err(OnnxError::Settings)?;
    crate::onnx::find_model(settings.yolo.model.as_ref(), "yolo", "DSO_YOLO_MODEL", DEFAULT_MODEL_FILE).map_err(|e| {
        if settings.yolo.model.is_some() {
            e
        } else {
            OnnxError::no_model("no YOLO model", e)
        }
    })
}

/// Whether the YOLO detector can run here: a model file is found ([`model_path`]) and ONNX Runtime loads.
pub static AVAILABILITY: crate::onnx::Availability =
    crate::onnx::Availability::new(|| model_path(crate::settings::get()).map(drop));

impl YoloDetector {
    /// The detector with the configured model and tunables (see [`crate::settings`]).
    pub fn from_config() -> Result<Self, OnnxError> {
        let settings = crate::settings::get();
        let (path, shipped) = model_path(settings)?;
        let mut params =
            YoloParams { score_power: if shipped { DEFAULT_MODEL_SCORE_POWER } else { 1.0 }, ..YoloParams::default() };
        let yolo = &settings.yolo;
        if let Some(p) = yolo.score_power {
            params.score_power = p;
        }
        if let Some(t) = yolo.threads {
            params.threads = t;
        }
        if let Some(t) = yolo.tiles {
            params.tiles.max_per_side = t;
        }
        if let Some(n) = yolo.nested {
            params.nested = n;
        }
        if let Some(o) = yolo.stretch_order {
            params.curve_order = o;
        }
        Self::load(&path, params)
    }

    /// The detector with a given model file.
    pub fn load(path: &Path, params: YoloParams) -> Result<Self, OnnxError> {
        let model = Model::load(path, params.threads)?;
        log::info!(
            "YOLO model {}: input {}², {:?}, classes {:?}",
            path.display(),
            model.size,
            model.layout,
            model.names
        );
        Ok(Self { model, path: path.to_owned(), params, stats: Stats::default() })
    }

    /// The model file in use.
    pub fn model_path(&self) -> &Path {
        &self.path
    }

    /// The model's square input size.
    pub fn input_size(&self) -> usize {
        self.model.size
    }

    /// The model's class names.
    pub fn class_names(&self) -> &[String] {
        &self.model.names
    }

    /// The parameters, to adjust.
    pub fn params_mut(&mut self) -> &mut YoloParams {
        &mut self.params
    }

    /// Timings of the last frame.
    pub fn last_stats(&self) -> Stats {
        self.stats
    }

    /// The model's own time on `frame`: its inputs (the whole-frame pass and the tiles) prepared first, untimed, then
    /// run one after another with nothing else in the process working. The baseline the benchmarks measure the
    /// pipeline's overhead against.
    pub fn model_alone(&mut self, frame: &Frame) -> Result<Duration, Error> {
        let half = OnceLock::new();
        let (_, inputs) = self.inputs(frame, &|| own_half(&half, frame));
        let start = Instant::now();
        for (input, _) in &inputs {
            self.model.run(input).map_err(Error::new)?;
        }
        Ok(start.elapsed())
    }

    /// Where the model looks in `frame` (the whole frame, then the tiles) and its input for each: resampled,
    /// stretched if the frame is linear, letterboxed. Regions shrunk 4× or more are read from `half()`, the frame
    /// binned 2×2 ([`preprocess::reads_half`]); the stretch curves are always estimated on the frame itself.
    fn inputs(&self, frame: &Frame, half: Half<'_>) -> (Vec<preprocess::Region>, Vec<(Vec<f32>, Transform)>) {
        let curves: Vec<_> = stretch_curves(frame).into_iter().map(curve_map).collect();
        let maps: Vec<&Map> = curves.iter().map(|c| &**c).collect();
        let (size, order) = (self.model.size, self.params.curve_order);
        let regions = tiling::regions(frame.width, frame.height, size, &self.params.tiles);
        let half = if regions.iter().any(|r| preprocess::reads_half(r, size, order)) { half() } else { None };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
        let inputs = preprocess::letterbox_all(frame, half, &regions, size, &maps, order, threads);
        (regions, inputs)
    }

    /// Runs the model on one prepared input and returns its boxes in frame pixels.
    fn run_input(&mut self, frame: &Frame, input: &[f32], t: Transform, min_score: f32) -> Result<Vec<Scored>, Error> {
        let start = Instant::now();
        let raw = self.model.run(input).map_err(Error::new)?;
        self.stats.model += start.elapsed();
        self.stats.runs += 1;
        let (w, h) = (frame.width as f32, frame.height as f32);
        Ok(decode::decode(&raw, self.model.layout, min_score)
            .into_iter()
            .map(|c| {
                let b = t.to_frame(c.bbox);
                Scored {
                    bbox: [b[0].clamp(0.0, w), b[1].clamp(0.0, h), b[2].clamp(0.0, w), b[3].clamp(0.0, h)],
                    ..c.into()
                }
            })
            .filter(|s| s.bbox[2] > s.bbox[0] && s.bbox[3] > s.bbox[1])
            .collect())
    }
}

/// The frame binned 2×2, made on the first call ([`Detector::detect_with_half`]).
type Half<'h> = &'h (dyn Fn() -> Option<&'h Frame> + Sync);

/// `frame` binned 2×2 by the detector itself, once, when no host shares its own ([`Detector::detect`]).
fn own_half<'a>(cell: &'a OnceLock<Option<Frame>>, frame: &Frame) -> Option<&'a Frame> {
    cell.get_or_init(|| crate::ops::bin_frame(frame, 2)).as_ref()
}

impl From<decode::Candidate> for Scored {
    fn from(c: decode::Candidate) -> Self {
        Scored { bbox: c.bbox, class: c.class, score: c.score }
    }
}

/// The per-plane value maps for a frame: identity when stretched, the plane's AutoSTF curve when linear. Shared with
/// the heat-map detectors ([`crate::heatmap`]), whose models were trained on the same stretched images.
pub fn stretch_curves(frame: &Frame) -> Vec<Option<StretchParams>> {
    match frame.encoding {
        Encoding::Stretched => vec![None; frame.planes.len()],
        Encoding::Linear => frame.planes.iter().map(|p| Some(stretch::auto_params(p))).collect(),
    }
}

/// One plane's value map from [`stretch_curves`], a row at a time (the [`Map`] the model inputs are made with):
/// clamping to `0..=1` for `None`, [`stretch::apply_mut`] (the AutoSTF stretch the pictures get) otherwise; boxed so
/// that the planes of a frame can carry different kinds.
pub fn curve_map(p: Option<StretchParams>) -> Box<Map> {
    match p {
        None => Box::new(preprocess::each(|v| v.clamp(0.0, 1.0))),
        Some(p) => Box::new(move |row: &mut [f32]| stretch::apply_mut(row, p)),
    }
}

impl Detector for YoloDetector {
    fn name(&self) -> &str {
        "yolo"
    }

    fn detect(&mut self, frame: &Frame) -> Result<Detections, Error> {
        let half = OnceLock::new();
        self.detect_with_half(frame, &|| own_half(&half, frame))
    }

    fn detect_with_half(&mut self, frame: &Frame, half: Half<'_>) -> Result<Detections, Error> {
        let start = Instant::now();
        self.stats = Stats::default();
        let power = self.params.score_power.max(f32::EPSILON);
        let min_score = self.params.min_confidence.clamp(0.0, 1.0).powf(1.0 / power);
        let (regions, inputs) = self.inputs(frame, half);
        let mut all = Vec::new();
        for (i, (r, (input, t))) in regions.iter().zip(&inputs).enumerate() {
            let found = self.run_input(frame, input, *t, min_score)?;
            if i == 0 {
                all.extend(found);
            } else {
                // two input pixels of the tile, in frame pixels: a box this close to an inner tile edge was cut by it
                let margin = 2.0 * r.width.max(r.height) as f32 / self.model.size as f32;
                all.extend(
                    found.into_iter().filter(|s| tiling::keep_tile_box(&s.bbox, r, frame.width, frame.height, margin)),
                );
            }
        }
        let kept = nms::nms(all, self.params.iou, self.params.max_detections);
        let kept = nms::suppress_nested(kept, self.params.nested);
        let objects = kept
            .into_iter()
            .map(|s| Detection {
                x: s.bbox[0],
                y: s.bbox[1],
                width: s.bbox[2] - s.bbox[0],
                height: s.bbox[3] - s.bbox[1],
                label: self.model.names.get(s.class).cloned().unwrap_or_else(|| format!("class{}", s.class)),
                confidence: s.score.clamp(0.0, 1.0).powf(power),
            })
            .collect();
        self.stats.total = start.elapsed();
        Ok(Detections { objects, heatmap: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_frames_get_their_stretch_and_stretched_ones_the_identity() {
        let lin = Frame::new(3, 1, vec![vec![0.01, 0.02, 0.5]], Encoding::Linear).unwrap();
        let mut row = vec![0.02, 0.5];
        curve_map(stretch_curves(&lin)[0])(&mut row);
        assert!(row[0] > 0.1 && row[1] > row[0], "{row:?}");
        let st = Frame::new(1, 1, vec![vec![0.3]], Encoding::Stretched).unwrap();
        let mut row = vec![0.3, -0.2, 1.4];
        curve_map(stretch_curves(&st)[0])(&mut row);
        assert_eq!(row, [0.3, 0.0, 1.0]);
    }
}
