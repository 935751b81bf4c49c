//! Writes exactly what the YOLO model is given for one image: the driver's own decoding (FITS scaling, Bayer
//! demosaic), stretch curves, tiling and letterboxing, without running the model. One `.npy` (`float32`,
//! `3 × size × size`, RGB in `0..1`, the model's input tensor) and one `.png` per pass (the whole frame first, then
//! the tiles), so `dso_training.tools.realsky` can compare real frames with generated training images at the scale the
//! model sees them (docs/REAL-SKY.md).
//!
//! ```text
//! cargo run --release -p dso-models --example yolo_input -- FRAME OUT_PREFIX [SIZE [before|after]]
//! ```
//! `SIZE` is the model's input side (320 for the shipped model); `before`/`after` is the [`CurveOrder`] of a linear
//! frame's stretch (default: the detector's). Prints one line per pass: the region in frame
//! pixels and the file written.

use std::error::Error;
use std::io::Write;

use dso_models::decode::{decode, format_from_path, Limits};
use dso_models::yolo::preprocess::{self, CurveOrder, Map};
use dso_models::yolo::tiling::{self, TilePlan};
use dso_models::yolo::{curve_map, stretch_curves, YoloParams};

/// Writes a C-order little-endian `float32` `.npy` file (format version 1) of the given shape.
fn write_npy(path: &str, shape: &[usize], data: &[f32]) -> std::io::Result<()> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({},), }}", dims.join(", "));
    // magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(b"\x93NUMPY\x01\x00")?;
    f.write_all(&(header.len() as u16).to_le_bytes())?;
    f.write_all(header.as_bytes())?;
    for v in data {
        f.write_all(&v.to_le_bytes())?;
    }
    f.flush()
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, prefix, rest @ ..] = &args[..] else {
        return Err("usage: yolo_input FRAME OUT_PREFIX [SIZE [before|after]]".into());
    };
    let size: usize = rest.first().map(|s| s.parse()).transpose()?.unwrap_or(320);
    let order = match rest.get(1).map(String::as_str) {
        None => YoloParams::default().curve_order,
        Some("before") => CurveOrder::BeforeResampling,
        Some("after") => CurveOrder::AfterResampling,
        Some(other) => return Err(format!("expected before or after, got {other}").into()),
    };
    let frame = decode(&std::fs::read(input)?, &format_from_path(input), &Limits::default())?;
    let curves: Vec<_> = stretch_curves(&frame).into_iter().map(curve_map).collect();
    let maps: Vec<&Map> = curves.iter().map(|c| &**c).collect();
    let regions = tiling::regions(frame.width, frame.height, size, &TilePlan::default());
    // Regions shrunk 4× or more are read from the frame binned 2×2, as the detector reads them.
    let half = dso_models::ops::bin_frame(&frame, 2);
    let inputs = preprocess::letterbox_all(&frame, half.as_ref(), &regions, size, &maps, order, 1);
    for (i, (r, (t, _))) in regions.iter().zip(&inputs).enumerate() {
        let npy = format!("{prefix}_r{i}.npy");
        write_npy(&npy, &[3, size, size], t)?;
        let plane = size * size;
        let rgb: Vec<u8> = (0..plane)
            .flat_map(|p| (0..3).map(move |c| (c, p)))
            .map(|(c, p)| (t[c * plane + p].clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect();
        let png = format!("{prefix}_r{i}.png");
        image::save_buffer(&png, &rgb, size as u32, size as u32, image::ColorType::Rgb8)?;
        println!("{i}\t{} {} {}x{}\t{:?}\t{png}", r.x, r.y, r.width, r.height, frame.encoding);
    }
    Ok(())
}
