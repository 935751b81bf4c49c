//! How large a frame may be, and why a frame was refused: the two things every decoder of this module shares.
//!
//! Every format checks its sizes against the same [`Limits`] before it allocates, and fails with the same
//! [`DecodeError`], whose text the astronomer reads in an INDI message or on the CLI's stderr. Kept apart from the
//! format dispatch in [`super`] so that each decoder depends on the limits and the error, not on the others.

use std::fmt;

use super::names::describe_label;

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
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1 000");
        assert_eq!(group_digits(1_000_000), "1 000 000");
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
