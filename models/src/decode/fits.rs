//! FITS frames, read by cfitsio straight from memory (`fits_open_memfile`), so a BLOB never touches the disk.
//!
//! cfitsio (through the `fitsio` crate's raw bindings) is the reference implementation: it parses the headers,
//! applies `BZERO`/`BSCALE` and `BLANK`, and decompresses tile-compressed images (`.fits.fz`, fpack's RICE_1 and
//! friends) transparently. Only the pixels of plain images without `BLANK` are converted by [`super::raw`], on all
//! cores, bit-identical to cfitsio's (tested on every `BITPIX` and on the real frames).
//! The `unsafe` calls into cfitsio live in the sibling module `cfitsio`; this one decides what to read.
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

use dso_plugin_api::{Encoding, Frame, HeaderCard};
use fitsio::sys;

use super::bayer::{demosaic, CfaPattern};
use super::cfitsio::{ImageHdu, MemFits, CFITSIO};
use super::raw;
use super::scale::{normalise, Storage};
use super::{group_digits, DecodeError, Limits};

/// FITS files are made of 2880-byte blocks (FITS 4.0 §3.1).
const BLOCK: usize = 2880;

/// Decodes the first image of a FITS file (see the module docs for every convention).
pub fn decode_fits(bytes: &[u8], limits: &Limits) -> Result<Frame, DecodeError> {
    decode_fits_with(bytes, limits, true)
}

/// [`decode_fits`], with the fast conversion of [`raw`] allowed or not (tests compare the two paths).
pub(super) fn decode_fits_with(bytes: &[u8], limits: &Limits, allow_fast: bool) -> Result<Frame, DecodeError> {
    decode_fits_parts(bytes, limits, allow_fast, false).map(|(frame, _)| frame)
}

/// [`decode_fits`], and with `want_half` the frame binned 2×2 ([`crate::ops::bin_frame`]'s values) when the fast
/// conversion made it in the same pass: a plain 8- or 16-bit mono frame without a Bayer pattern
/// ([`raw::normalised_camera_values_and_half`]); `None` otherwise.
pub(super) fn decode_fits_and_half(bytes: &[u8], limits: &Limits) -> Result<(Frame, Option<Frame>), DecodeError> {
    decode_fits_parts(bytes, limits, true, true)
}

fn decode_fits_parts(
    bytes: &[u8],
    limits: &Limits,
    allow_fast: bool,
    want_half: bool,
) -> Result<(Frame, Option<Frame>), DecodeError> {
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
    let (w, h) = (width as usize, height as usize);
    let number = |key: &str| header_number(&header, key);
    let storage = Storage {
        bitpix: image.bitpix,
        bzero: number("BZERO").unwrap_or(0.0),
        bscale: number("BSCALE").unwrap_or(1.0),
    };
    // Plain images without blank values are converted here on all cores; cfitsio reads the rest (see raw.rs).
    let raw_data = if !allow_fast || image.is_compressed || header.iter().any(|c| c.keyword == "BLANK") {
        None
    } else {
        buffer.get(usize::try_from(data_start).unwrap_or(usize::MAX)..)
    };
    let mono = planes == 1 && header_text(&header, "BAYERPAT").and_then(CfaPattern::parse).is_none();
    let (fast, half) = match raw_data {
        Some(data) if want_half && mono => raw::normalised_camera_values_and_half(data, storage, w, h).unzip(),
        Some(data) => (raw::normalised_camera_values(data, storage, n * planes), None),
        None => (None, None),
    };
    let values = match fast {
        Some(values) => values,
        None => {
            let fast =
                raw_data.and_then(|d| raw::physical_values(d, image.bitpix, n * planes, storage.bzero, storage.bscale));
            let mut values = match fast {
                Some(values) => values,
                None => fits.read_pixels(n * planes)?,
            };
            normalise(&mut values, storage);
            values
        }
    };
    drop(fits);

    let planes = colour_planes(values, planes, w, h, &header);
    let mut frame =
        Frame::new(w, h, planes, Encoding::Linear).map_err(|e| DecodeError::Corrupt(format!("FITS image: {e}")))?;
    frame.header = header;
    let half = half.and_then(|b| Frame::new(w.div_ceil(2), h.div_ceil(2), vec![b], Encoding::Linear).ok());
    Ok((frame, half))
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
pub(super) fn compressed_card(card: HeaderCard) -> Option<HeaderCard> {
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
