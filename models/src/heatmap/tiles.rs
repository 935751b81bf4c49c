//! Where the heat-map detectors look: overlapping tiles at the scale the classifier learnt, and the 224×224 RGB
//! input made from each.
//!
//! The classifier (and Pix2Pix, trained to imitate its XRAI maps) learnt from 640-px generated patches shown whole
//! and as square crops of 0.35, 0.5 and 0.7 of their side, each resized to 224 px with OpenCV's `INTER_AREA` when
//! shrinking and `INTER_LINEAR` when growing (`dso_training.classifier.patches`). A tile of at most 640 px resized the
//! same way shows objects at the scales it saw; a bigger one would shrink small objects below anything it learnt.
//! So a frame is covered by squares of side `T = min(w, h)` clamped to `224..=640`, overlapping by at least a
//! quarter, so that an object one tile cuts is whole in a neighbour and the seams can be blended
//! ([`super::stitch`]). Linear frames are stretched with the YOLO detector's AutoSTF curves
//! ([`crate::yolo::stretch_curves`]), computed on the whole frame so every tile gets the same curve.

use dso_plugin_api::Frame;

use crate::stretch::StretchParams;
use crate::yolo::preprocess::{area_weights, resample_into, CurveOrder, Map, Region, Weights};

/// The models' input side in pixels.
pub const INPUT: usize = 224;

/// The largest tile side: the training patches' side.
pub const MAX_TILE: usize = 640;

/// How a frame is cut into tiles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tiling {
    /// Smallest tile side (the model input: smaller tiles are enlarged).
    pub min_side: usize,
    /// Largest tile side ([`MAX_TILE`]).
    pub max_side: usize,
    /// Smallest overlap of neighbouring tiles, as a fraction of a tile.
    pub min_overlap: f32,
}

impl Default for Tiling {
    fn default() -> Self {
        Self { min_side: INPUT, max_side: MAX_TILE, min_overlap: 0.25 }
    }
}

impl Tiling {
    /// The tile side `T` for a `width × height` frame: its short side clamped to `min_side..=max_side`.
    pub fn side(&self, width: usize, height: usize) -> usize {
        width.min(height).clamp(self.min_side, self.max_side.max(self.min_side))
    }

    /// The tiles covering a `width × height` frame, row by row: `min(width, T) × min(height, T)` each (squares of side
    /// `T` unless the frame is narrower than `T`; the whole frame when it is no bigger than `T`), the first at the
    /// top-left corner and the last at the bottom-right one, neighbours overlapping by at least
    /// [`Self::min_overlap`].
    pub fn tiles(&self, width: usize, height: usize) -> Vec<Region> {
        let t = self.side(width, height);
        let (tw, th) = (t.min(width), t.min(height));
        let xs = starts(width, tw, self.min_overlap);
        let ys = starts(height, th, self.min_overlap);
        ys.iter().flat_map(|&y| xs.iter().map(move |&x| Region { x, y, width: tw, height: th })).collect()
    }
}

/// Start positions of windows of length `t` covering `len`, evenly spread from 0 to `len - t`, with consecutive
/// starts at most `⌊t (1 − overlap)⌋` apart (so neighbours share at least `overlap` of a window).
fn starts(len: usize, t: usize, overlap: f32) -> Vec<usize> {
    if t == 0 || t >= len {
        return vec![0];
    }
    let max_step = ((t as f64 * (1.0 - f64::from(overlap.clamp(0.0, 0.95)))).floor() as usize).max(1);
    let span = len - t;
    let n = span.div_ceil(max_step) + 1;
    // round(a·i) − round(a·(i−1)) ≤ max_step whenever a ≤ max_step, an integer
    (0..n).map(|i| (span as f64 * i as f64 / (n - 1) as f64).round() as usize).collect()
}

