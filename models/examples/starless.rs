//! Runs the naive detector's classical star remover on one plane stored as NumPy `.npy` (2-D `float32`, a
//! stretched image in `0..1`) and writes the starless plane and the star mask beside it, also as `.npy`, so that
//! `dso_training.tools.compare_star_removal` can compare it with a pretrained network on exactly the same input.
//!
//! ```text
//! cargo run --release -p dso-models --example starless -- in.npy starless.npy mask.npy
//! ```
//! The remover runs at the plane's own resolution with its default parameters (FWHM measured on the plane).

use std::error::Error;

use dso_models::naive::starless::{remove_stars, StarParams};
use dso_models::ops::{noise_sigma, Plane};

/// Reads a C-order 2-D little-endian `float32` `.npy` file (format version 1 or 2).
fn read_npy(path: &str) -> Result<Plane, Box<dyn Error>> {
    let b = std::fs::read(path)?;
    if b.len() < 12 || &b[..6] != b"\x93NUMPY" {
        return Err(format!("{path}: not a .npy file").into());
    }
    let (len, start) = if b[6] == 1 {
        (u16::from_le_bytes([b[8], b[9]]) as usize, 10)
    } else {
        (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
    };
    let header = std::str::from_utf8(b.get(start..start + len).ok_or("truncated header")?)?;
    if !header.contains("'descr': '<f4'") || header.contains("'fortran_order': True") {
        return Err(format!("{path}: expected a C-order little-endian float32 array, header {header}").into());
    }
    let shape = header.split("'shape': (").nth(1).and_then(|s| s.split(')').next()).ok_or("no shape")?;
    let dims: Vec<usize> =
        shape.split(',').filter(|t| !t.trim().is_empty()).map(|t| t.trim().parse()).collect::<Result<_, _>>()?;
    let [h, w] = dims[..] else { return Err(format!("{path}: expected 2 dimensions, got {dims:?}").into()) };
    let data: Vec<f32> =
        b[start + len..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Plane::from_vec(w, h, data).ok_or_else(|| format!("{path}: data does not match shape {h}×{w}").into())
}

/// Writes a 2-D `float32` `.npy` file (format version 1).
fn write_npy(path: &str, p: &Plane) -> std::io::Result<()> {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", p.height, p.width);
    // Pad so that data starts on a 64-byte boundary, header ends with a newline (NumPy format spec).
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + 4 * p.data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    p.data.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    std::fs::write(path, out)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, input, starless, mask] = &args[..] else {
        return Err("usage: starless IN.npy STARLESS.npy MASK.npy".into());
    };
    let plane = read_npy(input)?;
    let start = std::time::Instant::now();
    let r = remove_stars(&plane, &StarParams::default(), noise_sigma(&plane, 1));
    eprintln!(
        "{}×{}: {} stars, FWHM {:.2} px, {:.1} % masked, {:.0} ms",
        plane.width,
        plane.height,
        r.stars,
        r.fwhm,
        100.0 * r.mask.count() as f32 / plane.data.len() as f32,
        start.elapsed().as_secs_f64() * 1e3
    );
    write_npy(starless, &r.starless)?;
    let m = Plane {
        width: plane.width,
        height: plane.height,
        data: r.mask.data.iter().map(|&b| f32::from(u8::from(b))).collect(),
    };
    write_npy(mask, &m)?;
    Ok(())
}
