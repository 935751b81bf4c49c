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
//! - [`fits`]: FITS through cfitsio, opened from memory (plain and tile-compressed `.fits.fz`), normalisation,
//!   `ROWORDER` and Bayer handling;
//! - [`bayer`]: the colour filter array patterns and a bilinear demosaic;
//! - [`raster`]: JPEG and PNG through the `image` crate;
//! - [`scale`]: physical FITS values → `0..=1`;
//! - [`compress`]: the `.z` (zlib) and `.gz` (gzip) wrappers;
//! - [`xisf`]: XISF, which INDI 2.x cameras send when set to it;
//! - [`raw`]: FITS pixels converted on all cores.

pub mod bayer;
pub mod compress;
pub mod fits;
pub mod raster;
pub mod raw;
pub mod scale;
pub mod xisf;

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

use std::fmt;
use std::path::Path;

use dso_plugin_api::Frame;

/// How large an image may be before decoding refuses it.
///
/// Checked before any pixel buffer is allocated.
///
/// ```
/// use dso_models::decode::Limits;
/// let small = Limits { max_pixels: 4096 * 4096, ..Limits::default() };
/// assert!(small.max_pixels < Limits::default().max_pixels);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most pixels (`width × height`) in one frame. Default: 200 million, above the largest amateur sensors
    /// (a 16-bit 200 Mpx mono frame is 400 MB on the wire already).
    pub max_pixels: u64,
    /// Most bytes compressed data may expand to: a zlib/gzip stream's output, the raw pixel data of a
    /// tile-compressed FITS or XISF image, a JPEG/PNG decoder's allocations. Default: 1 GiB (`dso-detect`, reading
    /// the user's own files); the driver sets its frame limit, `DSO_MAX_FRAME_MB` (default 128 MiB), so that no
    /// frame however packed expands past what an uncompressed one may be.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_pixels: 200_000_000, max_bytes: 1 << 30 }
    }
}

impl Limits {
    /// Checks a frame size against [`Limits::max_pixels`].
    pub fn check_pixels(&self, width: u64, height: u64) -> Result<(), DecodeError> {
        let pixels = u128::from(width) * u128::from(height);
        if pixels > u128::from(self.max_pixels) {
            return Err(DecodeError::TooLarge(format!(
                "{width}×{height} is {} pixels, more than the {} allowed",
                group_digits(pixels),
                group_digits(u128::from(self.max_pixels))
            )));
        }
        Ok(())
    }
}

/// Why an image could not be decoded; the message is meant for the astronomer (it ends up in an INDI message).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// No bytes at all.
    Empty,
    /// The label is unknown and the bytes match no known format.
    UnknownFormat {
        /// The format label as given.
        format: String,
        /// The first bytes, in hex, to help tell what the data is.
        head: String,
    },
    /// The label is known but the bytes are not of that (or any known) format.
    NotThatFormat {
        /// The format label as given.
        format: String,
        /// The first bytes, in hex.
        head: String,
    },
    /// Over the [`Limits`]; the text says by how much.
    TooLarge(String),
    /// A FITS or XISF file shorter than its header announces.
    Truncated {
        /// How many bytes are missing.
        missing: u64,
        /// What the header announces, as `1280×1024×16-bit` (FITS) or `64×48×1 UInt16 XISF data block`.
        shape: String,
    },
    /// A valid file of a kind this decoder does not handle (a table, a 1-D spectrum, BITPIX 12…).
    Unsupported(String),
    /// The file is damaged: cfitsio, the JPEG/PNG decoder or zlib refused it. The text says what they said.
    Corrupt(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the image is empty (0 bytes)"),
            Self::UnknownFormat { format, head } => write!(
                f,
                "unknown image format '{format}', and the data is not FITS, XISF, JPEG, PNG, zlib or gzip \
                 (it starts with {head})"
            ),
            Self::NotThatFormat { format, head } => write!(
                f,
                "the data labelled '{format}' is not {} (nor any other known format): it starts with {head}",
                describe_label(format)
            ),
            Self::TooLarge(what) => write!(f, "image too large: {what}"),
            Self::Truncated { missing, shape } => write!(
                f,
                "image data is {} bytes shorter than its header announces ({shape}): the file or transfer was cut \
                 short",
                group_digits(u128::from(*missing))
            ),
            Self::Unsupported(what) => write!(f, "unsupported image: {what}"),
            Self::Corrupt(what) => write!(f, "damaged image: {what}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for dso_plugin_api::Error {
    fn from(e: DecodeError) -> Self {
        dso_plugin_api::Error::new(e.to_string())
    }
}

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
    decode_nested(bytes, format, limits, true)
}

