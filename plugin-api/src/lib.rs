//! The one interface every DSO Detector detector implements.
//!
//! The INDI driver and the `dso-detect` command line only ever talk to detectors through this crate: they decode an
//! image into a [`Frame`], hand it to a [`Detector`], and publish the [`Detections`] it returns. Built-in detectors
//! (naive, YOLO, XRAI, Pix2Pix) implement the trait directly; third-party detectors reach it through the C ABI of
//! [`abi`], built on these same types, which is why the crate is small, has no dependencies and keeps its types
//! plain data.
//!
//! Conventions shared by every type here:
//! - pixel coordinates have their origin at the top-left corner of the frame *as received* (FITS `ROWORDER` and
//!   Bayer offsets already applied by the decoder), x to the right, y down;
//! - sample values are `f32` in `0.0..=1.0`, where `1.0` is the full scale of the source format (65535 for 16-bit
//!   FITS, 255 for JPEG); whether they are still linear (raw sensor counts) or already stretched for display is
//!   recorded in [`Frame::encoding`], because detectors trained on stretched images must stretch linear data first.
//!
//! Detectors built outside this workspace reach the host through [`abi`], a versioned C ABI; Rust authors expose a
//! [`Detector`] with [`export_detector!`]. Unsafe code is confined to that module.
#![deny(unsafe_code)]

use std::fmt;

pub mod abi;

/// Whether sample values are proportional to the light received or already mapped for display.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Raw sensor data (FITS from a camera): faint objects sit a few counts above the background.
    Linear,
    /// Already stretched for viewing (JPEG/PNG from a smart telescope or a stacking program).
    Stretched,
}

/// One FITS header card, kept as text so detectors can read what they need (`FOCALLEN`, `BAYERPAT`, WCS…).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderCard {
    /// The keyword, upper case, without padding (`"EXPTIME"`).
    pub keyword: String,
    /// The value as written, string quotes removed and trimmed (`"10.0"`, `"GRBG"`).
    pub value: String,
}

/// A decoded image: one plane (mono) or three (red, green, blue), row-major, `width × height` samples each.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// One plane for mono data, three (R, G, B) for colour; each holds `width * height` values in `0.0..=1.0`.
    pub planes: Vec<Vec<f32>>,
    /// Linear or stretched; see [`Encoding`].
    pub encoding: Encoding,
    /// FITS header keywords, empty for JPEG and PNG.
    pub header: Vec<HeaderCard>,
}

impl Frame {
    /// Builds a frame, checking that every plane has `width * height` samples and that there are 1 or 3 planes.
    pub fn new(width: usize, height: usize, planes: Vec<Vec<f32>>, encoding: Encoding) -> Result<Self, Error> {
        if width == 0 || height == 0 {
            return Err(Error::new(format!("empty frame ({width}×{height})")));
        }
        if planes.len() != 1 && planes.len() != 3 {
            return Err(Error::new(format!("a frame has 1 or 3 planes, not {}", planes.len())));
        }
        let n =
            width.checked_mul(height).ok_or_else(|| Error::new(format!("frame size {width}×{height} overflows")))?;
        if let Some(bad) = planes.iter().find(|p| p.len() != n) {
            return Err(Error::new(format!("a plane has {} samples, expected {width}×{height} = {n}", bad.len())));
        }
        Ok(Self { width, height, planes, encoding, header: Vec::new() })
    }

    /// True for a three-plane colour frame.
    pub fn is_color(&self) -> bool {
        self.planes.len() == 3
    }

    /// The value of a header keyword, if present (keywords compare case-insensitively).
    pub fn header_value(&self, keyword: &str) -> Option<&str> {
        self.header.iter().find(|c| c.keyword.eq_ignore_ascii_case(keyword)).map(|c| c.value.as_str())
    }

