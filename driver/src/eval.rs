//! Detection quality against labelled images: precision, recall and F1 at IoU ≥ 0.5, the best F1 over thresholds,
//! AP50, and the same split by object size — the figures the paper reports (Parisot & Jaziri 2024, table 3) and
//! the ones `docs/EVALUATION.md` records.
//!
//! Matching is greedy by confidence, each label matched at most once, as in the PASCAL VOC and COCO evaluations.
//! AP50 is the area under the all-point interpolated precision/recall curve (VOC 2010+). Size buckets follow COCO
//! (small < 32², medium < 96², large, in pixels of the image): labels outside a bucket are ignored, and so are
//! detections matched to them or, unmatched, outside it. Class ids are compared only when both sides have classes.

use dso_plugin_api::Detection;

/// IoU at which a detection counts as finding a label.
pub const IOU_THRESHOLD: f32 = 0.5;

/// A labelled box in pixels, with its class id when the label file has one that means something.
#[derive(Clone, Debug, PartialEq)]
pub struct Truth {
    /// The box (label and confidence unused).
    pub bbox: Detection,
    /// Class id, `None` when classes are not compared.
    pub class: Option<usize>,
}

/// One image's labels and detections (all of them, before any threshold).
#[derive(Clone, Debug, Default)]
pub struct ImageResult {
    /// Ground truth.
    pub truths: Vec<Truth>,
    /// Detections with class ids (`None` for class-less detectors).
    pub detections: Vec<(Detection, Option<usize>)>,
}

/// Size buckets (COCO area ranges, px²).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// Every object.
    All,
    /// Area below 32².
    Small,
    /// 32² to 96².
    Medium,
    /// 96² and more.
    Large,
}

impl Size {
    /// Whether a box of this area (px²) belongs to the bucket.
    pub fn contains(self, area: f32) -> bool {
        match self {
            Size::All => true,
            Size::Small => area < 32.0 * 32.0,
            Size::Medium => (32.0 * 32.0..96.0 * 96.0).contains(&area),
            Size::Large => area >= 96.0 * 96.0,
        }
    }

    /// The bucket's name.
    pub fn name(self) -> &'static str {
        match self {
            Size::All => "all",
            Size::Small => "small",
            Size::Medium => "medium",
            Size::Large => "large",
        }
    }
}

/// Figures for one size bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Scores {
    /// Which objects.
    pub size: Size,
    /// Number of labels in the bucket.
    pub labels: usize,
    /// Precision at the operating threshold.
    pub precision: f32,
    /// Recall at the operating threshold.
    pub recall: f32,
    /// F1 at the operating threshold.
    pub f1: f32,
    /// Best F1 over all thresholds.
    pub best_f1: f32,
    /// The threshold giving it.
    pub best_threshold: f32,
    /// Average precision at IoU 0.5.
    pub ap50: f32,
}

/// One detection after matching: confidence, whether it is a true positive, and whether it is ignored.
struct Scored {
    confidence: f32,
    tp: bool,
}

fn area(d: &Detection) -> f32 {
    d.width * d.height
}

/// Matches one image's detections to its labels for a size bucket.
fn match_image(img: &ImageResult, size: Size, out: &mut Vec<Scored>) -> usize {
    let mut dets: Vec<&(Detection, Option<usize>)> =
        img.detections.iter().filter(|d| d.0.confidence.is_finite()).collect();
    dets.sort_by(|a, b| b.0.confidence.total_cmp(&a.0.confidence));
    let in_bucket: Vec<bool> = img.truths.iter().map(|t| size.contains(area(&t.bbox))).collect();
    let mut taken = vec![false; img.truths.len()];
    for (det, class) in dets {
        let mut best: Option<(usize, f32)> = None;
        for (i, t) in img.truths.iter().enumerate() {
            if taken[i] || matches!((class, t.class), (Some(a), Some(b)) if *a != b) {
                continue;
            }
            let iou = det.iou(&t.bbox);
            // Prefer labels in the bucket, as COCO matches non-ignored labels first.
            let better = match best {
                None => true,
                Some((j, b)) => (in_bucket[i], iou) > (in_bucket[j], b),
            };
            if iou >= IOU_THRESHOLD && better {
                best = Some((i, iou));
            }
        }
        match best {
            Some((i, _)) => {
                taken[i] = true;
                if in_bucket[i] {
                    out.push(Scored { confidence: det.confidence, tp: true });
                }
            }
            None if size.contains(area(det)) => out.push(Scored { confidence: det.confidence, tp: false }),
            None => {}
        }
    }
    in_bucket.iter().filter(|b| **b).count()
}

