//! What the user sees: the frame, stretched, with a box and a tag per detection (a JPEG, which KStars opens in its
//! image viewer), and a detector's heat map over the frame (a PNG).
//!
//! Everything scales with the frame so a 4096-pixel frame shrunk to a screen still shows readable boxes and tags:
//! line width and text size are about 1/400 of the frame's shorter side (2 px and 16 px text on a 640-px
//! smart-telescope frame, 10 px and 80 px text on 4096 px). Drawing is clipped: boxes partly or wholly outside the
//! frame, or with NaN, negative or huge coordinates, draw what is visible and never panic.
//!
//! - [`draw`]: clipped rectangles and bitmap text;
//! - [`colormap`]: the inferno heat-map colours.

pub mod colormap;
pub mod draw;

use std::fmt;
use std::io::Cursor;

use dso_plugin_api::{Detection, Encoding, Frame, HeatMap};
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder, Rgb, RgbImage};

use crate::ops;
use crate::stretch::{auto_params, mtf, StretchParams};

/// Why an annotation could not be made.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnnotateError {
    /// Sizes that do not fit together (a heat map for another frame, an empty map).
    Size(String),
    /// The JPEG or PNG encoder failed.
    Encode(String),
}

impl fmt::Display for AnnotateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Size(what) => write!(f, "size mismatch: {what}"),
            Self::Encode(what) => write!(f, "could not encode the image: {what}"),
        }
    }
}

impl std::error::Error for AnnotateError {}

/// The kinds of object that get their own box colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelKind {
    /// `galaxy`, `galaxies`, `spiral galaxy`…
    Galaxy,
    /// `nebula`, `planetary nebula`, `dark nebula`…
    Nebula,
    /// `cluster`, `open cluster`, `globular`…
    Cluster,
    /// Anything else (`dso` from class-less detectors).
    Other,
}

impl LabelKind {
    /// Classifies a detector's label by keyword, case-insensitively.
    ///
    /// ```
    /// use dso_models::annotate::LabelKind;
    /// assert_eq!(LabelKind::of("Spiral Galaxy"), LabelKind::Galaxy);
    /// assert_eq!(LabelKind::of("globular"), LabelKind::Cluster);
    /// assert_eq!(LabelKind::of("dso"), LabelKind::Other);
    /// ```
    pub fn of(label: &str) -> Self {
        let l = label.to_ascii_lowercase();
        if l.contains("galax") {
            Self::Galaxy
        } else if l.contains("nebul") {
            Self::Nebula
        } else if l.contains("cluster") || l.contains("globular") {
            Self::Cluster
        } else {
            Self::Other
        }
    }

    /// Box and text colour, from Okabe & Ito's colour-blind-safe palette ("Color Universal Design", 2008), picking
    /// its brightest hues so they stand out on a dark sky and avoiding red/pink on (usually red) nebulae.
    pub fn colour(self) -> Rgb<u8> {
        match self {
            Self::Galaxy => Rgb([240, 228, 66]), // yellow
            Self::Nebula => Rgb([86, 180, 233]), // sky blue
            Self::Cluster => Rgb([230, 159, 0]), // orange
            Self::Other => Rgb([204, 121, 167]), // reddish purple
        }
    }
}

/// Line width and text scale for an image of this size (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// Box line width in pixels.
    pub line: i64,
    /// Font scale: each 8×8 glyph pixel becomes `text × text` pixels.
    pub text: i64,
}

