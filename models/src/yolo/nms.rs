//! Class-aware non-maximum suppression: of overlapping boxes of the same class only the most confident is kept.
//!
//! In [`nms`] boxes of different classes never suppress each other, as in ultralytics' `non_max_suppression` with
//! `agnostic=False`. [`suppress_nested`] then removes what that leaves on one object: concentric boxes at other
//! scales or with another class, which a deep-sky frame shows as a stack of frames around one galaxy.

use dso_plugin_api::Detection;

/// A box in frame pixels with its class and score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    /// `x0, y0, x1, y1`.
    pub bbox: [f32; 4],
    /// Class index.
    pub class: usize,
    /// Score `0..1`.
    pub score: f32,
}

/// Intersection over union of two `x0, y0, x1, y1` boxes: [`Detection::iou`], the one definition the evaluation
/// and the tests use too.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let corners = |c: &[f32; 4]| Detection {
        x: c[0],
        y: c[1],
        width: c[2] - c[0],
        height: c[3] - c[1],
        label: String::new(),
        confidence: 0.0,
    };
    corners(a).iou(&corners(b))
}

/// Keeps, class by class, each box that overlaps no more confident kept box by more than `iou_threshold`; returns at
/// most `max_boxes`, most confident first.
pub fn nms(mut boxes: Vec<Scored>, iou_threshold: f32, max_boxes: usize) -> Vec<Scored> {
    boxes.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Scored> = Vec::new();
    for b in boxes {
        if kept.len() >= max_boxes {
            break;
        }
        if kept.iter().all(|k| k.class != b.class || iou(&k.bbox, &b.bbox) <= iou_threshold) {
            kept.push(b);
        }
    }
    kept
}

/// Fraction of the smaller box that lies inside the other (1 when one contains the other).
pub fn overlap_of_smaller(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = a[2].min(b[2]) - a[0].max(b[0]);
    let ih = a[3].min(b[3]) - a[1].max(b[1]);
    if iw <= 0.0 || ih <= 0.0 {
        return 0.0;
    }
    let smaller = ((a[2] - a[0]) * (a[3] - a[1])).min((b[2] - b[0]) * (b[3] - b[1]));
    if smaller > 0.0 {
        (iw * ih / smaller).min(1.0)
    } else {
        0.0
    }
}

/// Drops each box, whatever its class, that nests with a more confident kept box: `overlap_of_smaller ≥ nested`.
/// Input most confident first (as [`nms`] returns it); `nested > 1` keeps everything.
pub fn suppress_nested(boxes: Vec<Scored>, nested: f32) -> Vec<Scored> {
    let mut kept: Vec<Scored> = Vec::new();
    for b in boxes {
        if kept.iter().all(|k| overlap_of_smaller(&k.bbox, &b.bbox) < nested) {
            kept.push(b);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: f32, class: usize, score: f32) -> Scored {
        Scored { bbox: [x, 0.0, x + 10.0, 10.0], class, score }
    }

    #[test]
    fn iou_basics() {
        assert_eq!(iou(&[0.0, 0.0, 10.0, 10.0], &[10.0, 0.0, 20.0, 10.0]), 0.0);
        assert!((iou(&[0.0, 0.0, 10.0, 10.0], &[5.0, 0.0, 15.0, 10.0]) - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn suppresses_within_a_class_only() {
        let kept = nms(vec![s(1.0, 0, 0.5), s(0.0, 0, 0.9), s(0.0, 1, 0.4), s(30.0, 0, 0.3)], 0.5, 10);
        assert_eq!(kept, vec![s(0.0, 0, 0.9), s(0.0, 1, 0.4), s(30.0, 0, 0.3)]);
    }

    #[test]
    fn nested_boxes_of_any_class_go_separate_ones_stay() {
        let b = |bbox: [f32; 4], class, score| Scored { bbox, class, score };
        let top = b([10.0, 10.0, 50.0, 50.0], 0, 0.9);
        let inner = b([20.0, 20.0, 40.0, 40.0], 1, 0.6); // wholly inside, other class
        let outer = b([0.0, 0.0, 100.0, 100.0], 0, 0.5); // contains the top box
        let beside = b([45.0, 10.0, 85.0, 50.0], 1, 0.4); // 5/40 of it overlaps: another object
        let far = b([200.0, 200.0, 210.0, 210.0], 2, 0.3);
        let kept = suppress_nested(vec![top, inner, outer, beside, far], 0.8);
        assert_eq!(kept, vec![top, beside, far]);
        assert_eq!(suppress_nested(vec![top, inner, outer], 2.0).len(), 3, "above 1 keeps all");
        assert_eq!(overlap_of_smaller(&top.bbox, &inner.bbox), 1.0);
        assert!((overlap_of_smaller(&top.bbox, &beside.bbox) - 0.125).abs() < 1e-6);
        assert_eq!(overlap_of_smaller(&top.bbox, &far.bbox), 0.0);
    }

    #[test]
    fn caps_the_count() {
        let kept = nms((0..10).map(|i| s(i as f32 * 20.0, 0, i as f32 / 10.0)).collect(), 0.5, 3);
        assert_eq!(kept.len(), 3);
        assert_eq!(kept[0].score, 0.9);
    }
}
