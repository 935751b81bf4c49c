//! The cfitsio side of FITS decoding: an in-memory FITS file (`fits_open_memfile`) and the few header and pixel
//! reads the decoder needs, each `unsafe` call in one place with its safety argument.
//!
//! Kept apart from [`super::fits`], which decides *what* to read (which HDU, which planes, which keywords, the size
//! checks), so that module is plain Rust and this one is the only FFI of the decoder besides the `image` crate's.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::marker::PhantomData;
use std::sync::Mutex;

use dso_plugin_api::HeaderCard;
use fitsio::{sys, FileOpenMode, FitsFile};

use super::fits::{compressed_card, unquote};
use super::DecodeError;

/// Most axes this decoder reads from a header.
const MAX_AXES: usize = 9;

/// Serialises cfitsio calls when the library was built without `--enable-reentrant` (then its global tables,
/// the in-memory file table included, are unprotected).
pub(super) static CFITSIO: Mutex<()> = Mutex::new(());

/// The image HDU chosen for decoding.
#[derive(Debug)]
pub(super) struct ImageHdu {
    /// 1-based HDU number.
    pub(super) hdu: c_int,
    pub(super) bitpix: i32,
    /// NAXIS1, NAXIS2, … (at least two, all positive).
    pub(super) axes: Vec<u64>,
    pub(super) is_compressed: bool,
}

impl ImageHdu {
    /// `1280×1024×16-bit`, `800×600×3×32-bit float`.
    pub(super) fn shape(&self) -> String {
        let dims: Vec<String> = self.axes.iter().map(u64::to_string).collect();
        let kind = if self.bitpix < 0 { " float" } else { "" };
        format!("{}×{}-bit{kind}", dims.join("×"), self.bitpix.unsigned_abs())
    }
}

/// An open in-memory FITS file. The bytes are borrowed: cfitsio reads them in place (read-only mode never writes
/// or reallocates), and it keeps pointers to the buffer address and size, which live in `mem` until `file` closes.
pub(super) struct MemFits<'a> {
    /// Declared first so it is dropped (closed) before `_mem` is freed.
    file: FitsFile,
    /// The buffer address and size that cfitsio points at.
    _mem: Box<(*mut c_void, usize)>,
    _bytes: PhantomData<&'a [u8]>,
}

impl<'a> MemFits<'a> {
    pub(super) fn open(bytes: &'a [u8]) -> Result<Self, DecodeError> {
        let mut mem = Box::new((bytes.as_ptr() as *mut c_void, bytes.len()));
        let mut fptr = std::ptr::null_mut();
        let mut status = 0;
        // SAFETY: clears cfitsio's error message stack, so errors below report only this file's problems.
        unsafe { sys::ffcmsg() };
        // SAFETY: `mem` outlives the file (see the struct); READONLY (0) means cfitsio only reads `len` bytes from
        // the buffer and never reallocates it (no realloc callback is given).
        unsafe {
            sys::ffomem(
                &mut fptr,
                c"memory.fits".as_ptr(),
                sys::READONLY as c_int,
                &mut mem.0,
                &mut mem.1,
                0,
                None,
                &mut status,
            );
        }
        if status != 0 || fptr.is_null() {
            return Err(DecodeError::Corrupt(format!("not a readable FITS file: {}", cfitsio_error(status))));
        }
        // SAFETY: `fptr` was just opened by cfitsio.
        let file = unsafe { FitsFile::from_raw(fptr, FileOpenMode::READONLY) }
            .map_err(|e| DecodeError::Corrupt(format!("not a readable FITS file: {e}")))?;
        Ok(Self { file, _mem: mem, _bytes: PhantomData })
    }

    pub(super) fn raw(&mut self) -> *mut sys::fitsfile {
        // SAFETY: the pointer stays owned by `self.file` and is only used while `self` lives.
        unsafe { self.file.as_raw() }
    }

    /// Runs one cfitsio call and turns a non-zero status into an error saying what was being done.
    pub(super) fn call(
        &mut self,
        doing: &str,
        f: impl FnOnce(*mut sys::fitsfile, &mut c_int),
    ) -> Result<(), DecodeError> {
        let mut status = 0;
        let ptr = self.raw();
        f(ptr, &mut status);
        if status != 0 {
            return Err(DecodeError::Corrupt(format!("FITS {doing}: {}", cfitsio_error(status))));
        }
        Ok(())
    }

    pub(super) fn move_to(&mut self, hdu: c_int) -> Result<c_int, DecodeError> {
        let mut kind = 0;
        // SAFETY: valid file, out-pointers to locals.
        self.call(&format!("HDU {hdu} is unreadable"), |p, s| unsafe {
            sys::ffmahd(p, hdu, &mut kind, s);
        })?;
        Ok(kind)
    }

