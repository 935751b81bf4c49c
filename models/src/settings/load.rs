//! Where the settings come from, in order: the deprecated `detector.conf` and `plugins.conf` (each read with a
//! deprecation warning), the configuration file, then the environment variables, which are validated here — a
//! malformed `DSO_MAX_FRAME_MB` is reported, never silently ignored. Apart from the types in `mod.rs` because this is
//! the only part that touches the process (its environment, the file system, the one process-wide copy).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{parse, ModelPath, Origin, Report, Settings, SettingsError, DEFAULT_MAX_FRAME_MIB, FILE_NAME};

/// The environment variables this module reads, captured once (tests make their own).
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: HashMap<&'static str, String>,
}

/// Every variable [`Env`] reads.
pub const VARS: [&str; 10] = [
    "DSO_DETECTOR_CONF",
    "XDG_CONFIG_HOME",
    "HOME",
    "DSO_YOLO_MODEL",
    "DSO_CLASSIFIER_MODEL",
    "DSO_PIX2PIX_MODEL",
    "DSO_DETECTOR_PLUGIN_PATH",
    "DSO_MAX_FRAME_MB",
    "ORT_DYLIB_PATH",
    "RUST_LOG",
];

impl Env {
    /// This process's environment.
    pub fn from_process() -> Self {
        Self::from_pairs(VARS.iter().filter_map(|v| Some((*v, std::env::var_os(v)?.to_string_lossy().into_owned()))))
    }

    /// Given values (unknown names are ignored).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        let vars = pairs.into_iter().filter_map(|(k, v)| Some((*VARS.iter().find(|n| **n == k)?, v))).collect();
        Self { vars }
    }

    /// A variable, `None` when unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }

    fn path(&self, name: &str) -> Option<PathBuf> {
        self.get(name).map(PathBuf::from)
    }

    /// The configuration folder: `$XDG_CONFIG_HOME/dso-detector`, else `~/.config/dso-detector`.
    pub fn config_dir(&self) -> Option<PathBuf> {
        let base = self.path("XDG_CONFIG_HOME").or_else(|| Some(self.path("HOME")?.join(".config")))?;
        Some(base.join("dso-detector"))
    }

    /// The configuration file: `$DSO_DETECTOR_CONF`, else [`FILE_NAME`] in [`Self::config_dir`].
    pub fn config_file(&self) -> Option<PathBuf> {
        self.path("DSO_DETECTOR_CONF").or_else(|| Some(self.config_dir()?.join(FILE_NAME)))
    }
}

/// Reads a file's text; a missing file is `None`, an unreadable one an error.
fn read(path: &Path, report: &mut Report) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            let origin = Origin::File { path: path.to_owned(), line: 0 };
            report.errors.push(SettingsError { origin, section: None, message: format!("cannot read: {e}") });
            None
        }
    }
}

/// Loads the settings from the files and variables `env` names; the report holds every problem (also kept in
/// [`Settings::errors`]) and warning.
pub fn load(env: &Env) -> (Settings, Report) {
    let mut s = Settings { file: env.config_file(), ..Settings::default() };
    let mut report = Report::default();
    let home = env.path("HOME");
    let new_file = s.file.clone().map(|p| p.display().to_string()).unwrap_or_else(|| FILE_NAME.into());
    let deprecated = |old: &Path, how: &str| SettingsError {
        origin: Origin::File { path: old.to_owned(), line: 0 },
        section: None,
        message: format!("this file is deprecated: move its settings to {new_file} ({how})"),
    };
    let merge = |report: &mut Report, more: Report| {
        report.errors.extend(more.errors);
        report.warnings.extend(more.warnings);
    };
    if let Some(dir) = env.config_dir() {
        let old = dir.join("detector.conf");
        if env.get("DSO_DETECTOR_CONF").is_none() {
            if let Some(text) = read(&old, &mut report) {
                report.warnings.push(deprecated(&old, "`yolo_model = …` becomes `model = …` under [yolo]"));
                let more = parse::apply(&text, &old, home.as_deref(), &mut s);
                merge(&mut report, more);
            }
        }
        let old = dir.join("plugins.conf");
        if let Some(text) = read(&old, &mut report) {
            report.warnings.push(deprecated(&old, "each line becomes `path = …` or `config = NAME …` under [plugins]"));
            let more = parse::apply_plugins_conf(&text, &old, &mut s);
            merge(&mut report, more);
        }
    }
    if let Some(file) = s.file.clone() {
        if let Some(text) = read(&file, &mut report) {
            let more = parse::apply(&text, &file, home.as_deref(), &mut s);
            merge(&mut report, more);
        }
    }
    for (var, model) in [
        ("DSO_YOLO_MODEL", &mut s.yolo.model),
        ("DSO_CLASSIFIER_MODEL", &mut s.xrai.model),
        ("DSO_PIX2PIX_MODEL", &mut s.pix2pix.model),
    ] {
        if let Some(path) = env.path(var) {
            *model = Some(ModelPath { path, origin: Origin::Env(var) });
        }
    }
    let plugin_path = env.get("DSO_DETECTOR_PLUGIN_PATH").unwrap_or("");
    s.plugin_env_dirs = plugin_path.split(':').filter(|d| !d.is_empty()).map(PathBuf::from).collect();
    if let Some(v) = env.get("DSO_MAX_FRAME_MB") {
        match v.trim().parse::<u64>().ok().filter(|m| (1..1 << 20).contains(m)) {
            Some(mib) => s.max_frame_mib = mib,
            None => report.errors.push(SettingsError {
                origin: Origin::Env("DSO_MAX_FRAME_MB"),
                section: Some("driver".into()),
                message: format!("'{v}' is not a size in MiB (1 to 1048575); using {DEFAULT_MAX_FRAME_MIB}"),
            }),
        }
    }
    s.ort_dylib_path = env.path("ORT_DYLIB_PATH");
    s.errors = report.errors.clone();
    (s, report)
}

/// The settings of this process, loaded on the first call; every error is logged then (`log::error`), every
/// warning too (`log::warn`), so the driver's log and `dso-detect`'s stderr show them once.
pub fn get() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let (settings, report) = load(&Env::from_process());
        report.warnings.iter().for_each(|w| log::warn!("{w}"));
        report.errors.iter().for_each(|e| log::error!("{e}"));
        settings
    })
}
