//! Tests of the FITS decoder on files built in memory (every BITPIX, scaling, row order, Bayer layout and kind of
//! damage), on tile-compressed files made by cfitsio itself, and on the real frames in `../shared/data/real-fits`.

use std::io::Write;

use dso_plugin_api::Encoding;

use crate::decode::bayer::{CfaPattern, Channel};
use crate::decode::testutil::{fits, header, u16_as_stored};
use crate::decode::{decode, DecodeError, Limits};

fn limits() -> Limits {
    Limits::default()
}

/// Values equal within f32 rounding.
fn close(got: &[f32], want: &[f32]) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6)
}

#[test]
fn bitpix_8_is_divided_by_255() {
    let bytes = fits(8, &[3, 2], &[], &[0u8, 51, 255, 1, 2, 3]);
    let f = decode(&bytes, ".fits", &limits()).unwrap();
    assert_eq!((f.width, f.height, f.planes.len(), f.encoding), (3, 2, 1, Encoding::Linear));
    assert!(close(&f.planes[0][..3], &[0.0, 0.2, 1.0]), "{:?}", f.planes[0]);
}

#[test]
fn bitpix_16_unsigned_via_bzero() {
    let stored = u16_as_stored(&[0, 32768, 65535, 1000]);
    let extra = [("BZERO", "32768"), ("BSCALE", "1"), ("OBJECT", "'M 42    '"), ("NOTE", "'it''s'")];
    let f = decode(&fits(16, &[2, 2], &extra, &stored), ".fits", &limits()).unwrap();
    assert_eq!(f.planes[0][0], 0.0);
    assert!((f.planes[0][1] - 32768.0 / 65535.0).abs() < 1e-6);
    assert_eq!(f.planes[0][2], 1.0);
    assert_eq!(f.header_value("BZERO"), Some("32768"));
    assert_eq!(f.header_value("OBJECT"), Some("M 42"));
    assert_eq!(f.header_value("NOTE"), Some("it's"));
    assert_eq!(f.header_value("NAXIS1"), Some("2"));
    assert!(f.header.iter().all(|c| c.keyword != "END" && c.keyword != "COMMENT"));
}

#[test]
fn bitpix_16_signed_reads_like_kstars() {
    let f = decode(&fits(16, &[2, 1], &[], &[22918i16, -5]), ".fits", &limits()).unwrap();
    assert!((f.planes[0][0] - 22918.0 / 65535.0).abs() < 1e-6);
    assert_eq!(f.planes[0][1], 0.0);
}

#[test]
fn bitpix_32_holding_16_bit_counts() {
    let f = decode(&fits(32, &[3, 1], &[], &[0i32, 65535, 4095]), ".fits", &limits()).unwrap();
    assert_eq!(f.planes[0][1], 1.0);
    let full = [("BZERO", "2147483648")];
    let f = decode(&fits(32, &[2, 1], &full, &[i32::MIN, i32::MAX]), ".fits", &limits()).unwrap();
    assert_eq!((f.planes[0][0], f.planes[0][1]), (0.0, 1.0));
}

#[test]
fn float_data_in_unit_range_is_kept_and_nan_becomes_zero() {
    let f = decode(&fits(-32, &[3, 1], &[], &[0.25f32, f32::NAN, 1.0]), ".fits", &limits()).unwrap();
    assert_eq!(f.planes[0], vec![0.25, 0.0, 1.0]);
    let f = decode(&fits(-64, &[2, 1], &[], &[0.5f64, 0.75]), ".fits", &limits()).unwrap();
    assert_eq!(f.planes[0], vec![0.5, 0.75]);
}

#[test]
fn the_fast_conversion_matches_cfitsio_for_every_bitpix_and_scaling() {
    use crate::decode::fits::decode_fits_with;
    let scaled = [("BZERO", "-3.5"), ("BSCALE", "0.25")];
    let cases = [
        fits(8, &[3, 1], &scaled, &[0u8, 77, 255]),
        fits(16, &[3, 1], &[("BZERO", "32768")], &[-32768i16, 0, 32767]),
        fits(16, &[3, 1], &scaled, &[-7i16, 0, 12000]),
        fits(32, &[2, 1], &[("BZERO", "2147483648")], &[i32::MIN, 123_456]),
        fits(-32, &[3, 1], &scaled, &[0.25f32, f32::NAN, 40.0]),
        fits(-64, &[2, 1], &[], &[0.5f64, 1e-7]),
        // with BLANK the fast path declines and cfitsio marks the blank sample
        fits(16, &[2, 1], &[("BLANK", "-5")], &[-5i16, 9]),
        // 64-bit integers: declined too
        fits(64, &[2, 1], &[], &[3i64, 70_000]),
    ];
    for bytes in &cases {
        let fast = decode_fits_with(bytes, &limits(), true).unwrap();
        let reference = decode_fits_with(bytes, &limits(), false).unwrap();
        let bits = |p: &[f32]| p.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast.planes[0]), bits(&reference.planes[0]), "{:?}", reference.header);
    }
}

