//! A frame heat map → boxes: threshold, 8-connected regions, small ones dropped, one box per region.
//!
//! Both heat-map detectors put their maps on one scale (XRAI's attribution divided by
//! [`crate::pix2pix::MAP_SCALE`], clipped to `0..=1`; Pix2Pix was trained to output exactly that), so one threshold
//! serves both. What a box's confidence means differs between them, so the caller supplies it from the
//! [`Blob`]: its pixels, its peak and its bounding box.

use dso_plugin_api::{Detection, HeatMap};

/// How regions become boxes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BoxParams {
    /// Pixels with a map value at or above this belong to a region.
    pub threshold: f32,
    /// Regions smaller than this fraction of the frame are dropped (noise and stars).
    pub min_area: f32,
    /// Most boxes returned, the most confident first.
    pub max_detections: usize,
}

impl Default for BoxParams {
    fn default() -> Self {
        Self { threshold: 0.5, min_area: 0.002, max_detections: 100 }
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

/// The 8-connected regions of `map` at or above `threshold`, in scan order of their first pixel.
pub fn blobs(map: &HeatMap, threshold: f32) -> Vec<Blob> {
    let (w, h) = (map.width, map.height);
    let on = |i: usize| map.values[i] >= threshold;
    let mut seen = vec![false; w * h];
    let mut out = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if seen[start] || !on(start) {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut pixels = Vec::new();
        while let Some(i) = stack.pop() {
            pixels.push(i);
            let (x, y) = (i % w, i / w);
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if !seen[j] && on(j) {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        pixels.sort_unstable();
        let peak = pixels.iter().map(|&i| map.values[i]).fold(f32::NEG_INFINITY, f32::max);
        let (mut x0, mut x1) = (usize::MAX, 0);
        for &i in &pixels {
            x0 = x0.min(i % w);
            x1 = x1.max(i % w + 1);
        }
        let (y0, y1) = (pixels[0] / w, pixels[pixels.len() - 1] / w + 1);
        out.push(Blob { pixels, peak, bbox: (x0, y0, x1, y1) });
    }
    out
}

/// The boxes of `map`: one per region of at least [`BoxParams::min_area`] of the frame, labelled `"dso"`, with the
/// confidence `confidence` gives its region (clamped to `0..=1`), the most confident first (ties in scan order),
/// at most [`BoxParams::max_detections`].
pub fn boxes(map: &HeatMap, params: &BoxParams, mut confidence: impl FnMut(&Blob) -> f32) -> Vec<Detection> {
    let min_pixels = (params.min_area.max(0.0) * (map.width * map.height) as f32).ceil().max(1.0) as usize;
    let mut out: Vec<Detection> = blobs(map, params.threshold)
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
        let d = boxes(&m, &BoxParams::default(), |b| b.peak);
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
        let p = BoxParams { min_area: 0.002, ..Default::default() }; // 20 pixels
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
        let d = boxes(&m, &BoxParams { max_detections: 2, ..Default::default() }, |b| b.peak);
        let conf: Vec<f32> = d.iter().map(|d| d.confidence).collect();
        assert_eq!(conf, [0.9, 0.7]);
        assert_eq!(d[0].x, 100.0);
    }
}
