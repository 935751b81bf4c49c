//! A frame heat map → boxes: threshold, 8-connected regions, small ones dropped, one box per region.
//!
//! Both heat-map detectors put their maps on one scale (XRAI's attribution divided by
//! [`crate::pix2pix::MAP_SCALE`], clipped to `0..=1`; Pix2Pix was trained to output exactly that), so one threshold
//! serves both. The threshold is relative to the map's own peak (0.3 of it by default), with an absolute floor:
//! XRAI ranks regions *within* an image, and its densities vary from image to image by more than the difference
//! between the first region and the rest, so "the regions at least that important beside the most important one"
//! is the stable reading; the floor keeps a map with nothing in it from producing boxes. What a box's confidence
//! means differs between them, so the caller supplies it from the [`Blob`]: its pixels, its peak and its bounding
//! box.

use dso_plugin_api::{Detection, HeatMap};
use image::{GrayImage, Luma};
use imageproc::region_labelling::{connected_components, Connectivity};

/// How regions become boxes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoxParams {
    /// Absolute floor: pixels below this never belong to a region.
    pub threshold: f32,
    /// Relative threshold: pixels below this fraction of the map's peak do not belong to a region either.
    pub relative: f32,
    /// Regions smaller than this fraction of the frame are dropped (noise and stars).
    pub min_area: f32,
    /// Most boxes returned, the most confident first.
    pub max_detections: usize,
    /// Regions whose boxes come closer than this fraction of the frame's shorter side are one object (0: never
    /// merge). XRAI's regions are image segments: an extended nebula or a galaxy with a halo lights up as several
    /// neighbouring segments, and one box per segment would cut it into pieces.
    pub merge_gap: f32,
}

impl Default for BoxParams {
    fn default() -> Self {
        Self { threshold: 0.1, relative: 0.3, min_area: 0.002, max_detections: 100, merge_gap: 0.15 }
    }
}

/// One 8-connected region of pixels at or above the threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Blob {
    /// Its pixels as row-major indices into the map, in scan order.
    pub pixels: Vec<usize>,
    /// Its largest map value.
    pub peak: f32,
    /// Bounding box `(x0, y0, x1, y1)` in pixels, `x1` and `y1` exclusive.
    pub bbox: (usize, usize, usize, usize),
}

/// The 8-connected regions of `map` at or above `threshold` (imageproc's `connected_components`, as the naive
/// detector labels its regions), in scan order of their first pixel.
pub fn blobs(map: &HeatMap, threshold: f32) -> Vec<Blob> {
    let w = map.width;
    let (Ok(w32), Ok(h32)) = (u32::try_from(map.width), u32::try_from(map.height)) else { return Vec::new() };
    if map.values.len() != w * map.height {
        return Vec::new();
    }
    let mask =
        GrayImage::from_fn(w32, h32, |x, y| Luma([u8::from(map.values[y as usize * w + x as usize] >= threshold)]));
    let labels = connected_components(&mask, Connectivity::Eight, Luma([0u8]));
    // Blobs are created as their first pixel is met, so they come in scan order and their pixels sorted.
    let mut blob_of_label: Vec<Option<usize>> = Vec::new();
    let mut out: Vec<Blob> = Vec::new();
    for (i, &label) in labels.as_raw().iter().enumerate().filter(|(_, &l)| l > 0) {
        let label = label as usize;
        if blob_of_label.len() <= label {
            blob_of_label.resize(label + 1, None);
        }
        let k = *blob_of_label[label].get_or_insert_with(|| {
            out.push(Blob { pixels: Vec::new(), peak: f32::NEG_INFINITY, bbox: (usize::MAX, i / w, 0, 0) });
            out.len() - 1
        });
        let (x, y) = (i % w, i / w);
        let b = &mut out[k];
        b.pixels.push(i);
        b.peak = b.peak.max(map.values[i]);
        b.bbox = (b.bbox.0.min(x), b.bbox.1, b.bbox.2.max(x + 1), y + 1);
    }
    out
}

