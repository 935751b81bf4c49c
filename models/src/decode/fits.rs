//! FITS frames, read by cfitsio straight from memory (`fits_open_memfile`), so a BLOB never touches the disk.
//!
//! cfitsio (through the `fitsio` crate's raw bindings) is the reference implementation: it parses the headers,
//! applies `BZERO`/`BSCALE` and `BLANK`, and decompresses tile-compressed images (`.fits.fz`, fpack's RICE_1 and
//! friends) transparently. Only the pixels of plain images without `BLANK` are converted by [`super::raw`], on all
//! cores, bit-identical to cfitsio's (tested on every `BITPIX` and on the real frames).
//!
//! **Which HDU.** The first image HDU with at least two non-empty axes: the primary for plain files, the first
//! extension for fpack output (whose primary is empty). Keywords of the primary HDU are appended after the image
//! HDU's own (minus structural ones), so `BAYERPAT` or `FOCALLEN` written there are still found.
//!
//! **Planes.** `NAXIS = 2` is mono; `NAXIS3 = 3` is an RGB cube (planes R, G, B); any other `NAXIS3` keeps the first
//! plane, with a warning.
//!
//! **Orientation (`ROWORDER`).** The frame is laid out exactly as KStars displays it: the first stored row at the top,
//! whatever `ROWORDER` says. KStars' `FITSData::loadFITSImage` (`kstars/fitsviewer/fitsdata.cpp`) copies
//! `fits_read_img` output to the screen row for row and never flips; `ROWORDER` is read only in
//! `checkDebayerFITS`, to realign the Bayer pattern (see [`super::bayer`]). INDI cameras write
//! `ROWORDER = 'TOP-DOWN'` (libindi's `INDI::CCD::addFITSKeywords`), so for them this is also the sensor's true
//! orientation; a `BOTTOM-UP` file looks upside down in KStars (and here) compared with Siril, and the boxes match
//! what the KStars user sees.
//!
//! **Values.** See [`super::scale`]: 8/16-bit camera data by their full scale, floats by their robust range.
//!
//! **Safety of sizes.** Before any pixel buffer exists: `width × height` is checked against [`Limits::max_pixels`];
//! for a plain HDU, the header's data size (`|BITPIX|/8 × NAXIS1 × NAXIS2 × …`) must fit in the bytes received,
//! otherwise the error says how many bytes are missing; for a tile-compressed HDU, the compressed table and heap
//! must fit and the raw image size must be within [`Limits::max_bytes`].

use std::ffi::{c_char, c_int, c_void, CStr};
use std::marker::PhantomData;
use std::sync::Mutex;

use dso_plugin_api::{Encoding, Frame, HeaderCard};
use fitsio::{sys, FileOpenMode, FitsFile};

use super::bayer::{demosaic, CfaPattern};
use super::raw;
use super::scale::{normalise, Storage};
use super::{group_digits, DecodeError, Limits};

/// FITS files are made of 2880-byte blocks (FITS 4.0 §3.1).
const BLOCK: usize = 2880;
/// Most axes this decoder reads from a header.
const MAX_AXES: usize = 9;

/// Serialises cfitsio calls when the library was built without `--enable-reentrant` (then its global tables,
/// the in-memory file table included, are unprotected).
static CFITSIO: Mutex<()> = Mutex::new(());

/// Decodes the first image of a FITS file (see the module docs for every convention).
pub fn decode_fits(bytes: &[u8], limits: &Limits) -> Result<Frame, DecodeError> {
    decode_fits_with(bytes, limits, true)
}

