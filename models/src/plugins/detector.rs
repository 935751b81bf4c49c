//! A plugin's detector seen as an ordinary [`Detector`]: frames go out as `#[repr(C)]` data, results come back
//! copied and checked, and a plugin that misbehaves is disabled rather than trusted.
//!
//! What is checked, and what follows:
//! - a panic reported by the plugin (`DSO_STATUS_PANIC`), an unknown status code, or a result that cannot be read
//!   (null pointer with a count, absurd counts) disables the detector: the host cannot know what state it is in;
//! - an ordinary error (`DSO_STATUS_ERROR`) fails that frame only, as for built-in detectors;
//! - detections with NaN or infinite values are dropped, boxes are clipped to the frame (dropped when nothing is
//!   left), confidences clamped to 0–1, a heat map of the wrong size dropped — each reported in the log, because a
//!   sloppy plugin should still be usable while its author sees what to fix.

use std::ffi::{c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock};

use dso_plugin_api::abi::{
    label_from_c, DsoFrame, DsoHeaderCard, DsoResult, DSO_ENCODING_LINEAR, DSO_ENCODING_STRETCHED, DSO_STATUS_ERROR,
    DSO_STATUS_INVALID_ARGUMENT, DSO_STATUS_OK, DSO_STATUS_PANIC,
};
use dso_plugin_api::{Detection, Detections, Detector, Encoding, Error, Frame, HeatMap};

use super::error::{BadResult, PluginError};
use super::library::Plugin;

/// More detections than this in one frame is not a result but a bug.
pub const MAX_DETECTIONS: usize = 100_000;

/// One instance of a plugin's detector.
pub struct PluginDetector {
    handle: *mut c_void,
    /// Set (once) when the plugin misbehaved; shared with the registry entry so listings show it too.
    disabled: Arc<OnceLock<String>>,
    /// Keeps the library loaded while the handle lives; dropped after `destroy` (see `Drop`).
    plugin: Arc<Plugin>,
}

// SAFETY: the ABI allows a handle to be used from any thread, one at a time; `&mut self` on every call that uses
// it guarantees the "one at a time".
unsafe impl Send for PluginDetector {}

