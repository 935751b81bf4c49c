//! `cargo bench -p dso-detector --bench yolo`: the YOLO detector end to end on 16-bit frames, the time ONNX Runtime
//! itself spends in the same model calls, and the same pipeline written in Python (numpy + OpenCV + onnxruntime,
//! `dso_training.tools.bench_yolo`, same tiling), side by side.
//!
//! End to end is FITS bytes → [`dso_models::decode::decode_with_half`] (the samples and their 2×2 binning in one
//! pass) → [`dso_detector::pipeline::analyse_frame_with_half`] (detection at the default settings: the whole-frame
//! pass and the tiles, NMS, selection, annotated JPEG binned to the default picture size
//! `DSO_SETTINGS.PICTURE_SIZE`), in one process with the model loaded once, as the driver's worker does
//! ([`dso_detector::pipeline::analyse`]). "Model
//! alone" is the same frame's model runs with nothing else working ([`YoloDetector::model_alone`]), measured
//! right after each end-to-end frame; the overhead is end to end minus that. "Within" is the sum of `Session::run`
//! times inside the pipeline, which work running beside the model (the picture) lengthens. Each case runs `ROUNDS`
//! times after one warm-up; medians are printed.

use std::time::Instant;

use dso_detector::naming::Naming;
use dso_detector::pipeline::{analyse_frame_with_half, Origin, Outputs, Source};
use dso_detector::report::Selection;
use dso_models::decode;
use dso_models::yolo::YoloDetector;
use dso_test_support::{python, Sky};

const ROUNDS: usize = 5;

/// The driver binary's allocator, so that the pipeline here allocates as the driver's worker does.
#[global_allocator]
static ALLOCATOR: dso_detector::memory::LargeBlocks = dso_detector::memory::LargeBlocks;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Medians of one case, in ms.
struct Case {
    end_to_end: f64,
    decode: f64,
    detect: f64,
    model: f64,
    alone: f64,
    runs: usize,
}

fn rust_case(det: &mut YoloDetector, fits: &[u8]) -> Case {
    let source = Source {
        origin: Origin::File("bench".into()),
        format: ".fits".into(),
        timestamp: String::new(),
        received: Instant::now(),
    };
    let outputs = Outputs { annotated: true, ..Outputs::default() };
    let limits = decode::Limits::default();
    let once = |det: &mut YoloDetector| {
        let t = Instant::now();
        let (frame, half) = decode::decode_with_half(fits, ".fits", &limits).expect("decode");
        let decoded = t.elapsed().as_secs_f64() * 1000.0;
        let a = analyse_frame_with_half(&frame, half, &source, det, Selection::default(), outputs, &Naming::off())
            .expect("analyse");
        assert!(a.annotated.is_some());
        let e2e = t.elapsed().as_secs_f64() * 1000.0;
        let s = det.last_stats();
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        let alone = ms(det.model_alone(&frame).expect("model alone"));
        // As the driver's `pipeline::analyse` does: the next frame is decoded into this one's memory.
        decode::raw::recycle(frame);
        (e2e, decoded, ms(s.total), ms(s.model), s.runs, alone)
    };
    once(det);
    let r: Vec<_> = (0..ROUNDS).map(|_| once(det)).collect();
    Case {
        end_to_end: median(r.iter().map(|r| r.0).collect()),
        decode: median(r.iter().map(|r| r.1).collect()),
        detect: median(r.iter().map(|r| r.2).collect()),
        model: median(r.iter().map(|r| r.3).collect()),
        alone: median(r.iter().map(|r| r.5).collect()),
        runs: r[0].4,
    }
}

/// Python's median total ms, median model ms and runs, or why it could not run.
fn python_case(model: &std::path::Path, frame: &std::path::Path) -> Result<(f64, f64, usize), String> {
    let (rounds, side) = (ROUNDS.to_string(), Outputs::default().max_side.to_string());
    let args = [model.to_str().unwrap(), frame.to_str().unwrap(), "--rounds", &rounds, "--max-side", &side];
    let nums = python::figures("bench_yolo", &args)?;
    match nums.as_slice() {
        [total, model, runs, ..] => Ok((*total, *model, *runs as usize)),
        _ => Err(format!("unexpected output: {nums:?}")),
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mut det = match YoloDetector::from_config() {
        Ok(d) => d,
        Err(e) => {
            println!("YOLO benchmark not run: {e}");
            return;
        }
    };
    let model = det.model_path().to_owned();
    let dir = tempfile::tempdir().unwrap();
    println!(
        "DSO Detector YOLO benchmark: FITS decode + stretch + whole-frame pass + tiles + NMS + annotated JPEG \
         (longest side ≤ {} px)",
        Outputs::default().max_side
    );
    println!(
        "model {} (input {}²); {} cores; median of {ROUNDS} frames after one warm-up",
        model.display(),
        det.input_size(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!(
        "| frame | model runs | Rust end to end | ONNX Runtime alone | overhead / model alone | model within \
         the pipeline | of which: decode, detect w/o model, rest (JPEG) | Python end to end (model) | Python / Rust |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (w, h) in [(1280, 1024), (4096, 4096)] {
        let sky = Sky::render(w, h, (w as f32 * 0.6, h as f32 * 0.4), w as f32 / 60.0, 5);
        let fits = sky.to_fits();
        let path = dir.path().join(format!("frame_{w}x{h}.fits"));
        std::fs::write(&path, &fits).unwrap();
        let c = rust_case(&mut det, &fits);
        let (e2e, model_ms, alone) = (c.end_to_end, c.model, c.alone);
        let overhead = (e2e - alone) / alone * 100.0;
        let parts = format!("{:.0} + {:.0} + {:.0} ms", c.decode, c.detect - c.model, e2e - c.decode - c.detect);
        let (py_cell, ratio) = match python_case(&model, &path) {
            Ok((total, pm, pr)) => (format!("{total:.0} ms ({pm:.0} ms, {pr} runs)"), format!("{:.2}×", total / e2e)),
            Err(e) => (format!("not run: {e}"), "–".into()),
        };
        println!(
            "| {w}×{h} 16-bit | {} | {e2e:.0} ms | {alone:.0} ms | {overhead:.0} % | {model_ms:.0} ms | {parts} | {py_cell} \
             | {ratio} |",
            c.runs
        );
    }
}