/// [`decode_fits`], with the fast conversion of [`raw`] allowed or not (tests compare the two paths).
pub(super) fn decode_fits_with(bytes: &[u8], limits: &Limits, allow_fast: bool) -> Result<Frame, DecodeError> {
    // SAFETY: fits_is_reentrant only reads a compile-time constant of the library.
    let reentrant = unsafe { sys::fits_is_reentrant() } != 0;
    let _guard = if reentrant { None } else { Some(CFITSIO.lock().unwrap_or_else(|p| p.into_inner())) };

    // cfitsio reads whole 2880-byte blocks, so data that ends mid-block (files written without the final padding)
    // would fail on the last block: such input gets a zero-padded copy. Size checks use the real length.
    let padded;
    let buffer = if bytes.len() % BLOCK == 0 {
        bytes
    } else {
        padded = [bytes, &vec![0u8; BLOCK - bytes.len() % BLOCK]].concat();
        &padded[..]
    };
    let mut fits = MemFits::open(buffer)?;
    let image = fits.find_image()?;
    let (width, height) = (image.axes[0], image.axes[1]);
    limits.check_pixels(width, height)?;
    let stored_planes = image.axes.get(2).copied().unwrap_or(1);
    let planes = if stored_planes == 3 { 3 } else { 1 };
    if stored_planes != 1 && stored_planes != 3 {
        log::warn!("FITS cube with NAXIS3 = {stored_planes}: only its first plane is used");
    }
    let data_start = check_data_size(&mut fits, &image, bytes.len() as u64, limits)?;

    let mut header = fits.cards(image.is_compressed)?;
    if image.hdu > 1 {
        fits.move_to(1)?;
        let primary = fits.cards(false)?;
        fits.move_to(image.hdu)?;
        for card in primary {
            if !is_structural(&card.keyword) && !header.iter().any(|c| c.keyword == card.keyword) {
                header.push(card);
            }
        }
    }

    let n = (width * height) as usize;
    let number = |key: &str| header_number(&header, key);
    let storage = Storage {
        bitpix: image.bitpix,
        bzero: number("BZERO").unwrap_or(0.0),
        bscale: number("BSCALE").unwrap_or(1.0),
    };
    // Plain images without blank values are converted here on all cores; cfitsio reads the rest (see raw.rs).
    let fast = if !allow_fast || image.is_compressed || header.iter().any(|c| c.keyword == "BLANK") {
        None
    } else {
        let start = usize::try_from(data_start).unwrap_or(usize::MAX);
        buffer
            .get(start..)
            .and_then(|data| raw::physical_values(data, image.bitpix, n * planes, storage.bzero, storage.bscale))
    };
    let mut values = match fast {
        Some(values) => values,
        None => fits.read_pixels(n * planes)?,
    };
    normalise(&mut values, storage);
    drop(fits);

    let (width, height) = (width as usize, height as usize);
    let planes = colour_planes(values, planes, width, height, &header);
    let mut frame = Frame::new(width, height, planes, Encoding::Linear)
        .map_err(|e| DecodeError::Corrupt(format!("FITS image: {e}")))?;
    frame.header = header;
    Ok(frame)
}

/// Normalised samples → the frame's planes: three stored planes (R, G, B one after the other) are split; one plane
/// is demosaiced when the header names a Bayer pattern (`BAYERPAT`, realigned by `XBAYROFF`/`YBAYROFF` and
/// `ROWORDER` as KStars does), kept mono otherwise. Shared with XISF, whose INDI writer copies the FITS keywords.
pub(super) fn colour_planes(
    mut values: Vec<f32>,
    planes: usize,
    width: usize,
    height: usize,
    header: &[HeaderCard],
) -> Vec<Vec<f32>> {
    let n = width * height;
    let bayer = header_text(header, "BAYERPAT").and_then(CfaPattern::parse);
    match (planes, bayer) {
        (1, Some(pattern)) => {
            let bottom_up = header_text(header, "ROWORDER").is_some_and(|o| o.eq_ignore_ascii_case("BOTTOM-UP"));
            let offset = |key: &str| header_number(header, key).map_or(0, |v| v.round() as i64);
            let aligned = pattern.aligned(offset("XBAYROFF"), offset("YBAYROFF"), bottom_up, height);
            log::debug!("debayering {width}×{height} with BAYERPAT {pattern} → {aligned} at pixel (0, 0)");
            Vec::from(demosaic(&values, width, height, aligned))
        }
        (1, None) => vec![values],
        _ => {
            let mut rest = values.split_off(n);
            let blue = rest.split_off(n);
            vec![values, rest, blue]
        }
    }
}

