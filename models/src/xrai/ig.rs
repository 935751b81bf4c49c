//! Integrated Gradients along a straight path from a constant baseline, as `saliency` 0.2.1 computes it for XRAI.
//!
//! XRAI needs a pixel attribution; the reference uses Integrated Gradients (Sundararajan et al. 2017,
//! arXiv:1703.01365) from two constant baselines, the image's own minimum and maximum, averaged. For a baseline `b`:
//! `IG = Σ_k ∇f(b + α_k (x − b)) · (x − b) / steps` with `α = linspace(0, 1, steps)`, both ends included (so with 100
//! steps the path has 100 points and the end points count fully, unlike a midpoint rule).
//!
//! Gradients come from a [`Gradient`] implementation (an ONNX gradient graph: [`super::OnnxGradient`]); images are
//! `H × W × 3` here and `N × 3 × H × W` for the model. The arithmetic follows the reference's NumPy precisions: path
//! points computed in `f64` and handed to the model in `f32`, gradients summed in `f32` step by step (a batch summed
//! first, as `grads.sum(axis=0)`), then `(Σ · (x − b)) / steps` in `f32`.

use ndarray::{Array2, Array3, ArrayView3, Axis};

/// A model that gives the gradient of one class's score with respect to its input.
pub trait Gradient {
    /// Gradients of the score of `class` with respect to each image of `batch`, which holds `shape[0]` images of
    /// `shape[1] × shape[2] × shape[3]` (channels, height, width), row-major; the result has the same layout.
    fn gradient(&mut self, batch: &[f32], shape: [usize; 4], class: usize) -> Result<Vec<f32>, String>;

    /// The most images one [`Gradient::gradient`] call may take.
    fn max_batch(&self) -> usize {
        1
    }
}

/// NumPy's `linspace(0, 1, steps)`: `k · (1 / (steps − 1))`, the last point exactly 1.
pub fn linspace(steps: usize) -> Vec<f64> {
    if steps <= 1 {
        return vec![0.0; steps];
    }
    let step = 1.0 / (steps - 1) as f64;
    let mut alphas: Vec<f64> = (0..steps).map(|k| k as f64 * step).collect();
    alphas[steps - 1] = 1.0;
    alphas
}

/// The reference's default baselines: the image's smallest and largest value (constant images).
pub fn default_baselines(image: ArrayView3<f32>) -> [f32; 2] {
    let lo = image.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = image.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    [lo, hi]
}

/// Why Integrated Gradients could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IgError {
    /// `steps` was 0.
    #[error("Integrated Gradients needs at least one step")]
    NoSteps,
    /// The model's gradient call failed; its own message.
    #[error("{0}")]
    Model(String),
    /// The model returned the wrong number of values.
    #[error("the model returned {values} gradient values for an input of shape {shape:?}")]
    Count {
        /// How many it returned.
        values: usize,
        /// The input's shape.
        shape: [usize; 4],
    },
}

/// Integrated Gradients of `class` for an `H × W × C` image from the constant `baseline`, with `steps` path points
/// and at most `batch` images per model call (0: the model's [`Gradient::max_batch`]). Returns `H × W × C`.
pub fn integrated_gradients<G: Gradient + ?Sized>(
    image: ArrayView3<f32>,
    baseline: f32,
    model: &mut G,
    class: usize,
    steps: usize,
    batch: usize,
) -> Result<Array3<f32>, IgError> {
    if steps == 0 {
        return Err(IgError::NoSteps);
    }
    let (h, w, c) = image.dim();
    let plane = h * w;
    let chw = c * plane;
    let diff: Array3<f32> = image.mapv(|v| v - baseline);
    // x − b in the model's channel-first order, so that path points and gradients are plain flat loops
    let diff_chw: Vec<f64> = diff.view().permuted_axes([2, 0, 1]).iter().map(|&d| f64::from(d)).collect();
    let batch = if batch == 0 { model.max_batch() } else { batch }.max(1);
    let mut total = vec![0.0f32; chw];
    let mut batch_sum = vec![0.0f32; chw];
    let mut input: Vec<f32> = Vec::new();
    for alphas in linspace(steps).chunks(batch) {
        input.clear();
        for &alpha in alphas {
            input.extend(diff_chw.iter().map(|&d| (f64::from(baseline) + alpha * d) as f32));
        }
        let shape = [alphas.len(), c, h, w];
        let grads = model.gradient(&input, shape, class).map_err(IgError::Model)?;
        if grads.len() != input.len() {
            return Err(IgError::Count { values: grads.len(), shape });
        }
        // grads.sum(axis=0): the batch summed in order, then added to the running total
        batch_sum.copy_from_slice(&grads[..chw]);
        for g in grads[chw..].chunks_exact(chw) {
            batch_sum.iter_mut().zip(g).for_each(|(s, &v)| *s += v);
        }
        total.iter_mut().zip(&batch_sum).for_each(|(t, &s)| *t += s);
    }
    let steps = steps as f32;
    Ok(Array3::from_shape_fn((h, w, c), |(y, x, ch)| total[ch * plane + y * w + x] * diff[[y, x, ch]] / steps))
}