#[test]
fn float_adu_data_is_scaled_by_its_robust_maximum() {
    let data: Vec<f32> = (0..400).map(|i| 100.0 + i as f32).collect();
    let f = decode(&fits(-32, &[20, 20], &[], &data), ".fits", &limits()).unwrap();
    assert_eq!(f.planes[0][399], 1.0);
    assert!((f.planes[0][0] - 100.0 / 499.0).abs() < 1e-3, "{}", f.planes[0][0]);
}

#[test]
fn rows_stay_in_stored_order_whatever_roworder_says() {
    // Stored row 0 is dark, row 1 bright: KStars shows row 0 on top for either ROWORDER.
    for order in ["'TOP-DOWN'", "'BOTTOM-UP'"] {
        let f = decode(&fits(8, &[2, 2], &[("ROWORDER", order)], &[0u8, 0, 255, 255]), ".fits", &limits()).unwrap();
        assert_eq!(f.planes[0], vec![0.0, 0.0, 1.0, 1.0], "{order}");
    }
}

/// The filter over stored pixel (x, y), from the FITS conventions written out independently of the decoder:
/// offsets count from the sensor's top-left, which is the first stored row (TOP-DOWN) or the last (BOTTOM-UP).
fn filter_at(pattern: &str, x: usize, y: usize, xoff: usize, yoff: usize, bottom_up: bool, h: usize) -> char {
    let sensor_row = if bottom_up { h - 1 - y } else { y };
    let p = pattern.as_bytes();
    p[((sensor_row + yoff) % 2) * 2 + (x + xoff) % 2] as char
}