/// The image HDU chosen for decoding.
#[derive(Debug)]
struct ImageHdu {
    /// 1-based HDU number.
    hdu: c_int,
    bitpix: i32,
    /// NAXIS1, NAXIS2, … (at least two, all positive).
    axes: Vec<u64>,
    is_compressed: bool,
}

impl ImageHdu {
    /// `1280×1024×16-bit`, `800×600×3×32-bit float`.
    fn shape(&self) -> String {
        let dims: Vec<String> = self.axes.iter().map(u64::to_string).collect();
        let kind = if self.bitpix < 0 { " float" } else { "" };
        format!("{}×{}-bit{kind}", dims.join("×"), self.bitpix.unsigned_abs())
    }
}

/// Checks that the HDU's data fits in the `len` bytes received (see the module docs); returns where the data starts.
fn check_data_size(fits: &mut MemFits, image: &ImageHdu, len: u64, limits: &Limits) -> Result<u64, DecodeError> {
    let bytes_per_value = u128::from(image.bitpix.unsigned_abs() / 8);
    let raw = image.axes.iter().fold(bytes_per_value, |acc, &a| acc.saturating_mul(u128::from(a)));
    let data_start = fits.data_start()?;
    let (needed, shape) = if image.is_compressed {
        if raw > u128::from(limits.max_bytes) {
            return Err(DecodeError::TooLarge(format!(
                "the tile-compressed {} image expands to {} bytes, more than the {} allowed",
                image.shape(),
                group_digits(raw),
                group_digits(u128::from(limits.max_bytes))
            )));
        }
        // A compressed image is a binary table (FITS 4.0 §10): NAXIS1 × NAXIS2 bytes of rows, then PCOUNT of heap.
        let table = [fits.int_key("NAXIS1")?, fits.int_key("NAXIS2")?, fits.int_key("PCOUNT")?];
        let [row, rows, heap] = table.map(|v| u128::from(v.max(0).unsigned_abs()));
        (row * rows + heap, format!("tile-compressed {}", image.shape()))
    } else {
        (raw, image.shape())
    };
    let end = u128::from(data_start) + needed;
    if end > u128::from(len) {
        let missing = u64::try_from(end - u128::from(len)).unwrap_or(u64::MAX);
        return Err(DecodeError::Truncated { missing, shape });
    }
    Ok(data_start)
}

/// FITS 4.0 §4.4.1 mandatory keywords (and the scaling ones), which describe one HDU's layout and must not leak
/// from the primary header into an extension's.
fn is_structural(keyword: &str) -> bool {
    matches!(keyword, "SIMPLE" | "BITPIX" | "NAXIS" | "EXTEND" | "BZERO" | "BSCALE" | "BLANK" | "PCOUNT" | "GCOUNT")
        || keyword.strip_prefix("NAXIS").is_some_and(|n| n.parse::<u32>().is_ok())
}

/// Keywords of the binary table that carries a tile-compressed image (FITS 4.0 §10.1), which say nothing about the
/// image; its `ZBITPIX`/`ZNAXISn` are renamed to the image's `BITPIX`/`NAXISn`.
fn compressed_card(card: HeaderCard) -> Option<HeaderCard> {
    let k = card.keyword.as_str();
    let renamed = match k {
        "ZBITPIX" => "BITPIX",
        "ZNAXIS" => "NAXIS",
        _ if k.starts_with("ZNAXIS") => &k[1..],
        _ => k,
    };
    let numbered = |prefix: &str| k.strip_prefix(prefix).is_some_and(|n| n.parse::<u32>().is_ok());
    let drop = matches!(
        k,
        "XTENSION"
            | "BITPIX"
            | "NAXIS"
            | "NAXIS1"
            | "NAXIS2"
            | "PCOUNT"
            | "GCOUNT"
            | "TFIELDS"
            | "THEAP"
            | "ZIMAGE"
            | "ZSIMPLE"
            | "ZTENSION"
            | "ZEXTEND"
            | "ZBLOCKED"
            | "ZPCOUNT"
            | "ZGCOUNT"
            | "ZCMPTYPE"
            | "ZQUANTIZ"
            | "ZDITHER0"
            | "ZHECKSUM"
            | "ZDATASUM"
    ) || ["TTYPE", "TFORM", "TUNIT", "TDIM", "ZTILE", "ZNAME", "ZVAL"].iter().any(|p| numbered(p));
    (!drop).then(|| HeaderCard { keyword: renamed.to_string(), value: card.value })
}

