//! The frame as an 8-bit RGB image for display: grey or colour, stretched like `stretch::auto_stretch` through a
//! lookup table, on all cores. Apart from the drawing because every picture (the annotated JPEG, the heat map's
//! background) starts here, and it is where the time goes on large frames.

use dso_plugin_api::{Encoding, Frame};
use image::RgbImage;

use crate::stretch::{auto_params, mtf, StretchParams};

/// The frame as an 8-bit RGB image for display: mono frames are replicated to grey, linear frames get the same
/// automatic stretch as [`crate::stretch::auto_stretch`] (same parameters, applied on the fly through a lookup
/// table instead of copying the frame), stretched frames are only clamped and quantised.
///
/// A frame whose fields disagree (planes shorter than `width × height`) gives black where data is missing.
pub fn to_rgb8(frame: &Frame) -> RgbImage {
    let (Ok(w), Ok(h)) = (u32::try_from(frame.width), u32::try_from(frame.height)) else {
        log::warn!("frame {}×{} is too large to display", frame.width, frame.height);
        return RgbImage::new(0, 0);
    };
    let n = frame.width.saturating_mul(frame.height);
    let linear = frame.encoding == Encoding::Linear;
    let planes: Vec<&[f32]> = match frame.planes.as_slice() {
        [r, g, b] => vec![r, g, b],
        [mono, ..] => vec![mono],
        [] => vec![],
    };
    // One stretch per plane (unlinked, like auto_stretch), estimated concurrently: ~10 ms each on 4096².
    let luts: Vec<DisplayLut> = std::thread::scope(|scope| {
        let jobs: Vec<_> =
            planes.iter().map(|&p| scope.spawn(move || DisplayLut::new(linear.then(|| auto_params(p))))).collect();
        jobs.into_iter().map(|j| j.join().unwrap_or_else(|_| DisplayLut::new(None))).collect()
    });
    let mut raw = vec![0u8; n * 3];
    if planes.iter().any(|p| p.len() < n) {
        log::warn!("frame planes are shorter than {}×{}: shown black", frame.width, frame.height);
        return RgbImage::from_raw(w, h, raw).unwrap_or_else(|| RgbImage::new(w, h));
    }
    for_row_bands(&mut raw, frame.width * 3, |first_row, band| {
        let start = first_row * frame.width;
        let len = band.len() / 3;
        match (planes.as_slice(), luts.as_slice()) {
            ([r, g, b], [lr, lg, lb]) => {
                let (r, g, b) = (&r[start..start + len], &g[start..start + len], &b[start..start + len]);
                for (((px, &r), &g), &b) in band.chunks_exact_mut(3).zip(r).zip(g).zip(b) {
                    px.copy_from_slice(&[lr.get(r), lg.get(g), lb.get(b)]);
                }
            }
            ([mono], [lut]) => {
                for (px, &v) in band.chunks_exact_mut(3).zip(&mono[start..start + len]) {
                    px.fill(lut.get(v));
                }
            }
            _ => {}
        }
    });
    RgbImage::from_raw(w, h, raw).unwrap_or_else(|| RgbImage::new(w, h))
}

/// Runs `f(first_row, band)` over bands of whole rows of `buf` (rows of `row_bytes`), one band per core for large
/// images: per-pixel work on a 4096 × 4096 frame is then bound by memory, not by one core.
pub(super) fn for_row_bands(buf: &mut [u8], row_bytes: usize, f: impl Fn(usize, &mut [u8]) + Sync) {
    if row_bytes == 0 || buf.is_empty() {
        return;
    }
    let rows = buf.len() / row_bytes;
    let threads =
        if buf.len() < 1 << 20 { 1 } else { std::thread::available_parallelism().map_or(1, |t| t.get().min(8)) };
    let band_rows = rows.div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        for (i, band) in buf.chunks_mut(band_rows * row_bytes).enumerate() {
            scope.spawn(move || f(i * band_rows, band));
        }
    });
}

/// Display value of every input level `i / LUT_MAX`, so the per-pixel work is one multiply and one table read.
///
/// 2¹⁶ steps reproduce 16-bit camera data exactly (its values are `k / 65535`); float data is rounded to the
/// nearest step first, which moves an output level by at most one in the steepest part of a strong stretch.
struct DisplayLut(Vec<u8>);

const LUT_MAX: f32 = 65535.0;

impl DisplayLut {
    fn new(params: Option<StretchParams>) -> Self {
        Self((0..=0xFFFF).map(|i| quantise(display_value(i as f32 / LUT_MAX, params))).collect())
    }

    #[inline]
    fn get(&self, v: f32) -> u8 {
        // NaN → 0 (`as` saturates NaN to 0), out-of-range values clamp to the ends; the mask keeps the index
        // provably inside the 65536-entry table, so no bounds check is left in the pixel loop.
        let i = (v.clamp(0.0, 1.0) * LUT_MAX + 0.5) as u32 as usize;
        self.0[i & 0xFFFF]
    }
}

/// One sample's display value in `0..=1`, stretched when `params` are given (as `stretch::apply_mut` does).
fn display_value(x: f32, params: Option<StretchParams>) -> f32 {
    match params {
        Some(p) => {
            let range = (1.0 - p.shadows).max(f32::EPSILON);
            mtf(p.midtones, ((x - p.shadows) / range).clamp(0.0, 1.0))
        }
        None => x.clamp(0.0, 1.0),
    }
}

fn quantise(v: f32) -> u8 {
    (v * 255.0 + 0.5) as u8
}
