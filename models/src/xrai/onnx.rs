//! Input gradients from an ONNX gradient graph, through ONNX Runtime.
//!
//! ONNX Runtime has no autograd, so a classifier explained by XRAI ships a second graph that computes its own input
//! gradient (traced forward and backward, see shared/ML-NOTES.md and `reference/gradexport.py`): inputs `input`
//! `[N, 3, H, W]` and `onehot` `[N, K]`, outputs `logits` `[N, K]` and `grad` `[N, 3, H, W]`, the gradient of
//! `Σ logits · onehot`. The graph is checked when loaded ([`crate::onnx`]), and the error says what is wrong with it.

use std::path::Path;

use ndarray::{ArrayView2, ArrayView4};
use ort::value::TensorRef;

use super::ig::Gradient;
use crate::onnx::{self, Dim, OnnxError};

/// Images per call when the graph's batch dimension is free.
const DYNAMIC_BATCH: usize = 8;

/// A loaded, validated gradient graph.
#[derive(Debug)]
pub struct OnnxGradient {
    model: onnx::Model,
    /// Input height and width, when the graph fixes them.
    size: Option<(usize, usize)>,
    classes: usize,
    max_batch: usize,
}

impl OnnxGradient {
    /// Loads a gradient graph with `threads` intra-op threads (0: ONNX Runtime's choice) and checks its inputs and
    /// outputs; the error names the file and what is wrong.
    pub fn load(path: &Path, threads: usize) -> Result<OnnxGradient, OnnxError> {
        let model = onnx::Model::open(path, threads, "gradient graph")?;
        let s = model.expect_input("input", &[Dim::Batch, Dim::Is(3), Dim::Any("H"), Dim::Any("W")])?;
        let size = (s[2] > 0 && s[3] > 0).then_some((s[2] as usize, s[3] as usize));
        let batch = s[0];
        let onehot = model.expect_input("onehot", &[Dim::Batch, Dim::Fixed("K")])?;
        if onehot[0] != batch && onehot[0] >= 0 {
            return Err(model.error(format!("input 'onehot' has a batch of {}, input 'input' of {batch}", onehot[0])));
        }
        let classes = onehot[1] as usize;
        model.expect_inputs(&["input", "onehot"])?;
        model.expect_output("grad", &[Dim::Batch, Dim::Any("C"), Dim::Any("H"), Dim::Any("W")])?;
        if !model.outputs().iter().any(|o| o.name == "logits") {
            return Err(model.error("no 'logits' output"));
        }
        let max_batch = if batch > 0 { batch as usize } else { DYNAMIC_BATCH };
        Ok(OnnxGradient { model, size, classes, max_batch })
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
            .model
            .session()
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
