//! XISF decoding against files written by a third-party encoder: the `xisf` package from PyPI (installed by
//! installers/deps.sh), run through python3. Debian 12's INDI 1.9.9 cannot write XISF; these files carry what
//! libindi 2.x writes (UInt16, LZ4 with byte shuffling, FITS keywords, Bayer) and PixInsight's other choices.
//! Skipped, with a message, when python3 or the module is missing.

use std::path::PathBuf;
use std::process::Command;

use dso_plugin_api::Encoding;

use crate::decode::{decode, DecodeError, Limits};

/// A folder removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

/// Runs a Python script that writes files into a fresh folder; the folder, or `None` (test skipped).
fn written_by_python(name: &str, script: &str) -> Option<Scratch> {
    let dir = std::env::temp_dir().join(format!("dso-xisf-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = Scratch(dir);
    let prelude = "import numpy as np, xisf\nh, w = 48, 64\ny, x = np.mgrid[0:h, 0:w]\n";
    let out = Command::new("python3").arg("-c").arg(format!("{prelude}{script}")).current_dir(&*dir).output();
    match out {
        Ok(o) if o.status.success() => Some(dir),
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("No module named") => {
            crate::skip("python3 lacks the xisf module (installers/deps.sh installs it)");
            None
        }
        Ok(o) => panic!("the Python encoder failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            crate::skip(format!("no python3 ({e})"));
            None
        }
    }
}

fn read(dir: &std::path::Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap()
}

/// The 16-bit test pattern both sides compute: `(7x + 13y) × 50`, wrapping at 2¹⁶.
fn pattern16(x: usize, y: usize) -> f32 {
    f32::from(((x * 7 + y * 13) * 50 % 65536) as u16) / 65535.0
}

#[test]
fn indi_style_uint16_with_lz4_shuffling_and_fits_keywords() {
    let script = r#"
mono = (((x * 7 + y * 13) * 50) % 65536).astype(np.uint16)[:, :, None]
meta = {"FITSKeywords": {"OBJECT": [{"value": "'M 42'", "comment": ""}], "EXPTIME": [{"value": "10.", "comment": "s"}]}}
xisf.XISF.write("lz4.xisf", mono, "test", meta, codec="lz4", shuffle=True)
xisf.XISF.write("zlib.xisf", mono, "test", meta, codec="zlib", shuffle=False)
xisf.XISF.write("plain.xisf", mono, "test", meta)
"#;
    let Some(dir) = written_by_python("mono", script) else { return };
    for (file, compression) in [("lz4.xisf", "lz4+sh:"), ("zlib.xisf", "zlib:"), ("plain.xisf", "")] {
        let bytes = read(&dir, file);
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(2000)]).into_owned();
        assert!(compression.is_empty() || text.contains(&format!("compression=\"{compression}")), "{file}: {text}");
        let f = decode(&bytes, ".xisf", &Limits::default()).unwrap();
        assert_eq!((f.width, f.height, f.planes.len(), f.encoding), (64, 48, 1, Encoding::Linear), "{file}");
        for (x, y) in [(0, 0), (1, 0), (63, 0), (0, 47), (40, 30), (63, 47)] {
            assert_eq!(f.planes[0][y * 64 + x], pattern16(x, y), "{file} at ({x}, {y})");
        }
        assert_eq!(f.header_value("OBJECT"), Some("M 42"), "{file}");
        assert_eq!(f.header_value("EXPTIME"), Some("10."), "{file}");
    }
}

#[test]
fn bayer_frames_are_demosaiced_like_fits() {
    // A red-only scene on an RGGB sensor: only the R sites (even x, even y) see light.
    let script = r#"
raw = np.where((x % 2 == 0) & (y % 2 == 0), 60000, 1000).astype(np.uint16)[:, :, None]
meta = {"FITSKeywords": {"BAYERPAT": [{"value": "'RGGB'", "comment": ""}]}}
xisf.XISF.write("bayer.xisf", raw, "test", meta, codec="lz4", shuffle=True)
"#;
    let Some(dir) = written_by_python("bayer", script) else { return };
    let f = decode(&read(&dir, "bayer.xisf"), ".xisf", &Limits::default()).unwrap();
    assert_eq!(f.planes.len(), 3);
    let mean = |p: &[f32]| p.iter().sum::<f32>() / p.len() as f32;
    let (r, g, b) = (mean(&f.planes[0]), mean(&f.planes[1]), mean(&f.planes[2]));
    assert!(r > 0.8 && g < 0.1 && b < 0.1, "R {r} G {g} B {b}");
}