impl Style {
    /// The style for a `width × height` image.
    ///
    /// ```
    /// use dso_models::annotate::Style;
    /// assert_eq!(Style::for_size(640, 640), Style { line: 2, text: 2 });
    /// assert_eq!(Style::for_size(4096, 4096), Style { line: 10, text: 10 });
    /// ```
    pub fn for_size(width: u32, height: u32) -> Self {
        let unit = (f64::from(width.min(height)) / 400.0).round() as i64;
        Self { line: unit.max(2), text: unit.max(1) }
    }
}

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
fn for_row_bands(buf: &mut [u8], row_bytes: usize, f: impl Fn(usize, &mut [u8]) + Sync) {
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

/// Draws a box and a "label 0.91" tag per detection onto an image, in place (see the module docs for sizes and
/// clipping). Detections with a NaN coordinate, or wholly outside the image, are skipped.
pub fn draw_detections_mut(image: &mut RgbImage, detections: &[Detection]) {
    let style = Style::for_size(image.width(), image.height());
    let (iw, ih) = (i64::from(image.width()), i64::from(image.height()));
    for d in detections {
        let (Some((x0, x1)), Some((y0, y1))) = (draw::pixel_span(d.x, d.width), draw::pixel_span(d.y, d.height)) else {
            log::debug!("detection {d:?} has a NaN coordinate: not drawn");
            continue;
        };
        if x1 < 0 || y1 < 0 || x0 >= iw || y0 >= ih {
            continue;
        }
        let colour = LabelKind::of(&d.label).colour();
        draw::outline_rect(image, x0, y0, x1, y1, style.line, colour);

        let text = tag_text(d);
        let pad = style.text;
        let (tw, th) = draw::text_size(&text, style.text);
        let (tag_w, tag_h) = (tw + 2 * pad, th + 2 * pad);
        // Above the box; inside it, under its top line, when there is no room above; always within the image.
        let tag_y = if y0 - tag_h >= 0 { y0 - tag_h } else { (y0 + style.line).max(0) };
        let tag_y = tag_y.min(ih - tag_h).max(0);
        let tag_x = x0.min(iw - tag_w).max(0);
        draw::darken_rect(image, tag_x, tag_y, tag_x + tag_w - 1, tag_y + tag_h - 1, 0.25);
        draw::draw_text(image, tag_x + pad, tag_y + pad, &text, style.text, colour);
    }
}

/// Colour of satellite trails: magenta, unlike any object class.
pub const TRAIL_COLOUR: Rgb<u8> = Rgb([255, 64, 255]);

/// Draws each trail (ends in the image's pixels) as a line of the style's width, offset to both sides so the
/// trail itself stays visible between two lines, tagged "trail 0.97" at its first end. Lines with a non-finite end
/// are skipped; everything is clipped to the image.
pub fn draw_trails_mut(image: &mut RgbImage, trails: &[crate::quality::Trail]) {
    let style = Style::for_size(image.width(), image.height());
    let (iw, ih) = (i64::from(image.width()), i64::from(image.height()));
    for t in trails {
        if ![t.x0, t.y0, t.x1, t.y1].iter().all(|v| v.is_finite()) {
            continue;
        }
        let len = t.length().max(1e-3);
        let (nx, ny) = (-(t.y1 - t.y0) / len, (t.x1 - t.x0) / len);
        // Clamped far outside the image: imageproc walks every pixel of the segment it is given.
        let far = 4.0 * (iw + ih) as f32;
        let c = |v: f32| v.clamp(-far, far);
        for side in [-1.0f32, 1.0] {
            for k in 0..style.line.max(1) {
                let d = side * (3.0 * style.line as f32 + k as f32);
                imageproc::drawing::draw_line_segment_mut(
                    image,
                    (c(t.x0 + d * nx), c(t.y0 + d * ny)),
                    (c(t.x1 + d * nx), c(t.y1 + d * ny)),
                    TRAIL_COLOUR,
                );
            }
        }
        let text = format!("trail {:.2}", t.confidence);
        let pad = style.text;
        let (tw, th) = draw::text_size(&text, style.text);
        let (tag_w, tag_h) = (tw + 2 * pad, th + 2 * pad);
        let tag_x = (t.x0.clamp(0.0, iw as f32) as i64).min(iw - tag_w).max(0);
        let tag_y = (t.y0.clamp(0.0, ih as f32) as i64).min(ih - tag_h).max(0);
        draw::darken_rect(image, tag_x, tag_y, tag_x + tag_w - 1, tag_y + tag_h - 1, 0.25);
        draw::draw_text(image, tag_x + pad, tag_y + pad, &text, style.text, TRAIL_COLOUR);
    }
}

/// `"galaxy 0.91"`: the label (ASCII, at most 24 characters) and the confidence with two decimals.
fn tag_text(d: &Detection) -> String {
    let label: String =
        d.label.chars().take(24).map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect();
    if d.confidence.is_finite() {
        format!("{label} {:.2}", d.confidence)
    } else {
        label
    }
}

/// The pictures' default size limit: the longest side in pixels (see [`preview_factor`]).
///
/// A picture is for looking at, on a laptop screen or a phone: 2048 px keeps a 4096² frame's objects of a few
/// pixels visible at half scale, and makes its JPEG 4× faster to build and 4× lighter to send from a Raspberry Pi
/// over Wi-Fi. The detections themselves always use the frame's full resolution.
pub const DEFAULT_MAX_SIDE: usize = 2048;

/// The integer binning factor that brings a `width × height` image's longest side to at most `max_side` pixels;
/// `max_side` 0 means no limit (factor 1).
///
/// ```
/// use dso_models::annotate::preview_factor;
/// assert_eq!(preview_factor(4096, 4096, 2048), 2);
/// assert_eq!(preview_factor(6248, 4176, 2048), 4); // 1562 × 1044
/// assert_eq!(preview_factor(1920, 1080, 2048), 1);
/// assert_eq!(preview_factor(8000, 10, 0), 1);
/// ```
pub fn preview_factor(width: usize, height: usize, max_side: usize) -> usize {
    if max_side == 0 {
        1
    } else {
        width.max(height).div_ceil(max_side).max(1)
    }
}

/// The frame binned by `factor` (block means, [`ops::bin_samples`]), planes binned concurrently; `None` for factor
/// 1 or a frame whose planes are shorter than its size (shown as it is, i.e. black, by [`to_rgb8`]).
fn binned(frame: &Frame, factor: usize) -> Option<Frame> {
    let n = frame.width.checked_mul(frame.height)?;
    if factor <= 1 || frame.planes.iter().any(|p| p.len() < n) {
        return None;
    }
    let (width, height) = (frame.width.div_ceil(factor), frame.height.div_ceil(factor));
    let mut planes = vec![vec![0.0f32; width * height]; frame.planes.len()];
    // Bands of whole blocks binned concurrently, straight into the output: one band per plane for colour frames,
    // about one per core for mono ones.
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get().min(8));
    let bands = cores.div_ceil(frame.planes.len().max(1));
    let band_blocks = height.div_ceil(bands).max(1);
    std::thread::scope(|scope| {
        for (input, output) in frame.planes.iter().zip(planes.iter_mut()) {
            let inputs = input[..n].chunks(band_blocks * factor * frame.width);
            for (band, out) in inputs.zip(output.chunks_mut(band_blocks * width)) {
                let rows = band.len() / frame.width;
                scope.spawn(move || ops::bin_samples_into(band, frame.width, rows, factor, out));
            }
        }
    });
    Frame::new(width, height, planes, frame.encoding).ok()
}

