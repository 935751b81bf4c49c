//! An opened ONNX graph and the check of its inputs and outputs against what the calling detector expects.
//!
//! Every ONNX detector trusts a model file only after its signature matches (as ort's own tests check a model's
//! shapes before using it): the YOLO model, the classifier's forward and gradient graphs, the Pix2Pix generator.
//! Writing the expected shape once as a list of [`Dim`]s makes the checks read alike and the errors look alike:
//! "Pix2Pix model /m/x.onnx: input 'input' is float32 [?, 3, 256, 256]; expected float32 [N, 3, 224, 224]".

use std::fmt;
use std::path::{Path, PathBuf};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::{TensorElementType, ValueType};

use super::error::{ModelProblem, OnnxError, PortMismatch};
use super::runtime::environment;

/// One expected dimension of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    /// Exactly this size.
    Is(i64),
    /// 1, or free (a batch of one).
    One,
    /// A batch: free, or fixed at any size above 0.
    Batch,
    /// Fixed at a size above 0; dimensions with the same name must be equal (`S`, `S` for a square).
    Fixed(&'static str),
    /// Free, or fixed at any size above 0.
    Any(&'static str),
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Is(n) => write!(f, "{n}"),
            Dim::One => f.write_str("1"),
            Dim::Batch => f.write_str("N"),
            Dim::Fixed(name) | Dim::Any(name) => f.write_str(name),
        }
    }
}

/// A graph input or output as the file declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// Its name.
    pub name: String,
    /// Element type, `None` when it is not a tensor.
    pub dtype: Option<TensorElementType>,
    /// Shape, `-1` for a free dimension.
    pub shape: Vec<i64>,
}

impl Port {
    fn of(name: &str, dtype: &ValueType) -> Self {
        Port {
            name: name.to_owned(),
            dtype: dtype.tensor_type(),
            shape: dtype.tensor_shape().map(|s| s.to_vec()).unwrap_or_default(),
        }
    }

    /// `float32 [?, 3, 224, 224]`.
    pub fn describe(&self) -> String {
        let dims: Vec<String> =
            self.shape.iter().map(|d| if *d < 0 { "?".to_owned() } else { d.to_string() }).collect();
        format!("{} [{}]", type_name(self.dtype), dims.join(", "))
    }

    /// Checks that this is a float32 tensor of the shape `dims` describes; returns the shape, or what is wrong
    /// (`kind` is "input" or "output").
    pub fn expect_f32(&self, kind: &str, dims: &[Dim]) -> Result<&[i64], PortMismatch> {
        if self.dtype == Some(TensorElementType::Float32) && shape_matches(&self.shape, dims) {
            return Ok(&self.shape);
        }
        let expected: Vec<String> = dims.iter().map(Dim::to_string).collect();
        Err(PortMismatch {
            kind: kind.into(),
            name: self.name.clone(),
            found: self.describe(),
            expected: expected.join(", "),
        })
    }
}

fn type_name(t: Option<TensorElementType>) -> String {
    match t {
        Some(TensorElementType::Float32) => "float32".into(),
        Some(t) => t.to_string(),
        None => "not a tensor".into(),
    }
}

/// Whether a declared shape fits the expected dimensions.
pub fn shape_matches(shape: &[i64], dims: &[Dim]) -> bool {
    shape.len() == dims.len()
        && shape.iter().zip(dims).enumerate().all(|(i, (&d, dim))| match dim {
            Dim::Is(n) => d == *n,
            Dim::One => d == 1 || d < 0,
            Dim::Batch | Dim::Any(_) => d != 0,
            Dim::Fixed(name) => {
                d > 0 && dims[..i].iter().zip(shape).all(|(other, &e)| *other != Dim::Fixed(name) || e == d)
            }
        })
}

/// An opened ONNX graph, its declared inputs and outputs, and the name used in its errors ("YOLO model").
pub struct Model {
    session: Session,
    path: PathBuf,
    what: String,
    inputs: Vec<Port>,
    outputs: Vec<Port>,
}

// `Session` has no `Debug`; the detectors holding a `Model` derive theirs from this one.
impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Model")
            .field("what", &self.what)
            .field("path", &self.path)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .finish()
    }
}

impl Model {
    /// Opens a model file (every model of the project is opened here): graph optimisation on, `threads` intra-op
    /// threads (0: ONNX Runtime's choice). Errors start with `what` and the path ("YOLO model /m/x.onnx: no such
    /// file").
    pub fn open(path: &Path, threads: usize, what: &str) -> Result<Self, OnnxError> {
        let env = environment()?;
        let fail = |problem: ModelProblem| OnnxError::model(what, path, problem);
        if !path.is_file() {
            return Err(fail(ModelProblem::NoSuchFile));
        }
        let session = |e: &dyn fmt::Display| fail(ModelProblem::Session(e.to_string()));
        let mut builder = Session::builder(&env).map_err(|e| session(&e))?;
        builder = builder.with_optimization_level(GraphOptimizationLevel::Level3).map_err(|e| session(&e))?;
        if threads > 0 {
            builder = builder.with_intra_threads(threads).map_err(|e| session(&e))?;
        }
        // ONNX Runtime's threads spin while a run is going on (what keeps each run fast), and by default go on
        // spinning for a while after it returns, taking the cores from whatever comes next: YOLO's next tile input,
        // the annotated picture's JPEG after the last run, the camera driver and indiserver on a Raspberry Pi. Here
        // they stop when the run returns. YOLO at 4096² (docs/YOLO.md, seventh session): the work around the model
        // 49–66 → 32–47 ms, the model alone unchanged within the noise; XRAI and Pix2Pix no slower
        // (`--bench heatmaps`). Turning spinning off altogether (`session.intra_op.allow_spinning` 0) had made
        // the model ~20 % slower (sixth session).
        builder = builder.with_config_entry("session.force_spinning_stop", "1").map_err(|e| session(&e))?;
        let session = builder.commit_from_file(path).map_err(|e| fail(ModelProblem::NotLoadable(e.to_string())))?;
        let inputs = session.inputs().iter().map(|i| Port::of(i.name(), i.dtype())).collect();
        let outputs = session.outputs().iter().map(|o| Port::of(o.name(), o.dtype())).collect();
        Ok(Model { session, path: path.to_owned(), what: what.to_owned(), inputs, outputs })
    }