    pub(super) fn find_image(&mut self) -> Result<ImageHdu, DecodeError> {
        let mut count = 0;
        // SAFETY: valid file, out-pointers to locals.
        self.call("header", |p, s| unsafe {
            sys::ffthdu(p, &mut count, s);
        })?;
        let mut seen = Vec::new();
        for hdu in 1..=count.max(1) {
            if self.move_to(hdu)? != sys::IMAGE_HDU as c_int {
                seen.push(format!("HDU {hdu} is a table"));
                continue;
            }
            let (mut bitpix, mut naxis) = (0, 0);
            let mut axes = [0i64; MAX_AXES];
            // SAFETY: `axes` holds MAX_AXES values, the count passed.
            self.call("image header", |p, s| unsafe {
                sys::ffgiprll(p, MAX_AXES as c_int, &mut bitpix, &mut naxis, axes.as_mut_ptr(), s);
            })?;
            let naxis = naxis.max(0) as usize;
            if naxis > MAX_AXES {
                return Err(DecodeError::Unsupported(format!("FITS image with {naxis} axes")));
            }
            let axes = &axes[..naxis];
            if naxis < 2 || axes.iter().any(|&a| a <= 0) {
                seen.push(format!("HDU {hdu} has NAXIS = {naxis} ({axes:?})"));
                continue;
            }
            if ![8, 16, 32, 64, -32, -64].contains(&bitpix) {
                return Err(DecodeError::Unsupported(format!("FITS BITPIX = {bitpix}")));
            }
            let mut compressed = 0;
            // SAFETY: valid file; the function only reads the current HDU's state.
            self.call("image header", |p, s| unsafe {
                compressed = sys::fits_is_compressed_image(p, s);
            })?;
            return Ok(ImageHdu {
                hdu,
                bitpix,
                axes: axes.iter().map(|&a| a as u64).collect(),
                is_compressed: compressed != 0,
            });
        }
        Err(DecodeError::Unsupported(format!("the FITS file holds no 2-D image ({})", seen.join("; "))))
    }

    /// Byte offset of the current HDU's data unit.
    pub(super) fn data_start(&mut self) -> Result<u64, DecodeError> {
        let (mut head, mut data, mut end) = (0, 0, 0);
        // SAFETY: valid file, out-pointers to locals.
        self.call("header", |p, s| unsafe {
            sys::ffghadll(p, &mut head, &mut data, &mut end, s);
        })?;
        Ok(data.max(0) as u64)
    }

    pub(super) fn int_key(&mut self, key: &str) -> Result<i64, DecodeError> {
        let name = std::ffi::CString::new(key).unwrap_or_default();
        let mut value = 0;
        // SAFETY: NUL-terminated name; a null comment pointer is allowed by cfitsio.
        self.call(&format!("keyword {key}"), |p, s| unsafe {
            sys::ffgkyjj(p, name.as_ptr(), &mut value, std::ptr::null_mut(), s);
        })?;
        Ok(value)
    }

    /// Every `KEYWORD = value` card of the current HDU (COMMENT, HISTORY and blank cards have no value and are left
    /// out).
    pub(super) fn cards(&mut self, compressed: bool) -> Result<Vec<HeaderCard>, DecodeError> {
        let (mut count, mut more) = (0, 0);
        // SAFETY: valid file, out-pointers to locals.
        self.call("header", |p, s| unsafe {
            sys::ffghsp(p, &mut count, &mut more, s);
        })?;
        let mut cards = Vec::with_capacity(count.max(0) as usize);
        for i in 1..=count {
            // cfitsio's FLEN_KEYWORD is 75 and FLEN_VALUE 71 (fitsio.h); FLEN_COMMENT 73.
            let (mut key, mut value, mut comment) = ([0 as c_char; 80], [0 as c_char; 80], [0 as c_char; 80]);
            // SAFETY: buffers are larger than cfitsio's FLEN_* limits.
            self.call("header card", |p, s| unsafe {
                sys::ffgkyn(p, i, key.as_mut_ptr(), value.as_mut_ptr(), comment.as_mut_ptr(), s);
            })?;
            let keyword = c_text(&key).trim().to_ascii_uppercase();
            if matches!(keyword.as_str(), "" | "COMMENT" | "HISTORY" | "CONTINUE" | "END") {
                continue;
            }
            let card = HeaderCard { keyword, value: unquote(&c_text(&value)) };
            let card = if compressed { compressed_card(card) } else { Some(card) };
            cards.extend(card);
        }
        Ok(cards)
    }

    /// Reads `count` values of the current image as `f32` physical values (BZERO/BSCALE applied, blanks as NaN).
    pub(super) fn read_pixels(&mut self, count: usize) -> Result<Vec<f32>, DecodeError> {
        let mut values = vec![0.0f32; count];
        let mut null = f32::NAN;
        let mut any_null = 0;
        // SAFETY: `values` holds `count` f32s, the number requested as TFLOAT.
        self.call("pixel data", |p, s| unsafe {
            sys::ffgpv(
                p,
                sys::TFLOAT as c_int,
                1,
                count as i64,
                (&mut null as *mut f32).cast(),
                values.as_mut_ptr().cast(),
                &mut any_null,
                s,
            );
        })?;
        Ok(values)
    }
}

fn c_text(buf: &[c_char]) -> String {
    // SAFETY: cfitsio NUL-terminates every string it returns, and the buffers were zeroed.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
}

/// cfitsio's text for a status, plus the most recent message of its error stack (which names the keyword or HDU).
fn cfitsio_error(status: c_int) -> String {
    let mut text = [0 as c_char; 32];
    // SAFETY: FLEN_STATUS is 31 + NUL.
    unsafe { sys::ffgerr(status, text.as_mut_ptr()) };
    let text = c_text(&text);
    let mut details: Vec<String> = Vec::new();
    loop {
        let mut msg = [0 as c_char; 96];
        // SAFETY: FLEN_ERRMSG is 81 + NUL; ffgmsg pops the oldest message, returns 0 when the stack is empty.
        if unsafe { sys::ffgmsg(msg.as_mut_ptr()) } == 0 {
            break;
        }
        let msg = c_text(&msg).trim().to_string();
        if details.len() < 3 && !msg.is_empty() && msg != text && !details.contains(&msg) {
            details.push(msg);
        }
    }
    let detail = details.join("; ");
    if detail.is_empty() {
        format!("{text} (cfitsio status {status})")
    } else {
        format!("{text}: {detail} (cfitsio status {status})")
    }
}
