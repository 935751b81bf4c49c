//! The local settings: one configuration file and the environment variables, read and checked once per process.
//!
//! Which model a detector loads, where plugins are looked for and how the plate solver runs are local decisions of
//! whoever starts the program, never INDI properties (a client must not make the driver load a file or run a
//! command). They used to live in two files with two syntaxes (`detector.conf`, `plugins.conf`) and in environment
//! variables read where they were used, some silently ignored when malformed; here they are read in one place and
//! every problem is reported with the file and line, or the variable, it comes from.
//!
//! # The file
//! `$DSO_DETECTOR_CONF`, else `$XDG_CONFIG_HOME/dso-detector/dso-detector.conf`, else
//! `~/.config/dso-detector/dso-detector.conf` (see [`mod@parse`] for the syntax):
//! ```text
//! [yolo]
//! model = ~/models/my.onnx   # default: the shipped dso_yolo.onnx
//! threads = 2                # ONNX Runtime intra-op threads, 0 = all cores
//! score_power = 0.19         # reported confidence = model score ^ power
//! tiles = 3                  # most tiles along a side, 0 = whole-frame pass only
//! nested = 0.8               # drop a box this much inside a more confident one; 2 keeps all
//! [xrai]
//! model = ~/models/classifier.onnx   # its gradient graph classifier_grad.onnx beside it
//! threads = 0
//! [pix2pix]
//! model = ~/models/generator.onnx
//! threads = 0
//! [plugins]
//! path = /opt/plugins        # a folder to search or one library; repeatable
//! config = streaks min_length=80   # plugin name, then the string its create() receives
//! [solver]
//! enabled = false
//! command = solve-field
//! timeout_s = 60
//! index_dir = /usr/share/astrometry
//! [identify]
//! enabled = true
//! [triage]                   # frame quality (crate::quality): limits against the session's best frames
//! enabled = true
//! trails = true              # look for satellite trails
//! clouds_marginal = 30       # stars down by this many percent
//! clouds_reject = 50
//! focus_marginal = 25        # FWHM up by this many percent
//! focus_reject = 50
//! tracking_marginal = 0.12   # median elongation up by this much
//! tracking_reject = 0.25
//! elongation_max = 1.6       # rejected whatever the session does
//! sky_marginal = 5           # sky background up by this many noise sigmas
//! saturation_marginal = 1    # percent of saturated pixels
//! trail = marginal           # verdict of a frame with a trail: good, marginal or reject
//! history = 500              # frames the session remembers
//! ```
//! The old files are still read, with a deprecation warning: `detector.conf` (its `yolo_*` keys) beside where the
//! new file would be when `DSO_DETECTOR_CONF` is unset, and `plugins.conf` there always; the new file is applied
//! last, so its values win, and plugin paths of all files are searched (old files' first).
//!
//! # Environment variables
//! | variable | meaning | when malformed |
//! |---|---|---|
//! | `DSO_DETECTOR_CONF` | the configuration file | a missing file is an empty configuration |
//! | `XDG_CONFIG_HOME`, `HOME` | where the configuration file is, `~/` in paths | — |
//! | `DSO_YOLO_MODEL` | the YOLO model, before `[yolo] model` | the YOLO detector is unavailable: the file does not exist |
//! | `DSO_CLASSIFIER_MODEL` | XRAI's classifier (forward graph), before `[xrai] model` | idem for XRAI |
//! | `DSO_PIX2PIX_MODEL` | the Pix2Pix generator, before `[pix2pix] model` | idem for Pix2Pix |
//! | `DSO_DETECTOR_PLUGIN_PATH` | plugin folders, colon-separated, searched before the file's | — |
//! | `DSO_MAX_FRAME_MB` | largest frame the driver accepts, MiB (default 128) | an error is logged, the default is used |
//! | `ORT_DYLIB_PATH` | the ONNX Runtime library ([`crate::onnx::runtime`]) | the ONNX detectors are unavailable |
//!
//! The driver also reads libindi's own `INDIDEV` (device name) and `INDICONFIG` (its XML configuration), and
//! `RUST_LOG` sets the log level.

mod load;
pub mod parse;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use load::{get, load, Env, VARS};
pub use parse::Report;

/// Largest frame accepted by default, MiB: a 61 Mpx 16-bit sensor (IMX455) makes 122 MB frames. Memory peaks at
/// about twice this while a base64 frame is decoded, which is what a Raspberry Pi can afford.
pub const DEFAULT_MAX_FRAME_MIB: u64 = 128;

/// The file's name in the configuration folder.
pub const FILE_NAME: &str = "dso-detector.conf";

/// Where a setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// An environment variable.
    Env(&'static str),
    /// A line of a file.
    File {
        /// The file.
        path: PathBuf,
        /// 1-based line number; 0 for the file as a whole.
        line: usize,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Env(var) => f.write_str(var),
            Origin::File { path, line: 0 } => write!(f, "{}", path.display()),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
        }
    }
}

/// A problem with a setting: where, which section it concerns (`None`: the file as a whole), and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsError {
    /// The file and line, or the variable.
    pub origin: Origin,
    /// `yolo`, `plugins`, …
    pub section: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.message)
    }
}

