//! Where plugins are looked for, and nowhere else.
//!
//! Loading a library runs its code, so the places are chosen by whoever starts the program, never by the network:
//! 1. the directories of `DSO_DETECTOR_PLUGIN_PATH` (colon-separated, like `PATH`);
//! 2. the `path` entries of `[plugins]` in the configuration file ([`crate::settings`]), which can also give each
//!    plugin its configuration string (`config = NAME TEXT`);
//! 3. the install prefix: `<directory of the executable>/../lib/dso-detector/plugins`.
//!
//! There is deliberately no INDI property for any of this: anyone who can reach the INDI server can set
//! properties, and a property that loads a library would let them run code on the observatory computer.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::settings::{PluginPath, Settings};

/// The environment variable listing plugin directories.
pub const PATH_VAR: &str = "DSO_DETECTOR_PLUGIN_PATH";

/// A library to try, and where it was found (for messages).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The library file.
    pub path: PathBuf,
    /// Where it came from: `DSO_DETECTOR_PLUGIN_PATH`, the configuration file or the install prefix.
    pub origin: String,
}

/// What discovery found: libraries to try, configuration strings by plugin name, and problems to report.
#[derive(Clone, Debug, Default)]
pub struct Found {
    /// Libraries, in search order, each once.
    pub candidates: Vec<Candidate>,
    /// `config NAME TEXT` lines of the configuration file.
    pub configs: HashMap<String, String>,
    /// Problems with the configuration file itself (unreadable, bad lines).
    pub problems: Vec<String>,
}

/// The install prefix's plugin directory, beside the running executable.
pub fn prefix_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.join("lib/dso-detector/plugins"))
}

/// Files of a directory that look like shared libraries (this platform's suffix), sorted by name.
fn libraries_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.to_string_lossy().ends_with(std::env::consts::DLL_SUFFIX))
        .collect();
    found.sort();
    found
}

/// Runs discovery with explicit inputs (tests call this; [`search`] uses this process's settings): the folders of
/// `DSO_DETECTOR_PLUGIN_PATH`, then the configured paths and configuration strings, then the install prefix.
pub fn search_in(settings: &Settings, prefix: Option<&Path>) -> Found {
    let mut found = Found::default();
    let mut seen = HashSet::new();
    let mut add = |path: PathBuf, origin: &str, found: &mut Found| {
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        if seen.insert(key) {
            found.candidates.push(Candidate { path, origin: origin.to_owned() });
        }
    };
    for dir in &settings.plugin_env_dirs {
        for lib in libraries_in(dir) {
            add(lib, PATH_VAR, &mut found);
        }
    }
    for PluginPath { path: p, origin } in &settings.plugin_paths {
        let origin = origin.to_string();
        if p.is_dir() {
            libraries_in(p).into_iter().for_each(|lib| add(lib, &origin, &mut found));
        } else if p.exists() {
            add(p.clone(), &origin, &mut found);
        } else {
            found.problems.push(format!("{origin}: {} does not exist", p.display()));
        }
    }
    found.configs = settings.plugin_configs.clone();
    found
        .problems
        .extend(settings.errors.iter().filter(|e| e.section.as_deref() == Some("plugins")).map(|e| e.to_string()));
    if let Some(dir) = prefix {
        for lib in libraries_in(dir) {
            add(lib, "install prefix", &mut found);
        }
    }
    found
}

/// Discovery from this process's settings and executable location.
pub fn search() -> Found {
    search_in(crate::settings::get(), prefix_dir().as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_order_env_then_config_then_prefix_without_duplicates() {
        let root = tempfile_dir("search");
        let (a, b, c) = (root.join("a"), root.join("b"), root.join("c"));
        for d in [&a, &b, &c] {
            std::fs::create_dir_all(d).unwrap();
        }
        let suffix = std::env::consts::DLL_SUFFIX;
        std::fs::write(a.join(format!("libone{suffix}")), "").unwrap();
        std::fs::write(a.join("readme.txt"), "").unwrap();
        std::fs::write(b.join(format!("libtwo{suffix}")), "").unwrap();
        std::fs::write(c.join(format!("libthree{suffix}")), "").unwrap();
        let conf = root.join("dso-detector.conf");
        let text = format!("[plugins]\npath = b\npath = {}\npath = missing\nconfig = two x=1\n", a.display());
        let mut settings = crate::settings::parse(&text, &conf).unwrap();
        settings.plugin_env_dirs = vec![a.clone(), "/nonexistent".into()];
        let found = search_in(&settings, Some(&c));
        let names: Vec<String> =
            found.candidates.iter().map(|c| c.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, [format!("libone{suffix}"), format!("libtwo{suffix}"), format!("libthree{suffix}")]);
        assert_eq!(found.candidates[0].origin, PATH_VAR);
        assert_eq!(found.configs["two"], "x=1");
        assert!(found.problems.iter().any(|p| p.contains("missing does not exist")), "{:?}", found.problems);
        let _ = std::fs::remove_dir_all(root);
    }

    fn tempfile_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("dso-discover-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
