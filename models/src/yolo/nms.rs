//! Class-aware non-maximum suppression: of overlapping boxes of the same class only the most confident is kept.
//!
//! Boxes of different classes never suppress each other (a cluster inside a nebula is two objects), as in
//! ultralytics' `non_max_suppression` with `agnostic=False`.

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

/// Intersection over union of two `x0, y0, x1, y1` boxes.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = a[2].min(b[2]) - a[0].max(b[0]);
    let ih = a[3].min(b[3]) - a[1].max(b[1]);
    if iw <= 0.0 || ih <= 0.0 {
        return 0.0;
    }
    let inter = iw * ih;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
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
    fn caps_the_count() {
        let kept = nms((0..10).map(|i| s(i as f32 * 20.0, 0, i as f32 / 10.0)).collect(), 0.5, 3);
        assert_eq!(kept.len(), 3);
        assert_eq!(kept[0].score, 0.9);
    }
}