    /// `"{what} {path}: {problem}"`, the form of every load-time error about this file.
    pub fn fail(&self, problem: impl Into<ModelProblem>) -> OnnxError {
        OnnxError::model(self.what.as_str(), self.path.as_path(), problem.into())
    }

    /// [`Self::fail`] for a check of the calling detector's own ("expected one input (the image), found 2").
    pub fn error(&self, why: impl fmt::Display) -> OnnxError {
        self.fail(ModelProblem::Invalid(why.to_string()))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Declared inputs, in order.
    pub fn inputs(&self) -> &[Port] {
        &self.inputs
    }

    /// Declared outputs, in order.
    pub fn outputs(&self) -> &[Port] {
        &self.outputs
    }

    /// Checks that the graph has exactly the inputs `names`, in any order.
    pub fn expect_inputs(&self, names: &[&str]) -> Result<(), OnnxError> {
        if self.inputs.len() == names.len() && names.iter().all(|n| self.inputs.iter().any(|i| i.name == *n)) {
            return Ok(());
        }
        let quoted = |v: Vec<&str>| v.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
        Err(self.fail(ModelProblem::Inputs {
            expected: quoted(names.to_vec()),
            count: self.inputs.len(),
            found: quoted(self.inputs.iter().map(|i| i.name.as_str()).collect()),
        }))
    }

    /// Checks the input `name` (see [`Port::expect_f32`]) and returns its shape; the error names the file.
    pub fn expect_input(&self, name: &str, dims: &[Dim]) -> Result<Vec<i64>, OnnxError> {
        let port = find(&self.inputs, name).ok_or_else(|| self.missing("input", name, &self.inputs))?;
        port.expect_f32("input", dims).map(<[i64]>::to_vec).map_err(|e| self.fail(e))
    }

    /// Checks the output `name` (see [`Port::expect_f32`]) and returns its shape; the error names the file.
    pub fn expect_output(&self, name: &str, dims: &[Dim]) -> Result<Vec<i64>, OnnxError> {
        let port = find(&self.outputs, name).ok_or_else(|| self.missing("output", name, &self.outputs))?;
        port.expect_f32("output", dims).map(<[i64]>::to_vec).map_err(|e| self.fail(e))
    }

    fn missing(&self, kind: &'static str, name: &str, ports: &[Port]) -> OnnxError {
        let names: Vec<String> = ports.iter().map(|p| format!("'{}'", p.name)).collect();
        self.fail(ModelProblem::NoPort { kind, name: name.into(), has: names.join(", ") })
    }

    /// A custom metadata entry of the file (ultralytics writes `names` there).
    pub fn metadata(&self, key: &str) -> Option<String> {
        self.session.metadata().ok().and_then(|m| m.custom(key))
    }

    /// The session, to run.
    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }
}

fn find<'a>(ports: &'a [Port], name: &str) -> Option<&'a Port> {
    ports.iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(shape: &[i64]) -> Port {
        Port { name: "input".into(), dtype: Some(TensorElementType::Float32), shape: shape.to_vec() }
    }

    #[test]
    fn shapes_are_matched_dimension_by_dimension() {
        let image = [Dim::One, Dim::Is(3), Dim::Fixed("S"), Dim::Fixed("S")];
        assert!(shape_matches(&[1, 3, 640, 640], &image));
        assert!(shape_matches(&[-1, 3, 640, 640], &image));
        assert!(!shape_matches(&[2, 3, 640, 640], &image), "a batch of two is not an image");
        assert!(!shape_matches(&[1, 3, 640, 480], &image), "same name, same size");
        assert!(!shape_matches(&[1, 3, -1, -1], &image), "fixed means fixed");
        assert!(!shape_matches(&[1, 3, 640], &image));
        let tiles = [Dim::Batch, Dim::Is(3), Dim::Any("H"), Dim::Any("W")];
        assert!(shape_matches(&[-1, 3, -1, 224], &tiles) && shape_matches(&[8, 3, 5, 7], &tiles));
        assert!(!shape_matches(&[0, 3, 5, 7], &tiles));
    }

    #[test]
    fn a_mismatch_says_what_was_found_and_what_was_expected() {
        let big = port(&[-1, 3, 256, 256]);
        let err = big.expect_f32("input", &[Dim::Batch, Dim::Is(3), Dim::Is(224), Dim::Is(224)]);
        assert_eq!(
            err.unwrap_err().to_string(),
            "input 'input' is float32 [?, 3, 256, 256]; expected float32 [N, 3, 224, 224]"
        );
        let ints = Port { dtype: Some(TensorElementType::Int64), ..port(&[1, 2]) };
        assert!(ints.expect_f32("output", &[Dim::One, Dim::Is(2)]).unwrap_err().to_string().contains("is i64 [1, 2]"));
        let logits = port(&[4, 2]);
        assert_eq!(logits.expect_f32("output", &[Dim::Batch, Dim::Is(2)]).unwrap(), &[4, 2]);
    }
}
