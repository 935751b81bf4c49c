//! JPEG and PNG: what smart telescopes (Seestar, Vespera, Stellina) and stacking programs publish. They are
//! already stretched for display, so frames come out [`Encoding::Stretched`].
//!
//! Decoded with the `image` crate: dimensions are read from the header first and checked against
//! [`Limits::max_pixels`], then the decoder runs under `image::Limits` so that it cannot allocate more than
//! [`Limits::max_bytes`] either. Grey images give one plane, colour three; alpha is dropped (astronomical images
//! have none that means anything). EXIF orientation is ignored, as KStars' viewer ignores it (`QImageReader`
//! without `setAutoTransform`), so boxes land where the user sees the pixels.

use std::io::Cursor;

use dso_plugin_api::{Encoding, Frame};
use image::{DynamicImage, ImageFormat, ImageReader};

use super::{group_digits, DecodeError, Kind, Limits};

/// Decodes a JPEG ([`Kind::Jpeg`]) or PNG ([`Kind::Png`]) into a stretched frame with values in `0..=1`.
pub fn decode_raster(bytes: &[u8], kind: Kind, limits: &Limits) -> Result<Frame, DecodeError> {
    let (format, name) = match kind {
        Kind::Png => (ImageFormat::Png, "PNG"),
        _ => (ImageFormat::Jpeg, "JPEG"),
    };
    let corrupt = |e: image::ImageError| DecodeError::Corrupt(format!("the {name} image does not decode: {e}"));
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(corrupt)?;
    limits.check_pixels(u64::from(width), u64::from(height))?;

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut image_limits = image::Limits::default();
    image_limits.max_alloc = Some(limits.max_bytes);
    reader.limits(image_limits);
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => DecodeError::TooLarge(format!(
            "decoding the {width}×{height} {name} image needs more than the {} bytes allowed",
            group_digits(u128::from(limits.max_bytes))
        )),
        other => corrupt(other),
    })?;
    let planes = planes_of(image);
    Frame::new(width as usize, height as usize, planes, Encoding::Stretched)
        .map_err(|e| DecodeError::Corrupt(format!("the {name} image: {e}")))
}

/// Splits an image into one (grey) or three (colour) planes scaled to `0..=1`, dropping alpha.
fn planes_of(image: DynamicImage) -> Vec<Vec<f32>> {
    // Division, not multiplication by a reciprocal: 255 × (1/255) rounds above 1.0 in f32.
    const U8: f32 = 255.0;
    const U16: f32 = 65535.0;
    match image {
        DynamicImage::ImageLuma8(i) => vec![i.as_raw().iter().map(|&v| f32::from(v) / U8).collect()],
        DynamicImage::ImageLumaA8(i) => vec![i.as_raw().chunks_exact(2).map(|p| f32::from(p[0]) / U8).collect()],
        DynamicImage::ImageLuma16(i) => vec![i.as_raw().iter().map(|&v| f32::from(v) / U16).collect()],
        DynamicImage::ImageLumaA16(i) => vec![i.as_raw().chunks_exact(2).map(|p| f32::from(p[0]) / U16).collect()],
        DynamicImage::ImageRgb8(i) => split(i.as_raw(), 3, |v| f32::from(v) / U8),
        DynamicImage::ImageRgba8(i) => split(i.as_raw(), 4, |v| f32::from(v) / U8),
        DynamicImage::ImageRgb16(i) => split(i.as_raw(), 3, |v| f32::from(v) / U16),
        DynamicImage::ImageRgba16(i) => split(i.as_raw(), 4, |v| f32::from(v) / U16),
        DynamicImage::ImageRgb32F(i) => {
            split(i.as_raw(), 3, |v: f32| if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 })
        }
        DynamicImage::ImageRgba32F(i) => {
            split(i.as_raw(), 4, |v: f32| if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 })
        }
        // `DynamicImage` is non-exhaustive: anything newer goes through 32-bit float RGB.
        other => {
            let rgb = other.to_rgb32f();
            split(rgb.as_raw(), 3, |v: f32| if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 })
        }
    }
}

/// Interleaved samples (`stride` per pixel, RGB first) → three planes.
fn split<T: Copy>(raw: &[T], stride: usize, scale: impl Fn(T) -> f32) -> Vec<Vec<f32>> {
    let n = raw.len() / stride;
    let mut planes = vec![Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n)];
    for px in raw.chunks_exact(stride) {
        planes[0].push(scale(px[0]));
        planes[1].push(scale(px[1]));
        planes[2].push(scale(px[2]));
    }
    planes
}