/// Bilinear weights for resampling `n_in` samples to `n_out` (≥ `n_in`) with pixel centres aligned (OpenCV's
/// `INTER_LINEAR`: source position `(o + ½)·n_in/n_out − ½`, clamped to the first and last sample).
pub fn bilinear_weights(n_in: usize, n_out: usize) -> Weights {
    let ratio = n_in as f64 / n_out as f64;
    let last = n_in.saturating_sub(1);
    (0..n_out)
        .map(|o| {
            let src = ((o as f64 + 0.5) * ratio - 0.5).clamp(0.0, last as f64);
            let i0 = (src.floor() as usize).min(last);
            let f = (src - i0 as f64) as f32;
            if i0 == last || f == 0.0 {
                (i0, vec![1.0])
            } else {
                (i0, vec![1.0 - f, f])
            }
        })
        .collect()
}

/// Weights resampling `n_in` samples to `n_out`: area averaging when shrinking, bilinear when growing (what the
/// training patches went through), the identity when equal.
pub fn resize_weights(n_in: usize, n_out: usize) -> Weights {
    if n_out <= n_in {
        area_weights(n_in, n_out)
    } else {
        bilinear_weights(n_in, n_out)
    }
}

/// Resizes a row-major `w × h` map to `out_w × out_h` with [`resize_weights`].
pub fn resize_map(values: &[f32], (w, h): (usize, usize), (out_w, out_h): (usize, usize)) -> Vec<f32> {
    let mut out = vec![0.0; out_w * out_h];
    let whole = Region { x: 0, y: 0, width: w, height: h };
    let (wx, wy) = (resize_weights(w, out_w), resize_weights(h, out_h));
    resample_into(
        values,
        w,
        whole,
        &wx,
        &wy,
        &mut out,
        out_w,
        (0, 0),
        &|_: &mut [f32]| {},
        CurveOrder::AfterResampling,
    );
    out
}

/// A frame ready to be cut into model inputs: the frame and its stretch ([`crate::yolo::stretch_curves`]), computed
/// once on the whole frame.
#[derive(Clone, Debug)]
pub struct TileSource<'a> {
    frame: &'a Frame,
    stretch: Vec<Option<StretchParams>>,
}

impl<'a> TileSource<'a> {
    /// Measures the frame's stretch (nothing for a stretched frame).
    pub fn new(frame: &'a Frame) -> Self {
        Self { frame, stretch: crate::yolo::stretch_curves(frame) }
    }

    /// The frame.
    pub fn frame(&self) -> &'a Frame {
        self.frame
    }

    /// The model input for one tile ([`extract`] with the frame's stretch).
    pub fn input(&self, tile: Region) -> Vec<f32> {
        let curves: Vec<_> = self.stretch.iter().map(|p| crate::yolo::curve_map(*p)).collect();
        let maps: Vec<&Map> = curves.iter().map(|c| &**c).collect();
        extract(self.frame, tile, &maps)
    }
}

