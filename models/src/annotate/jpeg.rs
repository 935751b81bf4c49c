//! Baseline JPEG on every core: the picture cut into horizontal strips, each encoded on its own thread by
//! libjpeg-turbo (the `turbojpeg` crate, built from its bundled sources), joined with restart markers into one
//! standard file.
//!
//! Why: the annotated picture of a 4096² frame is 2048² pixels. The pure-Rust `jpeg-encoder` took 46–55 ms of one
//! core on it (its Huffman coding is scalar, and its SIMD is x86-only, so a Raspberry Pi ran it all in scalar code);
//! libjpeg-turbo, the encoder behind most JPEG files in the world, takes 14–21 ms on the same picture, the same
//! size within 0.1 % (x86 SIMD from NASM, NEON on arm64). A baseline JPEG's entropy-coded data can be cut wherever
//! a restart marker (`RSTn`) stands: the decoder then resets its DC predictions and starts at a byte boundary,
//! which is exactly how an encoder starts a new image. So a strip whose height is a whole number of MCU rows,
//! encoded as an image of its own with the same quality, sampling and (standard, not optimised) Huffman tables,
//! yields the very bytes that the whole picture with a restart interval of one strip would carry for it. The
//! joined file decodes to the same pixels as a single-threaded encoding (tested), and any JPEG reader reads it.

use turbojpeg::{Compressor, Image, PixelFormat, Subsamp};

/// Why a picture could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum JpegError {
    /// The RGB buffer is shorter than `width × height × 3`.
    #[error("{got} bytes for a {width}×{height} RGB picture")]
    Short {
        /// Bytes given.
        got: usize,
        /// Picture width.
        width: u16,
        /// Picture height.
        height: u16,
    },
    /// libjpeg-turbo refused the picture or its settings.
    #[error(transparent)]
    Encoder(#[from] turbojpeg::Error),
    /// The strips' files did not have the layout joining expects.
    #[error("the JPEG strips could not be joined")]
    Layout,
}

/// Sampling used for every strip (4:2:0, libjpeg-turbo's and jpeg-encoder's own choice below quality 90): the MCU
/// is 16×16.
const SAMPLING: Subsamp = Subsamp::Sub2x2;
const MCU: usize = 16;

/// JPEG markers used when joining.
const SOF0: u8 = 0xC0;
const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;
const RST0: u8 = 0xD0;

