//! XISF frames: the format INDI 2.x cameras send when the user picks it over FITS in Ekos (`CCD_CAPTURE_FORMAT`).
//!
//! What libindi writes (`indixisf.cpp`, through LibXISF) is what this reads: a monolithic XISF 1.0 file (the
//! `XISF0100` signature, a little-endian header length, the XML header, then attached data blocks) holding one 2-D
//! image of `UInt8`, `UInt16` or `UInt32` samples, 1 or 3 planar channels, optionally LZ4-compressed with byte
//! shuffling, with the camera's FITS keywords as `<FITSKeyword>` children and a `<ColorFilterArray>` for Bayer
//! sensors. PixInsight's other choices are read too: `Float32`/`Float64` with `bounds`, the `Normal` (interleaved)
//! pixel storage, big-endian blocks, and zlib. Refused with a clear [`DecodeError`]: zstd compression, inline or
//! embedded data, N-D images, complex samples.
//!
//! The frame follows the FITS conventions of [`super::fits`]: rows as stored (top first), integers by their full
//! scale ([`super::scale`]), floats by their `bounds`, the Bayer pattern from `BAYERPAT` (or the CFA element),
//! demosaiced by the same code. Sizes are checked before anything is allocated or inflated.
//!
//! The XML header is parsed in the sibling module `xisf_header`; this one reads the data block it describes.

use std::io::Read;

use dso_plugin_api::{Encoding, Frame, HeaderCard};

use super::fits::colour_planes;
use super::scale::{normalise, Storage};
use super::xisf_header::{parse_header, Compression, SampleFormat};
use super::{group_digits, DecodeError, Limits};

/// The monolithic file signature, XISF 1.0 §9.2.
pub const SIGNATURE: &[u8] = b"XISF0100";

/// Decodes the first image of a monolithic XISF file.
pub fn decode_xisf(bytes: &[u8], limits: &Limits) -> Result<Frame, DecodeError> {
    let corrupt = |what: String| DecodeError::Corrupt(format!("XISF: {what}"));
    let unsupported = |what: String| DecodeError::Unsupported(format!("XISF {what}"));
    if !bytes.starts_with(SIGNATURE) || bytes.len() < 16 {
        return Err(corrupt("no XISF0100 signature and header length".into()));
    }
    let header_len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    let xml = bytes.get(16..16usize.saturating_add(header_len)).ok_or_else(|| DecodeError::Truncated {
        missing: 16usize.saturating_add(header_len).saturating_sub(bytes.len()) as u64,
        shape: format!("an XISF header of {header_len} bytes"),
    })?;
    let xml = std::str::from_utf8(xml).map_err(|e| corrupt(format!("header is not UTF-8: {e}")))?;
    let image = parse_header(xml)?.ok_or_else(|| unsupported("file without an <Image>".into()))?;

    let (width, height, channels) = image.geometry;
    limits.check_pixels(width as u64, height as u64)?;
    let item = image.format.item_size();
    let raw_len = (width as u128) * (height as u128) * (channels as u128) * (item as u128);
    if raw_len > u128::from(limits.max_bytes) {
        return Err(DecodeError::TooLarge(format!(
            "the {width}×{height}×{channels} {:?} XISF image holds {} bytes, more than the {} allowed",
            image.format,
            group_digits(raw_len),
            group_digits(u128::from(limits.max_bytes))
        )));
    }
    let raw_len = raw_len as usize;
    let (start, size) = image.location;
    let block = bytes.get(start..start.saturating_add(size)).ok_or_else(|| DecodeError::Truncated {
        missing: start.saturating_add(size).saturating_sub(bytes.len()) as u64,
        shape: format!("{width}×{height}×{channels} {:?} XISF data block", image.format),
    })?;
    let data = match &image.compression {
        None if block.len() >= raw_len => std::borrow::Cow::Borrowed(&block[..raw_len]),
        None => return Err(corrupt(format!("data block of {} bytes for {raw_len} bytes of pixels", block.len()))),
        Some(c) => {
            if c.uncompressed != raw_len {
                return Err(corrupt(format!("compressed block expands to {} bytes, not {raw_len}", c.uncompressed)));
            }
            let mut out = inflate(block, c, raw_len)?;
            if let Some(k) = c.shuffled_item {
                out = unshuffle(&out, k);
            }
            std::borrow::Cow::Owned(out)
        }
    };

    let n = width * height;
    let samples = samples(&data, image.format, image.big_endian, n * channels);
    let mut values = if image.interleaved && channels > 1 { deinterleave(&samples, channels) } else { samples };
    let used = if channels == 3 { 3 } else { 1 };
    if channels != 1 && channels != 3 {
        log::warn!("XISF image with {channels} channels: only its first is used");
    }
    values.truncate(n * used);
    match (image.format.float(), image.bounds) {
        (true, Some((low, high))) => {
            let inv = if high > low { 1.0 / (high - low) } else { 0.0 };
            values.iter_mut().for_each(|v| *v = if v.is_finite() { ((*v - low) * inv).clamp(0.0, 1.0) } else { 0.0 });
        }
        _ => {
            normalise(&mut values, Storage { bitpix: image.format.bitpix(), bzero: 0.0, bscale: 1.0 });
        }
    }
    let mut header = image.keywords;
    if let Some(pattern) = image.cfa.filter(|_| !header.iter().any(|c| c.keyword == "BAYERPAT")) {
        header.push(HeaderCard { keyword: "BAYERPAT".into(), value: pattern });
    }
    let planes = colour_planes(values, used, width, height, &header);
    let mut frame = Frame::new(width, height, planes, Encoding::Linear).map_err(|e| corrupt(format!("image: {e}")))?;
    frame.header = header;
    Ok(frame)
}

