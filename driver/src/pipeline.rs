//! One image, start to finish: bytes → [`Frame`] → detector → selected detections → report and pictures.
//!
//! The driver's worker thread and `dso-detect` both call [`analyse`], so a file on disk and the same frame arriving
//! from a camera are treated identically. A panic inside a detector is caught here and becomes an error for that
//! image: one bad frame never takes the driver down.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use dso_models::{annotate, decode};
use dso_plugin_api::{Detection, Detector, Frame, HeatMap};

use crate::report::{select, FrameInfo, Report, Selection};

/// Which pictures to make besides the detections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outputs {
    /// The stretched frame as JPEG with the boxes drawn.
    pub annotated: bool,
    /// The detector's heat map as PNG, when it makes one.
    pub heatmap: bool,
    /// The pictures' longest side in pixels, larger frames binned to fit; 0 = the frame's size
    /// (`DSO_SETTINGS.PICTURE_SIZE`, default [`annotate::DEFAULT_MAX_SIDE`]).
    pub max_side: usize,
}

impl Default for Outputs {
    /// No pictures; the default size limit when they are turned on.
    fn default() -> Self {
        Self { annotated: false, heatmap: false, max_side: annotate::DEFAULT_MAX_SIDE }
    }
}

/// Where an image comes from and how it is encoded.
#[derive(Clone, Debug)]
pub struct Source {
    /// `"CCD Simulator.CCD1"`, `"upload"` or a path.
    pub name: String,
    /// INDI format string or file suffix.
    pub format: String,
    /// Receive time, UTC, INDI timestamp format.
    pub timestamp: String,
    /// When the bytes were complete; latency is measured from here.
    pub received: Instant,
}

/// Everything made from one image.
#[derive(Debug)]
pub struct Analysis {
    /// The JSON report (selected detections only).
    pub report: Report,
    /// The selected detections.
    pub detections: Vec<Detection>,
    /// JPEG bytes, when asked for.
    pub annotated: Option<Vec<u8>>,
    /// PNG bytes, when asked for and the detector made a heat map.
    pub heatmap: Option<Vec<u8>>,
    /// The raw heat map, for callers that post-process it.
    pub heatmap_values: Option<HeatMap>,
}

/// Decodes, detects, selects and draws. The error is a message for the astronomer.
pub fn analyse(
    bytes: &[u8],
    source: &Source,
    detector: &mut dyn Detector,
    selection: Selection,
    outputs: Outputs,
    limits: &decode::Limits,
) -> Result<Analysis, String> {
    let frame = decode::decode(bytes, &source.format, limits).map_err(|e| e.to_string())?;
    analyse_frame(&frame, source, detector, selection, outputs)
}

/// [`analyse`] for an already decoded frame.
pub fn analyse_frame(
    frame: &Frame,
    source: &Source,
    detector: &mut dyn Detector,
    selection: Selection,
    outputs: Outputs,
) -> Result<Analysis, String> {
    let name = detector.name().to_owned();
    let found = catch_unwind(AssertUnwindSafe(|| detector.detect(frame)))
        .map_err(|p| format!("detector '{name}' crashed: {}", panic_message(&p)))?
        .map_err(|e| format!("detector '{name}': {e}"))?;
    let detections = select(found.objects, frame.width, frame.height, selection);
    let annotated = if outputs.annotated {
        Some(
            annotate::annotated_jpeg(frame, &detections, 85, outputs.max_side)
                .map_err(|e| format!("annotated image: {e}"))?,
        )
    } else {
        None
    };
    let heatmap = match (&found.heatmap, outputs.heatmap) {
        (Some(map), true) => Some(
            annotate::heatmap_png(map, Some(frame), outputs.max_side).map_err(|e| format!("heat map image: {e}"))?,
        ),
        _ => None,
    };
    let info = FrameInfo {
        width: frame.width,
        height: frame.height,
        source: source.name.clone(),
        format: source.format.clone(),
        timestamp: source.timestamp.clone(),
    };
    let latency_ms = source.received.elapsed().as_secs_f64() * 1000.0;
    let report = Report::new(info, &name, latency_ms, &detections);
    Ok(Analysis { report, detections, annotated, heatmap, heatmap_values: found.heatmap })
}

/// The text of a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}
