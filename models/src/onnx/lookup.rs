//! Where model files are found: a file the astronomer names, else the one the project ships.
//!
//! Every ONNX detector finds its model the same way, so one place says where (and the error says where it looked).
//! The model path is a local decision, never an INDI property: a client must not be able to make the driver load an
//! arbitrary file.

use std::path::{Path, PathBuf};

/// Where a model file the project ships is looked for, in order: beside the executable, in
/// `<prefix>/share/dso-detector/` (the executable's folder's parent is the prefix), then in the source tree's
/// `models/<folder>/`. Every shipped model (YOLO, the classifier, Pix2Pix) is found the same way.
pub fn shipped_candidates(folder: &str, file: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        out.push(dir.join(file));
        if let Some(prefix) = dir.parent() {
            out.push(prefix.join("share/dso-detector").join(file));
        }
    }
    out.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(folder).join(file));
    out
}

/// The first of [`shipped_candidates`]`(folder, file)` that exists, or the places looked at (comma-separated).
pub fn first_shipped(folder: &str, file: &str) -> Result<PathBuf, String> {
    let candidates = shipped_candidates(folder, file);
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))
}

/// The model file an environment variable names: `None` when it is unset or empty, an error when the file does not
/// exist.
pub fn model_from_env(var: &str) -> Option<Result<PathBuf, String>> {
    let p = PathBuf::from(std::env::var_os(var).filter(|p| !p.is_empty())?);
    Some(if p.is_file() { Ok(p) } else { Err(format!("{var}={} does not exist", p.display())) })
}

/// The model file for a detector: the file named by the environment variable `env_var` if set (it must exist),
/// else the first of [`shipped_candidates`]`(folder, file)` that exists; the error says where it looked.
pub fn find_model(env_var: &str, folder: &str, file: &str) -> Result<PathBuf, String> {
    model_from_env(env_var).unwrap_or_else(|| {
        first_shipped(folder, file).map_err(|places| format!("{file} is in none of {places}; name one with {env_var}"))
    })
}