    /// Luminance as one plane: the plane itself for mono, Rec. 709 weights for colour.
    pub fn luminance(&self) -> Vec<f32> {
        match self.planes.as_slice() {
            [r, g, b] => r.iter().zip(g).zip(b).map(|((r, g), b)| 0.2126 * r + 0.7152 * g + 0.0722 * b).collect(),
            [mono, ..] => mono.clone(),
            [] => Vec::new(),
        }
    }
}

/// One object found in a frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// Left edge in pixels.
    pub x: f32,
    /// Top edge in pixels.
    pub y: f32,
    /// Width in pixels.
    pub width: f32,
    /// Height in pixels.
    pub height: f32,
    /// What it is (`"galaxy"`, `"nebula"`, `"cluster"`, or `"dso"` when the detector has no classes).
    pub label: String,
    /// How sure the detector is, `0.0..=1.0`.
    pub confidence: f32,
}

impl Detection {
    /// This box clipped to a `width × height` frame; `None` when a value is not finite or nothing is left inside.
    /// Hosts apply it to every detector's output, so a detector that strays outside the frame cannot publish it.
    /// A box already inside the frame comes back unchanged: its size is not recomputed as `(x + w) - x`, which
    /// in floating point can differ from `w` (the `plugin_results` fuzz target found plugins' boxes reported as
    /// clipped for that alone).
    pub fn clipped(&self, width: f32, height: f32) -> Option<Detection> {
        if ![self.x, self.y, self.width, self.height, self.confidence].iter().all(|v| v.is_finite()) {
            return None;
        }
        // One axis: the start and the size left inside `0..limit`, or `None` when nothing is.
        let axis = |start: f32, size: f32, limit: f32| {
            let (lo, hi) = (start.max(0.0), (start + size).min(limit));
            if hi <= lo {
                None
            } else if start >= 0.0 && start + size <= limit {
                Some((start, size))
            } else {
                Some((lo, hi - lo))
            }
        };
        let (x, w) = axis(self.x, self.width, width)?;
        let (y, h) = axis(self.y, self.height, height)?;
        Some(Detection { x, y, width: w, height: h, ..self.clone() })
    }

    /// Intersection over union with another box (0 when either is empty).
    pub fn iou(&self, other: &Detection) -> f32 {
        let ix = (self.x + self.width).min(other.x + other.width) - self.x.max(other.x);
        let iy = (self.y + self.height).min(other.y + other.height) - self.y.max(other.y);
        if ix <= 0.0 || iy <= 0.0 {
            return 0.0;
        }
        let inter = ix * iy;
        let union = self.width * self.height + other.width * other.height - inter;
        if union > 0.0 {
            inter / union
        } else {
            0.0
        }
    }
}

/// Where a detector looked: one value per pixel of the frame, `0.0..=1.0`, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatMap {
    /// Width in pixels (the frame's).
    pub width: usize,
    /// Height in pixels (the frame's).
    pub height: usize,
    /// `width * height` values, higher where the detector's decision depends more on the pixel.
    pub values: Vec<f32>,
}

/// What a detector returns for one frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Detections {
    /// Every candidate the detector keeps, in any order; the host sorts, applies the user's confidence threshold
    /// and the maximum count.
    pub objects: Vec<Detection>,
    /// A saliency map, for detectors that make one.
    pub heatmap: Option<HeatMap>,
}

/// A detector: something that looks at a frame and says where the deep-sky objects are.
///
/// Implementations keep their models loaded between calls (hence `&mut self`) and must not panic on odd input:
/// return an [`Error`] instead, so the host can report it and go on with the next frame.
pub trait Detector: Send {
    /// Short lowercase name, as used on the command line (`"naive"`); the INDI element is its upper case.
    fn name(&self) -> &str;
    /// Finds the objects in one frame.
    fn detect(&mut self, frame: &Frame) -> Result<Detections, Error>;

    /// Gives the detector a way to say how far a long [`Detector::detect`] has got. Hosts call it before `detect`
    /// (the driver to publish a progress number, the CLI to print one); a detector that takes long calls `report`
    /// during `detect` with the fraction done, `0.0..=1.0`, increasing, ending at `1.0`. The default ignores it: a
    /// quick detector need not report. Not part of the C ABI (plugins run without progress).
    fn set_progress(&mut self, _report: Box<dyn FnMut(f32) + Send>) {}

