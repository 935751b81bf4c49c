//! `dso-detect` as a user runs it: listing detectors, a batch with a bad file in it, and an evaluation.

use std::path::Path;
use std::process::Command;

use dso_test_support::{best_iou, Sky};

const CLI: &str = env!("CARGO_BIN_EXE_dso-detect");

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(CLI).args(args).output().expect("running dso-detect");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn list_names_the_naive_detector_first() {
    let (code, out, _) = run(&["list"]);
    assert_eq!(code, 0);
    let first = out.lines().next().expect("one line per detector");
    assert!(first.starts_with("naive\t"), "{out}");
    assert!(first.contains("available"), "{out}");
}

#[test]
fn a_batch_with_a_bad_file_reports_it_and_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let sky = Sky::render(800, 600, (500.0, 250.0), 16.0, 21);
    std::fs::write(input.join("a_galaxy.fits"), sky.to_fits()).unwrap();
    std::fs::write(input.join("b_broken.fits"), b"SIMPLE  = T garbage that is not a FITS file").unwrap();
    // The same sky as a stretched PNG: JPEG/PNG inputs go through the same decoder.
    let png = {
        let img = image::GrayImage::from_fn(800, 600, |x, y| {
            let v = sky.data[(y * 800 + x) as usize] as f32;
            image::Luma([((v - 1100.0) / 12.0).clamp(0.0, 255.0) as u8])
        });
        let mut bytes = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
        bytes
    };
    std::fs::write(input.join("c_galaxy.png"), png).unwrap();
    std::fs::write(input.join("notes.txt"), b"not an image, skipped when walking the folder").unwrap();
    let out_dir = dir.path().join("out");
    let (yolo, json, ann) = (out_dir.join("yolo"), out_dir.join("json"), out_dir.join("ann"));
    let (code, stdout, stderr) = run(&[
        "detect",
        "--yolo-dir",
        yolo.to_str().unwrap(),
        "--json-dir",
        json.to_str().unwrap(),
        "--annotated-dir",
        ann.to_str().unwrap(),
        "--max-side",
        "400",
        input.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "a failed file makes the exit code 1\n{stdout}\n{stderr}");
    assert!(stderr.contains("b_broken.fits: error:"), "{stderr}");
    assert!(stdout.contains("a_galaxy.fits: ") && stdout.contains("c_galaxy.png: "), "{stdout}");
    for stem in ["a_galaxy", "c_galaxy"] {
        // The picture is binned to the 400-px limit; the JSON and YOLO boxes stay in the 800×600 frame.
        let picture = image::open(ann.join(format!("{stem}.jpg"))).unwrap();
        assert_eq!((picture.width(), picture.height()), (400, 300), "{stem}");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(json.join(format!("{stem}.json"))).unwrap()).unwrap();
        assert_eq!(v["frame"]["width"], 800);
        let iou = best_iou(&v, sky.galaxy);
        assert!(iou > 0.3, "{stem}: galaxy missed: {v}");
        // YOLO lines: class cx cy w h conf, normalised; the galaxy centre is at (500/800, 250/600).
        let txt = std::fs::read_to_string(yolo.join(format!("{stem}.txt"))).unwrap();
        let near = txt.lines().any(|l| {
            let f: Vec<f32> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
            f.len() == 6
                && (f[1] - 0.625).abs() < 0.05
                && (f[2] - 250.0 / 600.0).abs() < 0.05
                && f[5] > 0.0
                && f[5] <= 1.0
        });
        assert!(near, "{stem}: no YOLO line at the galaxy: {txt}");
    }
    assert!(!yolo.join("b_broken.txt").exists());
}

fn write_label(dir: &Path, stem: &str, text: &str) {
    std::fs::write(dir.join(format!("{stem}.txt")), text).unwrap();
}

#[test]
fn eval_scores_the_full_frame_baseline_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = (dir.path().join("images"), dir.path().join("labels"));
    std::fs::create_dir_all(&images).unwrap();
    std::fs::create_dir_all(&labels).unwrap();
    let sky = Sky::render(200, 200, (100.0, 100.0), 5.0, 1);
    for stem in ["one", "two"] {
        std::fs::write(images.join(format!("{stem}.fits")), sky.to_fits()).unwrap();
    }
    // "one": an object covering the whole image (found by the baseline); "two": a small one (missed).
    write_label(&labels, "one", "0 0.5 0.5 0.98 0.98\n");
    write_label(&labels, "two", "0 0.5 0.5 0.1 0.1\n");
    let (code, out, err) = run(&[
        "eval",
        "--images",
        images.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--detector",
        "full-frame",
    ]);
    assert_eq!(code, 0, "{err}");
    let all = out.lines().find(|l| l.starts_with("all ")).unwrap_or_else(|| panic!("{out}"));
    let f: Vec<f32> =
        all.split_whitespace().skip(1).filter_map(|x| x.trim_matches(|c| c == '(' || c == ')').parse().ok()).collect();
    // labels, P, R, F1, best F1, threshold, AP50
    assert_eq!(f[0], 2.0, "{all}");
    assert!((f[1] - 0.5).abs() < 1e-3 && (f[2] - 0.5).abs() < 1e-3 && (f[3] - 0.5).abs() < 1e-3, "{all}");
    assert!((f[6] - 0.25).abs() < 1e-3, "AP50 {all}");
    let small = out.lines().find(|l| l.starts_with("small")).unwrap();
    assert!(small.split_whitespace().nth(1) == Some("1"), "{small}");
}

#[test]
fn eval_writes_a_markdown_report() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = (dir.path().join("images"), dir.path().join("labels"));
    std::fs::create_dir_all(&images).unwrap();
    std::fs::create_dir_all(&labels).unwrap();
    let sky = Sky::render(400, 300, (200.0, 150.0), 10.0, 4);
    std::fs::write(images.join("g.fits"), sky.to_fits()).unwrap();
    let (x, y, w, h) = sky.galaxy;
    write_label(
        &labels,
        "g",
        &format!("0 {} {} {} {}\n", (x + w / 2.0) / 400.0, (y + h / 2.0) / 300.0, w / 400.0, h / 300.0),
    );
    let report = dir.path().join("EVALUATION.md");
    let (code, _, err) = run(&[
        "eval",
        "--images",
        images.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(&report).unwrap();
    assert!(md.contains("| trivial baseline: one full-frame box |"), "{md}");
    assert!(md.contains("| naive |"), "{md}");
    assert!(md.contains("paper: YOLOv7"), "{md}");
}
