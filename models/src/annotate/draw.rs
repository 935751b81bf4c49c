//! Drawing primitives for annotations, all clipped to the image: any rectangle, however far outside, NaN or huge,
//! draws what falls inside and nothing else, and never panics. Coordinates are `i64` so that adding a line width to
//! a box edge at ±10¹² cannot overflow after [`pixel_span`].
//!
//! Text uses the 8×8 bitmap font of the `font8x8` crate (MIT; a Rust port of Daniel Hepper's public-domain C header
//! `dhepper/font8x8`, itself from Marcel Sondaar's and IBM's public-domain VGA fonts), scaled by an integer factor:
//! no font file at run time, and crisp at any scale.

use font8x8::{UnicodeFonts, BASIC_FONTS};
use image::{Rgb, RgbImage};

/// Largest coordinate magnitude kept: far outside any image, far inside `i64`.
const FAR: f64 = 1e12;

/// The pixels covered by `start .. start + length` (a negative length counts backwards), as an inclusive
/// `(first, last)` range: a box edge at 10.0 covers pixel 10, one at 10.5 pixels 10 and onwards. `None` when either
/// end is NaN; infinite or huge ends are clamped far outside any image.
///
/// ```
/// use dso_models::annotate::draw::pixel_span;
/// assert_eq!(pixel_span(10.0, 5.0), Some((10, 14)));
/// assert_eq!(pixel_span(10.5, 5.0), Some((10, 15)));
/// assert_eq!(pixel_span(15.0, -5.0), Some((10, 14)));
/// assert_eq!(pixel_span(3.0, 0.0), Some((3, 3)));
/// assert_eq!(pixel_span(f32::NAN, 1.0), None);
/// ```
pub fn pixel_span(start: f32, length: f32) -> Option<(i64, i64)> {
    let (a, b) = (f64::from(start), f64::from(start) + f64::from(length));
    if a.is_nan() || b.is_nan() {
        return None;
    }
    let (lo, hi) = (a.min(b), a.max(b));
    let first = lo.floor().clamp(-FAR, FAR) as i64;
    let last = (hi.ceil().clamp(-FAR, FAR) as i64 - 1).max(first);
    Some((first, last))
}

/// The part of `[x0, x1] × [y0, y1]` (inclusive) inside the image, as `usize` ranges, or `None` when nothing is.
fn clip(image: &RgbImage, x0: i64, y0: i64, x1: i64, y1: i64) -> Option<(usize, usize, usize, usize)> {
    let (w, h) = (i64::from(image.width()), i64::from(image.height()));
    let (x0, y0) = (x0.max(0), y0.max(0));
    let (x1, y1) = (x1.min(w - 1), y1.min(h - 1));
    (x0 <= x1 && y0 <= y1).then_some((x0 as usize, y0 as usize, x1 as usize, y1 as usize))
}

/// Fills the inclusive rectangle `[x0, x1] × [y0, y1]` with `colour`, clipped.
pub fn fill_rect(image: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, colour: Rgb<u8>) {
    let Some((x0, y0, x1, y1)) = clip(image, x0, y0, x1, y1) else { return };
    let stride = image.width() as usize * 3;
    let raw: &mut [u8] = image;
    for row in raw.chunks_exact_mut(stride).skip(y0).take(y1 - y0 + 1) {
        for px in row[x0 * 3..(x1 + 1) * 3].chunks_exact_mut(3) {
            px.copy_from_slice(&colour.0);
        }
    }
}

/// Darkens the inclusive rectangle to `keep` (0..=1) of its brightness, clipped: a translucent black panel that
/// keeps a hint of the image under a text tag.
pub fn darken_rect(image: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, keep: f32) {
    let Some((x0, y0, x1, y1)) = clip(image, x0, y0, x1, y1) else { return };
    let keep = (keep.clamp(0.0, 1.0) * 256.0) as u16;
    let stride = image.width() as usize * 3;
    let raw: &mut [u8] = image;
    for row in raw.chunks_exact_mut(stride).skip(y0).take(y1 - y0 + 1) {
        for v in &mut row[x0 * 3..(x1 + 1) * 3] {
            *v = ((u16::from(*v) * keep) >> 8) as u8;
        }
    }
}

