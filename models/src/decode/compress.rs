//! The compression wrappers around an image: INDI's `.<ext>.z` (a zlib stream, RFC 1950, written by libindi's
//! `compress2` when a camera's `CCD_COMPRESSION` is on for a non-FITS format) and `.gz` files (gzip, RFC 1952).
//!
//! Inflating is where a few kilobytes can become gigabytes (deflate reaches about 1000:1 on constant data), so the
//! output is bounded while it is produced, never checked afterwards, and by two things:
//!
//! - [`Limits::max_bytes`]: the driver sets it to its frame limit (`DSO_MAX_FRAME_MB`), so a compressed frame never
//!   grows past what an uncompressed one may be;
//! - what the inflated data announces about itself, read from its first bytes: data that is no image at all (a
//!   stream of zeros, a second compression layer) is refused after the first chunk; a FITS primary image or an
//!   XISF file says how long it is (header plus `|BITPIX|/8 × NAXIS1 × NAXIS2 × …`, or the end of its data block),
//!   so a header announcing more than the limit is refused before its data is inflated, and inflation stops where
//!   the announced image ends. JPEG and PNG announce no length: the limit alone bounds them.
//!
//! The output buffer grows in steps capped at the bound (never by doubling past it), so peak memory stays within
//! the bound plus one chunk.

use std::io::Read;

use flate2::read::{GzDecoder, ZlibDecoder};

use super::{group_digits, hex_head, sniff, xisf, DecodeError, Kind, Limits};

/// Bytes inflated per read.
const CHUNK: usize = 256 * 1024;
/// A FITS header longer than this (about 11 000 cards) is not waited for: the limit alone then bounds the output.
const MAX_FITS_HEADER: usize = 360 * 2880;
/// Likewise for an XISF header.
const MAX_XISF_HEADER: usize = 4 << 20;
/// FITS files are made of 2880-byte blocks (FITS 4.0 §3.1).
const BLOCK: u64 = 2880;

/// Inflates a zlib ([`Kind::Zlib`]) or gzip ([`Kind::Gzip`]) stream holding one image, refusing output above
/// `limits.max_bytes` or above what the image's header announces (see the module docs).
///
/// ```
/// use std::io::Write;
/// use dso_models::decode::{compress::inflate, Kind, Limits};
/// let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
/// z.write_all(b"\x89PNG\r\n\x1a\n and the rest").unwrap();
/// let packed = z.finish().unwrap();
/// assert_eq!(inflate(&packed, Kind::Zlib, &Limits::default()).unwrap(), b"\x89PNG\r\n\x1a\n and the rest");
/// ```
pub fn inflate(bytes: &[u8], kind: Kind, limits: &Limits) -> Result<Vec<u8>, DecodeError> {
    let name = if kind == Kind::Gzip { "gzip" } else { "zlib" };
    let mut reader: Box<dyn Read + '_> = match kind {
        Kind::Gzip => Box::new(GzDecoder::new(bytes)),
        _ => Box::new(ZlibDecoder::new(bytes)),
    };
    let corrupt = |e: std::io::Error| DecodeError::Corrupt(format!("the {name} stream does not inflate: {e}"));
    // Until the header is read, output past the limit is an error; once it announced the image's length, inflation
    // simply stops there (anything after the image is not decoded anyway).
    let mut bound = limits.max_bytes;
    let mut announced = false;
    let mut decided = false;
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; CHUNK];
    loop {
        // One byte past the limit tells "exactly at the limit" from "over it".
        let room = if announced { bound } else { bound.saturating_add(1) }.saturating_sub(out.len() as u64);
        if room == 0 {
            break;
        }
        let want = usize::try_from(room).unwrap_or(usize::MAX).min(CHUNK);
        let n = reader.read(&mut chunk[..want]).map_err(corrupt)?;
        if n == 0 {
            break;
        }
        if (out.len() + n) as u64 > bound {
            // Only reachable before an announcement (afterwards reads stop at the bound): over the limit.
            return Err(too_large(name, limits));
        }
        grow(&mut out, n, bound);
        out.extend_from_slice(&chunk[..n]);
        if decided {
            continue;
        }
        match announcement(&out, name)? {
            Announced::NeedMore => {}
            Announced::Unknown => decided = true,
            Announced::Len { len, shape } => {
                decided = true;
                if len > limits.max_bytes {
                    return Err(DecodeError::TooLarge(format!(
                        "the {name} stream holds {shape} of {} bytes, more than the {} allowed",
                        group_digits(u128::from(len)),
                        group_digits(u128::from(limits.max_bytes))
                    )));
                }
                announced = true;
                bound = len;
                if out.len() as u64 >= len {
                    out.truncate(len as usize);
                    break;
                }
                out.reserve_exact((len - out.len() as u64) as usize);
            }
        }
    }
    if out.is_empty() {
        return Err(DecodeError::Corrupt(format!("the {name} stream holds no data")));
    }
    if !decided {
        // A stream shorter than a header: what it holds is refused as a long one would be.
        image_kind(&out, name)?;
    }
    Ok(out)
}

