//! ONNX Runtime itself: where the shared library is found, and the one environment of the process.
//!
//! The driver is built without ONNX Runtime (`ort`'s `load-dynamic`): the library comes from the PyPI wheel
//! `onnxruntime==1.31.1` (installers/requirements.txt), whose file is `onnxruntime/capi/libonnxruntime.so.1.31.1` with
//! no unversioned link. It is looked up, first found first used, in:
//! 1. `ORT_DYLIB_PATH` (a file);
//! 2. beside the executable, then in `<prefix>/lib` and `<prefix>/lib/dso-detector` where `<prefix>` is the
//!    executable's folder's parent (an installed `/usr/local/bin/indi_dso_detector` looks in `/usr/local/lib`);
//! 3. the `onnxruntime` package of `python3` (`importlib.util.find_spec`, which does not import it).
//!
//! When none loads, every ONNX detector is unavailable with the same message saying what was tried and how to install
//! it; the other detectors do not need the library at all. ONNX Runtime allows one environment per process, so it is made
//! once and shared; its log goes to the `log` crate (never to stdout, which is the INDI protocol).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use ort::environment::Environment;

use super::OnnxError;

/// The ONNX Runtime version the project is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";

/// `libonnxruntime.so*` files in a folder, the unversioned name first.
fn libraries_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("libonnxruntime.so")
                    || n == "libonnxruntime.dylib"
                    || (n.starts_with("libonnxruntime.") && n.ends_with(".dylib"))
            })
        })
        .collect();
    found.sort_by_key(|p| p.as_os_str().len());
    found
}

/// The `capi` folder of python3's `onnxruntime` package, if python3 has it.
fn python_capi() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import importlib.util as u, os; s = u.find_spec('onnxruntime'); \
             print(os.path.join(os.path.dirname(s.origin), 'capi') if s and s.origin else '')",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let p = text.trim();
    (!p.is_empty()).then(|| PathBuf::from(p))
}

/// Candidate library files in search order (see the module documentation).
pub fn library_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = &crate::settings::get().ort_dylib_path {
        out.push(p.clone());
        return out;
    }
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        out.extend(libraries_in(&dir));
        if let Some(prefix) = dir.parent() {
            out.extend(libraries_in(&prefix.join("lib")));
            out.extend(libraries_in(&prefix.join("lib/dso-detector")));
        }
    }
    if let Some(capi) = python_capi() {
        out.extend(libraries_in(&capi));
    }
    out
}

fn init() -> Result<Environment, OnnxError> {
    let candidates = library_candidates();
    if candidates.is_empty() {
        return Err(OnnxError::RuntimeNotFound);
    }
    // ONNX Runtime can be loaded once per process; the first candidate that exists is the one tried.
    let path =
        candidates.iter().find(|p| p.is_file()).ok_or_else(|| OnnxError::RuntimeMissing(candidates[0].clone()))?;
    let logger: ort::logging::LoggerFunction = Arc::new(|level, category, _id, location, message| {
        use ort::logging::LogLevel;
        let lvl = match level {
            LogLevel::Verbose => log::Level::Trace,
            LogLevel::Info => log::Level::Debug,
            LogLevel::Warning => log::Level::Warn,
            LogLevel::Error | LogLevel::Fatal => log::Level::Error,
        };
        log::log!(target: "onnxruntime", lvl, "[{category}] {message} ({location})");
    });
    let env = ort::init_from(path)
        .map_err(|e| OnnxError::RuntimeLoad(e.to_string()))?
        .with_name("dso-detector")
        .with_logger(logger)
        .build()
        .map_err(|e| OnnxError::RuntimeStart { path: path.clone(), why: e.to_string() })?;
    log::info!("ONNX Runtime loaded from {}", path.display());
    Ok(env)
}

/// The process's ONNX Runtime environment, loaded on first use; the error says why it cannot be.
pub fn environment() -> Result<Environment, OnnxError> {
    static ENV: OnceLock<Result<Environment, OnnxError>> = OnceLock::new();
    ENV.get_or_init(init).clone()
}