/// The outline of the inclusive box `[x0, x1] × [y0, y1]`, `width` pixels thick, drawn inward so that a box
/// touching the image border keeps all four sides visible.
pub fn outline_rect(image: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, width: i64, colour: Rgb<u8>) {
    let t = width.max(1) - 1;
    fill_rect(image, x0, y0, x1, y0 + t, colour);
    fill_rect(image, x0, y1 - t, x1, y1, colour);
    fill_rect(image, x0, y0, x0 + t, y1, colour);
    fill_rect(image, x1 - t, y0, x1, y1, colour);
}

/// Size in pixels of `text` at `scale`: 8 × scale per character, 8 × scale high.
pub fn text_size(text: &str, scale: i64) -> (i64, i64) {
    (text.chars().count() as i64 * 8 * scale, 8 * scale)
}

/// Draws `text` with its top-left corner at (`x`, `y`), each font pixel a `scale × scale` square, clipped.
/// Characters outside the font (non-ASCII) are drawn as `?`.
pub fn draw_text(image: &mut RgbImage, x: i64, y: i64, text: &str, scale: i64, colour: Rgb<u8>) {
    let s = scale.max(1);
    for (i, c) in text.chars().enumerate() {
        let glyph = BASIC_FONTS.get(c).or_else(|| BASIC_FONTS.get('?')).unwrap_or([0; 8]);
        let cx = x + i as i64 * 8 * s;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8 {
                // font8x8 stores each row as a byte whose least significant bit is the leftmost pixel.
                if bits & (1 << col) != 0 {
                    let (px, py) = (cx + col * s, y + row as i64 * s);
                    fill_rect(image, px, py, px + s - 1, py + s - 1, colour);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RED: Rgb<u8> = Rgb([255, 0, 0]);

    fn count(image: &RgbImage, colour: Rgb<u8>) -> usize {
        image.pixels().filter(|&&p| p == colour).count()
    }

    #[test]
    fn rectangles_are_clipped() {
        let mut img = RgbImage::new(10, 8);
        fill_rect(&mut img, -5, -5, 2, 1, RED);
        assert_eq!(count(&img, RED), 3 * 2);
        fill_rect(&mut img, 100, 100, 200, 200, RED);
        fill_rect(&mut img, i64::MIN / 2, 3, i64::MAX / 2, 3, RED);
        assert_eq!(count(&img, RED), 6 + 10);
        fill_rect(&mut img, 5, 5, 4, 4, RED); // empty
        assert_eq!(count(&img, RED), 16);
    }

    #[test]
    fn outline_is_inward_and_hollow() {
        let mut img = RgbImage::new(20, 20);
        outline_rect(&mut img, 2, 2, 11, 11, 2, RED);
        assert_eq!(*img.get_pixel(2, 2), RED);
        assert_eq!(*img.get_pixel(3, 6), RED);
        assert_eq!(*img.get_pixel(11, 11), RED);
        assert_eq!(*img.get_pixel(6, 6), Rgb([0, 0, 0]), "hollow");
        assert_eq!(*img.get_pixel(1, 6), Rgb([0, 0, 0]), "nothing outside");
        assert_eq!(count(&img, RED), 100 - 36);
    }

    #[test]
    fn text_lands_where_asked() {
        let mut img = RgbImage::new(40, 20);
        draw_text(&mut img, 4, 2, "A", 2, RED);
        let lit: Vec<(u32, u32)> =
            img.enumerate_pixels().filter(|(_, _, &p)| p == RED).map(|(x, y, _)| (x, y)).collect();
        assert!(!lit.is_empty());
        assert!(lit.iter().all(|&(x, y)| (4..20).contains(&x) && (2..18).contains(&y)));
        assert_eq!(text_size("abc", 3), (72, 24));
        draw_text(&mut img, -1000, 5, "é∑ off-image", 1, RED);
    }

    #[test]
    fn darkening_scales_values() {
        let mut img = RgbImage::from_pixel(4, 4, Rgb([200, 100, 0]));
        darken_rect(&mut img, 1, 1, 2, 2, 0.5);
        assert_eq!(*img.get_pixel(1, 1), Rgb([100, 50, 0]));
        assert_eq!(*img.get_pixel(0, 0), Rgb([200, 100, 0]));
    }

    #[test]
    fn spans_from_floats() {
        assert_eq!(pixel_span(-0.5, 1.0), Some((-1, 0)));
        assert_eq!(pixel_span(0.0, f32::INFINITY), Some((0, 999_999_999_999)));
        assert_eq!(pixel_span(f32::INFINITY, f32::NEG_INFINITY), None);
        assert_eq!(pixel_span(f32::MAX, f32::MAX), Some((1_000_000_000_000, 1_000_000_000_000)));
    }
}