/// The threshold in force for `map`: the larger of the floor and the relative threshold times the map's peak.
pub fn threshold(map: &HeatMap, params: &BoxParams) -> f32 {
    let peak = map.values.iter().copied().filter(|v| v.is_finite()).fold(0.0f32, f32::max);
    params.threshold.max(params.relative * peak)
}

/// The boxes of `map`: one per region of at least [`BoxParams::min_area`] of the frame, labelled `"dso"`, with the
/// confidence `confidence` gives its region (clamped to `0..=1`), the most confident first (ties in scan order),
/// at most [`BoxParams::max_detections`].
pub fn boxes(map: &HeatMap, params: &BoxParams, mut confidence: impl FnMut(&Blob) -> f32) -> Vec<Detection> {
    let min_pixels = (params.min_area.max(0.0) * (map.width * map.height) as f32).ceil().max(1.0) as usize;
    let gap = (params.merge_gap.max(0.0) * map.width.min(map.height) as f32).round() as usize;
    let mut out: Vec<Detection> = merge(blobs(map, threshold(map, params)), gap)
        .into_iter()
        .filter(|b| b.pixels.len() >= min_pixels)
        .map(|b| {
            let (x0, y0, x1, y1) = b.bbox;
            let c = confidence(&b);
            Detection {
                x: x0 as f32,
                y: y0 as f32,
                width: (x1 - x0) as f32,
                height: (y1 - y0) as f32,
                label: "dso".into(),
                confidence: if c.is_finite() { c.clamp(0.0, 1.0) } else { 0.0 },
            }
        })
        .collect();
    out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
    out.truncate(params.max_detections);
    out
}

