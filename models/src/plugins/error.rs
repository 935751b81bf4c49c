//! Why a plugin cannot be used: its library does not load, its table fails the ABI checks, its name is taken, or it
//! was disabled after it misbehaved.
//!
//! A refused plugin stays in the detector list with this reason (`DSO_DETECTOR`, `dso-detect list`, the driver's
//! warnings), so the messages name the library file and say what is wrong in the terms of the C ABI
//! ([`dso_plugin_api::abi`]) a plugin author reads. Errors while *detecting* stay [`dso_plugin_api::Error`]s: that
//! is the [`dso_plugin_api::Detector`] trait's contract with every detector, ours and third parties'.

use dso_plugin_api::abi::DSO_PLUGIN_ABI_VERSION;

/// A plugin that cannot be loaded or started.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The library failed a check while it was loaded; `file` is its file name (`libfoo.so`).
    #[error("{file}: {problem}")]
    Library {
        /// The library's file name.
        file: String,
        /// What is wrong with it.
        problem: LoadProblem,
    },
    /// Its detector has the name of a built-in detector.
    #[error("{file}: its detector is named '{name}', the name of a built-in detector")]
    ShadowsBuiltin {
        /// The library's file name.
        file: String,
        /// The name it declares.
        name: String,
    },
    /// Another plugin loaded earlier has its detector's name.
    #[error("{file}: another plugin already provides '{name}'")]
    Duplicate {
        /// The library's file name.
        file: String,
        /// The name it declares.
        name: String,
    },
    /// One of its detectors misbehaved earlier in this process (as listed).
    #[error("disabled after it misbehaved: {0}")]
    Misbehaved(String),
    /// One of its detectors misbehaved earlier in this process (when asked to create another).
    #[error("plugin {name} is disabled: {why}")]
    Disabled {
        /// The detector's name.
        name: String,
        /// What it did.
        why: String,
    },
    /// The configuration string has a NUL byte, which C cannot be given.
    #[error("a plugin configuration cannot contain NUL")]
    ConfigNul,
    /// Its `create` panicked.
    #[error("plugin {0}: create() panicked")]
    CreatePanicked(String),
    /// Its `create` returned null; `why` is its `last_error`.
    #[error("plugin {name} cannot start: {why}")]
    CannotStart {
        /// The detector's name.
        name: String,
        /// The plugin's own message.
        why: String,
    },
}

impl PluginError {
    /// A [`PluginError::Library`] for the file `file`.
    pub fn library(file: &str, problem: LoadProblem) -> Self {
        PluginError::Library { file: file.into(), problem }
    }
}

/// What is wrong with a library, checked in the order [`super::library`] explains.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadProblem {
    /// `dlopen` failed.
    #[error("cannot be loaded as a library: {0}")]
    NotALibrary(String),
    /// No entry symbol.
    #[error("no {0} symbol: not a DSO Detector plugin")]
    NoEntry(String),
    /// A function of the plugin (its entry point, `name()`…) panicked.
    #[error("{0}() panicked")]
    Panicked(String),
    /// A function of the plugin returned null.
    #[error("{0}() returned null")]
    ReturnedNull(String),
    /// A function's string is not UTF-8.
    #[error("{0}() is not UTF-8")]
    NotUtf8(String),
    /// The table is of another ABI version.
    #[error("ABI version {0}, this host speaks {DSO_PLUGIN_ABI_VERSION}")]
    AbiVersion(u32),
    /// The table is smaller than version 1's.
    #[error("its table is {size} bytes, ABI version 1 needs {needed}")]
    TableTooSmall {
        /// The size it declares.
        size: u32,
        /// The size of ours.
        needed: usize,
    },
    /// A function pointer of the table is null.
    #[error("its table has no {0} function")]
    MissingFunction(&'static str),
    /// The detector's name cannot be an INDI element name.
    #[error("detector name '{0}' is not 1-32 characters of a-z, 0-9, '_', '-'")]
    InvalidName(String),
}

/// A result a plugin's `detect` returned that the host cannot read; the plugin is disabled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadResult {
    /// More detections than any frame has.
    #[error("it returned {0} detections (at most {max})", max = super::detector::MAX_DETECTIONS)]
    TooMany(usize),
    /// Detections at a null pointer.
    #[error("it returned {0} detections at a null pointer")]
    NullDetections(usize),
}