/// A model file someone named, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPath {
    /// The file (it may not exist: checked when the model is looked up).
    pub path: PathBuf,
    /// Where it was named.
    pub origin: Origin,
}

impl fmt::Display for ModelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.origin {
            Origin::Env(var) => write!(f, "{var}={}", self.path.display()),
            file => write!(f, "model = {} (at {file})", self.path.display()),
        }
    }
}

/// `[yolo]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct YoloSettings {
    /// `model`, or `DSO_YOLO_MODEL`.
    pub model: Option<ModelPath>,
    /// `threads`.
    pub threads: Option<usize>,
    /// `score_power`.
    pub score_power: Option<f32>,
    /// `tiles`.
    pub tiles: Option<usize>,
    /// `nested`.
    pub nested: Option<f32>,
    /// `stretch_order` (`after` or `before`): when a linear frame is stretched relative to shrinking it to the
    /// input (docs/REAL-SKY.md).
    pub stretch_order: Option<crate::yolo::preprocess::CurveOrder>,
}

/// `[xrai]`, `[pix2pix]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelSettings {
    /// `model`, or the detector's environment variable.
    pub model: Option<ModelPath>,
    /// `threads`.
    pub threads: Option<usize>,
}

/// A plugin folder or library named in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginPath {
    /// The folder or library.
    pub path: PathBuf,
    /// Where it was named.
    pub origin: Origin,
}

/// `[solver]`: the plate solver.
#[derive(Clone, Debug, PartialEq)]
pub struct SolverSettings {
    /// `enabled` (default true: `installers/deps.sh` installs the solver).
    pub enabled: bool,
    /// `command` (default `solve-field`, looked up in `PATH`).
    pub command: PathBuf,
    /// `timeout_s` (default 60).
    pub timeout_s: f64,
    /// `index_dir`: astrometry.net's index files, if not where `solve-field` looks by default.
    pub index_dir: Option<PathBuf>,
}

impl Default for SolverSettings {
    fn default() -> Self {
        Self { enabled: true, command: PathBuf::from("solve-field"), timeout_s: 60.0, index_dir: None }
    }
}

/// `[identify]`: naming what was detected.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentifySettings {
    /// `enabled` (default true).
    pub enabled: bool,
}

impl Default for IdentifySettings {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// `[triage]`: frame quality and its verdicts ([`crate::quality`]).
#[derive(Clone, Debug, PartialEq)]
pub struct TriageSettings {
    /// `enabled` (default true): measure every frame.
    pub enabled: bool,
    /// `trails` (default true): look for trails.
    pub trails: bool,
    /// The verdict's limits.
    pub thresholds: crate::quality::Thresholds,
}

impl Default for TriageSettings {
    fn default() -> Self {
        Self { enabled: true, trails: true, thresholds: crate::quality::Thresholds::default() }
    }
}

/// Every local setting, from the file and the environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The configuration file (it need not exist), for messages.
    pub file: Option<PathBuf>,
    /// `[yolo]`.
    pub yolo: YoloSettings,
    /// `[xrai]`.
    pub xrai: ModelSettings,
    /// `[pix2pix]`.
    pub pix2pix: ModelSettings,
    /// `DSO_DETECTOR_PLUGIN_PATH`'s folders.
    pub plugin_env_dirs: Vec<PathBuf>,
    /// `[plugins] path`s, in file order.
    pub plugin_paths: Vec<PluginPath>,
    /// `[plugins] config`: configuration strings by plugin name (lower case).
    pub plugin_configs: HashMap<String, String>,
    /// `[solver]`.
    pub solver: SolverSettings,
    /// `[identify]`.
    pub identify: IdentifySettings,
    /// `[triage]`.
    pub triage: TriageSettings,
    /// `DSO_MAX_FRAME_MB`.
    pub max_frame_mib: u64,
    /// `ORT_DYLIB_PATH`.
    pub ort_dylib_path: Option<PathBuf>,
    /// What was wrong; the settings concerned keep their defaults.
    pub errors: Vec<SettingsError>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            file: None,
            yolo: YoloSettings::default(),
            xrai: ModelSettings::default(),
            pix2pix: ModelSettings::default(),
            plugin_env_dirs: Vec::new(),
            plugin_paths: Vec::new(),
            plugin_configs: HashMap::new(),
            solver: SolverSettings::default(),
            identify: IdentifySettings::default(),
            triage: TriageSettings::default(),
            max_frame_mib: DEFAULT_MAX_FRAME_MIB,
            ort_dylib_path: None,
            errors: Vec::new(),
        }
    }
}

impl Settings {
    /// The errors about `section`, one per line, or `Ok` when there are none (a detector whose section is wrong is
    /// unavailable with this reason).
    pub fn section_errors(&self, section: &str) -> Result<(), String> {
        let errors: Vec<String> =
            self.errors.iter().filter(|e| e.section.as_deref() == Some(section)).map(|e| e.to_string()).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// Parses one file's text (`origin` is its path, for messages and relative paths), without the environment.
pub fn parse(text: &str, origin: &Path) -> Result<Settings, Vec<SettingsError>> {
    let mut settings = Settings::default();
    let report = parse::apply(text, origin, None, &mut settings);
    if report.errors.is_empty() {
        Ok(settings)
    } else {
        Err(report.errors)
    }
}
