//! The Pix2Pix detector: a generator that draws, in one pass, the heat map XRAI would draw — technique 4 of Parisot
//! & Jaziri 2024.
//!
//! XRAI ([`crate::xrai::detector`]) explains the classifier with some sixty gradients per tile: seconds per tile on a
//! Raspberry Pi. The paper's answer is an image-to-image network trained to imitate those maps; one forward pass per
//! tile costs what a classification does. The shipped generator (`models/weights/dso_pix2pix.onnx`, trained by
//! `dso_training.pix2pix.train` on the classifier's XRAI maps) takes the same stretched 224×224 RGB tiles as the
//! classifier and outputs the XRAI map of class "deep-sky object" divided by [`MAP_SCALE`] and clipped to `0..=1`.
//!
//! Everything around the model is [`crate::heatmap`]: tiles, stitching, boxes. A box's confidence comes from the peak
//! of the stitched map over its region, how strongly the imitated explanation points there: `peak ^`
//! [`CONFIDENCE_POWER`], calibrated on generated data so that the host's default threshold 0.5 is the best-F1 point.

use std::path::{Path, PathBuf};

use dso_plugin_api::{Detections, Detector, Error, Frame};

use crate::heatmap::{self, BoxParams, Stitcher, TileModel, TileSource, Tiling, INPUT};
use crate::onnx::OnnxError;

/// The scale of this classifier's XRAI maps: the 99.5th percentile of the raw XRAI values over the generator's
/// training set (`dso_training.pix2pix.train` stores it in the checkpoint, `export.py` prints it). Pix2Pix outputs
/// `xrai / MAP_SCALE` clipped to `0..=1`, and the XRAI detector scales its maps the same way, so one threshold serves
/// both.
pub const MAP_SCALE: f32 = 0.004_762_82;

/// File name of the shipped generator.
pub const MODEL_FILE: &str = "dso_pix2pix.onnx";

/// Environment variable naming another generator file (for tests and experiments).
pub const MODEL_ENV: &str = "DSO_PIX2PIX_MODEL";

/// The Pix2Pix detector's tunables.
#[derive(Clone, Debug, PartialEq)]
pub struct Pix2PixParams {
    /// How frames are cut into tiles.
    pub tiling: Tiling,
    /// How the stitched map becomes boxes.
    pub boxes: BoxParams,
    /// ONNX Runtime intra-op threads; 0 lets it use every core.
    pub threads: usize,
    /// A box's confidence is its region's peak raised to this power ([`CONFIDENCE_POWER`] by default).
    pub confidence_power: f32,
}

/// `confidence = peak ^ power`: the best-F1 peak threshold on the generator's held-out patches (never the real dev
/// set) maps to the host's default confidence 0.5, as for the YOLO model (`models/weights/PIX2PIX_CARD.md`).
pub const CONFIDENCE_POWER: f32 = 0.53;

impl Default for Pix2PixParams {
    fn default() -> Self {
        Self { tiling: Tiling::default(), boxes: BoxParams::default(), threads: 0, confidence_power: CONFIDENCE_POWER }
    }
}

/// The generator file: [`MODEL_ENV`] if set, else `[pix2pix] model` of [`crate::settings`], else the shipped
/// [`MODEL_FILE`] beside the executable, in
/// `<prefix>/share/dso-detector/` or in the source tree's `models/weights/`.
pub fn model_path() -> Result<PathBuf, OnnxError> {
    let settings = crate::settings::get();
    settings.section_errors("pix2pix").map_err(OnnxError::Settings)?;
    crate::onnx::find_model(settings.pix2pix.model.as_ref(), "pix2pix", MODEL_ENV, MODEL_FILE)
        .map(|(path, _)| path)
        .map_err(|e| OnnxError::no_model("no Pix2Pix model", e))
}

/// Whether the Pix2Pix detector: the model file is found and ONNX Runtime loads.
pub static AVAILABILITY: crate::onnx::Availability = crate::onnx::Availability::new(|| model_path().map(drop));

/// The Pix2Pix detector.
#[derive(Debug)]
pub struct Pix2PixDetector {
    model: TileModel,
    path: PathBuf,
    params: Pix2PixParams,
}

impl Pix2PixDetector {
    /// The detector with the generator [`model_path`] finds, the configured threads and default parameters.
    pub fn new() -> Result<Self, OnnxError> {
        let threads = crate::settings::get().pix2pix.threads.unwrap_or(0);
        Self::load(&model_path()?, Pix2PixParams { threads, ..Pix2PixParams::default() })
    }

    /// The detector with a given generator file, checked: input `input` `[N, 3, 224, 224]`, output `heat`
    /// `[N, 1, 224, 224]`.
    pub fn load(path: &Path, params: Pix2PixParams) -> Result<Self, OnnxError> {
        let side = INPUT as i64;
        let model = TileModel::load(path, params.threads, "Pix2Pix model", "input", "heat", &[1, side, side])?;
        log::info!("Pix2Pix model {}", path.display());
        Ok(Self { model, path: path.to_owned(), params })
    }

    /// The model file in use.
    pub fn model_path(&self) -> &Path {
        &self.path
    }

    /// The parameters, to adjust.
    pub fn params_mut(&mut self) -> &mut Pix2PixParams {
        &mut self.params
    }
}

impl Detector for Pix2PixDetector {
    fn name(&self) -> &str {
        "pix2pix"
    }

    fn detect(&mut self, frame: &Frame) -> Result<Detections, Error> {
        heatmap::check_frame(frame)?;
        let source = TileSource::new(frame);
        let tiles = self.params.tiling.tiles(frame.width, frame.height);
        let maps = heatmap::run_tiles(&source, &tiles, &mut self.model).map_err(Error::new)?;
        let mut stitcher = Stitcher::new(frame.width, frame.height);
        for (tile, map) in tiles.iter().zip(&maps) {
            stitcher.add(*tile, map);
        }
        let map = stitcher.finish();
        let power = self.params.confidence_power;
        let objects = heatmap::boxes(&map, &self.params.boxes, |b| b.peak.clamp(0.0, 1.0).powf(power));
        Ok(Detections { objects, heatmap: Some(map) })
    }
}
