//! Times the two heat-map detectors (XRAI and Pix2Pix) with the shipped models on images, and on a 1280×1024 frame
//! made by repeating the first image (6 tiles of 640 px). Prints each detector's time, tiles, explained tiles and
//! boxes; with `--save DIR` writes each heat map over its image as PNG. Needs ONNX Runtime.
//!
//! ```text
//! cargo run --release -p dso-models --example heat_bench -- [--steps 32] [--save DIR] [IMAGE…]
//! ```
//! Without images it uses `shared/data/deepspaceyolo-dev/images/1012.jpg`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use dso_models::decode::{decode, format_from_path, Limits};
use dso_models::pix2pix::Pix2PixDetector;
use dso_models::xrai::detector::XraiDetector;
use dso_plugin_api::{Detections, Detector, Frame};

/// `frame` repeated over a `width × height` frame.
fn repeated(frame: &Frame, width: usize, height: usize) -> Frame {
    let planes = frame
        .planes
        .iter()
        .map(|p| {
            (0..width * height).map(|i| p[(i / width % frame.height) * frame.width + i % width % frame.width]).collect()
        })
        .collect();
    Frame::new(width, height, planes, frame.encoding).expect("a valid frame")
}

fn summary(d: &Detections) -> String {
    let peak = d.heatmap.as_ref().map_or(0.0, |m| m.values.iter().copied().fold(0.0, f32::max));
    let boxes: Vec<String> = d
        .objects
        .iter()
        .map(|o| format!("{:.0},{:.0} {:.0}×{:.0} {:.2}", o.x, o.y, o.width, o.height, o.confidence))
        .collect();
    format!("map peak {peak:.2}, {} boxes [{}]", d.objects.len(), boxes.join("; "))
}

fn save(dir: &Option<PathBuf>, name: &str, frame: &Frame, d: &Detections) {
    let (Some(dir), Some(map)) = (dir, &d.heatmap) else { return };
    let png = dso_models::annotate::heatmap_png(map, Some(frame)).expect("a PNG");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("the PNG is written");
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut steps, mut dir, mut images) = (dso_models::xrai::detector::DEFAULT_STEPS, None, Vec::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--steps" => steps = args.next().and_then(|s| s.parse().ok()).expect("--steps N"),
            "--save" => dir = args.next().map(PathBuf::from),
            _ => images.push(PathBuf::from(a)),
        }
    }
    if images.is_empty() {
        images.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/deepspaceyolo-dev/images/1012.jpg"));
    }
    let mut frames: Vec<(String, Frame)> = images
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let name = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            (name, decode(&bytes, &format_from_path(p), &Limits::default()).expect("the image decodes"))
        })
        .collect();
    let big = repeated(&frames[0].1, 1280, 1024);
    frames.push((format!("{}-1280x1024", frames[0].0), big));

    let mut xrai = XraiDetector::new().unwrap_or_else(|e| panic!("XRAI: {e}"));
    xrai.params_mut().xrai.steps = steps;
    let mut pix2pix = Pix2PixDetector::new().unwrap_or_else(|e| panic!("Pix2Pix: {e}"));
    // a first frame for each, so one-time start-up costs do not count
    let warm = &frames[0].1;
    pix2pix.detect(warm).expect("pix2pix");
    for (name, frame) in &frames {
        let t = Instant::now();
        let d = pix2pix.detect(frame).expect("pix2pix");
        println!(
            "pix2pix {name} {}×{}: {:.0} ms, {}",
            frame.width,
            frame.height,
            t.elapsed().as_secs_f64() * 1e3,
            summary(&d)
        );
        save(&dir, &format!("{name}-pix2pix"), frame, &d);
        let t = Instant::now();
        let d = xrai.detect(frame).expect("xrai");
        let s = xrai.last_stats();
        println!(
            "xrai ({steps} steps) {name} {}×{}: {:.0} ms (classify {:.0} ms, {} of {} tiles explained in {:.0} ms, P {:.2?}), {}",
            frame.width,
            frame.height,
            t.elapsed().as_secs_f64() * 1e3,
            s.classify.as_secs_f64() * 1e3,
            s.explained,
            s.probabilities.len(),
            s.explain.as_secs_f64() * 1e3,
            s.probabilities,
            summary(&d)
        );
        save(&dir, &format!("{name}-xrai"), frame, &d);
    }
}
