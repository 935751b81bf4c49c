//! `cargo bench -p dso-detector --bench heatmaps`: the two heat-map detectors, side by side.
//!
//! 1. XRAI on one 224×224 patch (the XRAI fixture's image, `models/tests/fixtures/xrai/input.npy`) through the
//!    shipped classifier's gradient graph: ours (`dso_models::xrai`) against Google PAIR's `saliency` 0.2.1 with the
//!    same ONNX graph through onnxruntime (`dso_training.tools.bench_xrai`), at 32 steps per baseline (our default)
//!    and 100 (the library's), both with two ONNX Runtime threads.
//! 2. A 1280×1024 16-bit frame end to end (FITS decode, tiles, classifier, XRAI or generator, stitching, boxes,
//!    annotated JPEG and heat-map PNG), XRAI against Pix2Pix, and Pix2Pix per 224×224 and 256×256 frame (one tile).
//!
//! Medians of `ROUNDS` runs after one warm-up.

use std::path::Path;
use std::time::Instant;

use dso_detector::naming::Naming;
use dso_detector::pipeline::{analyse_frame, Origin, Outputs, Source};
use dso_detector::report::Selection;
use dso_models::decode;
use dso_models::pix2pix::Pix2PixDetector;
use dso_models::xrai::detector::{gradient_path, XraiDetector};
use dso_models::xrai::{xrai, OnnxGradient, XraiConfig};
use dso_plugin_api::Detector;
use dso_test_support::{npy, python, Sky};
use ndarray::Array3;

const ROUNDS: usize = 3;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn median_secs(rounds: usize, mut f: impl FnMut()) -> f64 {
    f();
    median(
        (0..rounds)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// The fixture's `input.npy`: `f4`, shape (224, 224, 3).
fn fixture_patch(path: &Path) -> Array3<f32> {
    Array3::from_shape_vec((224, 224, 3), npy::Npy::read(path).f32s()).expect("224 × 224 × 3")
}

fn frame_ms(det: &mut dyn Detector, fits: &[u8]) -> f64 {
    let source = Source {
        origin: Origin::File("bench".into()),
        format: ".fits".into(),
        timestamp: String::new(),
        received: Instant::now(),
    };
    let outputs = Outputs { annotated: true, heatmap: true, ..Outputs::default() };
    let limits = decode::Limits::default();
    1000.0
        * median_secs(ROUNDS, || {
            let frame = decode::decode(fits, ".fits", &limits).expect("decode");
            let a =
                analyse_frame(&frame, &source, det, Selection::default(), outputs, &Naming::off()).expect("analyse");
            assert!(a.heatmap.is_some());
            decode::raw::recycle(frame);
        })
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let (mut xd, mut pd) = match (XraiDetector::new(), Pix2PixDetector::new()) {
        (Ok(x), Ok(p)) => (x, p),
        (Err(e), _) | (_, Err(e)) => {
            println!("heat-map benchmark not run: {e}");
            return;
        }
    };
    let grad = gradient_path(xd.model_path());
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/tests/fixtures/xrai/input.npy");
    let patch = fixture_patch(&input);
    let mut model = OnnxGradient::load(&grad, 2).expect("gradient graph");
    println!("DSO Detector heat-map benchmark; {} cores; medians of {ROUNDS} after one warm-up", {
        std::thread::available_parallelism().map_or(0, |n| n.get())
    });
    println!();
    println!("| XRAI of one 224×224 patch | ours (Rust) | saliency 0.2.1 (Python) | Python / Rust |");
    println!("|---|---|---|---|");
    for steps in [32, 100] {
        let cfg = XraiConfig { steps, ..XraiConfig::default() };
        let ours = median_secs(ROUNDS, || drop(xrai(patch.view(), &mut model, 1, &cfg).expect("xrai")));
        let args = [grad.to_str().unwrap(), input.to_str().unwrap(), &steps.to_string(), &ROUNDS.to_string()];
        let (py, ratio) = match python::figures("bench_xrai", &args) {
            Ok(v) if !v.is_empty() => (format!("{:.2} s", v[0]), format!("{:.2}×", v[0] / ours)),
            Ok(v) => (format!("not run: {v:?}"), "–".into()),
            Err(e) => (format!("not run: {e}"), "–".into()),
        };
        println!("| {steps} steps per baseline ({} gradients) | {ours:.2} s | {py} | {ratio} |", 2 * steps);
    }
    println!();
    println!("| frame (16-bit FITS, end to end) | XRAI | Pix2Pix | XRAI / Pix2Pix |");
    println!("|---|---|---|---|");
    {
        let (w, h) = (1280, 1024);
        let sky = Sky::render(w, h, (w as f32 * 0.6, h as f32 * 0.4), w as f32 / 12.0, 5);
        let fits = sky.to_fits();
        let x = frame_ms(&mut xd, &fits);
        let explained = xd.last_stats().explained;
        let p = frame_ms(&mut pd, &fits);
        println!("| {w}×{h} ({explained} tiles explained) | {x:.0} ms | {p:.0} ms | {:.1}× |", x / p);
    }
    for side in [224, 256] {
        let fits = Sky::render(side, side, (side as f32 / 2.0, side as f32 / 2.0), 30.0, 5).to_fits();
        println!("| Pix2Pix, one {side}×{side} tile, end to end | | {:.1} ms | |", frame_ms(&mut pd, &fits));
    }
}