fn decode_nested(bytes: &[u8], format: &str, limits: &Limits, may_inflate: bool) -> Result<Frame, DecodeError> {
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
        Kind::Fits => fits::decode_fits(bytes, limits),
        Kind::Xisf => xisf::decode_xisf(bytes, limits),
        Kind::Jpeg | Kind::Png => raster::decode_raster(bytes, kind, limits),
        Kind::Zlib | Kind::Gzip => {
            if !may_inflate {
                return Err(DecodeError::Unsupported(format!(
                    "the '{label}' data is compressed twice; only one zlib or gzip layer is accepted"
                )));
            }
            let inner = compress::inflate(bytes, kind, limits)?;
            let inner_label = label.strip_suffix(".z").or_else(|| label.strip_suffix(".gz")).unwrap_or("");
            decode_nested(&inner, inner_label, limits, false)
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

/// The INDI format string for a file, from its name: `.fits`, `.fits.fz`, `.jpg`, `.png`, with `.z` or `.gz`
/// appended for compressed wrappers; the lower-cased last extension otherwise (decoding then sniffs).
///
/// ```
/// use dso_models::decode::format_from_path;
/// assert_eq!(format_from_path("Light_M94.FIT"), ".fits");
/// assert_eq!(format_from_path("/data/m42.fits.fz"), ".fits.fz");
/// assert_eq!(format_from_path("frame.jpeg.z"), ".jpg.z");
/// assert_eq!(format_from_path("notes.txt"), ".txt");
/// assert!(dso_models::decode::is_image_name("Light_0001.XISF"));
/// ```
pub fn format_from_path(path: impl AsRef<Path>) -> String {
    let name = path.as_ref().file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    label_for_name(&name)
}

/// Whether a file name is one this module decodes (FITS, `.fits.fz`, XISF, JPEG, PNG, optionally zlib/gzip wrapped), by its
/// name alone: what the CLI uses to walk folders and the driver to accept a camera's locally saved file.
pub fn is_image_name(path: impl AsRef<Path>) -> bool {
    let label = format_from_path(path);
    let inner = WRAPPERS.iter().find_map(|w| label.strip_suffix(w)).unwrap_or(&label);
    inner == ".fits.fz" || IMAGE_EXTENSIONS.iter().any(|(_, l)| *l == inner)
}

/// Image file extensions (lower case) and the format label each stands for.
const IMAGE_EXTENSIONS: &[(&str, &str)] = &[
    ("fits", ".fits"),
    ("fit", ".fits"),
    ("fts", ".fits"),
    ("xisf", ".xisf"),
    ("jpg", ".jpg"),
    ("jpeg", ".jpg"),
    ("png", ".png"),
];

/// The compressed wrappers a file name may end with.
const WRAPPERS: [&str; 2] = [".z", ".gz"];

fn label_for_name(name: &str) -> String {
    for wrapper in WRAPPERS {
        if let Some(stem) = name.strip_suffix(wrapper) {
            let inner = label_for_name(stem);
            return format!("{inner}{wrapper}");
        }
    }
    if name.ends_with(".fz") {
        return ".fits.fz".into();
    }
    let Some((stem, ext)) = name.rsplit_once('.') else { return String::new() };
    match IMAGE_EXTENSIONS.iter().find(|(e, _)| *e == ext) {
        Some((_, label)) => (*label).to_owned(),
        None if !stem.is_empty() => format!(".{ext}"),
        None => String::new(),
    }
}

/// A file's name without its image suffixes, by the rules of [`format_from_path`] (a wrapper, `.fz`, an image
/// extension); other names lose their last extension only.
///
/// ```
/// use dso_models::decode::image_stem;
/// assert_eq!(image_stem("/a/m31.fits.fz"), "m31");
/// assert_eq!(image_stem("b/Light_001.FIT"), "Light_001");
/// assert_eq!(image_stem("frame.jpg.z"), "frame");
/// assert_eq!(image_stem("notes.txt"), "notes");
/// assert_eq!(image_stem("noext"), "noext");
/// ```
pub fn image_stem(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // ASCII lower-casing keeps byte offsets, so `end` indexes `name` too.
    let lower = name.to_ascii_lowercase();
    let mut end = lower.len();
    if let Some(w) = WRAPPERS.iter().find(|w| lower.ends_with(*w)) {
        end -= w.len();
    }
    if lower[..end].ends_with(".fz") {
        end -= 3;
    }
    match lower[..end].rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && IMAGE_EXTENSIONS.iter().any(|(e, _)| *e == ext) => {
            name[..stem.len()].to_owned()
        }
        _ if end < name.len() && end > 0 => name[..end].to_owned(),
        _ => path.file_stem().map_or(name.clone(), |s| s.to_string_lossy().into_owned()),
    }
}

/// Trims, lower-cases and gives the label a leading dot (`"FITS"` → `".fits"`).
fn normalise_label(format: &str) -> String {
    let f = format.trim().to_ascii_lowercase();
    if f.is_empty() || f.starts_with('.') {
        f
    } else {
        format!(".{f}")
    }
}

fn kind_from_label(label: &str) -> Option<Kind> {
    if label.ends_with(".z") {
        return Some(Kind::Zlib);
    }
    if label.ends_with(".gz") {
        return Some(Kind::Gzip);
    }
    match label {
        ".fits" | ".fit" | ".fts" | ".fits.fz" | ".fz" => Some(Kind::Fits),
        ".jpg" | ".jpeg" => Some(Kind::Jpeg),
        ".png" => Some(Kind::Png),
        ".xisf" => Some(Kind::Xisf),
        _ => None,
    }
}

fn describe_label(label: &str) -> &'static str {
    match kind_from_label(label) {
        Some(Kind::Fits) => "FITS",
        Some(Kind::Jpeg) => "JPEG",
        Some(Kind::Png) => "PNG",
        Some(Kind::Xisf) => "XISF",
        Some(Kind::Zlib) => "zlib-compressed",
        Some(Kind::Gzip) => "gzip-compressed",
        None => "an image",
    }
}

