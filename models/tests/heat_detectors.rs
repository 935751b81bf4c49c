//! The two heat-map detectors (XRAI and Pix2Pix) run end to end with the shipped models: on a real 640-px
//! smart-telescope image (`shared/data/deepspaceyolo-dev/images/1012.jpg`, a generated one where the shared data is
//! absent) and on a generated 1280×1024 linear camera frame, tiled.
//!
//! What is checked is the contract, not the answer: a heat map of the frame's size with values in `0..=1`, boxes
//! inside the frame, the same result twice, XRAI's progress increasing to 1. They need ONNX Runtime
//! (`pip install onnxruntime==1.31.1`, installers/deps.sh) and skip with a message when it cannot be loaded. XRAI runs
//! with 4 steps per baseline to stay cheap; times are printed (`cargo test --release -- --nocapture`).

use std::path::Path;
use std::sync::{Arc, Mutex};

use dso_models::decode::{decode, format_from_path, Limits};
use dso_models::heatmap::Tiling;
use dso_models::pix2pix::Pix2PixDetector;
use dso_models::xrai::detector::XraiDetector;
use dso_plugin_api::{Detections, Detector, Encoding, Frame};

/// Whether ONNX Runtime loads; prints why not.
fn runtime() -> bool {
    match dso_models::onnx::environment() {
        Ok(_) => true,
        Err(why) => {
            // CI sets DSO_REQUIRE_DATA=1: there the runtime is installed and a skip would hide a broken setup.
            dso_test_support::skip(format!("ONNX Runtime cannot be loaded: {why}"));
            false
        }
    }
}

/// `width × height` values: background, noise, a few stars and an elliptical galaxy at `(gx, gy)`.
fn sky(
    width: usize,
    height: usize,
    (background, noise, galaxy, star): (f32, f32, f32, f32),
    (gx, gy): (f32, f32),
) -> Vec<f32> {
    // The project's one seeded generator, so generated frames are the same on every run.
    let mut rng = dso_test_support::Rng::new(7);
    let mut next = || rng.uniform() - 0.5;
    let stars: Vec<(f32, f32)> =
        (0..40).map(|_| ((next() + 0.5) * width as f32, (next() + 0.5) * height as f32)).collect();
    (0..width * height)
        .map(|i| {
            let (x, y) = ((i % width) as f32, (i / width) as f32);
            let (dx, dy) = (x - gx, y - gy);
            let (u, v) = (0.8 * dx + 0.6 * dy, -0.6 * dx + 0.8 * dy);
            let g = galaxy * (-(u * u / (2.0 * 40.0f32.powi(2)) + v * v / (2.0 * 15.0f32.powi(2)))).exp();
            let s: f32 = stars.iter().map(|(sx, sy)| star * (-((x - sx).powi(2) + (y - sy).powi(2)) / 3.0).exp()).sum();
            (background + g + s + noise * next()).clamp(0.0, 1.0)
        })
        .collect()
}

/// The real 640-px image, or a generated stretched one of the same size.
fn small_image() -> Frame {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/deepspaceyolo-dev/images/1012.jpg");
    match std::fs::read(&path) {
        Ok(bytes) => decode(&bytes, &format_from_path(&path), &Limits::default()).expect("1012.jpg decodes"),
        Err(_) => {
            eprintln!("{} is absent: using a generated image", path.display());
            let v = sky(640, 640, (0.15, 0.04, 0.5, 0.8), (300.0, 340.0));
            Frame::new(640, 640, vec![v.clone(), v.clone(), v], Encoding::Stretched).unwrap()
        }
    }
}

/// A 1280×1024 linear mono frame, as a cooled camera gives it: the sky a few percent above black.
fn large_frame() -> Frame {
    let v = sky(1280, 1024, (0.03, 0.004, 0.03, 0.4), (900.0, 300.0));
    Frame::new(1280, 1024, vec![v], Encoding::Linear).unwrap()
}

