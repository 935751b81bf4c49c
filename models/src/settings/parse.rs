//! The configuration file's syntax, and the two files it replaces.
//!
//! `dso-detector.conf` is INI-like: `[section]` headers, `key = value` lines, `#` starts a comment anywhere on a line
//! (as in the old `detector.conf`), `;` at the start of a line too; values may be quoted; `~/` in a path is the home
//! folder, and a relative path is relative to the file's folder. A malformed value of a known key is an error naming
//! the line (the key keeps its default); an unknown key or section is a warning. The old `detector.conf` keys
//! (`yolo_model`, …, before any section) are still understood, and the old `plugins.conf` has its own small parser
//! ([`apply_plugins_conf`]), both with a deprecation warning from the caller.

use std::path::{Path, PathBuf};

use super::{ModelPath, Origin, PluginPath, Settings, SettingsError};

/// What applying one file found besides the values: errors and warnings, each naming its line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Malformed lines and values; the settings they concern keep their previous values.
    pub errors: Vec<SettingsError>,
    /// Unknown keys and sections, deprecated keys.
    pub warnings: Vec<SettingsError>,
}

/// The sections of the file.
pub const SECTIONS: [&str; 7] = ["yolo", "xrai", "pix2pix", "plugins", "solver", "identify", "triage"];

/// The old `detector.conf` keys accepted before any section, and their `[yolo]` names.
const LEGACY_KEYS: [(&str, &str); 6] = [
    ("yolo_model", "model"),
    ("yolo_threads", "threads"),
    ("yolo_score_power", "score_power"),
    ("yolo_tiles", "tiles"),
    ("yolo_nested", "nested"),
    ("yolo_stretch_order", "stretch_order"),
];

/// `~/` expanded with `home`; a relative path joined to `base` when there is one.
pub fn expand_path(value: &str, home: Option<&Path>, base: Option<&Path>) -> PathBuf {
    let path = match (value.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(value),
    };
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path,
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

fn positive<T: std::str::FromStr + PartialOrd + Default>(v: &str) -> Option<T> {
    v.parse().ok().filter(|x| *x > T::default())
}

/// A finite number > 0: `inf`, and `1e39` (infinite as an f32), are no more a setting than `nan` (the
/// `config_files` fuzz target's check, with `score_power = inf`).
fn finite_positive<T: std::str::FromStr + PartialOrd + Default + Copy + Into<f64>>(v: &str) -> Option<T> {
    positive::<T>(v).filter(|x| (*x).into().is_finite())
}

/// The numeric `[triage]` limit named `key`.
fn triage_limit<'a>(t: &'a mut crate::quality::Thresholds, key: &str) -> Option<&'a mut f32> {
    Some(match key {
        "clouds_marginal" => &mut t.clouds_marginal,
        "clouds_reject" => &mut t.clouds_reject,
        "focus_marginal" => &mut t.focus_marginal,
        "focus_reject" => &mut t.focus_reject,
        "tracking_marginal" => &mut t.tracking_marginal,
        "tracking_reject" => &mut t.tracking_reject,
        "elongation_max" => &mut t.elongation_max,
        "sky_marginal" => &mut t.sky_marginal,
        "saturation_marginal" => &mut t.saturation_marginal,
        _ => return None,
    })
}

