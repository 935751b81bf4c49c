//! Tuning bench for the naive detector: runs it with parameter overrides on a labelled folder of *generated*
//! images (never the dev set) and prints the evaluation figures of `dso-detect eval` plus two diagnostics —
//! how many labels some box localises at any confidence, and how large the best-overlapping boxes are against
//! their labels — so that a change can be told apart as a localisation or a ranking change.
//!
//! ```sh
//! cargo run --release -p dso-detector --example naive_tune -- --images out/yolo-data/images/val \
//!     --labels out/yolo-data/labels/val [--prefix syn_] base coarse_mid=350 coarse.low=3,extent_sigma=2
//! ```
//! Each positional argument is one configuration: `base`, or comma-separated `key=value` overrides of
//! [`NaiveParams`] (the keys are listed in `set`). Below each configuration's figures, a line says how many labels
//! of each size some box localises (IoU ≥ 0.5 at any confidence; "half-frame+" are labels covering at least half
//! the image, which one full-frame box would find). `NAIVE_TUNE_DUMP=1` lists every box against each of those.
//! Frames are decoded once and the configurations run on all cores; how it was used: `docs/NAIVE.md`.

use std::path::PathBuf;

use dso_detector::eval::{parse_yolo, score, ImageResult, Size, Truth, IOU_THRESHOLD};
use dso_detector::report::DEFAULT_CONFIDENCE;
use dso_models::decode;
use dso_models::naive::{NaiveDetector, NaiveParams};
use dso_plugin_api::{Detection, Detector, Frame};

fn set(p: &mut NaiveParams, key: &str, v: f32) -> Result<(), String> {
    let coarse = p.coarse.get_or_insert_with(Default::default);
    match key {
        "work_size" => p.work_size = v as usize,
        "smooth_fwhm" => p.smooth_fwhm = v,
        "large_scale" => p.large_scale = v,
        "threshold" => p.threshold = v,
        "min_size_fwhm" => p.min_size_fwhm = v,
        "extent_sigma" => p.extent_sigma = v,
        "contrast_mid" => p.contrast_mid = v,
        "contrast_scale" => p.contrast_scale = v,
        "min_confidence" => p.min_confidence = v,
        "coarse_mid" => p.coarse_mid = v,
        "coarse_scale" => p.coarse_scale = v,
        "coarse_dominance" => p.coarse_dominance = v,
        "coarse.smooth" => coarse.smooth = v,
        "coarse.high" => coarse.high = v,
        "coarse.low" => coarse.low = v,
        "coarse.min_area" => coarse.min_area = v as usize,
        "coarse.off" if v > 0.0 => p.coarse = None,
        _ => return Err(format!("unknown key {key}")),
    }
    Ok(())
}

