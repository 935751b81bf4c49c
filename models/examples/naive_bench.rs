//! Times the naive detector on synthetic linear 16-bit frames of the sizes the driver meets: a 1280×1024 guide or
//! planetary camera and a 4096×4096 full-frame sensor. The detector is single-threaded, so this is one core.
//!
//! ```text
//! cargo run --release -p dso-models --example naive_bench
//! ```

use std::time::Instant;

use dso_models::naive::synth::bench_frame;
use dso_models::naive::NaiveDetector;
use dso_plugin_api::Detector;

fn main() {
    let mut det = NaiveDetector::new();
    for (w, h, runs) in [(1280, 1024, 20), (4096, 4096, 5)] {
        let f = bench_frame(w, h);
        let found = det.detect(&f).expect("detects"); // warm-up
        let start = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(det.detect(&f).expect("detects"));
        }
        let ms = start.elapsed().as_secs_f64() * 1e3 / runs as f64;
        let sure = found.objects.iter().filter(|o| o.confidence >= 0.5).count();
        println!("{w}×{h}: {ms:.1} ms per frame ({} candidates, {sure} at confidence ≥ 0.5)", found.objects.len());
    }
}
