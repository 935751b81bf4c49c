//! The compression wrappers around an image: INDI's `.<ext>.z` (a zlib stream, RFC 1950, written by libindi's
//! `compress2` when a camera's `CCD_COMPRESSION` is on for a non-FITS format) and `.gz` files (gzip, RFC 1952).
//!
//! Inflating is where a few kilobytes can become gigabytes, so the output is capped at [`Limits::max_bytes`] while
//! it is produced, not checked afterwards.

use std::io::Read;

use flate2::read::{GzDecoder, ZlibDecoder};

use super::{group_digits, DecodeError, Kind, Limits};

/// Inflates a zlib ([`Kind::Zlib`]) or gzip ([`Kind::Gzip`]) stream, refusing output above `limits.max_bytes`.
///
/// ```
/// use std::io::Write;
/// use dso_models::decode::{compress::inflate, Kind, Limits};
/// let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
/// z.write_all(b"SIMPLE  =").unwrap();
/// let packed = z.finish().unwrap();
/// assert_eq!(inflate(&packed, Kind::Zlib, &Limits::default()).unwrap(), b"SIMPLE  =");
/// ```
pub fn inflate(bytes: &[u8], kind: Kind, limits: &Limits) -> Result<Vec<u8>, DecodeError> {
    let name = if kind == Kind::Gzip { "gzip" } else { "zlib" };
    let reader: Box<dyn Read + '_> = match kind {
        Kind::Gzip => Box::new(GzDecoder::new(bytes)),
        _ => Box::new(ZlibDecoder::new(bytes)),
    };
    // Reading one byte past the cap tells "exactly at the cap" from "over it".
    let mut capped = reader.take(limits.max_bytes.saturating_add(1));
    // A modest first guess: compressed astronomical data rarely shrinks more than 4:1.
    let guess = bytes.len().saturating_mul(4).min(usize::try_from(limits.max_bytes).unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(guess);
    capped
        .read_to_end(&mut out)
        .map_err(|e| DecodeError::Corrupt(format!("the {name} stream does not inflate: {e}")))?;
    if out.len() as u64 > limits.max_bytes {
        return Err(DecodeError::TooLarge(format!(
            "the {name} stream inflates to more than the {} bytes allowed",
            group_digits(u128::from(limits.max_bytes))
        )));
    }
    if out.is_empty() {
        return Err(DecodeError::Corrupt(format!("the {name} stream holds no data")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(data).unwrap();
        z.finish().unwrap()
    }

    #[test]
    fn output_is_capped() {
        let packed = zlib(&vec![0u8; 1 << 20]);
        let limits = Limits { max_bytes: 1000, ..Limits::default() };
        let err = inflate(&packed, Kind::Zlib, &limits).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge(_)), "{err:?}");
        let exact = Limits { max_bytes: 1 << 20, ..Limits::default() };
        assert_eq!(inflate(&packed, Kind::Zlib, &exact).unwrap().len(), 1 << 20);
    }

    #[test]
    fn broken_streams_are_corrupt() {
        let mut packed = zlib(b"some bytes that compress");
        packed.truncate(packed.len() / 2);
        packed[2] ^= 0xFF;
        let err = inflate(&packed, Kind::Zlib, &Limits::default()).unwrap_err();
        assert!(matches!(err, DecodeError::Corrupt(_)), "{err:?}");
    }

    #[test]
    fn gzip_too() {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(b"abc").unwrap();
        assert_eq!(inflate(&z.finish().unwrap(), Kind::Gzip, &Limits::default()).unwrap(), b"abc");
    }
}
