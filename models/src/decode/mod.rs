//! Bytes as a camera or a file delivers them → a [`Frame`].
//!
//! INDI hands a BLOB with a format label (`.fits`, `.fits.fz`, `.jpg.z`, …) and the `dso-detect` command line hands
//! files; both come here so that the driver and the CLI see the same pixels for the same image. The label is a hint:
//! cameras and scripts get it wrong, so the magic bytes decide (FITS `SIMPLE  =`, JPEG `FF D8 FF`, PNG's signature,
//! zlib and gzip headers) and the label only names the data in error messages.
//!
//! Every path validates sizes *before* it allocates (see [`Limits`]): a frame comes from the network, and a
//! 100 000 × 100 000 header or a zlib bomb must end in a clear [`DecodeError`], not in the OOM killer.
//!
//! - [`limits`]: the [`Limits`] every decoder checks before it allocates, and [`DecodeError`];
//! - [`names`]: file names and format labels (which files are images, their INDI format string, their stem);
//! - [`fits`] (with `cfitsio`, its FFI side): FITS through cfitsio, opened from memory (plain and tile-compressed `.fits.fz`), normalisation,
//!   `ROWORDER` and Bayer handling;
//! - [`bayer`]: the colour filter array patterns and a bilinear demosaic;
//! - [`raster`]: JPEG and PNG through the `image` crate;
//! - [`scale`]: physical FITS values → `0..=1`;
//! - [`compress`]: the `.z` (zlib) and `.gz` (gzip) wrappers;
//! - [`xisf`] (with `xisf_header`, its XML header): XISF, which INDI 2.x cameras send when set to it;
//! - [`raw`]: FITS pixels converted on all cores.

pub mod bayer;
mod cfitsio;
pub mod compress;
pub mod fits;
pub mod limits;
pub mod names;
pub mod raster;
pub mod raw;
pub mod scale;
pub mod xisf;
mod xisf_header;

#[cfg(test)]
mod fits_fz_tests;
#[cfg(test)]
mod fits_real_tests;
#[cfg(test)]
mod fits_tests;
#[cfg(test)]
pub(crate) mod testutil;
#[cfg(test)]
mod xisf_tests;

use dso_plugin_api::Frame;

pub(crate) use limits::group_digits;
pub use limits::{DecodeError, Limits};
pub use names::{format_from_path, image_stem, is_image_name};
use names::{kind_from_label, normalise_label};

/// What the bytes are, as far as decoding cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// FITS, plain or tile-compressed (cfitsio tells them apart itself).
    Fits,
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// A zlib stream (INDI's `.<ext>.z`).
    Zlib,
    /// A gzip stream (`.fits.gz` files).
    Gzip,
    /// A monolithic XISF file (INDI 2.x cameras set to XISF, PixInsight).
    Xisf,
}

/// Decodes one image.
///
/// `format` is the INDI BLOB format or what [`format_from_path`] returns (`.fits`, `.fits.fz`, `.jpg`, `.png`,
/// `.jpg.z`, …); it may be empty or wrong, the magic bytes decide. FITS frames come out [`Encoding::Linear`],
/// JPEG and PNG [`Encoding::Stretched`]; see [`fits`] for the orientation and normalisation conventions.
///
/// [`Encoding::Linear`]: dso_plugin_api::Encoding::Linear
/// [`Encoding::Stretched`]: dso_plugin_api::Encoding::Stretched
///
/// ```
/// use dso_models::decode::{decode, DecodeError, Limits};
/// let err = decode(b"hello", ".xyz", &Limits::default()).unwrap_err();
/// assert!(matches!(err, DecodeError::UnknownFormat { .. }));
/// assert!(err.to_string().contains("'.xyz'"));
/// ```
pub fn decode(bytes: &[u8], format: &str, limits: &Limits) -> Result<Frame, DecodeError> {
    decode_nested(bytes, format, limits, true, false).map(|(frame, _)| frame)
}