/// The first 8 bytes in hex, with a printable rendering: `47 49 46 38 ("GIF8")`.
fn hex_head(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(8)];
    let hex: Vec<String> = head.iter().map(|b| format!("{b:02X}")).collect();
    let text: String = head.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
    format!("{} (\"{text}\")", hex.join(" "))
}

/// `1234567` → `"1 234 567"`: large counts read better grouped in error messages.
pub(crate) fn group_digits(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_from_paths() {
        for (path, label) in [
            ("a.fits", ".fits"),
            ("a.FIT", ".fits"),
            ("a.fts", ".fits"),
            ("a.fits.fz", ".fits.fz"),
            ("a.fz", ".fits.fz"),
            ("a.jpg", ".jpg"),
            ("a.JPEG", ".jpg"),
            ("a.png", ".png"),
            ("a.fits.z", ".fits.z"),
            ("a.png.z", ".png.z"),
            ("a.fits.gz", ".fits.gz"),
            ("a.xyz", ".xyz"),
            ("README", ""),
            (".hidden", ""),
        ] {
            assert_eq!(format_from_path(path), label, "{path}");
        }
    }

    #[test]
    fn labels_are_normalised() {
        assert_eq!(normalise_label(" FITS "), ".fits");
        assert_eq!(normalise_label(".JPG.Z"), ".jpg.z");
        assert_eq!(kind_from_label(".fits.fz"), Some(Kind::Fits));
        assert_eq!(kind_from_label(".jpg.z"), Some(Kind::Zlib));
        assert_eq!(kind_from_label(".xyz"), None);
    }

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1 000");
        assert_eq!(group_digits(1_000_000), "1 000 000");
    }

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

    #[test]
    fn too_large_message_names_the_size() {
        let err = Limits::default().check_pixels(100_000, 100_000).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image too large: 100000×100000 is 10 000 000 000 pixels, more than the 200 000 000 allowed"
        );
    }
}
