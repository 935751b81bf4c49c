//! Input gradients from an ONNX gradient graph, through ONNX Runtime.
//!
//! ONNX Runtime has no autograd, so a classifier explained by XRAI ships a second graph that computes its own input
//! gradient (traced forward and backward, see shared/ML-NOTES.md and `reference/gradexport.py`): inputs `input`
//! `[N, 3, H, W]` and `onehot` `[N, K]`, outputs `logits` `[N, K]` and `grad` `[N, 3, H, W]`, the gradient of
//! `Σ logits · onehot`. The graph is checked when loaded, and the error says what is wrong with it. ONNX Runtime is
//! the one the YOLO detector loads ([`crate::yolo::runtime`]).

use std::path::Path;

use ndarray::{ArrayView2, ArrayView4};
use ort::session::Session;
use ort::value::{TensorElementType, TensorRef};

use super::ig::Gradient;
use crate::yolo::runtime::{open_session, signature};

/// Images per call when the graph's batch dimension is free.
const DYNAMIC_BATCH: usize = 8;

/// A loaded, validated gradient graph.
pub struct OnnxGradient {
    session: Session,
    /// Input height and width, when the graph fixes them.
    size: Option<(usize, usize)>,
    classes: usize,
    max_batch: usize,
}

impl std::fmt::Debug for OnnxGradient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxGradient")
            .field("size", &self.size)
            .field("classes", &self.classes)
            .field("max_batch", &self.max_batch)
            .finish()
    }
}

impl OnnxGradient {
    /// Loads a gradient graph with `threads` intra-op threads (0: ONNX Runtime's choice) and checks its inputs and
    /// outputs; the error names the file and what is wrong.
    pub fn load(path: &Path, threads: usize) -> Result<OnnxGradient, String> {
        let session = open_session(path, threads, "gradient graph")?;
        let fail = |what: String| format!("gradient graph {}: {what}", path.display());

        let find_in = |name: &str| session.inputs().iter().find(|i| i.name() == name).map(|i| signature(i.dtype()));
        let find_out = |name: &str| session.outputs().iter().find(|o| o.name() == name).map(|o| signature(o.dtype()));
        let f32_t = Some(TensorElementType::Float32);
        let (size, batch) = match find_in("input") {
            Some((t, s)) if t == f32_t && s.len() == 4 && s[1] == 3 && s[0] != 0 => {
                let size = (s[2] > 0 && s[3] > 0).then_some((s[2] as usize, s[3] as usize));
                (size, s[0])
            }
            other => return Err(fail(format!("input 'input' is {other:?}; expected float32 [N, 3, H, W]"))),
        };
        let classes = match find_in("onehot") {
            Some((t, s)) if t == f32_t && s.len() == 2 && s[1] > 0 && (s[0] == batch || s[0] < 0) => s[1] as usize,
            other => return Err(fail(format!("input 'onehot' is {other:?}; expected float32 [N, K] with K fixed"))),
        };
        if session.inputs().len() != 2 {
            return Err(fail(format!("expected two inputs ('input', 'onehot'), found {}", session.inputs().len())));
        }
        match find_out("grad") {
            Some((t, s)) if t == f32_t && s.len() == 4 => {}
            other => return Err(fail(format!("output 'grad' is {other:?}; expected float32 [N, 3, H, W]"))),
        }
        if find_out("logits").is_none() {
            return Err(fail("no 'logits' output".into()));
        }
        let max_batch = if batch > 0 { batch as usize } else { DYNAMIC_BATCH };
        Ok(OnnxGradient { session, size, classes, max_batch })
    }

    /// Input `(height, width)` when the graph fixes it.
    pub fn input_size(&self) -> Option<(usize, usize)> {
        self.size
    }

    /// Number of classes (`K`).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Runs the graph on `shape[0]` NCHW images for `class`: returns the logits (`N × K`) and the gradients (NCHW).
    pub fn run(&mut self, batch: &[f32], shape: [usize; 4], class: usize) -> Result<(Vec<f32>, Vec<f32>), String> {
        let [n, c, h, w] = shape;
        if class >= self.classes {
            return Err(format!("class {class} does not exist: the model has {} classes", self.classes));
        }
        if self.size.is_some_and(|s| s != (h, w)) || c != 3 {
            return Err(format!("the model takes 3 × {:?} images, not {c} × {h} × {w}", self.size));
        }
        if n == 0 || n > self.max_batch {
            return Err(format!("batch of {n} images; the model takes 1 to {}", self.max_batch));
        }
        let view = ArrayView4::from_shape((n, c, h, w), batch).map_err(|e| e.to_string())?;
        let mut onehot = vec![0.0f32; n * self.classes];
        (0..n).for_each(|i| onehot[i * self.classes + class] = 1.0);
        let onehot = ArrayView2::from_shape((n, self.classes), &onehot).map_err(|e| e.to_string())?;
        let outputs = self
            .session
            .run(ort::inputs![
                "input" => TensorRef::from_array_view(view).map_err(|e| e.to_string())?,
                "onehot" => TensorRef::from_array_view(onehot).map_err(|e| e.to_string())?,
            ])
            .map_err(|e| format!("gradient graph: {e}"))?;
        let grad = outputs["grad"].try_extract_array::<f32>().map_err(|e| format!("output 'grad': {e}"))?;
        if grad.shape() != [n, c, h, w] {
            return Err(format!("output 'grad' has shape {:?}; expected {:?}", grad.shape(), shape));
        }
        let logits = outputs["logits"].try_extract_array::<f32>().map_err(|e| format!("output 'logits': {e}"))?;
        let flat =
            |a: ndarray::ArrayViewD<f32>| a.as_slice().map_or_else(|| a.iter().copied().collect(), <[f32]>::to_vec);
        Ok((flat(logits), flat(grad)))
    }
}

impl Gradient for OnnxGradient {
    fn gradient(&mut self, batch: &[f32], shape: [usize; 4], class: usize) -> Result<Vec<f32>, String> {
        self.run(batch, shape, class).map(|(_, grad)| grad)
    }

    fn max_batch(&self) -> usize {
        self.max_batch
    }
}
