//! Where plugins are looked for, and nowhere else.
//!
//! Loading a library runs its code, so the places are chosen by whoever starts the program, never by the network:
//! 1. the directories of `DSO_DETECTOR_PLUGIN_PATH` (colon-separated, like `PATH`);
//! 2. the entries of the local configuration file, `$XDG_CONFIG_HOME/dso-detector/plugins.conf` (by default
//!    `~/.config/dso-detector/plugins.conf`), which can also give each plugin its configuration string;
//! 3. the install prefix: `<directory of the executable>/../lib/dso-detector/plugins`.
//!
//! There is deliberately no INDI property for any of this: anyone who can reach the INDI server can set
//! properties, and a property that loads a library would let them run code on the observatory computer.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

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

/// The configuration file's path: `$XDG_CONFIG_HOME/dso-detector/plugins.conf`, else `~/.config/…`.
pub fn config_file() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("dso-detector").join("plugins.conf"))
}

/// The install prefix's plugin directory, beside the running executable.
pub fn prefix_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.join("lib/dso-detector/plugins"))
}

/// One parsed configuration file: paths (directories or libraries) and configuration strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigFile {
    /// Directories to search and libraries to load, relative ones resolved against the file's directory.
    pub paths: Vec<PathBuf>,
    /// Configuration strings by plugin name.
    pub configs: HashMap<String, String>,
    /// Lines that could not be understood.
    pub problems: Vec<String>,
}

/// Parses `plugins.conf`: `#` comments; `config NAME TEXT` gives plugin NAME its configuration string; any other
/// line (optionally `path PATH`) is a directory to search or a library to load.
pub fn parse_config(text: &str, base: &Path) -> ConfigFile {
    let mut out = ConfigFile::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        if first == "config" {
            let rest = line["config".len()..].trim();
            let (name, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if name.is_empty() {
                out.problems.push(format!("line {}: 'config' needs a plugin name", n + 1));
            } else {
                out.configs.insert(name.to_ascii_lowercase(), value.trim().to_owned());
            }
            continue;
        }
        let path = line.strip_prefix("path ").map(str::trim).unwrap_or(line);
        out.paths.push(base.join(path));
    }
    out
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

/// Runs discovery with explicit inputs (tests call this; [`search`] reads the environment).
pub fn search_in(env_path: Option<&str>, config: Option<&Path>, prefix: Option<&Path>) -> Found {
    let mut found = Found::default();
    let mut seen = HashSet::new();
    let mut add = |path: PathBuf, origin: &str, found: &mut Found| {
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        if seen.insert(key) {
            found.candidates.push(Candidate { path, origin: origin.to_owned() });
        }
    };
    for dir in env_path.unwrap_or("").split(':').filter(|d| !d.is_empty()) {
        for lib in libraries_in(Path::new(dir)) {
            add(lib, PATH_VAR, &mut found);
        }
    }
    if let Some(file) = config {
        match std::fs::read_to_string(file) {
            Ok(text) => {
                let parsed = parse_config(&text, file.parent().unwrap_or(Path::new(".")));
                let origin = file.display().to_string();
                for p in parsed.paths {
                    if p.is_dir() {
                        libraries_in(&p).into_iter().for_each(|lib| add(lib, &origin, &mut found));
                    } else if p.exists() {
                        add(p, &origin, &mut found);
                    } else {
                        found.problems.push(format!("{origin}: {} does not exist", p.display()));
                    }
                }
                found.configs = parsed.configs;
                found.problems.extend(parsed.problems.into_iter().map(|p| format!("{origin}: {p}")));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => found.problems.push(format!("{}: cannot read: {e}", file.display())),
        }
    }
    if let Some(dir) = prefix {
        for lib in libraries_in(dir) {
            add(lib, "install prefix", &mut found);
        }
    }
    found
}

/// Discovery from this process's environment, configuration file and executable location.
pub fn search() -> Found {
    let env_path = std::env::var(PATH_VAR).ok();
    search_in(env_path.as_deref(), config_file().as_deref(), prefix_dir().as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_lines_are_paths_or_configurations() {
        let text = "# plugins\n/opt/plugins\npath libs/libx.so\nconfig Brightest radius=8 max=2\n\nconfig\n";
        let c = parse_config(text, Path::new("/etc/dso"));
        assert_eq!(c.paths, vec![PathBuf::from("/opt/plugins"), PathBuf::from("/etc/dso/libs/libx.so")]);
        assert_eq!(c.configs["brightest"], "radius=8 max=2");
        assert_eq!(c.problems.len(), 1, "a bare 'config' is reported");
    }

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
        let conf = root.join("plugins.conf");
        std::fs::write(&conf, format!("b\n{}\nmissing\nconfig two x=1\n", a.display())).unwrap();
        let found = search_in(Some(&format!("{}::/nonexistent", a.display())), Some(&conf), Some(&c));
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
