//! The heat map in inferno colours, blended over the stretched frame, as an image and as PNG bytes. Apart from the
//! annotated JPEG because it is a second picture with its own encoder, made only when a detector gives a map.

use std::io::Cursor;

use dso_plugin_api::{Frame, HeatMap};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, RgbImage};

use super::{colormap, for_row_bands, preview_factor, to_rgb8, AnnotateError};
use crate::ops;

/// Value levels of the heat-map lookup table: finer than the eye or 8-bit output can tell apart.
const HEAT_LEVELS: usize = 1024;

/// The heat map in inferno colours, blended over the stretched frame when one is given: each pixel is
/// `frame × (1 − v) + inferno(v) × v`, so cold areas show the sky and hot ones the map.
pub fn heatmap_rgb8(map: &HeatMap, background: Option<&Frame>) -> Result<RgbImage, AnnotateError> {
    let n = map.width.checked_mul(map.height).filter(|&n| n > 0 && n == map.values.len()).ok_or_else(|| {
        AnnotateError::Size(format!("heat map {}×{} holds {} values", map.width, map.height, map.values.len()))
    })?;
    let (w, h) = match (u32::try_from(map.width), u32::try_from(map.height)) {
        (Ok(w), Ok(h)) => (w, h),
        _ => return Err(AnnotateError::Size(format!("heat map {}×{} is too large", map.width, map.height))),
    };
    let mut image = match background {
        Some(f) if (f.width, f.height) != (map.width, map.height) => {
            return Err(AnnotateError::Size(format!(
                "heat map is {}×{} but the frame is {}×{}",
                map.width, map.height, f.width, f.height
            )))
        }
        Some(f) => to_rgb8(f),
        None => RgbImage::new(w, h),
    };
    // The colour and opacity of 1024 value levels, so each pixel is a table read and an integer blend.
    let levels: Vec<([u8; 3], u16)> = (0..HEAT_LEVELS)
        .map(|i| {
            let v = i as f32 / (HEAT_LEVELS - 1) as f32;
            (colormap::inferno(v).0, (v * 256.0 + 0.5) as u16)
        })
        .collect();
    let blend = background.is_some();
    let values = &map.values[..n];
    let row_bytes = map.width * 3;
    let raw: &mut [u8] = &mut image;
    for_row_bands(raw, row_bytes, |first_row, band| {
        let start = first_row * map.width;
        for (px, &v) in band.chunks_exact_mut(3).zip(&values[start..]) {
            // NaN → level 0 (`as` saturates NaN to 0).
            let (colour, alpha) =
                levels[((v.clamp(0.0, 1.0) * (HEAT_LEVELS - 1) as f32 + 0.5) as usize).min(HEAT_LEVELS - 1)];
            if blend {
                for (p, c) in px.iter_mut().zip(colour) {
                    *p = ((u16::from(*p) * (256 - alpha) + u16::from(c) * alpha + 128) >> 8) as u8;
                }
            } else {
                px.copy_from_slice(&colour);
            }
        }
    });
    Ok(image)
}

/// [`heatmap_rgb8`] as PNG bytes, binned like [`annotated_jpeg`](super::annotated_jpeg) when the map's longest side exceeds `max_side` (0:
/// no limit). Fast deflate with the `Up` filter: on 4096 × 4096 frames it compresses as well as the adaptive filter
/// choice (the sky varies slowly from row to row) in a fraction of the time.
pub fn heatmap_png(map: &HeatMap, background: Option<&Frame>, max_side: usize) -> Result<Vec<u8>, AnnotateError> {
    let factor = preview_factor(map.width, map.height, max_side);
    let consistent = map.width.checked_mul(map.height) == Some(map.values.len())
        && background.is_none_or(|f| (f.width, f.height) == (map.width, map.height));
    // Inconsistent sizes go to heatmap_rgb8 unbinned, for its precise error; so does a background `binned` declines.
    let bin = factor > 1 && consistent;
    let small_background = if bin { background.map(|f| crate::ops::bin_frame(f, factor)) } else { None };
    let image = if bin && small_background.as_ref().is_none_or(Option::is_some) {
        let p = ops::bin_samples(&map.values, map.width, map.height, factor);
        heatmap_rgb8(
            &HeatMap { width: p.width, height: p.height, values: p.data },
            small_background.flatten().as_ref(),
        )?
    } else {
        heatmap_rgb8(map, background)?
    };
    let mut out = Cursor::new(Vec::new());
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Up)
        .write_image(image.as_raw(), image.width(), image.height(), ExtendedColorType::Rgb8)
        .map_err(|e| AnnotateError::Encode(e.to_string()))?;
    Ok(out.into_inner())
}