/// [`decode`], and the frame binned 2×2 when the decoder could make it in the same pass over the samples: plain 8-
/// and 16-bit mono FITS, a camera's usual frame (`fits::decode_fits_and_half`); `None` for every other image.
/// Equal to [`crate::ops::bin_frame`]`(frame, 2)` (tested), which the host makes itself when this gives `None`.
pub fn decode_with_half(bytes: &[u8], format: &str, limits: &Limits) -> Result<(Frame, Option<Frame>), DecodeError> {
    decode_nested(bytes, format, limits, true, true)
}

fn decode_nested(
    bytes: &[u8],
    format: &str,
    limits: &Limits,
    may_inflate: bool,
    want_half: bool,
) -> Result<(Frame, Option<Frame>), DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let label = normalise_label(format);
    let declared = kind_from_label(&label);
    let Some(kind) = sniff(bytes) else {
        let head = hex_head(bytes);
        return Err(match declared {
            Some(_) => DecodeError::NotThatFormat { format: label, head },
            None => DecodeError::UnknownFormat { format: label, head },
        });
    };
    if declared.is_some() && declared != Some(kind) {
        log::warn!("image labelled '{label}' is {kind:?} by its magic bytes; decoding it as {kind:?}");
    }
    match kind {
        Kind::Fits if want_half => fits::decode_fits_and_half(bytes, limits),
        Kind::Fits => fits::decode_fits(bytes, limits).map(|f| (f, None)),
        Kind::Xisf => xisf::decode_xisf(bytes, limits).map(|f| (f, None)),
        Kind::Jpeg | Kind::Png => raster::decode_raster(bytes, kind, limits).map(|f| (f, None)),
        Kind::Zlib | Kind::Gzip => {
            if !may_inflate {
                return Err(DecodeError::Unsupported(format!(
                    "the '{label}' data is compressed twice; only one zlib or gzip layer is accepted"
                )));
            }
            let inner = compress::inflate(bytes, kind, limits)?;
            let inner_label = label.strip_suffix(".z").or_else(|| label.strip_suffix(".gz")).unwrap_or("");
            decode_nested(&inner, inner_label, limits, false, want_half)
        }
    }
}

/// Recognises a format from its first bytes.
///
/// ```
/// use dso_models::decode::{sniff, Kind};
/// assert_eq!(sniff(b"SIMPLE  =                    T"), Some(Kind::Fits));
/// assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Kind::Jpeg));
/// assert_eq!(sniff(b"GIF89a"), None);
/// ```
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    // FITS 4.0 §4.4.1.1: a primary header starts with `SIMPLE  =` (keyword padded to 8 columns, `=` in column 9).
    if bytes.starts_with(b"SIMPLE  =") {
        return Some(Kind::Fits);
    }
    if bytes.starts_with(xisf::SIGNATURE) {
        return Some(Kind::Xisf);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Kind::Jpeg);
    }
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some(Kind::Png);
    }
    if bytes.starts_with(&[0x1F, 0x8B]) {
        return Some(Kind::Gzip);
    }
    // RFC 1950 §2.2: CM = 8 (deflate), CINFO ≤ 7, and CMF·256 + FLG a multiple of 31.
    if let [cmf, flg, ..] = bytes {
        if cmf & 0x0F == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) * 256 + u16::from(*flg)) % 31 == 0 {
            return Some(Kind::Zlib);
        }
    }
    None
}

/// The first 8 bytes in hex, with a printable rendering: `47 49 46 38 ("GIF8")`.
fn hex_head(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(8)];
    let hex: Vec<String> = head.iter().map(|b| format!("{b:02X}")).collect();
    let text: String = head.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
    format!("{} (\"{text}\")", hex.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_empty_are_refused_clearly() {
        let limits = Limits::default();
        assert_eq!(decode(&[], ".fits", &limits), Err(DecodeError::Empty));
        let err = decode(b"GIF89a\x01\x00", ".fits", &limits).unwrap_err();
        assert!(matches!(err, DecodeError::NotThatFormat { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("'.fits'") && text.contains("FITS") && text.contains("47 49 46"), "{text}");
        let err = decode(&[0u8; 100], "xyz", &limits).unwrap_err();
        assert!(err.to_string().starts_with("unknown image format '.xyz'"), "{err}");
    }
}
