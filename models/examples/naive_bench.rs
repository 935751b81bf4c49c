//! Times the naive detector on synthetic linear 16-bit frames of the sizes the driver meets: a 1280×1024 guide or
//! planetary camera and a 4096×4096 full-frame sensor. The detector is single-threaded, so this is one core.
//!
//! ```text
//! cargo run --release -p dso-models --example naive_bench
//! ```

use std::time::Instant;

use dso_models::naive::synth::{add_galaxy, add_noise, add_star_field, Galaxy, Rng};
use dso_models::naive::NaiveDetector;
use dso_models::ops::Plane;
use dso_plugin_api::{Detector, Encoding, Frame};

/// A linear frame quantised to 16 bits: sky at 1000 ADU with 20 ADU of noise, stars and one galaxy.
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

fn main() {
    let mut det = NaiveDetector::new();
    for (w, h, runs) in [(1280, 1024, 20), (4096, 4096, 5)] {
        let f = frame(w, h);
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
