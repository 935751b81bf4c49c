//! Covering a frame larger than the model input twice: one downscaled pass over the whole frame for large objects,
//! and overlapping tiles for small ones, merged afterwards.
//!
//! A 4096-px frame shrunk to a 320-px input makes a 10-px galaxy less than one input pixel, so small objects need
//! tiles; but a nebula filling the frame is cut by every tile, so large objects need the whole view. The tiles are
//! as close to the frame's own resolution as the time budget allows: at most [`TilePlan::max_per_side`] tiles along
//! each side, so their cost stays bounded on any frame (a 4096² frame is 3×3 tiles of ≈1600 px, plus the whole
//! pass: 10 model runs), and never smaller than the model input (tiles are never enlarged).
//!
//! Merging: a box a tile cut at one of its *inner* edges is dropped (the neighbouring tile, which overlaps it, or the
//! whole pass sees the object entire — the usual rule of sliced inference, e.g. SAHI), then every box goes through
//! class-aware NMS ([`super::nms`]).

use super::preprocess::Region;

/// How tiles are laid out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TilePlan {
    /// Most tiles along one side of the frame.
    pub max_per_side: usize,
    /// Overlap between neighbouring tiles, as a fraction of a tile.
    pub overlap: f32,
    /// Tiles are used only when the frame's long side exceeds the input size times this. 3: tiles of a frame only
    /// twice the input show its objects at twice the scale the model was trained at, which costs more than it
    /// finds (measured: `docs/YOLO.md`, "How a frame is processed", step 3); camera frames of 1280 px and more are
    /// tiled.
    pub min_frame_ratio: f32,
}

impl Default for TilePlan {
    fn default() -> Self {
        Self { max_per_side: 3, overlap: 0.2, min_frame_ratio: 3.0 }
    }
}

/// Start positions of `n` windows of length `t` spread evenly over `len` (first at 0, last ending at `len`).
fn starts(len: usize, t: usize, n: usize) -> Vec<usize> {
    if n <= 1 || t >= len {
        return vec![0];
    }
    let span = (len - t) as f64;
    (0..n).map(|i| (span * i as f64 / (n - 1) as f64).round() as usize).collect()
}

/// The regions to run the model on: the whole frame first, then the tiles (none for a frame that fits the input
/// or is below `min_frame_ratio` of it).
pub fn regions(width: usize, height: usize, input: usize, plan: &TilePlan) -> Vec<Region> {
    let whole = Region { x: 0, y: 0, width, height };
    let long = width.max(height);
    if plan.max_per_side == 0 || (long as f32) <= input as f32 * plan.min_frame_ratio {
        return vec![whole];
    }
    let n = plan.max_per_side as f32;
    let ov = plan.overlap.clamp(0.0, 0.9);
    // the smallest square tile for which `max_per_side` tiles with this overlap span the long side
    let t = ((long as f32 / (n - (n - 1.0) * ov)).ceil() as usize).max(input);
    let count = |len: usize| -> usize {
        if t >= len {
            1
        } else {
            let step = t as f32 * (1.0 - ov);
            (((len - t) as f32 / step).ceil() as usize + 1).min(plan.max_per_side)
        }
    };
    let (tw, th) = (t.min(width), t.min(height));
    let mut out = vec![whole];
    for y in starts(height, th, count(height)) {
        for x in starts(width, tw, count(width)) {
            out.push(Region { x, y, width: tw, height: th });
        }
    }
    out
}

/// Whether a box (`x0, y0, x1, y1`, frame pixels) found in tile `r` of a `width × height` frame is kept: it must not
/// touch an edge of the tile that is inside the frame (within `margin` pixels).
pub fn keep_tile_box(b: &[f32; 4], r: &Region, width: usize, height: usize, margin: f32) -> bool {
    let (x0, y0) = (r.x as f32, r.y as f32);
    let (x1, y1) = ((r.x + r.width) as f32, (r.y + r.height) as f32);
    let cut_left = r.x > 0 && b[0] <= x0 + margin;
    let cut_top = r.y > 0 && b[1] <= y0 + margin;
    let cut_right = r.x + r.width < width && b[2] >= x1 - margin;
    let cut_bottom = r.y + r.height < height && b[3] >= y1 - margin;
    !(cut_left || cut_top || cut_right || cut_bottom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_frames_are_one_pass() {
        assert_eq!(regions(320, 320, 320, &TilePlan::default()).len(), 1);
        assert_eq!(regions(400, 300, 320, &TilePlan::default()).len(), 1);
        assert_eq!(regions(640, 640, 320, &TilePlan::default()).len(), 1);
    }

    #[test]
    fn large_frames_get_bounded_overlapping_tiles() {
        let plan = TilePlan::default();
        let r = regions(4096, 4096, 320, &plan);
        assert_eq!(r.len(), 1 + 9);
        assert_eq!(r[0], Region { x: 0, y: 0, width: 4096, height: 4096 });
        let t = r[1].width;
        assert!(t >= 320 && t * 3 > 4096, "tile {t}");
        // tiles cover the frame and overlap
        assert_eq!(r.last().unwrap().x + t, 4096);
        assert!(r[2].x < r[1].x + t);
        let r = regions(1280, 1024, 320, &plan);
        assert!(r.len() > 1 && r.len() <= 10, "{}", r.len());
        for t in &r[1..] {
            assert!(t.x + t.width <= 1280 && t.y + t.height <= 1024 && t.width >= 320);
        }
    }

    #[test]
    fn starts_are_spread_evenly() {
        assert_eq!(starts(1000, 400, 3), vec![0, 300, 600]);
        assert_eq!(starts(400, 400, 3), vec![0]);
    }

    #[test]
    fn boxes_cut_at_inner_tile_edges_are_dropped() {
        let r = Region { x: 100, y: 0, width: 100, height: 100 };
        // inside: kept
        assert!(keep_tile_box(&[120.0, 20.0, 150.0, 50.0], &r, 300, 100, 1.0));
        // touches the left edge, which is inside the frame: dropped
        assert!(!keep_tile_box(&[100.0, 20.0, 150.0, 50.0], &r, 300, 100, 1.0));
        // touches the top edge, which is the frame's: kept
        assert!(keep_tile_box(&[120.0, 0.0, 150.0, 50.0], &r, 300, 100, 1.0));
    }
}