#[cfg(test)]
mod tests {
    use image::{GrayAlphaImage, GrayImage, ImageBuffer, LumaA, Rgb, RgbImage, Rgba, RgbaImage};

    use super::*;
    use crate::decode::decode;

    fn png(image: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn png_round_trips_in_every_layout() {
        let limits = Limits::default();
        let grey = GrayImage::from_fn(5, 3, |x, y| image::Luma([(x * 40 + y) as u8]));
        let f = decode(&png(&DynamicImage::ImageLuma8(grey)), ".png", &limits).unwrap();
        assert_eq!((f.width, f.height, f.planes.len(), f.encoding), (5, 3, 1, Encoding::Stretched));
        assert!((f.planes[0][2 * 5 + 4] - 162.0 / 255.0).abs() < 1e-6);
        assert!(f.header.is_empty());

        let ga = GrayAlphaImage::from_pixel(2, 2, LumaA([255, 7]));
        let f = decode(&png(&DynamicImage::ImageLumaA8(ga)), ".png", &limits).unwrap();
        assert_eq!(f.planes, vec![vec![1.0; 4]]);

        let rgba = RgbaImage::from_pixel(3, 2, Rgba([255, 0, 51, 0]));
        let f = decode(&png(&DynamicImage::ImageRgba8(rgba)), ".png", &limits).unwrap();
        assert_eq!(f.planes.len(), 3);
        assert_eq!((f.planes[0][0], f.planes[1][0], f.planes[2][0]), (1.0, 0.0, 0.2));

        let rgb16: ImageBuffer<Rgb<u16>, Vec<u16>> = ImageBuffer::from_pixel(4, 4, Rgb([65535, 32768, 0]));
        let f = decode(&png(&DynamicImage::ImageRgb16(rgb16)), ".png", &limits).unwrap();
        assert!((f.planes[1][5] - 32768.0 / 65535.0).abs() < 1e-6);

        let g16: ImageBuffer<image::Luma<u16>, Vec<u16>> = ImageBuffer::from_pixel(2, 3, image::Luma([1000]));
        let f = decode(&png(&DynamicImage::ImageLuma16(g16)), ".png", &limits).unwrap();
        assert_eq!((f.width, f.height, f.planes.len()), (2, 3, 1));
    }

    #[test]
    fn jpeg_round_trips() {
        let img = RgbImage::from_fn(64, 48, |x, _| if x < 32 { Rgb([200, 30, 30]) } else { Rgb([20, 20, 220]) });
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Jpeg).unwrap();
        let f = decode(out.get_ref(), ".jpg", &Limits::default()).unwrap();
        assert_eq!((f.width, f.height, f.planes.len()), (64, 48, 3));
        let at = |p: usize, x: usize| f.planes[p][20 * 64 + x];
        assert!(at(0, 10) > 0.7 && at(2, 10) < 0.2, "left is red");
        assert!(at(2, 50) > 0.7 && at(0, 50) < 0.2, "right is blue");
    }

    #[test]
    fn size_limits_apply_before_decoding() {
        let img = GrayImage::new(100, 100);
        let bytes = png(&DynamicImage::ImageLuma8(img));
        let err = decode(&bytes, ".png", &Limits { max_pixels: 9_999, ..Limits::default() }).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge(_)), "{err:?}");
        let err = decode(&bytes, ".png", &Limits { max_bytes: 100, ..Limits::default() }).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge(_)), "{err:?}");
    }

    #[test]
    fn truncated_images_fail_cleanly() {
        let img = RgbImage::from_pixel(64, 64, Rgb([1, 2, 3]));
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(img).write_to(&mut out, ImageFormat::Png).unwrap();
        let bytes = out.into_inner();
        let err = decode(&bytes[..bytes.len() / 2], ".png", &Limits::default()).unwrap_err();
        assert!(matches!(err, DecodeError::Corrupt(_)), "{err:?}");
    }

    #[test]
    fn zlib_wrapped_png() {
        use std::io::Write;
        let img = GrayImage::from_pixel(3, 3, image::Luma([128]));
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&png(&DynamicImage::ImageLuma8(img))).unwrap();
        let f = decode(&z.finish().unwrap(), ".png.z", &Limits::default()).unwrap();
        assert_eq!((f.width, f.planes.len()), (3, 1));
    }
}