fn f1(p: f32, r: f32) -> f32 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

/// Scores a set of images at an operating threshold, for one size bucket.
pub fn score(images: &[ImageResult], threshold: f32, size: Size) -> Scores {
    let mut scored = Vec::new();
    let labels: usize = images.iter().map(|img| match_image(img, size, &mut scored)).sum();
    scored.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));

    let (mut tp, mut fp) = (0usize, 0usize);
    let (mut best_f1, mut best_threshold) = (0.0f32, 1.0f32);
    let mut curve: Vec<(f32, f32)> = Vec::new(); // (recall, precision)
    let (mut op_tp, mut op_fp) = (0usize, 0usize);
    for (i, s) in scored.iter().enumerate() {
        if s.tp {
            tp += 1;
        } else {
            fp += 1;
        }
        if s.confidence >= threshold {
            (op_tp, op_fp) = (tp, fp);
        }
        // Only evaluate at the last detection of a run of equal confidences (a threshold cannot split them).
        if scored.get(i + 1).is_some_and(|n| n.confidence == s.confidence) {
            continue;
        }
        let p = tp as f32 / (tp + fp) as f32;
        let r = if labels > 0 { tp as f32 / labels as f32 } else { 0.0 };
        curve.push((r, p));
        if f1(p, r) > best_f1 {
            (best_f1, best_threshold) = (f1(p, r), s.confidence);
        }
    }
    let precision = if op_tp + op_fp > 0 { op_tp as f32 / (op_tp + op_fp) as f32 } else { 0.0 };
    let recall = if labels > 0 { op_tp as f32 / labels as f32 } else { 0.0 };
    Scores {
        size,
        labels,
        precision,
        recall,
        f1: f1(precision, recall),
        best_f1,
        best_threshold,
        ap50: average_precision(&curve),
    }
}

/// All-point interpolated AP from (recall, precision) points in order of decreasing confidence.
fn average_precision(curve: &[(f32, f32)]) -> f32 {
    let mut ap = 0.0;
    let mut prev_r = 0.0;
    for (i, &(r, _)) in curve.iter().enumerate() {
        // Interpolated precision: the best precision at this recall or beyond.
        let p_interp = curve[i..].iter().map(|c| c.1).fold(0.0f32, f32::max);
        ap += (r - prev_r) * p_interp;
        prev_r = r;
    }
    ap
}