/// Applies the text of `file` over `settings`; `home` expands `~/`.
pub fn apply(text: &str, file: &Path, home: Option<&Path>, settings: &mut Settings) -> Report {
    let mut report = Report::default();
    let base = file.parent();
    let mut section: Option<String> = None;
    let mut skipping = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        let at = Origin::File { path: file.to_owned(), line: n + 1 };
        let err = |section: Option<&str>, message: String| SettingsError {
            origin: at.clone(),
            section: section.map(str::to_owned),
            message,
        };
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim().to_ascii_lowercase();
            skipping = !SECTIONS.contains(&name.as_str());
            if skipping {
                report.warnings.push(err(None, format!("unknown section [{name}] (known: {})", SECTIONS.join(", "))));
            }
            section = Some(name);
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            report.errors.push(err(section.as_deref().or(Some("yolo")), "expected `key = value`".into()));
            continue;
        };
        if skipping {
            continue;
        }
        let (key, value) = (key.trim().to_ascii_lowercase(), value.trim().trim_matches('"'));
        let (sec, key) = match &section {
            Some(s) => (s.as_str(), key.as_str()),
            None => match LEGACY_KEYS.iter().find(|(old, _)| *old == key) {
                Some((old, new)) => {
                    let warning = format!("`{old}` is deprecated: write `{new} = …` under [yolo]");
                    report.warnings.push(err(Some("yolo"), warning));
                    ("yolo", *new)
                }
                None => {
                    report.warnings.push(err(None, format!("unknown key `{key}` outside any section, ignored")));
                    continue;
                }
            },
        };
        let bad = |what: &str| err(Some(sec), format!("[{sec}] {key} must be {what}, not '{value}'"));
        // A path given by an old top-level key stays relative to the working folder, as it always was.
        let path_base = if section.is_some() { base } else { None };
        let path = || expand_path(value, home, path_base);
        let model = || ModelPath { path: path(), origin: at.clone() };
        let whole = |v: &str| v.parse::<usize>().map_err(|_| bad("a whole number"));
        let result: Result<(), SettingsError> = (|| {
            match (sec, key) {
                ("yolo", "model") => settings.yolo.model = Some(model()),
                ("yolo", "threads") => settings.yolo.threads = Some(whole(value)?),
                ("yolo", "tiles") => settings.yolo.tiles = Some(whole(value)?),
                ("yolo", "score_power") => {
                    settings.yolo.score_power = Some(finite_positive(value).ok_or_else(|| bad("> 0"))?)
                }
                ("yolo", "nested") => settings.yolo.nested = Some(finite_positive(value).ok_or_else(|| bad("> 0"))?),
                ("yolo", "stretch_order") => {
                    settings.yolo.stretch_order = Some(match value {
                        "after" => crate::yolo::preprocess::CurveOrder::AfterResampling,
                        "before" => crate::yolo::preprocess::CurveOrder::BeforeResampling,
                        _ => return Err(bad("after or before")),
                    })
                }
                ("xrai", "model") => settings.xrai.model = Some(model()),
                ("xrai", "threads") => settings.xrai.threads = Some(whole(value)?),
                ("pix2pix", "model") => settings.pix2pix.model = Some(model()),
                ("pix2pix", "threads") => settings.pix2pix.threads = Some(whole(value)?),
                ("plugins", "path") => settings.plugin_paths.push(PluginPath { path: path(), origin: at.clone() }),
                ("plugins", "config") => {
                    let (name, text) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
                    if name.is_empty() {
                        return Err(bad("a plugin name and its configuration string"));
                    }
                    settings.plugin_configs.insert(name.to_ascii_lowercase(), text.trim().into());
                }
                ("solver", "enabled") => {
                    settings.solver.enabled = parse_bool(value).ok_or_else(|| bad("true or false"))?
                }
                ("solver", "command") => settings.solver.command = expand_path(value, home, None),
                ("solver", "timeout_s") => {
                    settings.solver.timeout_s = finite_positive(value).ok_or_else(|| bad("> 0"))?
                }
                ("solver", "index_dir") => settings.solver.index_dir = Some(path()),
                ("identify", "enabled") => {
                    settings.identify.enabled = parse_bool(value).ok_or_else(|| bad("true or false"))?
                }
                ("triage", "enabled") => {
                    settings.triage.enabled = parse_bool(value).ok_or_else(|| bad("true or false"))?
                }
                ("triage", "trails") => {
                    settings.triage.trails = parse_bool(value).ok_or_else(|| bad("true or false"))?
                }
                ("triage", "trail") => {
                    settings.triage.thresholds.trail =
                        crate::quality::Level::parse(value).ok_or_else(|| bad("good, marginal or reject"))?
                }
                ("triage", "history") => {
                    settings.triage.thresholds.history = positive(value).ok_or_else(|| bad("a whole number > 0"))?
                }
                ("triage", name) if triage_limit(&mut settings.triage.thresholds, name).is_some() => {
                    let v = finite_positive(value).ok_or_else(|| bad("a number > 0"))?;
                    if let Some(limit) = triage_limit(&mut settings.triage.thresholds, name) {
                        *limit = v;
                    }
                }
                _ => report.warnings.push(err(Some(sec), format!("unknown key `{key}` in [{sec}], ignored"))),
            }
            Ok(())
        })();
        if let Err(e) = result {
            report.errors.push(e);
        }
    }
    report
}

/// Applies the old `plugins.conf`: `#` comments; `config NAME TEXT` gives plugin NAME its configuration string; any
/// other line (optionally `path PATH`) is a directory to search or a library to load, relative to the file's folder.
pub fn apply_plugins_conf(text: &str, file: &Path, settings: &mut Settings) -> Report {
    let mut report = Report::default();
    let base = file.parent().unwrap_or(Path::new("."));
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let origin = Origin::File { path: file.to_owned(), line: n + 1 };
        if line.split_whitespace().next() == Some("config") {
            let rest = line["config".len()..].trim();
            let (name, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if name.is_empty() {
                let message = "'config' needs a plugin name".into();
                report.errors.push(SettingsError { origin, section: Some("plugins".into()), message });
            } else {
                settings.plugin_configs.insert(name.to_ascii_lowercase(), value.trim().to_owned());
            }
            continue;
        }
        let path = line.strip_prefix("path ").map(str::trim).unwrap_or(line);
        settings.plugin_paths.push(PluginPath { path: base.join(path), origin });
    }
    report
}