/// The contract every heat-map detector's output keeps.
fn check(frame: &Frame, d: &Detections) {
    let map = d.heatmap.as_ref().expect("a heat map");
    assert_eq!((map.width, map.height), (frame.width, frame.height));
    assert_eq!(map.values.len(), frame.width * frame.height);
    assert!(map.values.iter().all(|v| (0.0..=1.0).contains(v)), "heat map values outside 0..=1");
    for o in &d.objects {
        assert!(o.x >= 0.0 && o.y >= 0.0 && o.width > 0.0 && o.height > 0.0, "{o:?}");
        assert!(o.x + o.width <= frame.width as f32 && o.y + o.height <= frame.height as f32, "{o:?}");
        assert!((0.0..=1.0).contains(&o.confidence), "{o:?}");
        assert_eq!(o.label, "dso");
    }
}

/// Runs a detector twice on a frame, checks the output and that both runs agree; returns it. (Times: the
/// `heatmaps` benchmark.)
fn run_twice(d: &mut dyn Detector, frame: &Frame) -> Detections {
    let first = d.detect(frame).expect("detect");
    check(frame, &first);
    let second = d.detect(frame).expect("detect again");
    assert_eq!(first, second, "{} is not deterministic", d.name());
    first
}

fn peak(d: &Detections) -> f32 {
    d.heatmap.as_ref().map_or(0.0, |m| m.values.iter().copied().fold(0.0, f32::max))
}

#[test]
fn pix2pix_on_a_real_image_and_a_large_frame() {
    if !runtime() {
        return;
    }
    let mut det = Pix2PixDetector::new().expect("the shipped Pix2Pix model loads");
    assert_eq!(det.name(), "pix2pix");
    // smaller than the model input and not square: one tile, enlarged
    let tiny = Frame::new(150, 100, vec![sky(150, 100, (0.2, 0.05, 0.5, 0.8), (75.0, 50.0))], Encoding::Stretched);
    for frame in [tiny.unwrap(), small_image(), large_frame()] {
        let d = run_twice(&mut det, &frame);
        let tiles = Tiling::default().tiles(frame.width, frame.height).len();
        println!(
            "pix2pix {}×{} ({tiles} tiles): {} boxes, map peak {:.2}",
            frame.width,
            frame.height,
            d.objects.len(),
            peak(&d)
        );
    }
}

#[test]
fn xrai_on_a_real_image_and_a_large_frame_reports_progress() {
    if !runtime() {
        return;
    }
    let mut det = XraiDetector::new().expect("the shipped classifier loads");
    assert_eq!(det.name(), "xrai");
    det.params_mut().xrai.steps = 4;
    // the real image tiled twice over a 1280×1024 frame, so some tiles hold an object the classifier believes in
    let small = small_image();
    let tiled = Frame::new(
        1280,
        1024,
        small
            .planes
            .iter()
            .map(|p| (0..1280 * 1024).map(|i| p[(i / 1280 % 640) * 640 + i % 1280 % 640]).collect())
            .collect(),
        small.encoding,
    )
    .unwrap();
    for frame in [small, large_frame(), tiled] {
        let reports = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&reports);
        det.set_progress(Box::new(move |f| sink.lock().unwrap().push(f)));
        let d = run_twice(&mut det, &frame);
        let stats = det.last_stats().clone();
        let tiles = Tiling::default().tiles(frame.width, frame.height).len();
        assert_eq!(stats.probabilities.len(), tiles);
        let reports = reports.lock().unwrap().clone();
        // two runs: each increases and ends at 1
        let runs = reports.len() / 2;
        assert!(runs >= 1 && reports.len() == 2 * runs, "{reports:?}");
        for run in reports.chunks(runs) {
            assert!(run.windows(2).all(|p| p[1] > p[0]), "progress not increasing: {run:?}");
            assert_eq!(*run.last().unwrap(), 1.0, "{run:?}");
            assert!(run.iter().all(|f| (0.0..=1.0).contains(f)));
        }
        println!(
            "xrai (4 steps) {}×{} ({tiles} tiles, {} explained, P {:.2?}): {} boxes, map peak {:.2}",
            frame.width,
            frame.height,
            stats.explained,
            stats.probabilities,
            d.objects.len(),
            peak(&d)
        );
        if frame.width == 1280 && frame.encoding == Encoding::Stretched {
            assert!(stats.explained > 0, "no tile of the real image was explained: P {:?}", stats.probabilities);
        }
    }
}