/// Detections in frame pixels → the same boxes in a picture binned by `factor`.
fn scaled(detections: &[Detection], factor: usize) -> Vec<Detection> {
    let s = factor.max(1) as f32;
    detections
        .iter()
        .map(|d| Detection { x: d.x / s, y: d.y / s, width: d.width / s, height: d.height / s, ..d.clone() })
        .collect()
}

/// The frame, stretched, with the detections drawn, as JPEG bytes (`quality` 1–100; 85 is a good default).
///
/// Frames whose longest side exceeds `max_side` (0: no limit) are binned first by [`preview_factor`], stretched
/// after binning, and the boxes scaled to match.
pub fn annotated_jpeg(
    frame: &Frame,
    detections: &[Detection],
    quality: u8,
    max_side: usize,
) -> Result<Vec<u8>, AnnotateError> {
    annotated_jpeg_with_trails(frame, detections, &[], quality, max_side)
}

/// [`annotated_jpeg`] with satellite trails (in frame pixels) drawn too ([`draw_trails_mut`]).
pub fn annotated_jpeg_with_trails(
    frame: &Frame,
    detections: &[Detection],
    trails: &[crate::quality::Trail],
    quality: u8,
    max_side: usize,
) -> Result<Vec<u8>, AnnotateError> {
    Preview::of(frame, max_side)?.into_jpeg(detections, trails, quality)
}

