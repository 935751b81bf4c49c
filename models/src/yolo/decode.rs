//! Turning the model's raw output into candidate boxes, for the two output layouts YOLO exports use.
//!
//! - YOLOv5 / YOLOv7 (`export.py` of those repositories, no NMS): `[1, N, 5 + nc]`, one row per anchor: centre x,
//!   centre y, width, height (input pixels), objectness, then one probability per class; score = objectness × class.
//! - YOLOv8 / YOLO11 (ultralytics `export(format="onnx")`): `[1, 4 + nc, N]`, one *column* per anchor: centre x,
//!   centre y, width, height, then one score per class (no objectness).
//!
//! The layout is told apart by the shape alone: the anchor count `N` (thousands) is always far larger than
//! `4 + nc` or `5 + nc` for the handful of classes a deep-sky model has, and when the class names are known the
//! class count must agree.

/// Which export layout a model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `[1, N, 5 + classes]` with objectness (YOLOv5, YOLOv7).
    V5 {
        /// Number of classes.
        classes: usize,
        /// Number of anchors.
        anchors: usize,
    },
    /// `[1, 4 + classes, N]` without objectness (YOLOv8, YOLO11).
    V8 {
        /// Number of classes.
        classes: usize,
        /// Number of anchors.
        anchors: usize,
    },
}

impl Layout {
    /// Number of classes.
    pub fn classes(&self) -> usize {
        match *self {
            Layout::V5 { classes, .. } | Layout::V8 { classes, .. } => classes,
        }
    }

    /// Works the layout out from the output shape; `names` is the class count from the metadata, when known.
    pub fn from_shape(shape: &[i64], names: Option<usize>) -> Result<Layout, LayoutError> {
        let dims: Vec<usize> = match shape {
            [1, a, b] if *a > 0 && *b > 0 => vec![*a as usize, *b as usize],
            _ => return Err(LayoutError::NotAHead(shape.to_vec())),
        };
        let (a, b) = (dims[0], dims[1]);
        let v8 = (a > 4 && a < b).then_some(Layout::V8 { classes: a - 4, anchors: b });
        let v5 = (b > 5 && b < a).then_some(Layout::V5 { classes: b - 5, anchors: a });
        let found = v8.or(v5).ok_or_else(|| LayoutError::Neither(shape.to_vec()))?;
        if let Some(n) = names {
            if n != found.classes() {
                return Err(LayoutError::ClassNames { shape: shape.to_vec(), layout: found, names: n });
            }
        }
        Ok(found)
    }
}

/// Why an output shape is not a YOLO detection head this code decodes (the model loader adds the file's name).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// Not `[1, a, b]` with fixed sizes.
    #[error(
        "the model's output has shape {0:?}; a YOLO detection head without NMS gives [1, 4+classes, anchors] \
         (YOLOv8/11) or [1, anchors, 5+classes] (YOLOv5/7) with fixed sizes"
    )]
    NotAHead(Vec<i64>),
    /// `[1, a, b]`, but neither layout fits the sizes.
    #[error("the model's output shape {0:?} is neither [1, 4+classes, anchors] nor [1, anchors, 5+classes]")]
    Neither(Vec<i64>),
    /// The layout's class count disagrees with the class names of the model's metadata.
    #[error(
        "the model's output shape {shape:?} means {} classes ({}), but its class names list {names}",
        layout.classes(),
        if matches!(layout, Layout::V8 { .. }) { "YOLOv8/11 layout" } else { "YOLOv5/7 layout" }
    )]
    ClassNames {
        /// The output shape.
        shape: Vec<i64>,
        /// The layout the shape means.
        layout: Layout,
        /// How many class names the metadata lists.
        names: usize,
    },
}

/// One candidate box in model-input pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// `x0, y0, x1, y1`.
    pub bbox: [f32; 4],
    /// Class index.
    pub class: usize,
    /// Score `0..1`.
    pub score: f32,
}