#[test]
fn rgb_floats_in_their_bounds_and_planar_order() {
    let script = r#"
rgb = np.stack([(x + 2 * y + 30 * c) % 100 / 100.0 for c in range(3)], axis=2).astype(np.float32)
xisf.XISF.write("rgb.xisf", rgb, "test", {}, codec="lz4hc", shuffle=True)
xisf.XISF.write("rgb64.xisf", rgb.astype(np.float64), "test", {})
"#;
    let Some(dir) = written_by_python("rgb", script) else { return };
    for file in ["rgb.xisf", "rgb64.xisf"] {
        let f = decode(&read(&dir, file), ".xisf", &Limits::default()).unwrap();
        assert_eq!((f.width, f.height, f.planes.len()), (64, 48, 3), "{file}");
        for c in 0..3 {
            for (x, y) in [(0, 0), (5, 7), (63, 47)] {
                let want = ((x + 2 * y + 30 * c) % 100) as f32 / 100.0;
                let got = f.planes[c][y * 64 + x];
                assert!((got - want).abs() < 1e-6, "{file} channel {c} at ({x}, {y}): {got} vs {want}");
            }
        }
    }
}

#[test]
fn what_is_not_handled_is_a_clear_error() {
    let script = r#"
mono = (((x * 7 + y * 13) * 50) % 65536).astype(np.uint16)[:, :, None]
xisf.XISF.write("zstd.xisf", mono, "test", {}, codec="zstd", shuffle=True)
xisf.XISF.write("plain.xisf", mono, "test", {})
"#;
    let Some(dir) = written_by_python("errors", script) else { return };
    let err = decode(&read(&dir, "zstd.xisf"), ".xisf", &Limits::default()).unwrap_err();
    assert!(matches!(err, DecodeError::Unsupported(_)) && err.to_string().contains("zstd"), "{err}");
    let plain = read(&dir, "plain.xisf");
    // Cut inside the data block: truncated, with the number of missing bytes.
    let err = decode(&plain[..plain.len() - 100], ".xisf", &Limits::default()).unwrap_err();
    assert!(matches!(err, DecodeError::Truncated { missing: 100, .. }), "{err}");
    // A frame over the pixel limit is refused before its data is read.
    let small = Limits { max_pixels: 1000, ..Limits::default() };
    assert!(matches!(decode(&plain, ".xisf", &small), Err(DecodeError::TooLarge(_))));
    // Cut inside the XML header.
    let err = decode(&plain[..200], ".xisf", &Limits::default()).unwrap_err();
    assert!(matches!(err, DecodeError::Truncated { .. }), "{err}");
}

#[test]
fn damaged_headers_never_panic() {
    let header = |xml: &str| {
        let mut b = b"XISF0100".to_vec();
        b.extend((xml.len() as u32).to_le_bytes());
        b.extend([0; 4]);
        b.extend(xml.as_bytes());
        b.extend([0u8; 64]);
        b
    };
    let image = |attrs: &str| header(&format!("<xisf version=\"1.0\"><Image {attrs}/></xisf>"));
    let ok = "geometry=\"4:4:1\" sampleFormat=\"UInt8\" location=\"attachment:0:16\"";
    assert!(decode(&image(ok), "", &Limits::default()).is_ok(), "a block at offset 0 is just bytes");
    for bad in [
        "geometry=\"4:4\" sampleFormat=\"UInt8\" location=\"attachment:0:16\"",
        "geometry=\"4:x:1\" sampleFormat=\"UInt8\" location=\"attachment:0:16\"",
        "geometry=\"4:4:1:1\" sampleFormat=\"UInt8\" location=\"attachment:0:16\"",
        "geometry=\"4:4:1\" sampleFormat=\"Complex32\" location=\"attachment:0:16\"",
        "geometry=\"4:4:1\" sampleFormat=\"UInt8\" location=\"inline:base64\"",
        "geometry=\"4:4:1\" sampleFormat=\"UInt8\" location=\"attachment:0:999999\"",
        "geometry=\"4:4:1\" sampleFormat=\"UInt8\" location=\"attachment:18446744073709551615:2\"",
        "geometry=\"4:4:1\" sampleFormat=\"UInt8\" location=\"attachment:0:16\" compression=\"lz4:16\"",
        "geometry=\"4:4:1\" sampleFormat=\"UInt8\" location=\"attachment:0:16\" compression=\"lz4:17\"",
        "geometry=\"4:4:1\" sampleFormat=\"UInt8\" location=\"attachment:0:16\" compression=\"zlib+sh:16\"",
        "geometry=\"4:4:1\" sampleFormat=\"UInt16\" location=\"attachment:0:16\"",
        "geometry=\"100000:100000:1\" sampleFormat=\"UInt8\" location=\"attachment:0:16\"",
        "sampleFormat=\"UInt8\" location=\"attachment:0:16\"",
    ] {
        assert!(decode(&image(bad), "", &Limits::default()).is_err(), "{bad}");
    }
    for xml in ["<xisf><Image", "<xisf version=\"1.0\"></xisf>", "\u{0}\u{1}"] {
        assert!(decode(&header(xml), ".xisf", &Limits::default()).is_err(), "{xml}");
    }
    let mut huge = b"XISF0100".to_vec();
    huge.extend(u32::MAX.to_le_bytes());
    huge.extend([0; 8]);
    assert!(matches!(decode(&huge, ".xisf", &Limits::default()), Err(DecodeError::Truncated { .. })));
}
