//! Where model files are found: a file the astronomer names, else the one the project ships.
//!
//! Every ONNX detector finds its model the same way ([`crate::settings`] says who can name one), so one place says where (and the error says where it looked).
//! The model path is a local decision, never an INDI property: a client must not be able to make the driver load an
//! arbitrary file.

use std::path::{Path, PathBuf};

use super::OnnxError;
use crate::settings::{self, ModelPath};

/// The source tree's folder of the shipped weights, relative to the `dso-models` crate (`models/weights`): a build
/// that is run from the source tree finds the models there, with their model cards beside them.
pub const SOURCE_WEIGHTS: &str = "weights";

/// Where a model file the project ships is looked for, in order: beside the executable, in
/// `<prefix>/share/dso-detector/` (the executable's folder's parent is the prefix), then in the source tree's
/// `models/weights/` ([`SOURCE_WEIGHTS`]). Every shipped model (YOLO, the classifier, Pix2Pix) is found the same way.
pub fn shipped_candidates(file: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        out.push(dir.join(file));
        if let Some(prefix) = dir.parent() {
            out.push(prefix.join("share/dso-detector").join(file));
        }
    }
    out.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(SOURCE_WEIGHTS).join(file));
    out
}

/// The first of [`shipped_candidates`]`(file)` that exists, or all the places looked at.
pub fn first_shipped(file: &str) -> Result<PathBuf, Vec<PathBuf>> {
    let candidates = shipped_candidates(file);
    candidates.iter().find(|p| p.is_file()).cloned().ok_or(candidates)
}

/// The model file for a detector: the one named in the settings (`configured`: its environment variable or
/// `model = …` in its `[section]`; it must exist), else the first of [`shipped_candidates`]`(file)` that
/// exists. Returns the file and whether it is the shipped one; the error says where it looked.
pub fn find_model(
    configured: Option<&ModelPath>,
    section: &'static str,
    env_var: &'static str,
    file: &'static str,
) -> Result<(PathBuf, bool), OnnxError> {
    if let Some(m) = configured {
        return if m.path.is_file() {
            Ok((m.path.clone(), false))
        } else {
            Err(OnnxError::ConfiguredMissing { model: m.to_string() })
        };
    }
    let conf = settings::get().file.as_ref().map_or_else(|| settings::FILE_NAME.into(), |f| f.display().to_string());
    first_shipped(file).map(|p| (p, true)).map_err(|places| OnnxError::NotShipped {
        file,
        places: places.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        section,
        conf,
        env_var,
    })
}