/// Decodes a raw output (row-major, shape as in `layout`), keeping the best class of each anchor when its score is
/// at least `min_score`.
pub fn decode(output: &[f32], layout: Layout, min_score: f32) -> Vec<Candidate> {
    let mut out = Vec::new();
    let xyxy = |cx: f32, cy: f32, w: f32, h: f32| [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0];
    match layout {
        Layout::V8 { classes, anchors } => {
            if output.len() < (4 + classes) * anchors {
                return out;
            }
            let row = |k: usize| &output[k * anchors..(k + 1) * anchors];
            let (cx, cy, w, h) = (row(0), row(1), row(2), row(3));
            // best class per anchor, scanning rows so memory is read in order
            let mut best = row(4).to_vec();
            let mut best_class = vec![0usize; anchors];
            for c in 1..classes {
                for (i, &s) in row(4 + c).iter().enumerate() {
                    if s > best[i] {
                        best[i] = s;
                        best_class[i] = c;
                    }
                }
            }
            for i in 0..anchors {
                if best[i] >= min_score && best[i].is_finite() {
                    out.push(Candidate { bbox: xyxy(cx[i], cy[i], w[i], h[i]), class: best_class[i], score: best[i] });
                }
            }
        }
        Layout::V5 { classes, anchors } => {
            let stride = 5 + classes;
            for r in output.chunks_exact(stride).take(anchors) {
                let obj = r[4];
                if obj.is_nan() || obj < min_score {
                    continue;
                }
                let (class, p) =
                    r[5..]
                        .iter()
                        .copied()
                        .enumerate()
                        .fold((0, f32::MIN), |acc, (c, p)| if p > acc.1 { (c, p) } else { acc });
                let score = obj * p;
                if score >= min_score && score.is_finite() {
                    out.push(Candidate { bbox: xyxy(r[0], r[1], r[2], r[3]), class, score });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_from_shapes() {
        assert_eq!(Layout::from_shape(&[1, 7, 2100], Some(3)), Ok(Layout::V8 { classes: 3, anchors: 2100 }));
        assert_eq!(Layout::from_shape(&[1, 25200, 85], None), Ok(Layout::V5 { classes: 80, anchors: 25200 }));
        assert_eq!(Layout::from_shape(&[1, 5, 8400], None), Ok(Layout::V8 { classes: 1, anchors: 8400 }));
        let e = Layout::from_shape(&[1, 7, 2100], Some(80)).unwrap_err().to_string();
        assert!(e.contains("3 classes") && e.contains("80"), "{e}");
        assert!(Layout::from_shape(&[1, 1000], None).unwrap_err().to_string().contains("[1, 1000]"));
        assert!(Layout::from_shape(&[1, -1, 2100], None).is_err());
    }

    #[test]
    fn decodes_v8_columns() {
        // 2 classes, 3 anchors: rows cx, cy, w, h, class0, class1
        let out = [
            10.0, 50.0, 90.0, // cx
            10.0, 50.0, 90.0, // cy
            4.0, 10.0, 2.0, // w
            2.0, 10.0, 2.0, // h
            0.9, 0.1, 0.2, // class 0
            0.1, 0.6, 0.1, // class 1
        ];
        let c = decode(&out, Layout::V8 { classes: 2, anchors: 3 }, 0.5);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0], Candidate { bbox: [8.0, 9.0, 12.0, 11.0], class: 0, score: 0.9 });
        assert_eq!(c[1], Candidate { bbox: [45.0, 45.0, 55.0, 55.0], class: 1, score: 0.6 });
    }

    #[test]
    fn decodes_v5_rows_with_objectness() {
        let out = [
            10.0, 10.0, 4.0, 2.0, 0.9, 0.2, 0.8, // kept: 0.72 class 1
            50.0, 50.0, 10.0, 10.0, 0.3, 1.0, 0.0, // dropped: objectness below threshold
            90.0, 90.0, 2.0, 2.0, 0.6, 0.5, 0.5, // dropped: 0.3 after multiplying
        ];
        let c = decode(&out, Layout::V5 { classes: 2, anchors: 3 }, 0.5);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].class, 1);
        assert!((c[0].score - 0.72).abs() < 1e-6);
        assert_eq!(c[0].bbox, [8.0, 9.0, 12.0, 11.0]);
    }

    #[test]
    fn short_or_nan_output_does_not_panic() {
        assert!(decode(&[1.0; 5], Layout::V8 { classes: 2, anchors: 3 }, 0.1).is_empty());
        let nan = [f32::NAN; 7];
        assert!(decode(&nan, Layout::V5 { classes: 2, anchors: 1 }, 0.1).is_empty());
    }
}
