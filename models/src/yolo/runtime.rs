//! ONNX Runtime, loaded at run time, and a YOLO model session validated at load time.
//!
//! The driver is built without ONNX Runtime (`ort`'s `load-dynamic`): the library comes from the PyPI wheel
//! `onnxruntime==1.31.1` (installers/requirements.txt), whose file is `onnxruntime/capi/libonnxruntime.so.1.31.1` with
//! no unversioned link. It is looked up, first found first used, in:
//! 1. `ORT_DYLIB_PATH` (a file);
//! 2. beside the executable, then in `<prefix>/lib` and `<prefix>/lib/dso-detector` where `<prefix>` is the
//!    executable's folder's parent (an installed `/usr/local/bin/indi_dso_detector` looks in `/usr/local/lib`);
//! 3. the `onnxruntime` package of `python3` (`importlib.util.find_spec`, which does not import it).
//!
//! When none loads, every YOLO entry point returns the same message saying what was tried and how to install it; the
//! other detectors do not need the library at all. ONNX Runtime allows one environment per process, so it is made
//! once and shared; its log goes to the `log` crate (never to stdout, which is the INDI protocol).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;

use super::decode::Layout;

/// The ONNX Runtime version the project is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";

fn install_hint() -> String {
    format!(
        "install it with `pip install onnxruntime=={ORT_VERSION}` (installers/deps.sh does), or set ORT_DYLIB_PATH to \
         a libonnxruntime.so"
    )
}

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
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        out.push(PathBuf::from(p));
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

fn init() -> Result<Environment, String> {
    let candidates = library_candidates();
    if candidates.is_empty() {
        return Err(format!("the ONNX Runtime library was not found; {}", install_hint()));
    }
    // ONNX Runtime can be loaded once per process; the first candidate that exists is the one tried.
    let path = candidates.iter().find(|p| p.is_file()).ok_or_else(|| {
        format!(
            "the ONNX Runtime library was not found ({} does not exist); {}",
            candidates[0].display(),
            install_hint()
        )
    })?;
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
        .map_err(|e| format!("cannot load ONNX Runtime: {e}; {}", install_hint()))?
        .with_name("dso-detector")
        .with_logger(logger)
        .build()
        .map_err(|e| format!("cannot start ONNX Runtime from {}: {e}", path.display()))?;
    log::info!("ONNX Runtime loaded from {}", path.display());
    Ok(env)
}

/// The process's ONNX Runtime environment, loaded on first use; the error says why it cannot be.
pub fn environment() -> Result<Environment, String> {
    static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();
    ENV.get_or_init(init).clone()
}

/// Opens an ONNX model file for every model of the project (YOLO, the classifier and its gradient graph, the
/// Pix2Pix generator): graph optimisation on, `threads` intra-op threads (0: ONNX Runtime's choice). Errors start
/// with `what` and the path ("YOLO model /m/x.onnx: no such file").
pub fn open_session(path: &Path, threads: usize, what: &str) -> Result<Session, String> {
    let env = environment()?;
    let fail = |why: String| format!("{what} {}: {why}", path.display());
    if !path.is_file() {
        return Err(fail("no such file".into()));
    }
    let mut builder = Session::builder(&env).map_err(|e| fail(e.to_string()))?;
    builder = builder.with_optimization_level(GraphOptimizationLevel::Level3).map_err(|e| fail(e.to_string()))?;
    if threads > 0 {
        builder = builder.with_intra_threads(threads).map_err(|e| fail(e.to_string()))?;
    }
    builder.commit_from_file(path).map_err(|e| fail(format!("not a loadable ONNX model: {e}")))
}

/// A graph input's or output's element type and shape (`-1` for a free dimension), for checking it at load time.
pub fn signature(dtype: &ort::value::ValueType) -> (Option<ort::value::TensorElementType>, Vec<i64>) {
    (dtype.tensor_type(), dtype.tensor_shape().map(|s| s.to_vec()).unwrap_or_default())
}

/// Class names from ultralytics' `names` metadata, a Python dict literal: `{0: 'galaxy', 1: 'nebula'}`.
pub fn parse_names_metadata(text: &str) -> Option<Vec<String>> {
    let body = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut entries: Vec<(usize, String)> = Vec::new();
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let colon = rest.find(':')?;
        let index: usize = rest[..colon].trim().parse().ok()?;
        rest = rest[colon + 1..].trim_start();
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let end = rest[1..].find(quote)? + 1;
        entries.push((index, rest[1..end].to_owned()));
        rest = rest[end + 1..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    entries.sort_by_key(|e| e.0);
    let ok = entries.iter().enumerate().all(|(i, e)| e.0 == i);
    (ok && !entries.is_empty()).then(|| entries.into_iter().map(|e| e.1).collect())
}

/// Class names from a sidecar file: one per line, blank lines and `#` comments ignored.
pub fn parse_names_file(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
}

/// The sidecar files looked at for a model without `names` metadata: `model.names`, then `model.onnx.names`.
pub fn sidecar_paths(model: &Path) -> [PathBuf; 2] {
    let mut long = model.as_os_str().to_owned();
    long.push(".names");
    [model.with_extension("names"), PathBuf::from(long)]
}

/// A loaded, validated YOLO model.
pub struct Model {
    session: Session,
    input_name: String,
    /// Square input side in pixels.
    pub size: usize,
    /// Output layout.
    pub layout: Layout,
    /// Class names, one per class.
    pub names: Vec<String>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("size", &self.size)
            .field("layout", &self.layout)
            .field("names", &self.names)
            .finish()
    }
}