/// The mean of several attributions as `np.mean(attrs, axis=0)` on `float32`: summed in order, divided in `f64`.
pub fn mean(attributions: &[Array3<f32>]) -> Option<Array3<f32>> {
    let (first, rest) = attributions.split_first()?;
    let mut sum = first.clone();
    rest.iter().for_each(|a| sum += a);
    let k = attributions.len() as f64;
    Some(sum.mapv(|v| (f64::from(v) / k) as f32))
}

/// XRAI's aggregation of an `H × W × C` attribution into one value per pixel: the largest over the channels.
pub fn channel_max(attribution: &Array3<f32>) -> Array2<f32> {
    attribution.map_axis(Axis(2), |v| v.iter().copied().fold(f32::NEG_INFINITY, f32::max))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f(x) = Σ weight · x², whose gradient is 2 · weight · x: IG from `b` is `weight · (x² − b²)` per value.
    struct Quadratic {
        calls: usize,
        batch: usize,
    }

    impl Gradient for Quadratic {
        fn gradient(&mut self, batch: &[f32], shape: [usize; 4], class: usize) -> Result<Vec<f32>, String> {
            assert!(shape[0] <= self.batch);
            self.calls += 1;
            let weight = (class + 1) as f32;
            Ok(batch.iter().map(|v| 2.0 * weight * v).collect())
        }

        fn max_batch(&self) -> usize {
            self.batch
        }
    }

    #[test]
    fn linspace_is_numpys() {
        assert_eq!(linspace(1), [0.0]);
        assert_eq!(linspace(3), [0.0, 0.5, 1.0]);
        let a = linspace(100);
        assert_eq!(a[99], 1.0);
        assert_eq!(a[3], 3.0 * (1.0 / 99.0));
    }

    #[test]
    fn completeness_holds_for_a_quadratic() {
        let img = Array3::from_shape_fn((4, 5, 3), |(y, x, c)| (y * 15 + x * 3 + c) as f32 / 60.0);
        for batch in [1, 7] {
            let mut m = Quadratic { calls: 0, batch };
            let ig = integrated_gradients(img.view(), 0.25, &mut m, 1, 101, 0).unwrap();
            assert_eq!(m.calls, 101usize.div_ceil(batch));
            // the gradient is linear along the path and the α average 1/2, so the sum is the integral
            for ((idx, &v), &x) in ig.indexed_iter().zip(img.iter()) {
                let exact = 2.0 * (x * x - 0.25 * 0.25);
                assert!((v - exact).abs() < 1e-5, "{idx:?}: {v} vs {exact}");
            }
        }
    }

    #[test]
    fn mean_and_channel_max() {
        let a = Array3::from_shape_fn((1, 2, 3), |(_, x, c)| (x * 3 + c) as f32);
        let b = a.mapv(|v| -v);
        assert_eq!(mean(&[a.clone(), b]).unwrap(), Array3::zeros((1, 2, 3)));
        assert_eq!(channel_max(&a), ndarray::arr2(&[[2.0, 5.0]]));
        assert!(mean(&[]).is_none());
    }

    #[test]
    fn zero_steps_is_an_error() {
        let img = Array3::zeros((2, 2, 3));
        assert!(integrated_gradients(img.view(), 0.0, &mut Quadratic { calls: 0, batch: 1 }, 0, 0, 1).is_err());
    }
}
