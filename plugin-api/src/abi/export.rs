//! The plugin side of the ABI for Rust authors: [`export_detector!`](crate::export_detector) turns any
//! [`Detector`] into the table a host loads, using the functions here.
//!
//! They live in this crate, not in each plugin, so that every Rust plugin gets the same careful code: panics are
//! caught at every entry point (unwinding into C is undefined behaviour, and Rust ≥ 1.81 aborts the whole driver),
//! pointers from the host are checked, and the result buffers stay alive until `free_result`.

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::{
    label_to_c, DsoDetection, DsoFrame, DsoHeatMap, DsoResult, DSO_ENCODING_LINEAR, DSO_STATUS_ERROR,
    DSO_STATUS_INVALID_ARGUMENT, DSO_STATUS_OK, DSO_STATUS_PANIC,
};
use crate::{Detector, Encoding, Error, Frame, HeaderCard};

/// A detector constructor as the macro passes it: configuration string in, boxed detector out.
pub type Constructor<'a> = &'a dyn Fn(&str) -> Result<Box<dyn Detector>, Error>;

/// What a handle points to: the detector, its last error and the buffers of the result it lent the host.
pub struct Instance {
    detector: Box<dyn Detector>,
    last_error: CString,
    detections: Vec<DsoDetection>,
    heat: Vec<f32>,
}

thread_local! {
    /// Why the latest `create` on this thread failed (`last_error(NULL)`).
    static CREATE_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn to_cstring(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// `create`: builds the detector; on failure (or panic) returns null and remembers why for `last_error(NULL)`.
///
/// # Safety
/// `config` is null or a NUL-terminated string valid for the call.
pub unsafe fn create(config: *const c_char, make: Constructor<'_>) -> *mut c_void {
    let config = if config.is_null() {
        String::new()
    } else {
        // SAFETY: the caller guarantees a NUL-terminated string valid for this call.
        unsafe { CStr::from_ptr(config) }.to_string_lossy().into_owned()
    };
    let made = catch_unwind(AssertUnwindSafe(|| make(&config)))
        .unwrap_or_else(|p| Err(Error::new(format!("panicked while creating: {}", panic_message(&*p)))));
    match made {
        Ok(detector) => {
            let instance =
                Instance { detector, last_error: CString::default(), detections: Vec::new(), heat: Vec::new() };
            Box::into_raw(Box::new(instance)).cast()
        }
        Err(e) => {
            CREATE_ERROR.with(|c| *c.borrow_mut() = to_cstring(e.message()));
            std::ptr::null_mut()
        }
    }
}

/// Copies a host frame into a [`Frame`].
///
/// # Safety
/// `frame` is null or points to a [`DsoFrame`] whose pointers honour the lengths it declares.
pub unsafe fn frame_from_c(frame: *const DsoFrame) -> Result<Frame, Error> {
    // SAFETY: null was excluded by `as_ref`; the caller guarantees the pointee is a valid DsoFrame.
    let f = unsafe { frame.as_ref() }.ok_or_else(|| Error::new("null frame"))?;
    let (w, h) = (f.width as usize, f.height as usize);
    let n = w.checked_mul(h).ok_or_else(|| Error::new("frame size overflows"))?;
    if f.planes.is_null() || !(f.n_planes == 1 || f.n_planes == 3) {
        return Err(Error::new(format!("a frame has 1 or 3 planes, not {}", f.n_planes)));
    }
    let mut planes = Vec::with_capacity(f.n_planes as usize);
    for i in 0..f.n_planes as usize {
        // SAFETY: `planes` holds `n_planes` pointers (checked non-null above).
        let p = unsafe { *f.planes.add(i) };
        if p.is_null() {
            return Err(Error::new(format!("plane {i} is null")));
        }
        // SAFETY: the host guarantees `width * height` samples behind each plane pointer.
        planes.push(unsafe { std::slice::from_raw_parts(p, n) }.to_vec());
    }
    let encoding = if f.encoding == DSO_ENCODING_LINEAR { Encoding::Linear } else { Encoding::Stretched };
    let mut out = Frame::new(w, h, planes, encoding)?;
    if !f.header.is_null() {
        // SAFETY: `header` holds `n_header` cards.
        let cards = unsafe { std::slice::from_raw_parts(f.header, f.n_header) };
        for c in cards.iter().filter(|c| !c.keyword.is_null() && !c.value.is_null()) {
            // SAFETY: non-null card strings are NUL-terminated and live for the call.
            let (k, v) = unsafe { (CStr::from_ptr(c.keyword), CStr::from_ptr(c.value)) };
            out.header.push(HeaderCard {
                keyword: k.to_string_lossy().into_owned(),
                value: v.to_string_lossy().into_owned(),
            });
        }
    }
    Ok(out)
}

/// `detect`: runs the detector and lends the host the result buffers.
///
/// # Safety
/// `handle` comes from [`create`] and is used by one thread at a time; `frame` and `out` are valid or null.
pub unsafe extern "C" fn detect(handle: *mut c_void, frame: *const DsoFrame, out: *mut DsoResult) -> i32 {
    // SAFETY: the host passes a handle returned by `create` (or null, refused here) and never shares it.
    let Some(inst) = (unsafe { handle.cast::<Instance>().as_mut() }) else { return DSO_STATUS_INVALID_ARGUMENT };
    if out.is_null() {
        inst.last_error = to_cstring("null result pointer");
        return DSO_STATUS_INVALID_ARGUMENT;
    }
    let run = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded from the host's contract on `frame`.
        let frame = unsafe { frame_from_c(frame) }.map_err(|e| (DSO_STATUS_INVALID_ARGUMENT, e))?;
        inst.detector.detect(&frame).map_err(|e| (DSO_STATUS_ERROR, e))
    }));
    let found = match run {
        Ok(Ok(found)) => found,
        Ok(Err((status, e))) => {
            inst.last_error = to_cstring(e.message());
            return status;
        }
        Err(p) => {
            inst.last_error = to_cstring(&panic_message(&*p));
            return DSO_STATUS_PANIC;
        }
    };
    inst.detections = found
        .objects
        .iter()
        .map(|d| DsoDetection {
            x: d.x,
            y: d.y,
            width: d.width,
            height: d.height,
            confidence: d.confidence,
            label: label_to_c(&d.label),
        })
        .collect();
    let mut result = DsoResult::empty();
    result.detections = inst.detections.as_ptr();
    result.n_detections = inst.detections.len();
    if let Some(map) = found.heatmap {
        inst.heat = map.values;
        result.heatmap = DsoHeatMap { width: map.width as u32, height: map.height as u32, values: inst.heat.as_ptr() };
    }
    // SAFETY: `out` is non-null and points to a DsoResult the host owns.
    unsafe { out.write(result) };
    DSO_STATUS_OK
}

