//! Times XRAI on the reference fixture (a 224×224 HST deep-field image and a small classifier's gradient graph,
//! `models/tests/fixtures/xrai/`): the segmentation alone, then the whole method at 100 and 20 Integrated Gradients
//! steps per baseline. Needs ONNX Runtime for the second part (it is skipped with a message otherwise).
//!
//! ```text
//! cargo run --release -p dso-models --example xrai_bench
//! ```

use dso_test_support::npy;

use std::path::Path;
use std::time::Instant;

use dso_models::xrai::felzenszwalb::Graph;
use dso_models::xrai::{rank_regions, segments, OnnxGradient, RankConfig, XraiConfig};
use ndarray::Array3;

/// The fixture's `input.npy`: `f4`, shape (224, 224, 3).
fn input(dir: &Path) -> Array3<f32> {
    Array3::from_shape_vec((224, 224, 3), npy::Npy::read(&dir.join("input.npy")).f32s()).expect("224 × 224 × 3")
}

/// Median wall time of `runs` calls, in milliseconds.
fn median_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/xrai");
    let image = input(&dir);
    let cfg = segments::SegmentConfig::default();

    let normalized = segments::normalize(image.view());
    let graph_ms = median_ms(21, || drop(Graph::new(normalized.view(), cfg.sigma)));
    let graph = Graph::new(normalized.view(), cfg.sigma);
    let scales_ms = median_ms(21, || cfg.scales.iter().for_each(|&s| drop(graph.segment(s, cfg.min_size))));
    let total_ms = median_ms(21, || drop(segments::segment(image.view(), &cfg)));
    println!(
        "segmentation of 224×224, 6 scales: {total_ms:.1} ms (graph and sort {graph_ms:.1} ms, the six scales \
         {scales_ms:.1} ms, the rest: masks and dilation)"
    );
    // the ranking's cost depends on the masks, hardly on the values: rank by the red channel
    let masks = segments::segment(image.view(), &cfg);
    let red = image.index_axis(ndarray::Axis(2), 0).to_owned();
    let rank_ms = median_ms(21, || drop(rank_regions(&red, &masks, &RankConfig::default())));
    println!("ranking {} regions: {rank_ms:.1} ms", masks.len());

    let mut model = match OnnxGradient::load(&dir.join("tiny_classifier_grad.onnx"), 2) {
        Ok(m) => m,
        Err(why) => {
            println!("XRAI timing skipped: {why}");
            return;
        }
    };
    for steps in [100, 20] {
        let cfg = XraiConfig { steps, ..Default::default() };
        let ms = median_ms(3, || drop(dso_models::xrai::xrai(image.view(), &mut model, 1, &cfg).expect("XRAI runs")));
        println!("XRAI with {steps} steps per baseline ({} gradients): {ms:.0} ms", 2 * steps);
    }
}