/// The stretched picture of a frame, binned to the preview size, before anything is drawn on it: what does not
/// depend on the detections, so that the driver makes it while the detector runs.
#[derive(Clone, Debug)]
pub struct Preview {
    image: RgbImage,
    /// Binning factor from the frame to the picture.
    factor: usize,
}

impl Preview {
    /// The picture of `frame`, binned first when its longest side exceeds `max_side` (0: no limit) by
    /// [`preview_factor`] and stretched after binning.
    pub fn of(frame: &Frame, max_side: usize) -> Result<Self, AnnotateError> {
        let factor = preview_factor(frame.width, frame.height, max_side);
        let preview = binned(frame, factor);
        let (small, factor) = match &preview {
            Some(small) => (small, factor),
            None => (frame, 1),
        };
        let image = to_rgb8(small);
        if image.width() == 0 || image.height() == 0 {
            return Err(AnnotateError::Size(format!("frame {}×{} has nothing to show", small.width, small.height)));
        }
        if u16::try_from(image.width()).is_err() || u16::try_from(image.height()).is_err() {
            return Err(AnnotateError::Size(format!(
                "JPEG is limited to 65535 pixels a side, not {}×{}",
                small.width, small.height
            )));
        }
        Ok(Self { image, factor })
    }

    /// The detections and trails (in frame pixels) drawn, as JPEG bytes (`quality` 1–100).
    pub fn into_jpeg(
        mut self,
        detections: &[Detection],
        trails: &[crate::quality::Trail],
        quality: u8,
    ) -> Result<Vec<u8>, AnnotateError> {
        let factor = self.factor;
        let image = &mut self.image;
        draw_detections_mut(image, &scaled(detections, factor));
        let s = factor.max(1) as f32;
        let trails: Vec<crate::quality::Trail> = trails
            .iter()
            .map(|t| crate::quality::Trail { x0: t.x0 / s, y0: t.y0 / s, x1: t.x1 / s, y1: t.y1 / s, ..t.clone() })
            .collect();
        draw_trails_mut(image, &trails);
        // Checked by `of`.
        let (w, h) = (image.width() as u16, image.height() as u16);
        let mut out = Vec::with_capacity(image.as_raw().len() / 8);
        // jpeg-encoder (AVX2 when the CPU has it) encodes ~4× faster than the `image` crate's baseline encoder.
        jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100))
            .encode(image.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
            .map_err(|e| AnnotateError::Encode(e.to_string()))?;
        Ok(out)
    }
}

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

/// [`heatmap_rgb8`] as PNG bytes, binned like [`annotated_jpeg`] when the map's longest side exceeds `max_side` (0:
/// no limit). Fast deflate with the `Up` filter: on 4096 × 4096 frames it compresses as well as the adaptive filter
/// choice (the sky varies slowly from row to row) in a fraction of the time.
pub fn heatmap_png(map: &HeatMap, background: Option<&Frame>, max_side: usize) -> Result<Vec<u8>, AnnotateError> {
    let factor = preview_factor(map.width, map.height, max_side);
    let consistent = map.width.checked_mul(map.height) == Some(map.values.len())
        && background.is_none_or(|f| (f.width, f.height) == (map.width, map.height));
    // Inconsistent sizes go to heatmap_rgb8 unbinned, for its precise error; so does a background `binned` declines.
    let bin = factor > 1 && consistent;
    let small_background = if bin { background.map(|f| binned(f, factor)) } else { None };
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

#[cfg(test)]
mod tests;
