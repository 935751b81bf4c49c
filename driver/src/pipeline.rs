//! One image, start to finish: bytes → [`Frame`] → detector → selected detections → report and pictures.
//!
//! The driver's worker thread and `dso-detect` both call [`analyse`], so a file on disk and the same frame arriving
//! from a camera are treated identically. A panic inside a detector is caught here and becomes an error for that
//! image: one bad frame never takes the driver down. What can go wrong is a [`PipelineError`], so the driver and the
//! CLI report a frame that cannot be read, decoded, detected in or drawn in the same words, and a caller can tell
//! which step failed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::Instant;

use dso_models::annotate::AnnotateError;
use dso_models::decode::DecodeError;
use dso_models::registry::CreateError;
use dso_models::{annotate, decode, ops, quality, settings};
use dso_plugin_api::{Detection, Detector, Frame, HeatMap};

use crate::local_file::ReadError;

use crate::naming::{self, Naming};
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
    /// Measure the frame's quality and look for trails ([`quality`]; `[triage] enabled`), beside the detector.
    pub triage: bool,
}

impl Default for Outputs {
    /// No pictures; the default size limit when they are turned on.
    fn default() -> Self {
        Self { annotated: false, heatmap: false, max_side: annotate::DEFAULT_MAX_SIDE, triage: false }
    }
}

