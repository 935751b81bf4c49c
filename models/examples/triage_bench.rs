//! Times frame triage ([`dso_models::quality::measure`]) against the naive detector on the same synthetic linear
//! 16-bit frames as `naive_bench`: 1280×1024 and 4096×4096. Issue 19 asks triage to add at most 15 % to a 4096²
//! frame's time; the last column is that ratio (triage time over the naive detector's).
//!
//! ```text
//! cargo run --release -p dso-models --example triage_bench
//! ```

use std::time::Instant;

use dso_models::naive::synth::bench_frame;
use dso_models::naive::NaiveDetector;
use dso_models::quality::{measure, Params};
use dso_plugin_api::Detector;

fn time(runs: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm-up
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    start.elapsed().as_secs_f64() * 1e3 / runs as f64
}

fn main() {
    let mut det = NaiveDetector::new();
    let params = Params::default();
    println!("| frame | triage | of which trails | naive detector | triage / detector |");
    println!("|---|---|---|---|---|");
    for (w, h, runs) in [(1280, 1024, 20), (4096, 4096, 5)] {
        let f = bench_frame(w, h);
        let triage = time(runs, || {
            std::hint::black_box(measure(&f, &params));
        });
        let no_trails = Params { trails: false, ..params.clone() };
        let without = time(runs, || {
            std::hint::black_box(measure(&f, &no_trails));
        });
        let naive = time(runs, || {
            std::hint::black_box(det.detect(&f).expect("detects"));
        });
        let m = measure(&f, &params);
        println!(
            "| {w}×{h} | {triage:.1} ms | {:.1} ms | {naive:.1} ms | {:.1} % |",
            triage - without,
            100.0 * triage / naive
        );
        eprintln!("  {w}×{h}: {} stars, FWHM {:?}, {} trails", m.stars, m.fwhm, m.trails.len());
    }
}