impl Model {
    /// Loads a model with `threads` intra-op threads (0: ONNX Runtime's choice) and checks that it is a YOLO
    /// detector this code can drive; the error names the file and what is wrong.
    pub fn load(path: &Path, threads: usize) -> Result<Model, String> {
        let session = open_session(path, threads, "YOLO model")?;
        let fail = |what: String| format!("YOLO model {}: {what}", path.display());

        let [input] = session.inputs() else {
            return Err(fail(format!("expected one input (the image), found {}", session.inputs().len())));
        };
        let in_shape: Vec<i64> = input.dtype().tensor_shape().map(|s| s.to_vec()).unwrap_or_default();
        let is_f32 = input.dtype().tensor_type() == Some(ort::value::TensorElementType::Float32);
        let size = match in_shape.as_slice() {
            [b, 3, h, w] if is_f32 && (*b == 1 || *b < 0) && *h > 0 && h == w => *h as usize,
            _ => {
                return Err(fail(format!(
                    "input '{}' is {:?} {:?}; expected float32 [1, 3, S, S] (an image, fixed square size: export \
                     with a fixed imgsz)",
                    input.name(),
                    input.dtype().tensor_type(),
                    in_shape
                )))
            }
        };
        let input_name = input.name().to_owned();
        let Some(output) = session.outputs().first() else { return Err(fail("the model has no output".into())) };
        let mut out_shape: Vec<i64> = output.dtype().tensor_shape().map(|s| s.to_vec()).unwrap_or_default();
        if output.dtype().tensor_type() != Some(ort::value::TensorElementType::Float32) {
            return Err(fail(format!("output '{}' is not a float32 tensor", output.name())));
        }
        if out_shape.first().is_some_and(|b| *b < 0) {
            out_shape[0] = 1;
        }

        let meta_names = session.metadata().ok().and_then(|m| m.custom("names")).and_then(|t| parse_names_metadata(&t));
        let names = match meta_names {
            Some(n) => Some(n),
            None => sidecar_paths(path)
                .iter()
                .find_map(|p| std::fs::read_to_string(p).ok())
                .map(|t| parse_names_file(&t))
                .filter(|n| !n.is_empty()),
        };
        let layout = Layout::from_shape(&out_shape, names.as_ref().map(Vec::len)).map_err(fail)?;
        let names = names.unwrap_or_else(|| match layout.classes() {
            1 => vec!["dso".to_owned()],
            n => (0..n).map(|i| format!("class{i}")).collect(),
        });
        Ok(Model { session, input_name, size, layout, names })
    }

    /// Runs the model on one `3 × size × size` input and returns the raw output, row-major.
    pub fn run(&mut self, input: &[f32]) -> Result<Vec<f32>, String> {
        let s = self.size;
        let view = ndarray::ArrayView4::from_shape((1, 3, s, s), input).map_err(|e| e.to_string())?;
        let tensor = TensorRef::from_array_view(view).map_err(|e| e.to_string())?;
        let outputs = self
            .session
            .run(ort::inputs![self.input_name.as_str() => tensor])
            .map_err(|e| format!("inference: {e}"))?;
        let out = outputs[0].try_extract_array::<f32>().map_err(|e| format!("model output: {e}"))?;
        Ok(out.iter().copied().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_ultralytics_metadata() {
        assert_eq!(
            parse_names_metadata("{0: 'galaxy', 1: 'nebula', 2: 'cluster'}"),
            Some(vec!["galaxy".into(), "nebula".into(), "cluster".into()])
        );
        assert_eq!(parse_names_metadata("{1: \"b, c\", 0: 'a'}"), Some(vec!["a".into(), "b, c".into()]));
        assert_eq!(parse_names_metadata("{0: 'a', 2: 'c'}"), None);
        assert_eq!(parse_names_metadata("galaxy"), None);
        assert_eq!(parse_names_metadata("{}"), None);
    }

    #[test]
    fn names_from_sidecar() {
        assert_eq!(parse_names_file("# classes\ngalaxy\n\n nebula \n"), vec!["galaxy", "nebula"]);
        let [a, b] = sidecar_paths(Path::new("/m/x.onnx"));
        assert_eq!((a, b), (PathBuf::from("/m/x.names"), PathBuf::from("/m/x.onnx.names")));
    }
}
