//! The stable C ABI through which third-party detectors, in shared libraries, reach the driver and `dso-detect`.
//!
//! Why a C ABI and not Rust traits: Rust has no stable ABI, so a plugin built with another compiler version (or in
//! C, C++, Zig…) could not be loaded safely otherwise. Everything that crosses the boundary is `#[repr(C)]` plain
//! data with explicit lengths, or a function pointer of the one table a plugin exports. The C header
//! `include/dso_detector_plugin.h` declares the same items; a test compiles it and compares every size and offset.
//!
//! The contract, in short (the crate's README has the long form):
//! - A plugin exports one symbol, [`DSO_PLUGIN_ENTRY`] (`dso_detector_plugin`), a function returning a pointer to a
//!   [`DsoDetectorVTable`] that lives as long as the library. Its first two fields, `abi_version` and
//!   `struct_size`, are fixed forever: the host reads them before anything else and refuses any other version.
//! - Ownership: the host owns the [`DsoFrame`] and everything it points to, only during the `detect` call. The
//!   plugin owns what it writes into a [`DsoResult`] until the host calls `free_result` for that result, which it
//!   does once after every `detect` call, whatever its status. Strings returned by `name`, `version` and
//!   `description` are static; the one returned by `last_error` stays valid until the next call on that handle.
//! - A handle is used by one thread at a time (not always the same thread); different handles may run at once.
//! - Nothing may unwind across the boundary: [`export_detector!`](crate::export_detector) catches Rust panics and
//!   turns them into [`DSO_STATUS_PANIC`].
#![allow(unsafe_code)]

use std::ffi::{c_char, c_void};

pub mod export;

/// The version of this ABI. A plugin built for another version is refused before any of its functions is called.
pub const DSO_PLUGIN_ABI_VERSION: u32 = 1;
/// The name of the one symbol a plugin exports, NUL-terminated for `dlsym`.
pub const DSO_PLUGIN_ENTRY: &[u8] = b"dso_detector_plugin\0";
/// Bytes of [`DsoDetection::label`], the terminating NUL included.
pub const DSO_LABEL_LEN: usize = 32;

/// `detect` succeeded and the result is filled.
pub const DSO_STATUS_OK: i32 = 0;
/// `detect` failed on this frame (bad input, model error); `last_error` says why. The next frame may work.
pub const DSO_STATUS_ERROR: i32 = 1;
/// The host passed something the plugin does not accept (null pointer, unsupported frame); `last_error` says why.
pub const DSO_STATUS_INVALID_ARGUMENT: i32 = 2;
/// The plugin caught an internal failure (a Rust panic, a C++ exception): the host disables the detector.
pub const DSO_STATUS_PANIC: i32 = 3;

/// [`DsoFrame::encoding`] of raw sensor data (see [`Encoding::Linear`](crate::Encoding::Linear)).
pub const DSO_ENCODING_LINEAR: u32 = 0;
/// [`DsoFrame::encoding`] of data already stretched for display (see [`Encoding::Stretched`](crate::Encoding)).
pub const DSO_ENCODING_STRETCHED: u32 = 1;

/// One FITS header card: two NUL-terminated UTF-8 strings owned by the host.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DsoHeaderCard {
    /// The keyword, upper case (`"EXPTIME"`).
    pub keyword: *const c_char,
    /// The value, quotes removed (`"10.0"`).
    pub value: *const c_char,
}

/// A frame as the host lends it to `detect`: the same meaning as [`Frame`](crate::Frame).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DsoFrame {
    /// Width in pixels (> 0).
    pub width: u32,
    /// Height in pixels (> 0).
    pub height: u32,
    /// 1 (mono) or 3 (red, green, blue).
    pub n_planes: u32,
    /// [`DSO_ENCODING_LINEAR`] or [`DSO_ENCODING_STRETCHED`].
    pub encoding: u32,
    /// `n_planes` pointers, each to `width * height` row-major samples in `0.0..=1.0`.
    pub planes: *const *const f32,
    /// `n_header` FITS cards (may be null when `n_header` is 0).
    pub header: *const DsoHeaderCard,
    /// Number of cards in `header`.
    pub n_header: usize,
}

/// One detection as a plugin reports it: the same meaning as [`Detection`](crate::Detection).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DsoDetection {
    /// Left edge in pixels.
    pub x: f32,
    /// Top edge in pixels.
    pub y: f32,
    /// Width in pixels.
    pub width: f32,
    /// Height in pixels.
    pub height: f32,
    /// `0.0..=1.0`.
    pub confidence: f32,
    /// NUL-terminated UTF-8 label (`"galaxy"`); an empty label becomes `"dso"`.
    pub label: [c_char; DSO_LABEL_LEN],
}

/// A saliency map, or none when `values` is null.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DsoHeatMap {
    /// Width in pixels: the frame's.
    pub width: u32,
    /// Height in pixels: the frame's.
    pub height: u32,
    /// `width * height` row-major values in `0.0..=1.0`, or null for no heat map.
    pub values: *const f32,
}