#[test]
fn a_red_scene_comes_out_red_for_every_pattern_offset_and_row_order() {
    for pattern in ["RGGB", "GRBG", "GBRG", "BGGR"] {
        for (xoff, yoff) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            for bottom_up in [false, true] {
                for (w, h) in [(8, 6), (7, 5)] {
                    for (scene, lit) in [('R', 0), ('G', 1), ('B', 2)] {
                        let mut counts = vec![0u16; w * h];
                        for y in 0..h {
                            for x in 0..w {
                                if filter_at(pattern, x, y, xoff, yoff, bottom_up, h) == scene {
                                    counts[y * w + x] = 60000;
                                }
                            }
                        }
                        let (xs, ys) = (xoff.to_string(), yoff.to_string());
                        let pat = format!("'{pattern}'");
                        let order = if bottom_up { "'BOTTOM-UP'" } else { "'TOP-DOWN'" };
                        let extra = [
                            ("BZERO", "32768"),
                            ("BAYERPAT", pat.as_str()),
                            ("XBAYROFF", xs.as_str()),
                            ("YBAYROFF", ys.as_str()),
                            ("ROWORDER", order),
                        ];
                        let bytes = fits(16, &[w, h], &extra, &u16_as_stored(&counts));
                        let f = decode(&bytes, ".fits", &limits()).unwrap();
                        assert_eq!(f.planes.len(), 3);
                        let want = 60000.0 / 65535.0;
                        for (c, plane) in f.planes.iter().enumerate() {
                            let expected = if c == lit { want } else { 0.0 };
                            let case = format!("{pattern} off ({xoff},{yoff}) bottom_up {bottom_up} {w}×{h} {scene}");
                            assert!(plane.iter().all(|&v| (v - expected).abs() < 1e-5), "{case} plane {c}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn bayer_is_skipped_for_cubes_and_unknown_patterns() {
    let f = decode(&fits(8, &[2, 2], &[("BAYERPAT", "'CMYG'")], &[1u8, 2, 3, 4]), ".fits", &limits()).unwrap();
    assert_eq!(f.planes.len(), 1);
    let cube: Vec<u8> = (0..12).collect();
    let f = decode(&fits(8, &[2, 2, 3], &[("BAYERPAT", "'RGGB'")], &cube), ".fits", &limits()).unwrap();
    assert_eq!(f.planes.len(), 3);
    assert_eq!(CfaPattern::parse("RGGB").unwrap().at(0, 0), Channel::Red);
}

#[test]
fn rgb_cube_planes_are_red_green_blue() {
    let data = [10u8, 10, 20, 20, 30, 30];
    let f = decode(&fits(8, &[2, 1, 3], &[], &data), ".fits", &limits()).unwrap();
    assert!(f.is_color());
    assert!(close(&f.planes[0], &[10.0 / 255.0; 2]));
    assert!(close(&f.planes[2], &[30.0 / 255.0; 2]));
    // Other cube depths keep the first plane.
    let f = decode(&fits(8, &[2, 1, 2], &[], &[1u8, 1, 2, 2]), ".fits", &limits()).unwrap();
    assert_eq!(f.planes.len(), 1);
}

#[test]
fn truncated_data_is_refused_with_the_missing_byte_count() {
    let mut bytes = header(16, &[1280, 1024], &[("BZERO", "32768")]);
    let full = 1280 * 1024 * 2;
    bytes.resize(bytes.len() + full - 1_000_000, 7);
    let err = decode(&bytes, ".fits", &limits()).unwrap_err();
    assert_eq!(err, DecodeError::Truncated { missing: 1_000_000, shape: "1280×1024×16-bit".into() });
    assert!(err
        .to_string()
        .starts_with("image data is 1 000 000 bytes shorter than its header announces (1280×1024×16-bit)"));
    // One byte short is still short.
    let mut bytes = header(8, &[10, 10], &[]);
    bytes.resize(bytes.len() + 99, 0);
    assert!(matches!(decode(&bytes, ".fits", &limits()), Err(DecodeError::Truncated { missing: 1, .. })));
}

#[test]
fn unpadded_files_still_decode() {
    let mut bytes = header(8, &[10, 10], &[]);
    bytes.extend(vec![255u8; 100]);
    let f = decode(&bytes, ".fits", &limits()).unwrap();
    assert_eq!(f.planes[0], vec![1.0; 100]);
}

#[test]
fn absurd_sizes_are_refused_before_allocating() {
    let bytes = header(16, &[100_000, 100_000], &[]);
    let err = decode(&bytes, ".fits", &limits()).unwrap_err();
    assert!(matches!(err, DecodeError::TooLarge(_)), "{err:?}");
    let bytes = header(-64, &[1 << 40, 1 << 40, 3], &[]);
    assert!(matches!(decode(&bytes, ".fits", &limits()), Err(DecodeError::TooLarge(_))));
}

#[test]
fn damaged_headers_and_non_images_are_clear_errors() {
    let mut garbage = b"SIMPLE  = what is this".to_vec();
    garbage.resize(5000, b'?');
    let err = decode(&garbage, ".fits", &limits()).unwrap_err();
    assert!(matches!(err, DecodeError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("cfitsio"), "{err}");

    let spectrum = fits(-32, &[100], &[], &[0.5f32; 100]);
    let err = decode(&spectrum, ".fits", &limits()).unwrap_err();
    assert!(matches!(err, DecodeError::Unsupported(_)), "{err:?}");
    assert!(err.to_string().contains("no 2-D image"), "{err}");

    let odd = fits(12, &[2, 2], &[], &[0u8; 4]);
    assert!(decode(&odd, ".fits", &limits()).is_err());
}

#[test]
fn zlib_wrapped_fits() {
    let bytes = fits(8, &[4, 1], &[], &[0u8, 85, 170, 255]);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&bytes).unwrap();
    let packed = z.finish().unwrap();
    let f = decode(&packed, ".fits.z", &limits()).unwrap();
    assert!(close(&f.planes[0], &[0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0]));
    // The label is only a hint: the magic bytes decide.
    assert_eq!(decode(&packed, ".jpg", &limits()).unwrap(), f);
    assert_eq!(decode(&bytes, "", &limits()).unwrap(), f);
}

#[test]
fn primary_keywords_reach_an_image_extension() {
    let mut primary = header(8, &[], &[("EXTEND", "T"), ("FOCALLEN", "250."), ("BZERO", "0")]);
    let mut ext = fits(8, &[2, 1], &[("PCOUNT", "0"), ("GCOUNT", "1"), ("EXPTIME", "10.")], &[0u8, 255]);
    ext[..80].copy_from_slice(format!("{:<80}", "XTENSION= 'IMAGE   '").as_bytes());
    primary.append(&mut ext);
    let f = decode(&primary, ".fits", &limits()).unwrap();
    assert_eq!(f.planes[0], vec![0.0, 1.0]);
    assert_eq!(f.header_value("FOCALLEN"), Some("250."));
    assert_eq!(f.header_value("EXPTIME"), Some("10."));
    assert_eq!(f.header_value("XTENSION"), Some("IMAGE"));
    assert_eq!(f.header.iter().filter(|c| c.keyword == "BITPIX").count(), 1);
}

/// Timings for the report; run with `cargo test --release -p dso-models bench_ -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: prints timings, asserts nothing about them"]
fn bench_decode_4096() {
    let n = 4096;
    let counts: Vec<u16> = (0..n * n).map(|i| (i * 7919 % 65536) as u16).collect();
    let mono = fits(16, &[n, n], &[("BZERO", "32768")], &u16_as_stored(&counts));
    let bayer = fits(16, &[n, n], &[("BZERO", "32768"), ("BAYERPAT", "'RGGB'")], &u16_as_stored(&counts));
    for (name, bytes) in [("mono 16-bit", &mono), ("RGGB 16-bit + debayer", &bayer)] {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            let f = decode(bytes, ".fits", &limits()).unwrap();
            best = best.min(t.elapsed().as_secs_f64());
            assert_eq!(f.width, n);
        }
        eprintln!("decode {n}×{n} {name}: {:.1} ms (best of 5)", best * 1e3);
    }
    let plane: Vec<f32> = counts.iter().map(|&c| f32::from(c) / 65535.0).collect();
    let t = std::time::Instant::now();
    let _ = crate::decode::bayer::demosaic(&plane, n, n, CfaPattern::parse("RGGB").unwrap());
    eprintln!("demosaic alone: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
}

#[test]
fn floats_near_the_limits_of_f32_normalise_to_finite_samples() {
    // Found by fuzz/fits_decode (issue 15): `v - low` overflowed to infinity, × 0 gave NaN samples.
    let data = [f32::MAX, -f32::MAX, 0.0, 1.5, f32::MIN_POSITIVE, -1.0];
    let f = decode(&fits(-32, &[3, 2], &[], &data), ".fits", &limits()).unwrap();
    assert!(f.planes[0].iter().all(|v| (0.0..=1.0).contains(v)), "{:?}", f.planes[0]);
}

#[test]
fn a_plain_mono_frame_comes_with_its_half_and_every_other_image_without() {
    use crate::decode::decode_with_half;
    let counts: Vec<u16> = (0..21 * 13).map(|i| (i * 7919 % 65536) as u16).collect();
    let mono = fits(16, &[21, 13], &[("BZERO", "32768")], &u16_as_stored(&counts));
    let (frame, half) = decode_with_half(&mono, ".fits", &limits()).unwrap();
    assert_eq!(frame, decode(&mono, ".fits", &limits()).unwrap());
    let (half, want) = (half.expect("a half"), crate::ops::bin_frame(&frame, 2).unwrap());
    assert_eq!((half.width, half.height, half.encoding), (11, 7, Encoding::Linear));
    assert_eq!(half.planes, want.planes);
    // zlib-wrapped, as INDI sends `.fits.z`: the same
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(&mono).unwrap();
    let (_, zhalf) = decode_with_half(&z.finish().unwrap(), ".fits.z", &limits()).unwrap();
    assert_eq!(zhalf.map(|h| h.planes), Some(want.planes));
    // A Bayer frame's half would mix the colours (the picture bins the demosaiced planes), a cube has three
    // planes, BLANK and float data go the other ways: no half from the decoder for them.
    let bayer = fits(16, &[4, 4], &[("BZERO", "32768"), ("BAYERPAT", "'RGGB'")], &u16_as_stored(&counts[..16]));
    let cube = fits(16, &[2, 2, 3], &[("BZERO", "32768")], &u16_as_stored(&counts[..12]));
    let blank = fits(16, &[2, 2], &[("BLANK", "7")], &[1i16, 2, 7, 4]);
    let float = fits(-32, &[2, 2], &[], &[0.1f32, 0.2, 0.3, 0.4]);
    for (name, bytes) in [("bayer", bayer), ("cube", cube), ("blank", blank), ("float", float)] {
        let (frame, half) = decode_with_half(&bytes, ".fits", &limits()).unwrap();
        assert!(half.is_none(), "{name}");
        assert_eq!(frame, decode(&bytes, ".fits", &limits()).unwrap(), "{name}");
    }
}
