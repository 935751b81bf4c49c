//! XRAI checked stage by stage against the outputs of Google PAIR `saliency` 0.2.1 itself on a fixed small classifier
//! and a public-domain image (`fixtures/xrai/`, made by `make_fixture.py`; see its README.md).
//!
//! The stages without a model (segments; the ranking of the reference's own attribution and segments) always run.
//! The ones through the gradient graph need ONNX Runtime (`pip install onnxruntime==1.31.1`, installers/deps.sh)
//! and skip with a message when it cannot be loaded. Figures are printed (`cargo test -- --nocapture`).

use std::path::{Path, PathBuf};

use dso_models::xrai::{self, ig, segments, Mask, OnnxGradient, XraiConfig};
use dso_test_support::npy::{npz_member, Npy};
use ndarray::{Array3, Axis};

const SIDE: usize = 224;
/// The class the fixture explains (README.json `class_index`).
const CLASS: usize = 1;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xrai").join(name)
}

/// `input.npy`: the 224×224×3 image in [0, 1] the reference explained.
fn input() -> Array3<f32> {
    let a = Npy::read(&fixture("input.npy"));
    assert_eq!(a.shape, [SIDE, SIDE, 3]);
    Array3::from_shape_vec((SIDE, SIDE, 3), a.f32s()).unwrap()
}

/// `ig_attribution.npy`: Integrated Gradients from the min and the max baseline.
fn reference_ig() -> Vec<Array3<f32>> {
    let a = Npy::read(&fixture("ig_attribution.npy"));
    assert_eq!(a.shape, [2, SIDE, SIDE, 3]);
    let all = Array3::from_shape_vec((2 * SIDE, SIDE, 3), a.f32s()).unwrap();
    all.axis_chunks_iter(Axis(0), SIDE).map(|c| c.to_owned()).collect()
}

/// `segments.npz`: the reference's 69 dilated masks, bits packed along rows (`np.packbits`, first pixel in the
/// high bit).
fn reference_masks() -> Vec<Mask> {
    let path = fixture("segments.npz");
    let packed = npz_member(&path, "masks.npy");
    let shape = npz_member(&path, "shape.npy").i64s();
    let [n, h, w] = [shape[0] as usize, shape[1] as usize, shape[2] as usize];
    let row_bytes = w.div_ceil(8);
    assert_eq!(packed.shape, [n, h, row_bytes]);
    packed
        .data
        .chunks_exact(h * row_bytes)
        .map(|m| {
            let bits: Vec<bool> =
                (0..h * w).map(|p| m[(p / w) * row_bytes + (p % w) / 8] & (0x80 >> (p % 8)) != 0).collect();
            Mask::from_dense(&bits)
        })
        .collect()
}

/// `xrai_map.npy`: the reference's XRAI map.
fn reference_map() -> Vec<f32> {
    let a = Npy::read(&fixture("xrai_map.npy"));
    assert_eq!(a.shape, [SIDE, SIDE]);
    a.f32s()
}

/// `xrai_segments_ranked.npy`: the reference's per-pixel region ranks.
fn reference_ranks() -> Vec<i64> {
    let a = Npy::read(&fixture("xrai_segments_ranked.npy"));
    assert_eq!(a.shape, [SIDE, SIDE]);
    a.i64s()
}

/// The gradient graph, or `None` (with the reason printed) where ONNX Runtime cannot be loaded.
fn model() -> Option<OnnxGradient> {
    if let Err(why) = dso_models::onnx::environment() {
        // CI sets DSO_REQUIRE_DATA=1: there the runtime is installed and a skip would hide a broken setup.
        dso_test_support::skip(format!("ONNX Runtime cannot be loaded: {why}"));
        return None;
    }
    Some(OnnxGradient::load(&fixture("tiny_classifier_grad.onnx"), 2).expect("the fixture's gradient graph loads"))
}

/// Intersection over union of two masks (sorted pixel lists).
fn iou(a: &Mask, b: &Mask) -> f64 {
    let (a, b) = (a.pixels(), b.pixels());
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        1.0
    } else {
        both as f64 / union as f64
    }
}

