//! Third-party detectors loaded from shared libraries through the C ABI of [`dso_plugin_api::abi`].
//!
//! Discovery runs once per process ([`discover`] says where it looks, and why never from INDI). Each library is
//! loaded and checked ([`library`]); those that pass become [`PluginDetector`]s on demand, and those that fail stay
//! in the list with the reason, so the driver's `DSO_DETECTOR` and `dso-detect list` show *why* a plugin is not
//! there instead of silently missing it. Nothing a plugin does stops the host: a plugin that fails to load is
//! listed as unavailable, one that misbehaves while running is disabled and reported.

pub mod detector;
pub mod discover;
pub mod error;
pub mod library;

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

pub use detector::PluginDetector;
pub use error::{BadResult, LoadProblem, PluginError};
pub use library::Plugin;

use dso_plugin_api::Detector;

/// One library found by discovery, usable or not.
#[derive(Debug)]
pub struct PluginEntry {
    /// The detector's name; for a library that failed to load, one made from its file name (`libfoo.so` → `foo`).
    pub name: String,
    /// The library file.
    pub path: std::path::PathBuf,
    /// Where discovery found it.
    pub origin: String,
    /// The loaded plugin, or why it is refused.
    pub loaded: Result<Arc<Plugin>, PluginError>,
    /// The configuration string passed to `create` (`config = NAME TEXT` under `[plugins]` of the settings).
    pub config: String,
    /// Set when one of its detectors misbehaved.
    pub disabled: Arc<OnceLock<String>>,
}

impl PluginEntry {
    /// `Ok` when the plugin can run, else why not.
    pub fn available(&self) -> Result<(), PluginError> {
        match (&self.loaded, self.disabled.get()) {
            (Err(why), _) => Err(why.clone()),
            (Ok(_), Some(why)) => Err(PluginError::Misbehaved(why.clone())),
            (Ok(_), None) => Ok(()),
        }
    }

    /// Creates one detector instance.
    pub fn create(&self) -> Result<Box<dyn Detector>, PluginError> {
        self.available()?;
        let plugin = self.loaded.as_ref().map_err(Clone::clone)?;
        Ok(Box::new(PluginDetector::create(plugin.clone(), &self.config, self.disabled.clone())?))
    }
}

/// Everything discovery found: the plugins and the problems to report.
#[derive(Debug, Default)]
pub struct Plugins {
    /// Libraries, usable or not, in search order.
    pub entries: Vec<PluginEntry>,
    /// Problems that are not about one library (an unreadable configuration file).
    pub problems: Vec<String>,
}

impl Plugins {
    /// Messages for the user about every plugin that cannot run, and about discovery itself.
    pub fn warnings(&self) -> Vec<String> {
        let refused = self
            .entries
            .iter()
            .filter_map(|e| e.available().err().map(|why| format!("plugin {} refused ({}): {why}", e.name, e.origin)));
        self.problems.iter().map(|p| format!("plugins: {p}")).chain(refused).collect()
    }
}

/// A name for a library whose own name is unknown: its file name without `lib` and the suffix, made valid.
fn name_from_file(path: &std::path::Path) -> String {
    let stem = library::file_name(path);
    let stem = stem.strip_suffix(std::env::consts::DLL_SUFFIX).unwrap_or(&stem);
    let stem = stem.strip_prefix("lib").unwrap_or(stem);
    let name: String = stem
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .take(32)
        .collect();
    if name.is_empty() {
        "plugin".into()
    } else {
        name
    }
}

/// Loads what [`discover::Found`] lists. `builtin` names are reserved: a plugin may not shadow a built-in detector.
pub fn load_all(found: discover::Found, builtin: &[&str]) -> Plugins {
    let mut taken: HashSet<String> = builtin.iter().map(|n| n.to_ascii_lowercase()).collect();
    let mut entries = Vec::new();
    for c in found.candidates {
        let file = library::file_name(&c.path);
        let loaded = library::load(&c.path).and_then(|p| {
            if builtin.iter().any(|b| b.eq_ignore_ascii_case(&p.name)) {
                Err(PluginError::ShadowsBuiltin { file: file.clone(), name: p.name })
            } else if taken.contains(&p.name) {
                Err(PluginError::Duplicate { file: file.clone(), name: p.name })
            } else {
                Ok(Arc::new(p))
            }
        });
        let mut name = match &loaded {
            Ok(p) => p.name.clone(),
            Err(_) => name_from_file(&c.path),
        };
        let base = name.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        taken.insert(name.clone());
        match &loaded {
            Ok(p) => log::info!("plugin {} {} loaded from {}", p.name, p.version, c.path.display()),
            Err(why) => log::warn!("plugin refused ({}): {why}", c.origin),
        }
        let config = found.configs.get(&name).cloned().unwrap_or_default();
        entries.push(PluginEntry {
            name,
            path: c.path,
            origin: c.origin,
            loaded,
            config,
            disabled: Arc::new(OnceLock::new()),
        });
    }
    Plugins { entries, problems: found.problems }
}

static PLUGINS: OnceLock<Plugins> = OnceLock::new();

/// The plugins of this process, discovered and loaded on the first call. `builtin` is only used then.
pub fn all(builtin: &[&str]) -> &'static Plugins {
    PLUGINS.get_or_init(|| load_all(discover::search(), builtin))
}

#[cfg(test)]
mod tests;