fn too_large(name: &str, limits: &Limits) -> DecodeError {
    DecodeError::TooLarge(format!(
        "the {name} stream inflates to more than the {} bytes allowed",
        group_digits(u128::from(limits.max_bytes))
    ))
}

/// Makes room for `n` more bytes: at least double the capacity (amortised), never beyond `cap` bytes in all.
fn grow(out: &mut Vec<u8>, n: usize, cap: u64) {
    let needed = out.len() + n;
    if needed <= out.capacity() {
        return;
    }
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let target = (out.capacity().max(CHUNK) * 2).min(cap).max(needed);
    out.reserve_exact(target - out.len());
}

/// What the first inflated bytes say about the whole.
#[derive(Debug, PartialEq, Eq)]
enum Announced {
    /// Too few bytes yet to tell.
    NeedMore,
    /// An image that does not say how long it is (JPEG, PNG, FITS whose image is not in the primary HDU).
    Unknown,
    /// The image's full length in bytes, and what it is (`a 1280×1024×16-bit FITS image`).
    Len { len: u64, shape: String },
}

/// Reads the announcement at the start of inflated data (`head`: everything inflated so far). Data that is not an
/// image, or is compressed again, is refused here.
fn announcement(head: &[u8], name: &str) -> Result<Announced, DecodeError> {
    // Enough for every signature sniff knows (FITS' `SIMPLE  =` is the longest) and XISF's header length.
    if head.len() < 16 {
        return Ok(Announced::NeedMore);
    }
    Ok(match image_kind(head, name)? {
        Kind::Fits => fits_announcement(head),
        Kind::Xisf => xisf_announcement(head),
        _ => Announced::Unknown,
    })
}

/// The kind of image inflated data holds; an error when it is no image or compressed again.
fn image_kind(head: &[u8], name: &str) -> Result<Kind, DecodeError> {
    match sniff(head) {
        None => Err(DecodeError::Corrupt(format!(
            "the {name} stream does not hold an image: its data starts with {}",
            hex_head(head)
        ))),
        Some(Kind::Zlib | Kind::Gzip) => Err(DecodeError::Unsupported(format!(
            "the {name} stream is compressed twice; only one zlib or gzip layer is accepted"
        ))),
        Some(kind) => Ok(kind),
    }
}

