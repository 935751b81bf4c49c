//! The ONNX graphs the heat-map detectors run tiles through.
//!
//! The classifier's forward graph and the Pix2Pix generator have the same shape of interface: a batch of tiles
//! `input` `[N, 3, 224, 224]` in, one tensor per tile out (`logits` `[N, 2]`, `heat` `[N, 1, 224, 224]`). One
//! wrapper loads either, checks those shapes when it loads with [`crate::onnx`] (the error names the file and what is
//! wrong), and runs a batch.

use std::path::Path;

use ort::value::TensorRef;

use super::tiles::INPUT;
use crate::onnx::{self, Dim, OnnxError};

/// Most tiles per model run when the graph's batch dimension is free: enough to keep ONNX Runtime's threads busy,
/// few enough that a batch of inputs stays small (8 × 600 kB).
pub const MAX_BATCH: usize = 8;

/// A loaded graph taking `[N, 3, 224, 224]` tiles and giving `per_tile` values per tile in one output.
#[derive(Debug)]
pub struct TileModel {
    model: onnx::Model,
    input: String,
    output: String,
    per_tile: usize,
    max_batch: usize,
}

impl TileModel {
    /// Loads `path` with `threads` intra-op threads (0: ONNX Runtime's choice) and checks that its input `input` is
    /// float32 `[N, 3, 224, 224]` and its output `output` float32 `[N, …]` with `…` equal to `shape` (`what` names
    /// the model in errors: "Pix2Pix model").
    pub fn load(
        path: &Path,
        threads: usize,
        what: &str,
        input: &str,
        output: &str,
        shape: &[i64],
    ) -> Result<Self, OnnxError> {
        let model = onnx::Model::open(path, threads, what)?;
        let side = INPUT as i64;
        let batch = model.expect_input(input, &[Dim::Batch, Dim::Is(3), Dim::Is(side), Dim::Is(side)])?[0];
        model.expect_inputs(&[input])?;
        let out: Vec<Dim> = std::iter::once(Dim::Batch).chain(shape.iter().map(|d| Dim::Is(*d))).collect();
        model.expect_output(output, &out)?;
        let per_tile = shape.iter().product::<i64>() as usize;
        let max_batch = if batch > 0 { batch as usize } else { MAX_BATCH };
        Ok(Self { model, input: input.into(), output: output.into(), per_tile, max_batch })
    }

    /// The most tiles one [`Self::run`] takes.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Runs the graph on `tiles.len() / (3 × 224 × 224)` tiles (CHW each, one after the other) and returns the
    /// output, `per_tile` values per tile.
    pub fn run(&mut self, tiles: &[f32]) -> Result<Vec<f32>, String> {
        let n = tiles.len() / (3 * INPUT * INPUT);
        if n == 0 || n > self.max_batch || n * 3 * INPUT * INPUT != tiles.len() {
            return Err(format!("{} values are not 1 to {} tiles", tiles.len(), self.max_batch));
        }
        let view = ndarray::ArrayView4::from_shape((n, 3, INPUT, INPUT), tiles).map_err(|e| e.to_string())?;
        let tensor = TensorRef::from_array_view(view).map_err(|e| e.to_string())?;
        let outputs = self
            .model
            .session()
            .run(ort::inputs![self.input.as_str() => tensor])
            .map_err(|e| format!("inference: {e}"))?;
        let out = outputs[self.output.as_str()]
            .try_extract_array::<f32>()
            .map_err(|e| format!("output '{}': {e}", self.output))?;
        if out.len() != n * self.per_tile {
            return Err(format!("output '{}' has shape {:?}", self.output, out.shape()));
        }
        Ok(out.iter().copied().collect())
    }
}
