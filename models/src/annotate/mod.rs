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
mod display;
pub mod draw;
mod heat;
pub mod jpeg;

use display::for_row_bands;
pub use display::to_rgb8;
pub use heat::{heatmap_png, heatmap_rgb8};

use std::fmt;

use dso_plugin_api::{Detection, Frame};
use image::{Rgb, RgbImage};

use crate::ops;

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
        Self::of_with_half(frame, max_side, None)
    }

    /// [`Preview::of`] starting from `half`, the frame already binned 2×2 by [`ops::bin_frame`] (the pipeline makes
    /// it once for the picture and the detector), when the binning factor is even: the frame is then not read again.
    /// The block means of block means are the frame's block means up to rounding (and up to the weights of partial
    /// blocks at the right and bottom edges of frames whose size the factor does not divide).
    pub fn of_with_half(frame: &Frame, max_side: usize, half: Option<&Frame>) -> Result<Self, AnnotateError> {
        let factor = preview_factor(frame.width, frame.height, max_side);
        let half = half.filter(|h| factor % 2 == 0 && ops::is_half_of(h, frame));
        let binned = match half {
            Some(_) if factor == 2 => None,
            Some(h) => ops::bin_frame(h, factor / 2),
            None => ops::bin_frame(frame, factor),
        };
        let (small, factor) = match (&binned, half) {
            (Some(small), _) => (small, factor),
            (None, Some(h)) => (h, 2),
            (None, None) => (frame, 1),
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
        // libjpeg-turbo, in strips on every core (`jpeg`).
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        jpeg::encode_rgb(image.as_raw(), w, h, quality, threads).map_err(|e| AnnotateError::Encode(e.to_string()))
    }
}

#[cfg(test)]
mod tests;