/// What `detect` writes; the host zeroes it before the call. Owned by the plugin until `free_result`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DsoResult {
    /// `n_detections` detections (may be null when `n_detections` is 0).
    pub detections: *const DsoDetection,
    /// Number of detections.
    pub n_detections: usize,
    /// The heat map, if any.
    pub heatmap: DsoHeatMap,
}

impl DsoResult {
    /// An empty result: no detections, no heat map.
    pub const fn empty() -> Self {
        Self {
            detections: std::ptr::null(),
            n_detections: 0,
            heatmap: DsoHeatMap { width: 0, height: 0, values: std::ptr::null() },
        }
    }
}

/// A function returning a static NUL-terminated string.
pub type DsoStaticStringFn = unsafe extern "C" fn() -> *const c_char;
/// Creates a detector from a NUL-terminated UTF-8 configuration (may be empty); null on failure.
pub type DsoCreateFn = unsafe extern "C" fn(config: *const c_char) -> *mut c_void;
/// Analyses one frame; returns a `DSO_STATUS_*` code.
pub type DsoDetectFn = unsafe extern "C" fn(handle: *mut c_void, frame: *const DsoFrame, out: *mut DsoResult) -> i32;
/// Releases what a `detect` call wrote into `result`; must accept an empty result.
pub type DsoFreeResultFn = unsafe extern "C" fn(handle: *mut c_void, result: *mut DsoResult);
/// Destroys a detector; the handle is not used again.
pub type DsoDestroyFn = unsafe extern "C" fn(handle: *mut c_void);
/// The last error on a handle, or for a null handle the last failed `create` on the calling thread; may be null.
pub type DsoLastErrorFn = unsafe extern "C" fn(handle: *mut c_void) -> *const c_char;

/// The table a plugin's entry symbol returns. Version 1. Later minor versions only append fields (the host reads
/// them when `struct_size` says they are there); anything else changes `abi_version`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DsoDetectorVTable {
    /// Must be [`DSO_PLUGIN_ABI_VERSION`]. Never moves.
    pub abi_version: u32,
    /// `sizeof(DsoDetectorVTable)` as the plugin was built; at least the size of version 1. Never moves.
    pub struct_size: u32,
    /// The detector's name: 1 to 32 characters of `a-z`, `0-9`, `_` and `-` (the INDI element is its upper case).
    pub name: Option<DsoStaticStringFn>,
    /// The plugin's version, free text (`"1.2.0"`).
    pub version: Option<DsoStaticStringFn>,
    /// One line on what the detector does.
    pub description: Option<DsoStaticStringFn>,
    /// See [`DsoCreateFn`].
    pub create: Option<DsoCreateFn>,
    /// See [`DsoDetectFn`].
    pub detect: Option<DsoDetectFn>,
    /// See [`DsoFreeResultFn`].
    pub free_result: Option<DsoFreeResultFn>,
    /// See [`DsoDestroyFn`].
    pub destroy: Option<DsoDestroyFn>,
    /// See [`DsoLastErrorFn`].
    pub last_error: Option<DsoLastErrorFn>,
}

/// The type of the entry symbol [`DSO_PLUGIN_ENTRY`].
pub type DsoEntryFn = unsafe extern "C" fn() -> *const DsoDetectorVTable;

/// Writes `text` into a fixed label, cut at a character boundary so that it stays valid UTF-8 with its NUL.
pub fn label_to_c(text: &str) -> [c_char; DSO_LABEL_LEN] {
    let mut out = [0 as c_char; DSO_LABEL_LEN];
    let mut end = text.len().min(DSO_LABEL_LEN - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    for (o, b) in out.iter_mut().zip(&text.as_bytes()[..end]) {
        *o = *b as c_char;
    }
    out
}

/// Reads a fixed label: up to the first NUL (or all 32 bytes when a plugin forgot it), invalid UTF-8 replaced.
pub fn label_from_c(label: &[c_char; DSO_LABEL_LEN]) -> String {
    let bytes: Vec<u8> = label.iter().map(|c| *c as u8).take_while(|b| *b != 0).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_and_cut_on_char_boundaries() {
        assert_eq!(label_from_c(&label_to_c("galaxy")), "galaxy");
        let long = "é".repeat(40);
        let back = label_from_c(&label_to_c(&long));
        assert_eq!(back, "é".repeat(15), "31 bytes hold 15 two-byte characters");
        let no_nul = [b'a' as c_char; DSO_LABEL_LEN];
        assert_eq!(label_from_c(&no_nul).len(), DSO_LABEL_LEN);
    }

    #[test]
    fn the_version_fields_come_first() {
        assert_eq!(std::mem::offset_of!(DsoDetectorVTable, abi_version), 0);
        assert_eq!(std::mem::offset_of!(DsoDetectorVTable, struct_size), 4);
        assert_eq!(DSO_PLUGIN_ENTRY.last(), Some(&0));
    }
}