/// `free_result`: the host is done with the buffers; they are released and the result emptied.
///
/// # Safety
/// `handle` comes from [`create`]; `result` is null or the result of the latest `detect` on it.
pub unsafe extern "C" fn free_result(handle: *mut c_void, result: *mut DsoResult) {
    // SAFETY: as for `detect`.
    if let Some(inst) = unsafe { handle.cast::<Instance>().as_mut() } {
        inst.detections = Vec::new();
        inst.heat = Vec::new();
    }
    if !result.is_null() {
        // SAFETY: non-null, owned by the host.
        unsafe { result.write(DsoResult::empty()) };
    }
}

/// `destroy`: drops the detector (a panic in its `Drop` is caught and ignored: there is no one left to tell).
///
/// # Safety
/// `handle` comes from [`create`] and is not used afterwards.
pub unsafe extern "C" fn destroy(handle: *mut c_void) {
    if handle.is_null() {
        return;
    }
    // SAFETY: the handle was made by `Box::into_raw` in `create` and is destroyed once.
    let inst = unsafe { Box::from_raw(handle.cast::<Instance>()) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(inst)));
}

/// `last_error`: the handle's last error, or with a null handle the last failed `create` of this thread.
///
/// # Safety
/// `handle` is null or comes from [`create`].
pub unsafe extern "C" fn last_error(handle: *mut c_void) -> *const c_char {
    // SAFETY: as for `detect`; the pointer returned stays valid until the next call on the handle.
    match unsafe { handle.cast::<Instance>().as_ref() } {
        Some(inst) => inst.last_error.as_ptr(),
        None => CREATE_ERROR.with(|c| c.borrow().as_ptr()),
    }
}

/// Exposes a [`Detector`] as a plugin: defines the exported entry symbol `dso_detector_plugin` and its table.
///
/// `name` and `description` are string literals, `version` a literal or `env!(…)`, `create` anything callable as
/// `Fn(&str) -> Result<D, dso_plugin_api::Error>` where `D: Detector + 'static`; it receives the configuration
/// string (empty when none is configured). Use it once per `cdylib` crate.
///
/// ```ignore
/// dso_plugin_api::export_detector! {
///     name: "brightest",
///     version: env!("CARGO_PKG_VERSION"),
///     description: "the brightest extended region after a blur",
///     create: |config: &str| Brightest::from_config(config),
/// }
/// ```
#[macro_export]
macro_rules! export_detector {
    (name: $name:literal, version: $version:expr, description: $description:literal, create: $create:expr $(,)?) => {
        const _: () = {
            use ::std::ffi::{c_char, c_void};
            unsafe extern "C" fn __dso_name() -> *const c_char {
                concat!($name, "\0").as_ptr().cast()
            }
            unsafe extern "C" fn __dso_version() -> *const c_char {
                concat!($version, "\0").as_ptr().cast()
            }
            unsafe extern "C" fn __dso_description() -> *const c_char {
                concat!($description, "\0").as_ptr().cast()
            }
            unsafe extern "C" fn __dso_create(config: *const c_char) -> *mut c_void {
                let make = |c: &str| -> ::std::result::Result<::std::boxed::Box<dyn $crate::Detector>, $crate::Error> {
                    ($create)(c).map(|d| ::std::boxed::Box::new(d) as ::std::boxed::Box<dyn $crate::Detector>)
                };
                // SAFETY: the host passes null or a NUL-terminated configuration string valid for the call.
                unsafe { $crate::abi::export::create(config, &make) }
            }
            static __DSO_VTABLE: $crate::abi::DsoDetectorVTable = $crate::abi::DsoDetectorVTable {
                abi_version: $crate::abi::DSO_PLUGIN_ABI_VERSION,
                struct_size: ::std::mem::size_of::<$crate::abi::DsoDetectorVTable>() as u32,
                name: Some(__dso_name),
                version: Some(__dso_version),
                description: Some(__dso_description),
                create: Some(__dso_create),
                detect: Some($crate::abi::export::detect),
                free_result: Some($crate::abi::export::free_result),
                destroy: Some($crate::abi::export::destroy),
                last_error: Some($crate::abi::export::last_error),
            };
            /// The plugin's entry point: the table of the DSO Detector plugin ABI.
            #[no_mangle]
            pub extern "C" fn dso_detector_plugin() -> *const $crate::abi::DsoDetectorVTable {
                &__DSO_VTABLE
            }
        };
    };
}