/// An RGB picture (`w × h`, 3 bytes a pixel) as baseline JPEG at `quality` (1–100), encoded in up to `threads`
/// strips at once; one thread, a small picture or a restart interval that would not fit its 16 bits gives the plain
/// single-threaded encoding.
pub fn encode_rgb(rgb: &[u8], w: u16, h: u16, quality: u8, threads: usize) -> Result<Vec<u8>, JpegError> {
    let (width, height) = (usize::from(w), usize::from(h));
    if rgb.len() < width * height * 3 {
        return Err(JpegError::Short { got: rgb.len(), width: w, height: h });
    }
    let rgb = &rgb[..width * height * 3];
    let mcu_rows = height.div_ceil(MCU);
    let strips = threads.min(mcu_rows / 4).max(1);
    let rows_per_strip = mcu_rows.div_ceil(strips);
    let interval = width.div_ceil(MCU) * rows_per_strip;
    if strips == 1 || interval > usize::from(u16::MAX) {
        return encode(rgb, w, h, quality);
    }
    let strip_h = rows_per_strip * MCU;
    let parts: Vec<Result<Vec<u8>, JpegError>> = std::thread::scope(|s| {
        let handles: Vec<_> = rgb
            .chunks(strip_h * width * 3)
            .map(|part| {
                // A chunk's height fits u16: it is at most `h`.
                let rows = (part.len() / (width * 3)) as u16;
                s.spawn(move || encode(part, w, rows, quality))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    });
    let parts = parts.into_iter().collect::<Result<Vec<_>, _>>()?;
    join(&parts, h, interval as u16).ok_or(JpegError::Layout)
}

/// One picture (or strip), whole, on this thread.
fn encode(rgb: &[u8], w: u16, h: u16, quality: u8) -> Result<Vec<u8>, JpegError> {
    let mut c = Compressor::new()?;
    c.set_quality(i32::from(quality.clamp(1, 100)))?;
    c.set_subsamp(SAMPLING)?;
    // Standard Huffman tables (libjpeg-turbo's default, stated because joining needs the same tables in every strip).
    c.set_optimize(false)?;
    let (width, height) = (usize::from(w), usize::from(h));
    let image = Image { pixels: rgb, width, pitch: width * 3, height, format: PixelFormat::RGB };
    Ok(c.compress_to_vec(image)?)
}

/// Where one strip's file has its frame header (SOF0), its scan header (SOS) and its entropy-coded data.
struct Layout {
    sof: usize,
    sos: usize,
    data: usize,
}

fn layout(jpeg: &[u8]) -> Option<Layout> {
    if jpeg.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let (mut at, mut sof) = (2, None);
    loop {
        if *jpeg.get(at)? != 0xFF {
            return None;
        }
        let marker = *jpeg.get(at + 1)?;
        let len = usize::from(u16::from_be_bytes([*jpeg.get(at + 2)?, *jpeg.get(at + 3)?]));
        match marker {
            SOF0 => sof = Some(at),
            SOS => return Some(Layout { sof: sof?, sos: at, data: at + 2 + len }),
            _ => {}
        }
        at += 2 + len;
    }
}

/// The strips' files joined: the first one's header with the whole picture's height and a restart interval (DRI)
/// inserted before its scan header, then each strip's entropy-coded data followed by the next restart marker, and
/// one end-of-image.
fn join(parts: &[Vec<u8>], height: u16, interval: u16) -> Option<Vec<u8>> {
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total + 6 + 2 * parts.len());
    let first = layout(parts.first()?)?;
    out.extend_from_slice(&parts[0][..first.sos]);
    // SOF0: marker, length (2), precision (1), then the height.
    out.get_mut(first.sof + 5..first.sof + 7)?.copy_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&[0xFF, 0xDD, 0x00, 0x04]);
    out.extend_from_slice(&interval.to_be_bytes());
    out.extend_from_slice(parts[0].get(first.sos..first.data)?);
    for (i, part) in parts.iter().enumerate() {
        let end = part.len().checked_sub(2)?;
        if part[end..] != [0xFF, EOI] {
            return None;
        }
        out.extend_from_slice(part.get(layout(part)?.data..end)?);
        if i + 1 < parts.len() {
            out.extend_from_slice(&[0xFF, RST0 + (i % 8) as u8]);
        }
    }
    out.extend_from_slice(&[0xFF, EOI]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture with detail everywhere (a gradient, noise and a few sharp coloured lines), `w × h`.
    fn picture(w: usize, h: usize) -> Vec<u8> {
        let mut s = 7u32;
        let mut rgb = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let n = (s >> 27) as u8;
                let g = ((x + y) * 255 / (w + h)) as u8;
                let line = x % 97 == 0 || y % 61 == 0;
                rgb.extend_from_slice(&if line { [255, 40, n] } else { [g + n / 2, g, g.saturating_sub(n)] });
            }
        }
        rgb
    }

    fn decoded(jpeg: &[u8]) -> image::RgbImage {
        image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).expect("a readable JPEG").to_rgb8()
    }

    #[test]
    fn strips_decode_to_the_same_pixels_as_one_encoding() {
        // (width, height, threads, restart markers): whole MCU rows in 2 strips, a ragged last row in 3, 17 MCU rows
        // in 4 strips of 5, 5, 5 and 2 rows, and a picture too short to split (3 MCU rows).
        for (w, h, threads, markers) in [(640, 480, 2, 1), (333, 517, 3, 2), (1000, 257, 4, 3), (64, 40, 2, 0)] {
            let rgb = picture(w, h);
            let one = encode(&rgb, w as u16, h as u16, 85).unwrap();
            let many = encode_rgb(&rgb, w as u16, h as u16, 85, threads).unwrap();
            let (a, b) = (decoded(&one), decoded(&many));
            assert_eq!((b.width(), b.height()), (w as u32, h as u32));
            assert!(a == b, "{w}×{h} in {threads} strips decodes differently");
            let restarts = many.windows(2).filter(|m| m[0] == 0xFF && (0xD0..=0xD7).contains(&m[1])).count();
            assert_eq!(restarts, markers, "{w}×{h}");
        }
    }

    #[test]
    fn one_thread_is_the_plain_encoding() {
        let rgb = picture(200, 100);
        assert_eq!(encode_rgb(&rgb, 200, 100, 85, 1).unwrap(), encode(&rgb, 200, 100, 85).unwrap());
    }

    #[test]
    fn a_short_buffer_is_an_error_not_a_panic() {
        for threads in [1, 2] {
            assert!(matches!(encode_rgb(&[0; 30], 100, 100, 85, threads), Err(JpegError::Short { got: 30, .. })));
        }
    }
}