/// The model input for one tile: `3 × 224 × 224` (CHW, RGB, `0..=1`), the tile resized with [`resize_weights`]
/// (aspect not kept: tiles are square except on frames narrower than [`INPUT`]), grey frames repeated into the three
/// channels, each value passed through its plane's map (see [`TileSource`]).
pub fn extract(frame: &Frame, tile: Region, maps: &[&Map]) -> Vec<f32> {
    let plane_len = INPUT * INPUT;
    let (wx, wy) = (resize_weights(tile.width, INPUT), resize_weights(tile.height, INPUT));
    let mut out = vec![0.0; 3 * plane_len];
    for (p, plane) in frame.planes.iter().enumerate().take(3) {
        let map = maps[p.min(maps.len() - 1)];
        resample_into(
            plane,
            frame.width,
            tile,
            &wx,
            &wy,
            &mut out[p * plane_len..][..plane_len],
            INPUT,
            (0, 0),
            map,
            CurveOrder::AfterResampling,
        );
    }
    if frame.planes.len() == 1 {
        let (grey, rest) = out.split_at_mut(plane_len);
        rest[..plane_len].copy_from_slice(grey);
        rest[plane_len..].copy_from_slice(grey);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dso_plugin_api::Encoding;

    /// Checks that tiles cover the frame, stay inside, and overlap their neighbours by at least a quarter.
    fn check_cover(w: usize, h: usize) -> Vec<Region> {
        let plan = Tiling::default();
        let tiles = plan.tiles(w, h);
        let mut covered = vec![false; w * h];
        for t in &tiles {
            assert!(t.x + t.width <= w && t.y + t.height <= h, "{w}×{h}: {t:?} leaves the frame");
            for y in t.y..t.y + t.height {
                covered[y * w + t.x..y * w + t.x + t.width].iter_mut().for_each(|c| *c = true);
            }
        }
        assert!(covered.iter().all(|&c| c), "{w}×{h}: not covered");
        let (tw, th) = (tiles[0].width, tiles[0].height);
        for pair in tiles.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if a.y == b.y {
                assert!(a.x + tw - b.x >= tw / 4, "{w}×{h}: {a:?} {b:?}");
            }
        }
        let mut ys: Vec<usize> = tiles.iter().map(|t| t.y).collect();
        ys.dedup();
        for pair in ys.windows(2) {
            assert!(pair[0] + th - pair[1] >= th / 4, "{w}×{h}: rows {pair:?}");
        }
        tiles
    }

    #[test]
    fn tiles_cover_frames_of_odd_sizes() {
        for (w, h) in [(640, 640), (641, 640), (1280, 1024), (1001, 777), (4095, 2047), (300, 2000), (100, 150)] {
            check_cover(w, h);
        }
    }

    #[test]
    fn tile_sizes_follow_the_short_side() {
        let plan = Tiling::default();
        // no bigger than T: one tile, the whole frame
        assert_eq!(plan.tiles(640, 640), vec![Region { x: 0, y: 0, width: 640, height: 640 }]);
        assert_eq!(plan.tiles(100, 150), vec![Region { x: 0, y: 0, width: 100, height: 150 }]);
        // a 640×480 frame: 480-px squares
        let t = plan.tiles(640, 480);
        assert_eq!(t.len(), 2);
        assert!(t.iter().all(|r| r.width == 480 && r.height == 480));
        // 1280×1024: 640-px squares, 3 × 2
        let t = check_cover(1280, 1024);
        assert_eq!(t.len(), 6);
        assert!(t.iter().all(|r| r.width == 640 && r.height == 640));
        // narrower than the input: tiles as wide as the frame, 224 high
        let t = check_cover(150, 1000);
        assert!(t.iter().all(|r| r.width == 150 && r.height == 224));
    }

    #[test]
    fn bilinear_weights_match_opencv() {
        // cv2.resize(np.array([[0, 10]], np.float32), (4, 1), interpolation=cv2.INTER_LINEAR) → 0 2.5 7.5 10
        let w = bilinear_weights(2, 4);
        let src = [0.0f32, 10.0];
        let out: Vec<f32> = w.iter().map(|(i, ws)| ws.iter().zip(&src[*i..]).map(|(w, v)| w * v).sum()).collect();
        assert_eq!(out, [0.0, 2.5, 7.5, 10.0]);
        for (_, ws) in bilinear_weights(7, 224) {
            assert!((ws.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn grey_is_repeated_and_linear_frames_are_stretched() {
        let values: Vec<f32> = (0..400 * 300).map(|i| 0.05 + 0.001 * ((i * 7919) % 13) as f32).collect();
        let frame = Frame::new(400, 300, vec![values], Encoding::Linear).unwrap();
        let tile = Tiling::default().tiles(400, 300)[0];
        assert_eq!((tile.width, tile.height), (300, 300));
        let input = TileSource::new(&frame).input(tile);
        assert_eq!(input.len(), 3 * INPUT * INPUT);
        let plane = INPUT * INPUT;
        assert_eq!(input[..plane], input[plane..2 * plane]);
        assert_eq!(input[..plane], input[2 * plane..]);
        let mean = input[..plane].iter().sum::<f32>() / plane as f32;
        assert!((0.1..0.5).contains(&mean), "the background is stretched towards 0.25, not {mean}");
    }

    #[test]
    fn maps_resize_both_ways() {
        let map: Vec<f32> = (0..16).map(|i| i as f32).collect();
        let big = resize_map(&map, (4, 4), (8, 8));
        assert_eq!(big.len(), 64);
        assert_eq!(big[0], 0.0);
        assert_eq!(big[63], 15.0);
        let small = resize_map(&map, (4, 4), (2, 2));
        assert_eq!(small, [2.5, 4.5, 10.5, 12.5]);
    }
}
