//! Which YOLO model to use: the astronomer's own export named in a local file, or the model the project ships.
//!
//! The model path is a local decision, never an INDI property (a client must not be able to make the driver load an
//! arbitrary file). It is looked up in this order:
//! 1. the environment variable `DSO_YOLO_MODEL` (for tests and one-off runs);
//! 2. `yolo_model = /path/model.onnx` in the configuration file `$DSO_DETECTOR_CONF`, else
//!    `$XDG_CONFIG_HOME/dso-detector/detector.conf`, else `~/.config/dso-detector/detector.conf`;
//! 3. the shipped `dso_yolo.onnx`, found as every shipped model is ([`crate::onnx::shipped_candidates`]).
//!
//! The configuration file is `key = value` lines; `#` starts a comment. Keys: `yolo_model` (path; `~/` expands),
//! `yolo_threads` (ONNX Runtime threads, 0 = its default), `yolo_score_power` (confidence = score^power, see
//! [`super::YoloParams::score_power`]), `yolo_tiles` (most tiles along a side, 0 = whole-frame pass only),
//! `yolo_nested` (see [`super::YoloParams::nested`]; 2 keeps nested boxes).

use std::path::PathBuf;

use crate::onnx::{first_shipped, model_from_env};

/// File name of the shipped model.
pub const DEFAULT_MODEL_FILE: &str = "dso_yolo.onnx";

/// The configuration file's path (it need not exist).
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DSO_DETECTOR_CONF").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(x).join("dso-detector/detector.conf"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/dso-detector/detector.conf"))
}

/// The settings the configuration file holds for the YOLO detector.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileConfig {
    /// `yolo_model`.
    pub model: Option<PathBuf>,
    /// `yolo_threads`.
    pub threads: Option<usize>,
    /// `yolo_score_power`.
    pub score_power: Option<f32>,
    /// `yolo_tiles`.
    pub tiles: Option<usize>,
    /// `yolo_nested`.
    pub nested: Option<f32>,
}

fn expand_home(v: &str) -> PathBuf {
    match (v.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(v),
    }
}

/// Parses the configuration file's text; unknown keys are ignored (other detectors share the file), malformed
/// values of known keys are errors.
pub fn parse(text: &str) -> Result<FileConfig, String> {
    let mut c = FileConfig::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected `key = value`", n + 1));
        };
        let (key, value) = (key.trim(), value.trim().trim_matches('"'));
        let bad = |what: &str| format!("line {}: {key} must be {what}, not '{value}'", n + 1);
        match key {
            "yolo_model" => c.model = Some(expand_home(value)),
            "yolo_threads" => c.threads = Some(value.parse().map_err(|_| bad("a whole number"))?),
            "yolo_tiles" => c.tiles = Some(value.parse().map_err(|_| bad("a whole number"))?),
            "yolo_nested" => c.nested = Some(value.parse().ok().filter(|p: &f32| *p > 0.0).ok_or_else(|| bad("> 0"))?),
            "yolo_score_power" => {
                c.score_power = Some(value.parse().ok().filter(|p: &f32| *p > 0.0).ok_or_else(|| bad("> 0"))?)
            }
            _ => {}
        }
    }
    Ok(c)
}

/// Reads the configuration file; a missing file is an empty configuration.
pub fn load() -> Result<FileConfig, String> {
    let Some(path) = config_path() else { return Ok(FileConfig::default()) };
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The model to load and whether it is the shipped one; the error says where it looked.
pub fn model_path(file: &FileConfig) -> Result<(PathBuf, bool), String> {
    if let Some(p) = model_from_env("DSO_YOLO_MODEL") {
        return p.map(|p| (p, false));
    }
    if let Some(p) = &file.model {
        let conf = config_path().map(|c| c.display().to_string()).unwrap_or_default();
        return if p.is_file() {
            Ok((p.clone(), false))
        } else {
            Err(format!("yolo_model = {} (in {conf}) does not exist", p.display()))
        };
    }
    first_shipped("yolo", DEFAULT_MODEL_FILE).map(|p| (p, true)).map_err(|places| {
        format!("no YOLO model: {DEFAULT_MODEL_FILE} is in none of {places}; name one with yolo_model = … in the configuration file")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_and_ignores_others() {
        let c =
            parse("# mine\nyolo_model = \"/m/x.onnx\"  # trained on my skies\nyolo_threads=2\nother = 1\n").unwrap();
        assert_eq!(c.model, Some(PathBuf::from("/m/x.onnx")));
        assert_eq!(c.threads, Some(2));
        assert_eq!(c.score_power, None);
        assert_eq!(c.nested, None);
        assert_eq!(parse("yolo_nested = 2").unwrap().nested, Some(2.0));
    }

    #[test]
    fn malformed_values_are_reported_with_the_line() {
        assert!(parse("yolo_threads = many").unwrap_err().starts_with("line 1"));
        assert!(parse("\nyolo_score_power = -1").unwrap_err().starts_with("line 2"));
        assert!(parse("just words").is_err());
        assert!(parse("yolo_nested = 0").unwrap_err().starts_with("line 1"));
    }
}