    /// [`Detector::detect`] from a host that also needs the frame binned 2×2 (block means of the finite samples,
    /// the first step of its picture of a large frame): `half()` gives it, made on the first call from either side
    /// and then shared, or `None`. A detector that reads a large frame only at a reduced scale reads `half` instead
    /// of the frame, and must find the same objects as its `detect` (which then bins for itself). The default
    /// ignores `half`. Not part of the C ABI.
    fn detect_with_half<'h>(
        &mut self,
        frame: &Frame,
        half: &'h (dyn Fn() -> Option<&'h Frame> + Sync),
    ) -> Result<Detections, Error> {
        let _ = half;
        self.detect(frame)
    }
}

/// A detector's error: a message meant for the astronomer (it ends up in an INDI message and in the CLI's report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, y: f32, w: f32, h: f32) -> Detection {
        Detection { x, y, width: w, height: h, label: "dso".into(), confidence: 1.0 }
    }

    #[test]
    fn frame_checks_plane_sizes() {
        assert!(Frame::new(2, 2, vec![vec![0.0; 4]], Encoding::Linear).is_ok());
        assert!(Frame::new(2, 2, vec![vec![0.0; 3]], Encoding::Linear).is_err());
        assert!(Frame::new(2, 2, vec![vec![0.0; 4]; 2], Encoding::Linear).is_err());
        assert!(Frame::new(0, 2, vec![vec![]], Encoding::Linear).is_err());
        assert!(Frame::new(usize::MAX, 2, vec![vec![]], Encoding::Linear).is_err());
    }

    #[test]
    fn luminance_weights_colour() {
        let f = Frame::new(1, 1, vec![vec![1.0], vec![0.0], vec![0.0]], Encoding::Stretched).unwrap();
        assert!((f.luminance()[0] - 0.2126).abs() < 1e-6);
    }

    #[test]
    fn clipping_keeps_the_inside_and_drops_the_rest() {
        let c = det(-5.0, 40.0, 20.0, 20.0).clipped(100.0, 50.0).unwrap();
        assert_eq!((c.x, c.y, c.width, c.height), (0.0, 40.0, 15.0, 10.0));
        assert!(det(200.0, 0.0, 10.0, 10.0).clipped(100.0, 50.0).is_none());
        assert!(Detection { confidence: f32::NAN, ..det(0.0, 0.0, 1.0, 1.0) }.clipped(10.0, 10.0).is_none());
    }

    /// Found by the `plugin_results` fuzz target (`fuzz/seeds/plugin_results/crash-inside-box-clipped.bin`): in
    /// f32, (14.8 + 11.1) - 14.8 is not 11.1, so a box inside the frame came back a little narrower and the host
    /// logged "clipped a box" for it.
    #[test]
    fn boxes_inside_the_frame_come_back_unchanged() {
        let inside = det(14.8, 7.4, 11.1, 7.4);
        assert_ne!((inside.x + inside.width) - inside.x, inside.width, "the rounding this guards against");
        assert_eq!(inside.clipped(32.0, 24.0), Some(inside.clone()));
        let edge = det(0.0, 0.0, 32.0, 24.0);
        assert_eq!(edge.clipped(32.0, 24.0), Some(edge.clone()));
    }

    #[test]
    fn iou_of_boxes() {
        assert_eq!(det(0.0, 0.0, 10.0, 10.0).iou(&det(20.0, 0.0, 10.0, 10.0)), 0.0);
        assert!((det(0.0, 0.0, 10.0, 10.0).iou(&det(0.0, 0.0, 10.0, 10.0)) - 1.0).abs() < 1e-6);
        let half = det(0.0, 0.0, 10.0, 10.0).iou(&det(5.0, 0.0, 10.0, 10.0));
        assert!((half - 50.0 / 150.0).abs() < 1e-6);
    }
}