fn header_text<'a>(header: &'a [HeaderCard], keyword: &str) -> Option<&'a str> {
    header.iter().find(|c| c.keyword == keyword).map(|c| c.value.as_str())
}

fn header_number(header: &[HeaderCard], keyword: &str) -> Option<f64> {
    // FITS allows Fortran exponents (`1.0D+02`).
    header_text(header, keyword).and_then(|v| v.replace(['D', 'd'], "E").parse().ok())
}

/// A card's value as written, without string quotes (`'GRBG    '` → `GRBG`, `'it''s'` → `it's`).
pub(super) fn unquote(raw: &str) -> String {
    let raw = raw.trim();
    match raw.strip_prefix('\'') {
        Some(rest) => {
            let inner = rest.strip_suffix('\'').unwrap_or(rest);
            inner.replace("''", "'").trim().to_string()
        }
        None => raw.to_string(),
    }
}

/// An open in-memory FITS file. The bytes are borrowed: cfitsio reads them in place (read-only mode never writes
/// or reallocates), and it keeps pointers to the buffer address and size, which live in `mem` until `file` closes.
struct MemFits<'a> {
    /// Declared first so it is dropped (closed) before `_mem` is freed.
    file: FitsFile,
    /// The buffer address and size that cfitsio points at.
    _mem: Box<(*mut c_void, usize)>,
    _bytes: PhantomData<&'a [u8]>,
}

impl<'a> MemFits<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self, DecodeError> {
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

    fn raw(&mut self) -> *mut sys::fitsfile {
        // SAFETY: the pointer stays owned by `self.file` and is only used while `self` lives.
        unsafe { self.file.as_raw() }
    }

    /// Runs one cfitsio call and turns a non-zero status into an error saying what was being done.
    fn call(&mut self, doing: &str, f: impl FnOnce(*mut sys::fitsfile, &mut c_int)) -> Result<(), DecodeError> {
        let mut status = 0;
        let ptr = self.raw();
        f(ptr, &mut status);
        if status != 0 {
            return Err(DecodeError::Corrupt(format!("FITS {doing}: {}", cfitsio_error(status))));
        }
        Ok(())
    }

    fn move_to(&mut self, hdu: c_int) -> Result<c_int, DecodeError> {
        let mut kind = 0;
        // SAFETY: valid file, out-pointers to locals.
        self.call(&format!("HDU {hdu} is unreadable"), |p, s| unsafe {
            sys::ffmahd(p, hdu, &mut kind, s);
        })?;
        Ok(kind)
    }

    fn find_image(&mut self) -> Result<ImageHdu, DecodeError> {
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
    fn data_start(&mut self) -> Result<u64, DecodeError> {
        let (mut head, mut data, mut end) = (0, 0, 0);
        // SAFETY: valid file, out-pointers to locals.
        self.call("header", |p, s| unsafe {
            sys::ffghadll(p, &mut head, &mut data, &mut end, s);
        })?;
        Ok(data.max(0) as u64)
    }

    fn int_key(&mut self, key: &str) -> Result<i64, DecodeError> {
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
    fn cards(&mut self, compressed: bool) -> Result<Vec<HeaderCard>, DecodeError> {
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
    fn read_pixels(&mut self, count: usize) -> Result<Vec<f32>, DecodeError> {
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