/// Where an image comes from. Its [`Display`](std::fmt::Display) is the name reports and messages show:
/// `upload`, `CCD Simulator.CCD1`, or the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A client's `DSO_IMAGE_UPLOAD`.
    Upload,
    /// A snooped camera's property: its image BLOB (`CCD1`) or the file it saved (`CCD_FILE_PATH`).
    Camera {
        /// The camera's device name.
        device: String,
        /// The property the frame came with.
        property: String,
    },
    /// A file `dso-detect` reads.
    File(std::path::PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Upload => f.write_str("upload"),
            Origin::Camera { device, property } => write!(f, "{device}.{property}"),
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Where an image comes from and how it is encoded.
#[derive(Clone, Debug)]
pub struct Source {
    /// Where it comes from.
    pub origin: Origin,
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
    /// What a plate solve needs to name this frame later, when naming asked for one.
    pub pending: Option<Box<PendingSolve>>,
    /// The frame's quality measures, when triage is on (the verdict needs the session: the caller's).
    pub quality: Option<quality::Measures>,
}

/// A frame waiting for a plate solve so that its objects can be named.
#[derive(Debug)]
pub struct PendingSolve {
    /// The frame's luminance (one plane: what the solver and the evidence check need).
    pub frame: std::sync::Arc<Frame>,
    /// The selected detections, in the order of `base`'s.
    pub detections: Vec<Detection>,
    /// The report before naming.
    pub base: Report,
    /// The selection the report was made with.
    pub selection: Selection,
    /// The target's name, if any.
    pub target: Option<String>,
    /// Pointing hints for the solver.
    pub hints: Option<dso_models::sky::Pointing>,
}

/// Decodes, detects, selects and draws. The error's text is a message for the astronomer.
pub fn analyse(
    bytes: &[u8],
    source: &Source,
    detector: &mut dyn Detector,
    selection: Selection,
    outputs: Outputs,
    naming: &Naming,
    limits: &decode::Limits,
) -> Result<Analysis, PipelineError> {
    // A camera's plain mono FITS comes with its 2×2 binning, made by the decoder in the same pass.
    let (frame, half) = decode::decode_with_half(bytes, &source.format, limits)?;
    let analysis = analyse_frame_with_half(&frame, half, source, detector, selection, outputs, naming);
    // The next frame's samples go into this one's memory (`decode::raw::recycle`).
    decode::raw::recycle(frame);
    analysis
}

/// [`analyse`] for an already decoded frame.
pub fn analyse_frame(
    frame: &Frame,
    source: &Source,
    detector: &mut dyn Detector,
    selection: Selection,
    outputs: Outputs,
    naming: &Naming,
) -> Result<Analysis, PipelineError> {
    analyse_frame_with_half(frame, None, source, detector, selection, outputs, naming)
}

/// [`analyse_frame`] with the frame binned 2×2 already made (by [`decode::decode_with_half`]); `None` to have it
/// made here when needed. A `half` of another size is ignored.
pub fn analyse_frame_with_half(
    frame: &Frame,
    half: Option<Frame>,
    source: &Source,
    detector: &mut dyn Detector,
    selection: Selection,
    outputs: Outputs,
    naming: &Naming,
) -> Result<Analysis, PipelineError> {
    let name = detector.name().to_owned();
    // The frame binned 2×2, made once by whichever side asks first (the other waits for it), unless the decoder
    // made it: the picture of a large frame starts from it, and so do detectors that read a large frame at a
    // reduced scale (YOLO).
    let half_cell = OnceLock::new();
    if let Some(h) = half.filter(|h| ops::is_half_of(h, frame)) {
        let _ = half_cell.set(Some(h));
    }
    let half = || half_cell.get_or_init(|| ops::bin_frame(frame, 2)).as_ref();
    let picture_from_half = annotate::preview_factor(frame.width, frame.height, outputs.max_side) % 2 == 0;
    // What does not depend on the detections — the quality measures and the annotated image's stretched picture —
    // is made on a second thread while the detector runs.
    let (found, (measures, preview)) = std::thread::scope(|scope| {
        let beside = scope.spawn(|| {
            let preview = outputs.annotated.then(|| {
                catch_unwind(AssertUnwindSafe(|| {
                    let half = if picture_from_half { half() } else { None };
                    annotate::Preview::of_with_half(frame, outputs.max_side, half)
                }))
                .map_err(|p| PipelineError::AnnotatePanic(panic_message(&p)))
                .and_then(|r| r.map_err(PipelineError::Annotated))
            });
            let measures = outputs.triage.then(|| triage(frame)).flatten();
            (measures, preview)
        });
        let found = catch_unwind(AssertUnwindSafe(|| detector.detect_with_half(frame, &half)));
        // Both closures catch their panics: joining cannot fail.
        (found, beside.join().unwrap_or((None, Some(Err(PipelineError::AnnotateThread)))))
    });
    let found = found
        .map_err(|p| PipelineError::DetectorPanic { detector: name.clone(), message: panic_message(&p) })?
        .map_err(|source| PipelineError::Detector { detector: name.clone(), source })?;
    let detections = select(found.objects, frame.width, frame.height, selection);
    let info = FrameInfo {
        width: frame.width,
        height: frame.height,
        source: source.origin.to_string(),
        format: source.format.clone(),
        timestamp: source.timestamp.clone(),
    };
    let mut report = Report::new(info, &name, 0.0, &detections);
    let placement = naming::place(frame, naming);
    let target = naming.enabled.then(|| naming::target_name(frame, naming)).flatten();
    // What a later solve names again: the report before naming, and the frame's luminance with its keywords.
    let mut pending = placement.wants_solve.then(|| {
        let mono = Frame {
            width: frame.width,
            height: frame.height,
            planes: vec![frame.luminance()],
            encoding: frame.encoding,
            header: frame.header.clone(),
        };
        Box::new(PendingSolve {
            frame: std::sync::Arc::new(mono),
            detections: detections.clone(),
            base: report.clone(),
            selection,
            target: target.clone(),
            hints: placement.hints,
        })
    });
    report.field_note = placement.note.clone();
    match &placement.field {
        Some(field) => {
            naming::name_report(&mut report, frame, &detections, field, selection, target.as_deref());
        }
        None => naming::unplaced_target(&mut report, target.as_deref()),
    }
    let trails = measures.as_ref().map_or(&[][..], |m| m.trails.as_slice());
    let annotated = match preview {
        Some(preview) => {
            Some(preview?.into_jpeg(&report.picture_labels(), trails, 85).map_err(PipelineError::Annotated)?)
        }
        None => None,
    };
    let heatmap = match (&found.heatmap, outputs.heatmap) {
        (Some(map), true) => {
            Some(annotate::heatmap_png(map, Some(frame), outputs.max_side).map_err(PipelineError::HeatMap)?)
        }
        _ => None,
    };
    report.latency_ms = (source.received.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
    if let Some(p) = pending.as_mut() {
        // The names update reports the latency of the frame's results, not of the solve.
        p.base.latency_ms = report.latency_ms;
    }
    Ok(Analysis { report, detections, annotated, heatmap, heatmap_values: found.heatmap, pending, quality: measures })
}

/// The frame's quality measures with the local settings' trail switch; a panic in them is logged and costs only
/// the measures (the detections stand).
pub fn triage(frame: &Frame) -> Option<quality::Measures> {
    let params = quality::Params { trails: settings::get().triage.trails, ..quality::Params::default() };
    catch_unwind(AssertUnwindSafe(|| quality::measure(frame, &params)))
        .map_err(|p| log::error!("frame quality measures crashed: {}", panic_message(&p)))
        .ok()
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

/// Why one image gave no analysis. The text is what the astronomer reads (`DSO_RESULTS`, the CLI's stderr).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The frame file a camera saved could not be read ([`crate::local_file`]).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The file given to the CLI could not be read.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// The detector could not be created (unknown, unavailable, its model refused); boxed, as it is large and rare.
    #[error(transparent)]
    Create(Box<CreateError>),
    /// The bytes are not an image this driver decodes.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The detector failed on this frame.
    #[error("detector '{detector}': {source}")]
    Detector {
        /// The detector's name.
        detector: String,
        /// Its error.
        source: dso_plugin_api::Error,
    },
    /// The detector panicked on this frame (caught: the next frame is processed).
    #[error("detector '{detector}' crashed: {message}")]
    DetectorPanic {
        /// The detector's name.
        detector: String,
        /// The panic's text.
        message: String,
    },
    /// The annotated image could not be made.
    #[error("annotated image: {0}")]
    Annotated(AnnotateError),
    /// Drawing the annotated image panicked.
    #[error("annotated image crashed: {0}")]
    AnnotatePanic(String),
    /// The thread drawing the annotated image ended without an answer.
    #[error("annotated image: its thread ended")]
    AnnotateThread,
    /// The heat map picture could not be made.
    #[error("heat map image: {0}")]
    HeatMap(AnnotateError),
}

impl From<CreateError> for PipelineError {
    fn from(e: CreateError) -> Self {
        PipelineError::Create(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_the_messages_astronomers_already_see() {
        let failed = PipelineError::Detector { detector: "yolo".into(), source: dso_plugin_api::Error::new("no way") };
        assert_eq!(failed.to_string(), "detector 'yolo': no way");
        let crashed = PipelineError::DetectorPanic { detector: "naive".into(), message: "index out of bounds".into() };
        assert_eq!(crashed.to_string(), "detector 'naive' crashed: index out of bounds");
        let picture = PipelineError::HeatMap(AnnotateError::Size("empty map".into()));
        assert_eq!(picture.to_string(), "heat map image: size mismatch: empty map");
        assert_eq!(PipelineError::AnnotateThread.to_string(), "annotated image: its thread ended");
        let missing = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        assert_eq!(PipelineError::from(missing).to_string(), "cannot read: No such file or directory");
        let decode = PipelineError::from(DecodeError::Empty);
        assert!(matches!(decode, PipelineError::Decode(_)));
        assert_eq!(decode.to_string(), "the image is empty (0 bytes)");
    }
}