/// Merges blobs whose bounding boxes, grown by `gap` pixels, overlap, until none do (pixels joined, peak the
/// larger, box the union).
fn merge(mut blobs: Vec<Blob>, gap: usize) -> Vec<Blob> {
    if gap == 0 {
        return blobs;
    }
    let near = |a: &Blob, b: &Blob| {
        let (ax0, ay0, ax1, ay1) = a.bbox;
        let (bx0, by0, bx1, by1) = b.bbox;
        ax0 <= bx1 + gap && bx0 <= ax1 + gap && ay0 <= by1 + gap && by0 <= ay1 + gap
    };
    let mut merged = true;
    while merged {
        merged = false;
        'outer: for i in 0..blobs.len() {
            for j in i + 1..blobs.len() {
                if near(&blobs[i], &blobs[j]) {
                    let b = blobs.swap_remove(j);
                    let a = &mut blobs[i];
                    a.pixels.extend(b.pixels);
                    a.peak = a.peak.max(b.peak);
                    a.bbox = (
                        a.bbox.0.min(b.bbox.0),
                        a.bbox.1.min(b.bbox.1),
                        a.bbox.2.max(b.bbox.2),
                        a.bbox.3.max(b.bbox.3),
                    );
                    merged = true;
                    break 'outer;
                }
            }
        }
    }
    blobs.sort_by_key(|b| b.pixels.iter().copied().min());
    blobs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_with(w: usize, h: usize, f: impl Fn(usize, usize) -> f32) -> HeatMap {
        HeatMap { width: w, height: h, values: (0..w * h).map(|i| f(i % w, i / w)).collect() }
    }

    #[test]
    fn a_blob_gives_its_bounding_box() {
        // an ellipse centred at (60, 40), semi-axes 20 × 10, peak 0.9 at the centre
        let m = map_with(200, 100, |x, y| {
            let r = ((x as f32 - 60.0) / 20.0).powi(2) + ((y as f32 - 40.0) / 10.0).powi(2);
            0.9 * (1.0 - r).max(0.0) + 0.45
        });
        let d = boxes(&m, &BoxParams { threshold: 0.5, relative: 0.0, ..Default::default() }, |b| b.peak);
        assert_eq!(d.len(), 1, "{d:?}");
        let b = &d[0];
        // value ≥ 0.5 where r ≤ 1 − 0.05/0.9: x within ±19.4, y within ±9.7
        assert_eq!((b.x, b.y, b.width, b.height), (41.0, 31.0, 39.0, 19.0));
        assert!((b.confidence - 1.0).abs() < 1e-6, "peak 1.35 clamped: {}", b.confidence);
        assert_eq!(b.label, "dso");
    }

    #[test]
    fn diagonal_neighbours_connect_and_small_regions_are_dropped() {
        let mut m = map_with(100, 100, |_, _| 0.0);
        // a diagonal line of 30 pixels: one region by 8-connectivity
        (10..40).for_each(|i| m.values[i * 100 + i] = 0.8);
        // a lone pixel
        m.values[90 * 100 + 5] = 0.9;
        assert_eq!(blobs(&m, 0.5).len(), 2);
        let p = BoxParams { threshold: 0.5, relative: 0.0, min_area: 0.002, ..Default::default() }; // 20 pixels
        let d = boxes(&m, &p, |b| b.pixels.len() as f32 / 100.0);
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].x, d[0].y, d[0].width, d[0].height), (10.0, 10.0, 30.0, 30.0));
        assert!((d[0].confidence - 0.3).abs() < 1e-6);
    }

    #[test]
    fn boxes_are_sorted_and_capped() {
        // three squares with peaks 0.6, 0.9, 0.7
        let peaks = [0.6, 0.9, 0.7];
        let m = map_with(300, 50, |x, y| if (10..40).contains(&y) && x % 100 < 40 { peaks[x / 100] } else { 0.1 });
        let d = boxes(&m, &BoxParams { threshold: 0.5, relative: 0.0, max_detections: 2, ..Default::default() }, |b| {
            b.peak
        });
        let conf: Vec<f32> = d.iter().map(|d| d.confidence).collect();
        assert_eq!(conf, [0.9, 0.7]);
        assert_eq!(d[0].x, 100.0);
    }

    #[test]
    fn the_threshold_follows_the_peak_above_the_floor() {
        let p = BoxParams { relative: 0.5, merge_gap: 0.0, ..Default::default() };
        let dim = map_with(100, 100, |x, _| if x < 50 { 0.08 } else { 0.0 });
        assert!(boxes(&dim, &p, |b| b.peak).is_empty(), "nothing above the floor, no box");
        // two plateaus, 0.3 and 0.8: only the brighter is at least half the peak
        let two = map_with(100, 100, |x, _| {
            if x < 30 {
                0.3
            } else if x > 60 {
                0.8
            } else {
                0.0
            }
        });
        assert!((threshold(&two, &p) - 0.4).abs() < 1e-6);
        let d = boxes(&two, &p, |b| b.peak);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].x, 61.0);
    }

    #[test]
    fn neighbouring_regions_are_one_object_and_distant_ones_are_not() {
        // three squares: two 4 px apart (merged at a 5 % gap of 100 px), one far away
        let m = map_with(100, 100, |x, y| {
            let a = (10..20).contains(&x) && (10..20).contains(&y);
            let b = (24..34).contains(&x) && (10..20).contains(&y);
            let c = (70..80).contains(&x) && (70..80).contains(&y);
            if a || b || c {
                0.9
            } else {
                0.0
            }
        });
        let p = BoxParams { min_area: 0.0, ..Default::default() };
        let mut d = boxes(&m, &p, |b| b.pixels.len() as f32 / 1000.0);
        d.sort_by(|a, b| a.x.total_cmp(&b.x));
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!((d[0].x, d[0].y, d[0].width, d[0].height), (10.0, 10.0, 24.0, 10.0));
        assert_eq!((d[1].x, d[1].width), (70.0, 10.0));
        let apart = boxes(&m, &BoxParams { merge_gap: 0.0, ..p }, |b| b.peak);
        assert_eq!(apart.len(), 3);
    }
}
