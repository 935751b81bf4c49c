//! What the two heat-map detectors (XRAI, [`crate::xrai::detector`], and Pix2Pix, [`crate::pix2pix`]) share: the
//! way from a frame to tiles and from tile maps back to boxes.
//!
//! Both detectors ask a 224-px model about tiles of the frame and get a 224×224 map per tile, on one scale (XRAI
//! maps divided by [`crate::pix2pix::MAP_SCALE`], which is what Pix2Pix learnt to output). Keeping the geometry in
//! one place means the two differ only in how they make a tile's map, so their boxes and heat maps can be compared
//! pixel for pixel:
//! 1. [`tiles`]: squares at the training patches' scale, overlapping, resized and stretched like the training data;
//! 2. [`model`]: the batched ONNX graphs tiles go through, checked at load;
//! 3. [`stitch`]: tile maps back into one frame map, seams feathered;
//! 4. [`mod@boxes`]: the frame map thresholded into regions and boxes, the confidence left to each detector.

pub mod boxes;
pub mod model;
pub mod stitch;
pub mod tiles;

pub use boxes::{boxes, Blob, BoxParams};
pub use model::TileModel;
pub use stitch::Stitcher;
pub use tiles::{TileSource, Tiling, INPUT};

use dso_plugin_api::Frame;

use crate::yolo::preprocess::Region;

/// Checks what the tiling relies on, so a malformed frame is an error and not a panic: a non-empty frame of one or
/// three planes of `width × height` samples each.
pub fn check_frame(frame: &Frame) -> Result<(), MalformedFrame> {
    let n = frame.width.checked_mul(frame.height).unwrap_or(0);
    if n == 0 || !matches!(frame.planes.len(), 1 | 3) || frame.planes.iter().any(|p| p.len() != n) {
        return Err(MalformedFrame {
            width: frame.width,
            height: frame.height,
            planes: frame.planes.iter().map(Vec::len).collect(),
        });
    }
    Ok(())
}

/// A frame the tiling cannot cut: its sizes, as [`check_frame`] found them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed frame: {width}×{height} with {} planes of {planes:?} samples", planes.len())]
pub struct MalformedFrame {
    /// The frame's width.
    pub width: usize,
    /// The frame's height.
    pub height: usize,
    /// The length of each plane.
    pub planes: Vec<usize>,
}

impl From<MalformedFrame> for dso_plugin_api::Error {
    fn from(e: MalformedFrame) -> Self {
        dso_plugin_api::Error::new(e.to_string())
    }
}

/// Runs `model` over `tiles` of a frame, [`TileModel::max_batch`] at a time, and returns each tile's output.
pub fn run_tiles(source: &TileSource, tiles: &[Region], model: &mut TileModel) -> Result<Vec<Vec<f32>>, String> {
    let mut out = Vec::with_capacity(tiles.len());
    for batch in tiles.chunks(model.max_batch().max(1)) {
        let inputs: Vec<f32> = batch.iter().flat_map(|t| source.input(*t)).collect();
        let outputs = model.run(&inputs)?;
        let per = outputs.len() / batch.len();
        if per == 0 || per * batch.len() != outputs.len() {
            return Err(format!("the model gave {} values for {} tiles", outputs.len(), batch.len()));
        }
        out.extend(outputs.chunks_exact(per).map(<[f32]>::to_vec));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dso_plugin_api::Encoding;

    #[test]
    fn malformed_frames_are_refused() {
        let good = Frame::new(3, 2, vec![vec![0.0; 6]], Encoding::Stretched).unwrap();
        assert!(check_frame(&good).is_ok());
        let short = Frame { planes: vec![vec![0.0; 5]], ..good.clone() };
        assert!(check_frame(&short).is_err());
        let two = Frame { planes: vec![vec![0.0; 6]; 2], ..good.clone() };
        assert!(check_frame(&two).is_err());
        let empty = Frame { width: 0, planes: vec![vec![]], ..good };
        assert!(check_frame(&empty).is_err());
    }
}