/// Where the first image's data block ends (its `attachment:position:size`), and its geometry, from a complete XISF
/// header: what a compressed XISF file announces about its length (see [`super::compress`]).
pub(super) fn data_end(xml: &[u8]) -> Option<(u64, String)> {
    let image = parse_header(std::str::from_utf8(xml).ok()?).ok()??;
    let (start, size) = image.location;
    let (width, height, channels) = image.geometry;
    let end = u64::try_from(start).ok()?.checked_add(u64::try_from(size).ok()?)?;
    Some((end, format!("{width}×{height}×{channels} {:?}", image.format)))
}

/// The uncompressed bytes of a block (`raw_len` of them, checked before the header's size is trusted further).
fn inflate(block: &[u8], c: &Compression, raw_len: usize) -> Result<Vec<u8>, DecodeError> {
    let corrupt = |what: String| DecodeError::Corrupt(format!("XISF {} data: {what}", c.codec));
    let out = match c.codec.as_str() {
        "zlib" => {
            let mut out = Vec::with_capacity(raw_len);
            flate2::read::ZlibDecoder::new(block)
                .take(raw_len as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| corrupt(e.to_string()))?;
            out
        }
        "lz4" | "lz4hc" => lz4_flex::block::decompress(block, raw_len).map_err(|e| corrupt(e.to_string()))?,
        other => return Err(DecodeError::Unsupported(format!("XISF compression codec '{other}'"))),
    };
    if out.len() != raw_len {
        return Err(corrupt(format!("expanded to {} bytes instead of {raw_len}", out.len())));
    }
    Ok(out)
}

/// Undoes byte shuffling (XISF 1.0 §9.4.4): byte `j` of item `i` was stored at `j × items + i`; a remainder shorter
/// than an item is stored as is at the end.
fn unshuffle(data: &[u8], item: usize) -> Vec<u8> {
    let items = data.len() / item;
    let mut out = vec![0u8; data.len()];
    for j in 0..item {
        for (i, &b) in data[j * items..(j + 1) * items].iter().enumerate() {
            out[i * item + j] = b;
        }
    }
    out[items * item..].copy_from_slice(&data[items * item..]);
    out
}

/// `count` samples as `f32` values (not yet normalised).
fn samples(data: &[u8], format: SampleFormat, big: bool, count: usize) -> Vec<f32> {
    macro_rules! read {
        ($t:ty, $n:expr) => {
            data.chunks_exact($n)
                .take(count)
                .map(|b| {
                    let a: [u8; $n] = b.try_into().unwrap_or([0; $n]);
                    (if big { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) }) as f32
                })
                .collect()
        };
    }
    match format {
        SampleFormat::UInt8 => data.iter().take(count).map(|&b| f32::from(b)).collect(),
        SampleFormat::UInt16 => read!(u16, 2),
        SampleFormat::UInt32 => read!(u32, 4),
        SampleFormat::Float32 => read!(f32, 4),
        SampleFormat::Float64 => read!(f64, 8),
    }
}

/// Interleaved samples (`Normal` storage: all channels of a pixel together) → one plane after the other.
fn deinterleave(samples: &[f32], channels: usize) -> Vec<f32> {
    let n = samples.len() / channels;
    let mut out = vec![0.0; n * channels];
    for (i, px) in samples.chunks_exact(channels).enumerate() {
        for (c, &v) in px.iter().enumerate() {
            out[c * n + i] = v;
        }
    }
    out
}