/// NumPy's `percentile(values, q)` with linear interpolation.
fn percentile(values: &[f32], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().map(|&x| f64::from(x)).collect();
    v.sort_by(f64::total_cmp);
    let at = q / 100.0 * (v.len() - 1) as f64;
    let (lo, hi) = (at.floor() as usize, at.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (at - lo as f64)
}

/// IoU of the two maps' top regions: the pixels at or above each map's 90th percentile.
fn top_decile_iou(a: &[f32], b: &[f32]) -> f64 {
    let top = |m: &[f32]| {
        let t = percentile(m, 90.0);
        Mask::from_dense(&m.iter().map(|&v| f64::from(v) >= t).collect::<Vec<_>>())
    };
    iou(&top(a), &top(b))
}

/// ‖a − b‖ / ‖b‖.
fn relative_l2(a: &Array3<f32>, b: &Array3<f32>) -> f64 {
    let (mut d, mut n) = (0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        d += (f64::from(x) - f64::from(y)).powi(2);
        n += f64::from(y).powi(2);
    }
    (d / n).sqrt()
}

#[test]
fn segments_match_the_reference() {
    let image = input();
    let reference = reference_masks();
    assert_eq!(reference.len(), 69);
    let cfg = segments::SegmentConfig::default();
    let ours = segments::segment(image.view(), &cfg);
    let mut best: Vec<f64> = reference.iter().map(|r| ours.iter().map(|o| iou(r, o)).fold(0.0, f64::max)).collect();
    let same_order = reference.iter().zip(&ours).filter(|(r, o)| r == o).count();
    best.sort_by(f64::total_cmp);
    let at = |q: f64| best[((best.len() - 1) as f64 * q).round() as usize];
    eprintln!(
        "XRAI segments: {} masks (reference {}), {same_order} identical in place; best IoU per reference mask: min \
         {:.4}, p10 {:.4}, median {:.4}",
        ours.len(),
        reference.len(),
        best[0],
        at(0.1),
        at(0.5),
    );
    assert!(ours.len().abs_diff(reference.len()) <= 3, "{} masks", ours.len());
    assert!(at(0.5) >= 0.95, "median IoU {}", at(0.5));
    assert!(at(0.1) >= 0.8, "p10 IoU {}", at(0.1));
}

#[test]
fn ranking_the_reference_attribution_and_segments_reproduces_its_map() {
    let attribution = ig::channel_max(&ig::mean(&reference_ig()).unwrap());
    let result = xrai::rank_regions(&attribution, &reference_masks(), &xrai::RankConfig::default());
    let expected = reference_map();
    let worst = result.map.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    let scale = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let ranks = reference_ranks();
    let rank_diff = result.ranks.iter().zip(&ranks).filter(|(&a, &b)| i64::from(a) != b).count();
    eprintln!(
        "XRAI ranking of the reference's inputs: {} regions, largest map difference {worst:e} (map scale {scale:e}), \
         {rank_diff} pixels ranked differently",
        result.regions.len()
    );
    assert!(worst <= scale * 1e-6, "map differs by {worst}");
    assert_eq!(rank_diff, 0);
}

#[test]
fn xrai_through_onnx_runtime_matches_the_reference() {
    let Some(mut model) = model() else { return };
    let image = input();
    let out = xrai::xrai(image.view(), &mut model, CLASS, &XraiConfig::default()).expect("XRAI runs");

    let reference = reference_ig();
    let errors: Vec<f64> = out.ig.iter().zip(&reference).map(|(a, b)| relative_l2(a, b)).collect();
    let expected = reference_map();
    let ours: Vec<f32> = out.map.iter().copied().collect();
    let top = top_decile_iou(&ours, &expected);
    let exact = ours.iter().zip(&expected).filter(|(a, b)| a == b).count();
    let same_rank = out.ranks.iter().zip(reference_ranks()).filter(|(&a, b)| i64::from(a) == *b).count();
    eprintln!(
        "XRAI through ONNX Runtime, 100 steps: IG relative L2 error min baseline {:.2e}, max baseline \
         {:.2e}; top-10 % region IoU {top:.4}; {exact} of {} map values identical, {same_rank} ranks identical",
        errors[0],
        errors[1],
        expected.len()
    );
    assert!(errors.iter().all(|&e| e <= 1e-3), "IG errors {errors:?}");
    assert!(top >= 0.9, "top-10 % IoU {top}");
    assert_eq!(out.map.dim(), (SIDE, SIDE));

    let fast = xrai::xrai(image.view(), &mut model, CLASS, &XraiConfig { steps: 20, ..Default::default() }).unwrap();
    let fast_map: Vec<f32> = fast.map.iter().copied().collect();
    eprintln!(
        "XRAI through ONNX Runtime, 20 steps: top-10 % region IoU with the 100-step reference {:.4}",
        top_decile_iou(&fast_map, &expected)
    );
}

#[test]
fn the_gradient_graph_is_checked() {
    let Some(mut model) = model() else { return };
    assert_eq!(model.classes(), 2);
    assert_eq!(model.input_size(), Some((SIDE, SIDE)));
    let zeros = vec![0.0f32; 3 * SIDE * SIDE];
    let err = model.run(&zeros, [1, 3, SIDE, SIDE], 2).unwrap_err();
    assert!(err.contains("class 2"), "{err}");
    let err = model.run(&zeros[..3 * 100 * 100], [1, 3, 100, 100], 0).unwrap_err();
    assert!(err.contains("224"), "{err}");
    let (logits, grad) = model.run(&zeros, [1, 3, SIDE, SIDE], 0).unwrap();
    assert_eq!((logits.len(), grad.len()), (2, zeros.len()));
    let err = OnnxGradient::load(Path::new("/nonexistent/grad.onnx"), 1).unwrap_err().to_string();
    assert!(err.contains("no such file"), "{err}");
    // a graph without the gradient interface: the classifier's forward export, where shared/ has it
    let forward =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/xrai-fixture/tiny_classifier.onnx");
    if forward.is_file() {
        let err = OnnxGradient::load(&forward, 1).unwrap_err().to_string();
        assert!(err.contains("onehot"), "{err}");
    }
}
