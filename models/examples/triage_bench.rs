//! Times frame triage ([`dso_models::quality::measure`]) against the naive detector on the same synthetic linear
//! 16-bit frames as `naive_bench`: 1280×1024 and 4096×4096. Issue 19 asks triage to add at most 15 % to a 4096²
//! frame's time; the last column is that ratio (triage time over the naive detector's).
//!
//! ```text
//! cargo run --release -p dso-models --example triage_bench
//! ```

use std::time::Instant;

use dso_models::naive::synth::{add_galaxy, add_noise, add_star_field, Galaxy, Rng};
use dso_models::naive::NaiveDetector;
use dso_models::ops::Plane;
use dso_models::quality::{measure, Params};
use dso_plugin_api::{Detector, Encoding, Frame};

/// `naive_bench`'s frame: sky at 1000 ADU with 20 ADU of noise, stars and one galaxy.
fn frame(w: usize, h: usize) -> Frame {
    let mut rng = Rng::new(42);
    let scale = (w.max(h) as f32 / 1024.0).max(1.0);
    let mut p = Plane::filled(w, h, 1000.0 / 65535.0);
    add_star_field(&mut p, w * h / 2000, 0.002, 0.9, 2.5 * scale, &mut rng);
    let g = Galaxy { x: w as f32 * 0.6, y: h as f32 * 0.4, peak: 0.004, re: 20.0 * scale, n: 1.0, q: 0.6, angle: 0.4 };
    add_galaxy(&mut p, &g);
    add_noise(&mut p, 20.0 / 65535.0, &mut rng);
    let data = p.data.iter().map(|v| (v.clamp(0.0, 1.0) * 65535.0).round() / 65535.0).collect();
    Frame::new(w, h, vec![data], Encoding::Linear).expect("valid frame")
}

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
        let f = frame(w, h);
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