/// The length of a FITS file's primary HDU, from its header (FITS 4.0 §4.4.1: `BITPIX`, `NAXIS`, `NAXISn`;
/// the data padded to whole blocks). Only a primary HDU with a 2-D or larger image announces anything: when the
/// image is in an extension, decoding needs the rest of the file.
fn fits_announcement(head: &[u8]) -> Announced {
    let mut bitpix: Option<i64> = None;
    let mut naxis: Option<usize> = None;
    let mut axes: Vec<Option<u64>> = Vec::new();
    for (i, card) in head.chunks_exact(80).enumerate() {
        let keyword = std::str::from_utf8(&card[..8]).unwrap_or("").trim_end();
        if keyword == "END" {
            let (Some(bitpix), Some(naxis)) = (bitpix, naxis) else { return Announced::Unknown };
            if naxis < 2 || axes.len() < naxis || axes.iter().any(|a| a.is_none_or(|a| a == 0)) {
                return Announced::Unknown;
            }
            let dims: Vec<u64> = axes.iter().map(|a| a.unwrap_or(0)).collect();
            let item = u128::from(bitpix.unsigned_abs() / 8);
            let data = dims.iter().fold(item, |acc, &a| acc.saturating_mul(u128::from(a)));
            let header = ((i as u64 + 1) * 80).div_ceil(BLOCK) * BLOCK;
            let total = u128::from(header) + data.div_ceil(u128::from(BLOCK)) * u128::from(BLOCK);
            let shape: Vec<String> = dims.iter().map(u64::to_string).collect();
            let float = if bitpix < 0 { " float" } else { "" };
            return Announced::Len {
                len: u64::try_from(total).unwrap_or(u64::MAX),
                shape: format!("a {}×{}-bit{float} FITS image", shape.join("×"), bitpix.unsigned_abs()),
            };
        }
        if card.get(8..10) != Some(b"= ") {
            continue;
        }
        let value = std::str::from_utf8(&card[10..]).unwrap_or("");
        let value = value.split('/').next().unwrap_or("").trim();
        match keyword {
            "BITPIX" => bitpix = value.parse().ok().filter(|b| [8, 16, 32, 64, -32, -64].contains(b)),
            "NAXIS" => {
                naxis = value.parse().ok().filter(|&n| n <= 999);
                axes = vec![None; naxis.unwrap_or(0)];
            }
            k => {
                if let Some(slot) = k.strip_prefix("NAXIS").and_then(|n| n.parse::<usize>().ok()) {
                    if let Some(axis) = slot.checked_sub(1).and_then(|s| axes.get_mut(s)) {
                        *axis = value.parse().ok();
                    }
                }
            }
        }
    }
    if head.len() >= MAX_FITS_HEADER {
        Announced::Unknown
    } else {
        Announced::NeedMore
    }
}