/// The plugin's `last_error` for a handle (null handle: the latest failed `create`), as text.
fn last_error(plugin: &Plugin, handle: *mut c_void) -> String {
    let f = plugin.functions.last_error;
    // SAFETY: `last_error` accepts a handle from `create` or null, and returns null or a NUL-terminated string.
    let text = catch_unwind(|| unsafe {
        let p = f(handle);
        (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
    });
    match text {
        Ok(Some(t)) if !t.trim().is_empty() => t,
        Ok(_) => "no error message".into(),
        Err(_) => "last_error() panicked".into(),
    }
}

impl PluginDetector {
    /// Calls the plugin's `create` with a configuration string.
    pub fn create(plugin: Arc<Plugin>, config: &str, disabled: Arc<OnceLock<String>>) -> Result<Self, PluginError> {
        if let Some(why) = disabled.get() {
            return Err(PluginError::Disabled { name: plugin.name.clone(), why: why.clone() });
        }
        let config = CString::new(config).map_err(|_| PluginError::ConfigNul)?;
        let create = plugin.functions.create;
        // SAFETY: `create` takes a NUL-terminated string valid for the call.
        let handle = catch_unwind(AssertUnwindSafe(|| unsafe { create(config.as_ptr()) }))
            .map_err(|_| PluginError::CreatePanicked(plugin.name.clone()))?;
        if handle.is_null() {
            let why = last_error(&plugin, std::ptr::null_mut());
            return Err(PluginError::CannotStart { name: plugin.name.clone(), why });
        }
        Ok(Self { handle, disabled, plugin })
    }

    fn disable(&self, why: String) -> Error {
        let message = format!("plugin {} misbehaved and is disabled: {why}", self.plugin.name);
        log::error!("{message} ({})", self.plugin.path.display());
        let _ = self.disabled.set(why);
        Error::new(message)
    }
}

/// Owns what a [`DsoFrame`] points to while the plugin reads it.
struct CFrame {
    planes: Vec<*const f32>,
    cards: Vec<(CString, CString)>,
    c_cards: Vec<DsoHeaderCard>,
}

impl CFrame {
    fn new(frame: &Frame) -> Self {
        let planes = frame.planes.iter().map(|p| p.as_ptr()).collect();
        let cards: Vec<(CString, CString)> = frame
            .header
            .iter()
            .filter_map(|c| Some((CString::new(c.keyword.as_str()).ok()?, CString::new(c.value.as_str()).ok()?)))
            .collect();
        let c_cards = cards.iter().map(|(k, v)| DsoHeaderCard { keyword: k.as_ptr(), value: v.as_ptr() }).collect();
        Self { planes, cards, c_cards }
    }

    fn as_c(&self, frame: &Frame) -> Result<DsoFrame, Error> {
        let dim = |v: usize| u32::try_from(v).map_err(|_| Error::new("frame too large for the plugin ABI"));
        Ok(DsoFrame {
            width: dim(frame.width)?,
            height: dim(frame.height)?,
            n_planes: self.planes.len() as u32,
            encoding: match frame.encoding {
                Encoding::Linear => DSO_ENCODING_LINEAR,
                Encoding::Stretched => DSO_ENCODING_STRETCHED,
            },
            planes: self.planes.as_ptr(),
            header: if self.cards.is_empty() { std::ptr::null() } else { self.c_cards.as_ptr() },
            n_header: self.c_cards.len(),
        })
    }
}

/// Checks and copies one detection; `None` when it cannot be repaired. `notes` collects what was repaired.
pub fn sanitize(d: Detection, width: f32, height: f32, notes: &mut Vec<String>) -> Option<Detection> {
    if ![d.x, d.y, d.width, d.height, d.confidence].iter().all(|v| v.is_finite()) {
        notes.push(format!("dropped a detection with a non-finite value ({d:?})"));
        return None;
    }
    let Some(c) = d.clipped(width, height) else {
        notes.push(format!("dropped a box outside the {width}×{height} frame ({d:?})"));
        return None;
    };
    if (c.x, c.y, c.width, c.height) != (d.x, d.y, d.width, d.height) {
        notes.push(format!("clipped a box to the frame ({d:?})"));
    }
    if !(0.0..=1.0).contains(&d.confidence) {
        notes.push(format!("clamped confidence {} to 0–1", d.confidence));
    }
    let label = if d.label.trim().is_empty() { "dso".to_owned() } else { d.label };
    Some(Detection { label, confidence: d.confidence.clamp(0.0, 1.0), ..c })
}

/// Copies a plugin's result into owned, checked [`Detections`]. `Err` is a misbehaviour that disables the plugin.
///
/// What passes: at most [`MAX_DETECTIONS`] detections, each finite, clipped to the frame with a positive size,
/// its confidence in `0..=1` and a non-blank label ([`sanitize`]); a heat map only of the frame's size, its values
/// in `0..=1`. Public so that the `plugin_results` fuzz target checks exactly this; hosts go through
/// [`PluginDetector`]'s `detect`.
///
/// # Safety
/// As the ABI promises for a result of `detect`: when `r.detections` is not null and `r.n_detections` is at most
/// [`MAX_DETECTIONS`], it points to `r.n_detections` readable detections; when `r.heatmap.values` is not null and
/// the heat map's declared size is the frame's, it points to `width * height` readable values.
pub unsafe fn read_result(r: &DsoResult, frame: &Frame, notes: &mut Vec<String>) -> Result<Detections, BadResult> {
    if r.n_detections > MAX_DETECTIONS {
        return Err(BadResult::TooMany(r.n_detections));
    }
    if r.n_detections > 0 && r.detections.is_null() {
        return Err(BadResult::NullDetections(r.n_detections));
    }
    let raw = if r.n_detections == 0 {
        &[][..]
    } else {
        // SAFETY: non-null, and the plugin owns `n_detections` detections there until `free_result`.
        unsafe { std::slice::from_raw_parts(r.detections, r.n_detections) }
    };
    let (w, h) = (frame.width as f32, frame.height as f32);
    let objects = raw
        .iter()
        .filter_map(|d| {
            let det = Detection {
                x: d.x,
                y: d.y,
                width: d.width,
                height: d.height,
                label: label_from_c(&d.label),
                confidence: d.confidence,
            };
            sanitize(det, w, h, notes)
        })
        .collect();
    let map = &r.heatmap;
    let heatmap = if map.values.is_null() {
        None
    } else if (map.width as usize, map.height as usize) != (frame.width, frame.height) {
        notes.push(format!("dropped a {}×{} heat map of a {}×{} frame", map.width, map.height, w, h));
        None
    } else {
        // SAFETY: non-null, and the plugin declared `width * height` values, which equal the frame's.
        let values = unsafe { std::slice::from_raw_parts(map.values, frame.width * frame.height) };
        let bad = values.iter().filter(|v| !v.is_finite()).count();
        if bad > 0 {
            notes.push(format!("replaced {bad} non-finite heat-map values by 0"));
        }
        let values = values.iter().map(|v| if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 }).collect();
        Some(HeatMap { width: frame.width, height: frame.height, values })
    };
    Ok(Detections { objects, heatmap })
}