/// Parses a YOLO label or prediction file (`class cx cy w h [conf]`, normalised) into pixel boxes; lines that do
/// not parse are reported by number.
pub fn parse_yolo(text: &str, width: usize, height: usize) -> Result<Vec<(Detection, usize)>, String> {
    let (w, h) = (width as f32, height as f32);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let nums: Option<Vec<f32>> = fields[1..].iter().map(|f| f.parse().ok()).collect();
        match (fields[0].parse::<usize>(), nums.as_deref()) {
            (Ok(class), Some([cx, cy, bw, bh, rest @ ..])) if rest.len() <= 1 => {
                let confidence = rest.first().copied().unwrap_or(1.0);
                let bbox = Detection {
                    x: (cx - bw / 2.0) * w,
                    y: (cy - bh / 2.0) * h,
                    width: bw * w,
                    height: bh * h,
                    label: class.to_string(),
                    confidence,
                };
                out.push((bbox, class));
            }
            _ => return Err(format!("line {}: expected `class cx cy w h [conf]`, got `{line}`", i + 1)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x: f32, y: f32, s: f32, conf: f32) -> Detection {
        Detection { x, y, width: s, height: s, label: "dso".into(), confidence: conf }
    }

    fn truth(x: f32, y: f32, s: f32) -> Truth {
        Truth { bbox: b(x, y, s, 1.0), class: None }
    }

    #[test]
    fn perfect_detections_score_one() {
        let img = ImageResult { truths: vec![truth(0.0, 0.0, 50.0)], detections: vec![(b(1.0, 1.0, 50.0, 0.9), None)] };
        let s = score(&[img], 0.5, Size::All);
        assert_eq!((s.precision, s.recall, s.f1, s.ap50), (1.0, 1.0, 1.0, 1.0));
    }

    #[test]
    fn threshold_and_false_positives_count() {
        let img = ImageResult {
            truths: vec![truth(0.0, 0.0, 50.0), truth(200.0, 200.0, 50.0)],
            detections: vec![
                (b(0.0, 0.0, 50.0, 0.9), None),
                (b(500.0, 0.0, 50.0, 0.8), None),
                (b(200.0, 200.0, 50.0, 0.3), None),
            ],
        };
        let s = score(std::slice::from_ref(&img), 0.5, Size::All);
        assert_eq!((s.precision, s.recall), (0.5, 0.5));
        // Best F1 takes all three: P 2/3, R 1.
        assert!((s.best_f1 - 0.8).abs() < 1e-6, "{s:?}");
        assert_eq!(s.best_threshold, 0.3);
        // AP: recall 0.5 at precision 1, recall 1 at precision 2/3.
        assert!((s.ap50 - (0.5 + 0.5 * 2.0 / 3.0)).abs() < 1e-6, "{s:?}");
    }

    #[test]
    fn a_label_is_matched_once() {
        let img = ImageResult {
            truths: vec![truth(0.0, 0.0, 50.0)],
            detections: vec![(b(0.0, 0.0, 50.0, 0.9), None), (b(0.0, 0.0, 50.0, 0.8), None)],
        };
        let s = score(&[img], 0.0, Size::All);
        assert_eq!((s.precision, s.recall), (0.5, 1.0));
    }

    #[test]
    fn classes_compared_only_when_both_have_them() {
        let t = Truth { bbox: b(0.0, 0.0, 50.0, 1.0), class: Some(1) };
        let wrong = ImageResult { truths: vec![t.clone()], detections: vec![(b(0.0, 0.0, 50.0, 0.9), Some(0))] };
        assert_eq!(score(&[wrong], 0.5, Size::All).recall, 0.0);
        let classless = ImageResult { truths: vec![t], detections: vec![(b(0.0, 0.0, 50.0, 0.9), None)] };
        assert_eq!(score(&[classless], 0.5, Size::All).recall, 1.0);
    }

    #[test]
    fn size_buckets_ignore_other_sizes() {
        let img = ImageResult {
            truths: vec![truth(0.0, 0.0, 20.0), truth(100.0, 100.0, 200.0)],
            detections: vec![(b(0.0, 0.0, 20.0, 0.9), None), (b(400.0, 400.0, 200.0, 0.8), None)],
        };
        let small = score(std::slice::from_ref(&img), 0.5, Size::Small);
        assert_eq!((small.labels, small.precision, small.recall), (1, 1.0, 1.0));
        let large = score(&[img], 0.5, Size::Large);
        assert_eq!((large.labels, large.precision, large.recall), (1, 0.0, 0.0));
    }

    #[test]
    fn yolo_files_parse_with_and_without_confidence() {
        let v = parse_yolo("0 0.5 0.5 0.2 0.4\n2 0.1 0.1 0.2 0.2 0.75\n\n", 100, 50).unwrap();
        assert_eq!(v.len(), 2);
        let got = [v[0].0.x, v[0].0.y, v[0].0.width, v[0].0.height];
        for (g, want) in got.iter().zip([40.0, 15.0, 20.0, 20.0]) {
            assert!((g - want).abs() < 1e-4, "{got:?}");
        }
        assert_eq!((v[1].1, v[1].0.confidence), (2, 0.75));
        assert!(parse_yolo("0 0.5 0.5", 10, 10).unwrap_err().contains("line 1"));
    }
}
