//! The ONNX graphs the heat-map detectors run tiles through, and where their files are found.
//!
//! The classifier's forward graph and the Pix2Pix generator have the same shape of interface: a batch of tiles
//! `input` `[N, 3, 224, 224]` in, one tensor per tile out (`logits` `[N, 2]`, `heat` `[N, 1, 224, 224]`). One
//! wrapper loads either, checks those shapes when it loads (the error names the file and what is wrong), and runs a
//! batch. ONNX Runtime is the one the YOLO detector loads ([`crate::yolo::runtime`]).

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::value::{TensorElementType, TensorRef};

use super::tiles::INPUT;
use crate::yolo::runtime::{open_session, signature};

/// Most tiles per model run when the graph's batch dimension is free: enough to keep ONNX Runtime's threads busy,
/// few enough that a batch of inputs stays small (8 × 600 kB).
pub const MAX_BATCH: usize = 8;

/// The model file for a detector: the file named by the environment variable `env_var` if set (it must exist),
/// else the first of [`crate::yolo::config::shipped_candidates`]`(folder, file)` that exists; the error says where
/// it looked.
pub fn find_model(env_var: &str, folder: &str, file: &str) -> Result<PathBuf, String> {
    use crate::yolo::config::{first_shipped, model_from_env};
    model_from_env(env_var).unwrap_or_else(|| {
        first_shipped(folder, file).map_err(|places| format!("{file} is in none of {places}; name one with {env_var}"))
    })
}

/// A loaded graph taking `[N, 3, 224, 224]` tiles and giving `per_tile` values per tile in one output.
pub struct TileModel {
    session: Session,
    input: String,
    output: String,
    per_tile: usize,
    max_batch: usize,
}

impl std::fmt::Debug for TileModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileModel")
            .field("input", &self.input)
            .field("output", &self.output)
            .field("per_tile", &self.per_tile)
            .field("max_batch", &self.max_batch)
            .finish()
    }
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
    ) -> Result<Self, String> {
        let session = open_session(path, threads, what)?;
        let fail = |why: String| format!("{what} {}: {why}", path.display());
        let f32_t = Some(TensorElementType::Float32);
        let side = INPUT as i64;
        let batch = match session.inputs().iter().find(|i| i.name() == input).map(|i| signature(i.dtype())) {
            Some((t, s)) if t == f32_t && s.len() == 4 && s[0] != 0 && s[1..] == [3, side, side] => s[0],
            other => {
                return Err(fail(format!("input '{input}' is {other:?}; expected float32 [N, 3, {side}, {side}]")))
            }
        };
        if session.inputs().len() != 1 {
            return Err(fail(format!("expected one input ('{input}'), found {}", session.inputs().len())));
        }
        match session.outputs().iter().find(|o| o.name() == output).map(|o| signature(o.dtype())) {
            Some((t, s)) if t == f32_t && s.len() == shape.len() + 1 && s[1..] == *shape => {}
            other => return Err(fail(format!("output '{output}' is {other:?}; expected float32 [N, {shape:?}]"))),
        }
        let per_tile = shape.iter().product::<i64>() as usize;
        let max_batch = if batch > 0 { batch as usize } else { MAX_BATCH };
        Ok(Self { session, input: input.into(), output: output.into(), per_tile, max_batch })
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
        let outputs =
            self.session.run(ort::inputs![self.input.as_str() => tensor]).map_err(|e| format!("inference: {e}"))?;
        let out = outputs[self.output.as_str()]
            .try_extract_array::<f32>()
            .map_err(|e| format!("output '{}': {e}", self.output))?;
        if out.len() != n * self.per_tile {
            return Err(format!("output '{}' has shape {:?}", self.output, out.shape()));
        }
        Ok(out.iter().copied().collect())
    }
}