impl Detector for PluginDetector {
    fn name(&self) -> &str {
        &self.plugin.name
    }

    fn detect(&mut self, frame: &Frame) -> Result<Detections, Error> {
        if let Some(why) = self.disabled.get() {
            let disabled = PluginError::Disabled { name: self.plugin.name.clone(), why: why.clone() };
            return Err(Error::new(disabled.to_string()));
        }
        let owner = CFrame::new(frame);
        let c_frame = owner.as_c(frame)?;
        let f = self.plugin.functions;
        let mut result = DsoResult::empty();
        let handle = self.handle;
        // SAFETY: `detect` gets our handle, a frame whose pointers stay valid (owned by `owner` and `frame`) for
        // the call, and a zeroed result to fill.
        let status = catch_unwind(AssertUnwindSafe(|| unsafe { (f.detect)(handle, &c_frame, &mut result) }));
        let status = match status {
            Ok(s) => s,
            Err(_) => return Err(self.disable("detect() panicked".into())),
        };
        let mut notes = Vec::new();
        let outcome = match status {
            // SAFETY: the plugin filled `result` in `detect` and owns what it points to until `free_result`.
            DSO_STATUS_OK => {
                unsafe { read_result(&result, frame, &mut notes) }.map_err(|why| self.disable(why.to_string()))
            }
            DSO_STATUS_ERROR | DSO_STATUS_INVALID_ARGUMENT => {
                Err(Error::new(format!("{}: {}", self.plugin.name, last_error(&self.plugin, handle))))
            }
            DSO_STATUS_PANIC => Err(self.disable(format!("it panicked: {}", last_error(&self.plugin, handle)))),
            other => Err(self.disable(format!("detect() returned unknown status {other}"))),
        };
        // SAFETY: the result of the `detect` call above, released once as the ABI requires (whatever the status).
        if catch_unwind(AssertUnwindSafe(|| unsafe { (f.free_result)(handle, &mut result) })).is_err() {
            return Err(self.disable("free_result() panicked".into()));
        }
        if !notes.is_empty() {
            log::warn!("plugin {}: {}", self.plugin.name, notes.join("; "));
        }
        drop(owner);
        outcome
    }
}

impl Drop for PluginDetector {
    fn drop(&mut self) {
        let destroy = self.plugin.functions.destroy;
        let handle = self.handle;
        // SAFETY: the handle came from `create` and is destroyed once; the library is still loaded (`self.plugin`
        // is dropped after this).
        if catch_unwind(|| unsafe { destroy(handle) }).is_err() {
            log::error!("plugin {}: destroy() panicked", self.plugin.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, y: f32, w: f32, h: f32, c: f32) -> Detection {
        Detection { x, y, width: w, height: h, label: String::new(), confidence: c }
    }

    #[test]
    fn sanitize_drops_clips_and_clamps() {
        let mut notes = Vec::new();
        assert!(sanitize(det(1.0, 1.0, 5.0, 5.0, f32::NAN), 100.0, 50.0, &mut notes).is_none());
        assert!(sanitize(det(200.0, -50.0, 20.0, 20.0, 0.9), 100.0, 50.0, &mut notes).is_none());
        let clipped = sanitize(det(-5.0, 40.0, 20.0, 20.0, 1.5), 100.0, 50.0, &mut notes).unwrap();
        assert_eq!((clipped.x, clipped.y, clipped.width, clipped.height), (0.0, 40.0, 15.0, 10.0));
        assert_eq!((clipped.confidence, clipped.label.as_str()), (1.0, "dso"));
        assert_eq!(notes.len(), 4, "{notes:?}");
        let fine = sanitize(det(1.0, 1.0, 5.0, 5.0, 0.5), 100.0, 50.0, &mut notes).unwrap();
        assert_eq!(fine.width, 5.0);
        assert_eq!(notes.len(), 4);
    }
}
