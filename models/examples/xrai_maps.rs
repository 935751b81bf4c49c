//! Writes the Rust XRAI's maps for a stack of patches, for comparisons made in Python (Pix2Pix fidelity,
//! `dso_training.pix2pix.fidelity`).
//!
//! ```text
//! cargo run --release -p dso-models --example xrai_maps -- GRAD.onnx PATCHES.npy STEPS OUT.npy
//! ```
//! `PATCHES.npy`: `uint8` `(N, 224, 224, 3)` RGB; `OUT.npy`: `float32` `(N, 224, 224)`, the raw XRAI map of class 1
//! (not scaled). Prints the seconds per patch.

use dso_test_support::npy;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use dso_models::xrai::{xrai, OnnxGradient, XraiConfig};
use ndarray::Array3;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [grad, patches, steps, out] = args.as_slice() else {
        eprintln!("usage: xrai_maps GRAD.onnx PATCHES.npy STEPS OUT.npy");
        std::process::exit(2);
    };
    let steps: usize = steps.parse().expect("STEPS is a number");
    let arr = npy::Npy::parse(&std::fs::read(patches).expect("PATCHES.npy"));
    assert_eq!(arr.descr, "|u1", "uint8 patches expected");
    let [n, h, w, c] = arr.shape[..] else { panic!("(N, H, W, 3) expected, not {:?}", arr.shape) };
    assert_eq!(c, 3);
    let mut model = OnnxGradient::load(Path::new(grad), 2).expect("gradient graph");
    let cfg = XraiConfig { steps, ..XraiConfig::default() };
    let mut maps = Vec::with_capacity(n * h * w);
    let start = Instant::now();
    for k in 0..n {
        let px = &arr.data[k * h * w * 3..(k + 1) * h * w * 3];
        let image = Array3::from_shape_vec((h, w, 3), px.iter().map(|&v| f32::from(v) / 255.0).collect()).unwrap();
        let res = xrai(image.view(), &mut model, 1, &cfg).expect("xrai");
        maps.extend(res.map.iter().copied());
    }
    let secs = start.elapsed().as_secs_f64() / n.max(1) as f64;
    let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, {h}, {w}), }}");
    let pad = 64 - (10 + header.len() + 1) % 64;
    let mut f = std::fs::File::create(out).expect("OUT.npy");
    f.write_all(b"\x93NUMPY\x01\x00").unwrap();
    f.write_all(&((header.len() + pad + 1) as u16).to_le_bytes()).unwrap();
    f.write_all(format!("{header}{}\n", " ".repeat(pad)).as_bytes()).unwrap();
    for v in maps {
        f.write_all(&v.to_le_bytes()).unwrap();
    }
    println!("{n} XRAI maps at {steps} steps: {secs:.3} s per patch");
}
