//! Why an ONNX detector cannot run: the runtime is missing, its model file is not found, or the file is not the
//! graph the detector expects.
//!
//! One error type for the whole ONNX layer, so the YOLO, XRAI and Pix2Pix detectors fail in the same words and a
//! caller can tell "install ONNX Runtime" from "this model file is wrong" without reading the text. The messages are
//! the sentences an astronomer sees in `DSO_DETECTOR`'s refusal, `dso-detect list` and the driver log, so each names
//! the file and what to do. Errors are `Clone` and `Eq`: availability is computed once per process and shared
//! ([`super::Availability`]), and the detector list compares entries.

use std::path::PathBuf;

use super::runtime::ORT_VERSION;

/// What to do when ONNX Runtime is not found.
fn install_hint() -> String {
    format!(
        "install it with `pip install onnxruntime=={ORT_VERSION}` (installers/deps.sh does), or set ORT_DYLIB_PATH to \
         a libonnxruntime.so"
    )
}

/// An ONNX detector cannot be used: why, in a sentence that names the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OnnxError {
    /// No ONNX Runtime library in any place searched.
    #[error("the ONNX Runtime library was not found; {}", install_hint())]
    RuntimeNotFound,
    /// The first place searched names a file that does not exist (`ORT_DYLIB_PATH`, typically).
    #[error("the ONNX Runtime library was not found ({} does not exist); {}", .0.display(), install_hint())]
    RuntimeMissing(PathBuf),
    /// The library exists but does not load.
    #[error("cannot load ONNX Runtime: {0}; {hint}", hint = install_hint())]
    RuntimeLoad(String),
    /// The library loaded but its environment could not be made.
    #[error("cannot start ONNX Runtime from {}: {why}", path.display())]
    RuntimeStart {
        /// The library.
        path: PathBuf,
        /// ONNX Runtime's own words.
        why: String,
    },
    /// The model file named in the settings does not exist (`model` is how it was named: `DSO_YOLO_MODEL=/m/x.onnx`).
    #[error("{model} does not exist")]
    ConfiguredMissing {
        /// The setting, as [`crate::settings::ModelPath`] displays it.
        model: String,
    },
    /// No model named and none shipped.
    #[error("{file} is in none of {places}; name one with `model = …` under [{section}] in {conf}, or {env_var}")]
    NotShipped {
        /// The shipped file name.
        file: &'static str,
        /// The places looked at, comma-separated.
        places: String,
        /// The settings section that can name one.
        section: &'static str,
        /// The settings file.
        conf: String,
        /// The environment variable that can name one.
        env_var: &'static str,
    },
    /// The detector's section of the settings file has errors (the settings' own message).
    #[error("{0}")]
    Settings(String),
    /// A detector's model was not found: `what` says which ("no YOLO model").
    #[error("{what}: {source}")]
    NoModel {
        /// Which model ("no YOLO model", "no classifier for XRAI").
        what: &'static str,
        /// Why.
        source: Box<OnnxError>,
    },
    /// XRAI's classifier was found but not its gradient graph beside it.
    #[error("no gradient graph for XRAI: {} does not exist", .0.display())]
    NoGradientGraph(PathBuf),
    /// A model file cannot be used: `"{what} {path}: {problem}"` ("YOLO model /m/x.onnx: no such file").
    #[error("{what} {}: {problem}", path.display())]
    Model {
        /// Which model ("YOLO model", "gradient graph").
        what: String,
        /// The file.
        path: PathBuf,
        /// What is wrong with it (boxed: the common path, `Ok`, stays small).
        problem: Box<ModelProblem>,
    },
}

impl OnnxError {
    /// `source` as the reason `what` is missing ("no Pix2Pix model: …").
    pub fn no_model(what: &'static str, source: OnnxError) -> Self {
        OnnxError::NoModel { what, source: Box::new(source) }
    }

    /// A [`OnnxError::Model`]: `what` at `path` has `problem`.
    pub fn model(what: impl Into<String>, path: impl Into<PathBuf>, problem: ModelProblem) -> Self {
        OnnxError::Model { what: what.into(), path: path.into(), problem: Box::new(problem) }
    }
}

/// What is wrong with a model file ([`OnnxError::Model`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModelProblem {
    /// The path is not a file.
    #[error("no such file")]
    NoSuchFile,
    /// ONNX Runtime refused a session option.
    #[error("{0}")]
    Session(String),
    /// ONNX Runtime cannot read the file.
    #[error("not a loadable ONNX model: {0}")]
    NotLoadable(String),
    /// The graph's inputs are not the expected ones.
    #[error("expected the inputs {expected}, found {count} ({found})")]
    Inputs {
        /// The expected names, quoted.
        expected: String,
        /// How many the graph has.
        count: usize,
        /// Its names, quoted.
        found: String,
    },
    /// An input or output is missing.
    #[error("no {kind} '{name}' (it has {has})")]
    NoPort {
        /// "input" or "output".
        kind: &'static str,
        /// The name looked for.
        name: String,
        /// The names it has, quoted.
        has: String,
    },
    /// An input or output has the wrong type or shape.
    #[error(transparent)]
    Port(#[from] PortMismatch),
    /// Any other check a detector makes (YOLO's output layout, XRAI's batch sizes).
    #[error("{0}")]
    Invalid(String),
}

/// An input or output whose type or shape is not the expected one:
/// "input 'input' is float32 [?, 3, 256, 256]; expected float32 [N, 3, 224, 224]".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} '{name}' is {found}; expected float32 [{expected}]")]
pub struct PortMismatch {
    /// "input" or "output".
    pub kind: String,
    /// The port's name.
    pub name: String,
    /// What the file declares (`float32 [?, 3, 256, 256]`).
    pub found: String,
    /// The expected dimensions (`N, 3, 224, 224`).
    pub expected: String,
}