fn parse_config(s: &str) -> Result<NaiveParams, String> {
    let mut p = NaiveParams::default();
    if s == "base" {
        return Ok(p);
    }
    for kv in s.split(',') {
        let (k, v) = kv.split_once('=').ok_or_else(|| format!("expected key=value, got {kv}"))?;
        set(&mut p, k, v.parse().map_err(|_| format!("bad value in {kv}"))?)?;
    }
    Ok(p)
}

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let (mut images, mut labels, mut prefix, mut configs) = (None, None, String::new(), Vec::new());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--images" => images = args.next().map(PathBuf::from),
            "--labels" => labels = args.next().map(PathBuf::from),
            "--prefix" => prefix = args.next().unwrap_or_default(),
            _ => configs.push(a),
        }
    }
    let (images, labels) = images.zip(labels).ok_or("--images DIR --labels DIR needed")?;
    let mut names: Vec<PathBuf> = std::fs::read_dir(&images)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| decode::is_image_name(p) && decode::image_stem(p).starts_with(&prefix))
        .collect();
    names.sort();
    let data: Vec<(Frame, Vec<Truth>)> = names
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
            let frame = decode::decode(&bytes, &decode::format_from_path(p), &decode::Limits::default())
                .map_err(|e| e.to_string())?;
            let stem = decode::image_stem(p);
            let text = std::fs::read_to_string(labels.join(format!("{stem}.txt"))).unwrap_or_default();
            let truths = parse_yolo(&text, frame.width, frame.height)?
                .into_iter()
                .map(|(bbox, _)| Truth { bbox, class: None })
                .collect();
            Ok((frame, truths))
        })
        .collect::<Result<_, String>>()?;
    eprintln!("{} images, {} labels", data.len(), data.iter().map(|d| d.1.len()).sum::<usize>());
    if configs.is_empty() {
        configs.push("base".into());
    }
    println!(
        "{:<40} {:>6} {:>6} {:>6} {:>12} {:>6} {:>6} {:>6} {:>7}",
        "config", "P", "R", "F1", "bestF1(thr)", "AP50", "Flarge", "loc", "area×"
    );
    let dump = std::env::var_os("NAIVE_TUNE_DUMP").is_some();
    for c in &configs {
        let params = parse_config(c)?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = data.len().div_ceil(threads);
        let results: Vec<ImageResult> = std::thread::scope(|s| {
            let handles: Vec<_> = data
                .chunks(chunk)
                .map(|part| {
                    let params = params.clone();
                    s.spawn(move || {
                        let mut det = NaiveDetector::with_params(params);
                        part.iter()
                            .map(|(frame, truths)| {
                                let found = det.detect(frame).map(|d| d.objects).unwrap_or_default();
                                ImageResult {
                                    truths: truths.clone(),
                                    detections: found.into_iter().map(|d| (d, None)).collect(),
                                }
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("worker")).collect()
        });
        let all = score(&results, DEFAULT_CONFIDENCE, Size::All);
        let large = score(&results, DEFAULT_CONFIDENCE, Size::Large);
        let (buckets, median) = localisation(&results, &data, dump);
        let (found, total) = buckets.iter().fold((0, 0), |(f, t), b| (f + b.0, t + b.1));
        println!(
            "{:<40} {:>6.3} {:>6.3} {:>6.3} {:>6.3}({:.2}) {:>6.3} {:>6.3} {:>6.3} {:>7.2}",
            c,
            all.precision,
            all.recall,
            all.f1,
            all.best_f1,
            all.best_threshold,
            all.ap50,
            large.f1,
            found as f32 / total.max(1) as f32,
            median
        );
        println!(
            "    localised small {}/{} medium {}/{} large {}/{} half-frame+ {}/{}; {} boxes at ≥ 0.5",
            buckets[0].0,
            buckets[0].1,
            buckets[1].0,
            buckets[1].1,
            buckets[2].0,
            buckets[2].1,
            buckets[3].0,
            buckets[3].1,
            results.iter().flat_map(|r| &r.detections).filter(|d| d.0.confidence >= DEFAULT_CONFIDENCE).count()
        );
    }
    Ok(())
}

/// Localised and total labels per bucket (small, medium, large below half the image, half the image or more),
/// localised meaning some box at any confidence reaches [`IOU_THRESHOLD`], and the median area ratio of the
/// best-overlapping box to its label where they overlap at all (IoU > 0.1). `dump` lists every box against each
/// half-frame label on stderr.
fn localisation(results: &[ImageResult], data: &[(Frame, Vec<Truth>)], dump: bool) -> ([(usize, usize); 4], f32) {
    let mut buckets = [(0usize, 0usize); 4];
    let mut ratios = Vec::new();
    for (r, (frame, _)) in results.iter().zip(data) {
        let image_area = (frame.width * frame.height) as f32;
        for t in &r.truths {
            let a = area(&t.bbox);
            let half_frame = a >= 0.5 * image_area;
            let k =
                [Size::Small, Size::Medium].iter().position(|s| s.contains(a)).unwrap_or(2 + usize::from(half_frame));
            buckets[k].1 += 1;
            if half_frame && dump {
                let list: Vec<String> = r
                    .detections
                    .iter()
                    .map(|(d, _)| {
                        format!("[{:.2} iou {:.2} area {:.2}]", d.confidence, d.iou(&t.bbox), area(d) / image_area)
                    })
                    .collect();
                eprintln!("label area {:.2}: {}", a / image_area, list.join(" "));
            }
            let best = r.detections.iter().map(|(d, _)| (d.iou(&t.bbox), d)).max_by(|a, b| a.0.total_cmp(&b.0));
            if let Some((iou, d)) = best {
                buckets[k].0 += usize::from(iou >= IOU_THRESHOLD);
                if iou > 0.1 {
                    ratios.push(area(d) / a.max(1.0));
                }
            }
        }
    }
    ratios.sort_by(f32::total_cmp);
    (buckets, ratios.get(ratios.len() / 2).copied().unwrap_or(f32::NAN))
}

fn area(d: &Detection) -> f32 {
    d.width * d.height
}
