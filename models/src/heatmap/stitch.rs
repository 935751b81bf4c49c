//! Tile maps → one frame-sized map, with the seams blended.
//!
//! Each tile's 224×224 map is resized back to the tile's size and added with a weight that falls linearly towards
//! the tile's edges (feathering); the frame map is the weighted mean. Where tiles overlap, the one whose centre is
//! nearer counts more, so a map that differs between neighbours changes smoothly across the overlap instead of
//! jumping at a tile edge; where the maps agree (a constant map) the mean is that value exactly. Every weight is
//! positive, so pixels that one tile alone covers (frame borders) keep that tile's value.

use dso_plugin_api::HeatMap;

use super::tiles::{resize_map, INPUT};
use crate::yolo::preprocess::Region;

/// Linear ramp weights along a tile side of `len` pixels: `(d + 1) / (ramp + 1)` at `d` pixels from the nearer
/// edge, capped at 1.
pub fn feather(len: usize, ramp: usize) -> Vec<f32> {
    (0..len).map(|i| ((i.min(len - 1 - i) + 1) as f32 / (ramp + 1) as f32).min(1.0)).collect()
}

/// Accumulates tile maps into a frame map.
#[derive(Clone, Debug)]
pub struct Stitcher {
    width: usize,
    height: usize,
    sum: Vec<f32>,
    weight: Vec<f32>,
}

impl Stitcher {
    /// An empty `width × height` map.
    pub fn new(width: usize, height: usize) -> Self {
        Self { width, height, sum: vec![0.0; width * height], weight: vec![0.0; width * height] }
    }

    /// Adds one tile's `224 × 224` map (row-major), resized to the tile. The ramp is a quarter of the tile side
    /// (the smallest overlap of [`super::tiles::Tiling`]'s default).
    pub fn add(&mut self, tile: Region, map: &[f32]) {
        debug_assert_eq!(map.len(), INPUT * INPUT);
        let resized = resize_map(map, (INPUT, INPUT), (tile.width, tile.height));
        self.add_resized(tile, &resized);
    }

    /// Adds a tile whose map is one value everywhere (a tile that was not explained counts as 0).
    pub fn add_constant(&mut self, tile: Region, value: f32) {
        self.add_resized(tile, &vec![value; tile.width * tile.height]);
    }

    fn add_resized(&mut self, tile: Region, values: &[f32]) {
        let wx = feather(tile.width, tile.width / 4);
        let wy = feather(tile.height, tile.height / 4);
        for (ty, wyv) in wy.iter().enumerate() {
            let row = (tile.y + ty) * self.width + tile.x;
            let src = &values[ty * tile.width..][..tile.width];
            let sum = &mut self.sum[row..row + tile.width];
            let weight = &mut self.weight[row..row + tile.width];
            for (((s, w), v), wxv) in sum.iter_mut().zip(weight.iter_mut()).zip(src).zip(&wx) {
                let k = wxv * wyv;
                *s += k * if v.is_finite() { *v } else { 0.0 };
                *w += k;
            }
        }
    }

    /// The weighted mean, clipped to `0..=1`, as the frame's heat map (0 where no tile was added).
    pub fn finish(self) -> HeatMap {
        let values = self
            .sum
            .iter()
            .zip(&self.weight)
            .map(|(s, w)| if *w > 0.0 { (s / w).clamp(0.0, 1.0) } else { 0.0 })
            .collect();
        HeatMap { width: self.width, height: self.height, values }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heatmap::tiles::Tiling;

    #[test]
    fn feather_ramps_linearly_and_stays_positive() {
        assert_eq!(feather(8, 3), [0.25, 0.5, 0.75, 1.0, 1.0, 0.75, 0.5, 0.25]);
        assert_eq!(feather(1, 0), [1.0]);
    }

    #[test]
    fn a_constant_map_has_no_seams() {
        let (w, h) = (1001, 777);
        let mut s = Stitcher::new(w, h);
        for t in Tiling::default().tiles(w, h) {
            s.add(t, &vec![0.7; INPUT * INPUT]);
        }
        let m = s.finish();
        assert_eq!((m.width, m.height, m.values.len()), (w, h, w * h));
        assert!(
            m.values.iter().all(|v| (v - 0.7).abs() < 1e-5),
            "{:?}",
            m.values.iter().fold(0.0f32, |a, v| a.max(*v))
        );
    }

    #[test]
    fn overlaps_blend_smoothly() {
        // two tiles side by side, one all 1 and one all 0: across the overlap the map falls without a step
        let (w, h) = (1000, 640);
        let tiles = Tiling::default().tiles(w, h);
        assert_eq!(tiles.len(), 2);
        let mut s = Stitcher::new(w, h);
        s.add(tiles[0], &vec![1.0; INPUT * INPUT]);
        s.add_constant(tiles[1], 0.0);
        let m = s.finish();
        let row = &m.values[320 * w..321 * w];
        assert_eq!(row[0], 1.0);
        assert_eq!(row[w - 1], 0.0);
        let biggest_step = row.windows(2).map(|p| (p[0] - p[1]).abs()).fold(0.0f32, f32::max);
        assert!(biggest_step < 0.02, "a seam: step {biggest_step}");
        assert!(row.windows(2).all(|p| p[1] <= p[0] + 1e-6), "not monotonic");
    }
}