/// The length of a monolithic XISF file: the end of its image's data block (XISF 1.0 §9.2).
fn xisf_announcement(head: &[u8]) -> Announced {
    let Some(len) = head.get(8..12).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize) else {
        return Announced::NeedMore;
    };
    if len > MAX_XISF_HEADER {
        return Announced::Unknown;
    }
    match head.get(16..16 + len) {
        None => Announced::NeedMore,
        Some(xml) => match xisf::data_end(xml) {
            // A block may (oddly) overlap the header; the header is needed whole in any case.
            Some((end, shape)) => {
                Announced::Len { len: end.max(16 + len as u64), shape: format!("a {shape} XISF image") }
            }
            None => Announced::Unknown,
        },
    }
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

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";

    fn png_then_zeros(n: usize) -> Vec<u8> {
        let mut data = PNG.to_vec();
        data.resize(n, 0);
        data
    }

    /// A FITS primary header (one block) followed by `data` bytes.
    fn fits(bitpix: i32, axes: &[u64], data: usize) -> Vec<u8> {
        let mut cards = vec![
            "SIMPLE  =                    T".to_owned(),
            format!("BITPIX  = {bitpix:>20}"),
            format!("NAXIS   = {:>20}", axes.len()),
        ];
        for (i, a) in axes.iter().enumerate() {
            cards.push(format!("{:<8}= {a:>20} / axis", format!("NAXIS{}", i + 1)));
        }
        cards.push("END".into());
        let mut out: Vec<u8> = cards.iter().flat_map(|c| format!("{c:<80}").into_bytes()).collect();
        out.resize(2880, b' ');
        out.resize(2880 + data, 0);
        out
    }

    #[test]
    fn output_is_capped() {
        let packed = zlib(&png_then_zeros(1 << 20));
        let limits = Limits { max_bytes: 1000, ..Limits::default() };
        let err = inflate(&packed, Kind::Zlib, &limits).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge(_)), "{err:?}");
        let exact = Limits { max_bytes: 1 << 20, ..Limits::default() };
        assert_eq!(inflate(&packed, Kind::Zlib, &exact).unwrap().len(), 1 << 20);
    }

    #[test]
    fn data_that_is_no_image_is_refused_at_once() {
        let err = inflate(&zlib(&vec![0u8; 1 << 20]), Kind::Zlib, &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "damaged image: the zlib stream does not hold an image: its data starts with 00 00 00 00 00 00 00 00 \
             (\"........\")"
        );
        let twice = zlib(&zlib(&png_then_zeros(1000)));
        let err = inflate(&twice, Kind::Zlib, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("compressed twice"), "{err}");
        let err = inflate(&zlib(b"tiny"), Kind::Zlib, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("does not hold an image"), "{err}");
    }

    #[test]
    fn a_fits_header_bounds_the_output() {
        // 10×10×16-bit: one header block and one data block; everything after is not inflated.
        let mut data = fits(16, &[10, 10], 200);
        data.resize(1 << 20, 7);
        let out = inflate(&zlib(&data), Kind::Zlib, &Limits::default()).unwrap();
        assert_eq!(out.len(), 2 * 2880);
        assert_eq!(out[..], data[..2 * 2880]);
        // Announcing more than the limit is refused from the header, whatever follows.
        let big = fits(-64, &[20_000, 20_000], 0);
        let err = inflate(&zlib(&big), Kind::Zlib, &Limits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "image too large: the zlib stream holds a 20000×20000×64-bit float FITS image of 3 200 005 440 bytes, \
             more than the 1 073 741 824 allowed"
        );
        // A file shorter than announced (no final padding) inflates whole; decoding judges it.
        let short = fits(8, &[100, 100], 5000);
        assert_eq!(inflate(&zlib(&short), Kind::Zlib, &Limits::default()).unwrap().len(), short.len());
    }

    #[test]
    fn fits_without_a_primary_image_announces_nothing() {
        assert_eq!(fits_announcement(&fits(8, &[], 0)), Announced::Unknown);
        assert_eq!(fits_announcement(&fits(16, &[100], 0)), Announced::Unknown);
        assert_eq!(fits_announcement(&fits(16, &[100, 0], 0)), Announced::Unknown);
        assert_eq!(fits_announcement(&fits(16, &[100, 100], 0)[..400]), Announced::NeedMore);
        let Announced::Len { len, shape } = fits_announcement(&fits(16, &[100, 100, 3], 0)) else { panic!() };
        assert_eq!((len, shape.as_str()), (2880 + 60_480, "a 100×100×3×16-bit FITS image"));
    }

    #[test]
    fn an_xisf_header_bounds_the_output() {
        let xml = "<xisf version=\"1.0\"><Image geometry=\"4:4:1\" sampleFormat=\"UInt8\" \
                   location=\"attachment:4096:16\"/></xisf>";
        let mut data = b"XISF0100".to_vec();
        data.extend((xml.len() as u32).to_le_bytes());
        data.extend([0; 4]);
        data.extend(xml.as_bytes());
        data.resize(4096 + 16, 9);
        let whole = data.clone();
        data.resize(1 << 20, 0);
        assert_eq!(inflate(&zlib(&data), Kind::Zlib, &Limits::default()).unwrap(), whole);
        let big = xml.replace("4:4:1", "40000:40000:1").replace(":16\"", ":1600000000\"");
        let mut data = b"XISF0100".to_vec();
        data.extend((big.len() as u32).to_le_bytes());
        data.extend([0; 4]);
        data.extend(big.as_bytes());
        let limits = Limits { max_bytes: 128 << 20, ..Limits::default() };
        let err = inflate(&zlib(&data), Kind::Zlib, &limits).unwrap_err();
        assert!(err.to_string().contains("holds a 40000×40000×1 UInt8 XISF image of 1 600 004 096 bytes"), "{err}");
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
        z.write_all(&png_then_zeros(100)).unwrap();
        assert_eq!(inflate(&z.finish().unwrap(), Kind::Gzip, &Limits::default()).unwrap(), png_then_zeros(100));
    }

    #[test]
    fn growth_never_passes_the_cap() {
        let mut v = Vec::new();
        grow(&mut v, 10, 1000);
        assert!(v.capacity() >= 10 && v.capacity() <= 1000, "{}", v.capacity());
        let mut v: Vec<u8> = vec![0; CHUNK];
        grow(&mut v, CHUNK, 3 * CHUNK as u64 / 2);
        assert!(v.capacity() >= 2 * CHUNK, "the chunk must fit even past the cap: {}", v.capacity());
        let mut v: Vec<u8> = vec![0; CHUNK];
        grow(&mut v, 1, 5 * CHUNK as u64);
        assert!(v.capacity() <= 5 * CHUNK, "{}", v.capacity());
    }
}
