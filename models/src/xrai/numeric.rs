//! NumPy's pairwise summation, so that means computed here round the way the reference's do.
//!
//! XRAI ranks segments by the mean attribution over their new pixels and keeps the first of equal gains; the
//! reference computes those means with `ndarray.mean` on `float32`, which sums in `float32` by NumPy's pairwise
//! scheme (blocks of 128 summed eight ways, halves above that; `numpy/_core/src/umath/loops_utils.h.src`) and
//! divides by the count in `float64`. Summing the same way gives the same gains bit for bit, so the greedy order and
//! the final map agree exactly when the inputs do. The same routine (in `f64`) sums the Gaussian kernel as SciPy does.

use std::ops::Add;

/// Below this many values NumPy sums one after another; up to [`BLOCK`] it keeps eight partial sums.
const UNROLL: usize = 8;
/// NumPy's `PW_BLOCKSIZE`: longer runs are split in two (at a multiple of eight) and summed recursively.
const BLOCK: usize = 128;

/// Sum of `values` in NumPy's pairwise order, in the values' own precision.
pub fn pairwise_sum<T: Copy + Default + Add<Output = T>>(values: &[T]) -> T {
    let n = values.len();
    if n < UNROLL {
        values.iter().fold(T::default(), |acc, &v| acc + v)
    } else if n <= BLOCK {
        let mut r = [T::default(); UNROLL];
        r.copy_from_slice(&values[..UNROLL]);
        let whole = n - n % UNROLL;
        for chunk in values[UNROLL..whole].chunks_exact(UNROLL) {
            for (acc, &v) in r.iter_mut().zip(chunk) {
                *acc = *acc + v;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &values[whole..] {
            res = res + v;
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % UNROLL;
        pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
    }
}

/// `ndarray.mean()` of a `float32` array as NumPy computes it: pairwise `f32` sum, divided by the count in `f64`,
/// rounded back to `f32`. `None` for no values (where the reference takes `-inf` or fails).
pub fn numpy_mean_f32(values: &[f32]) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    Some((f64::from(pairwise_sum(values)) / values.len() as f64) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain left-to-right `f64` sum, to check the pairwise one is a sum at all.
    fn naive(values: &[f32]) -> f64 {
        values.iter().map(|&v| f64::from(v)).sum()
    }

    #[test]
    fn small_runs_sum_in_order() {
        assert_eq!(pairwise_sum::<f32>(&[]), 0.0);
        assert_eq!(pairwise_sum(&[1.5f32, 2.0, -0.5]), 3.0);
        // below eight values the order is left to right: (1e8 + 1) - 1e8 loses the 1 in f32
        assert_eq!(pairwise_sum(&[1e8f32, 1.0, -1e8]), 0.0);
    }

    #[test]
    fn blocked_runs_use_eight_partial_sums() {
        // eight lanes: 1e8 and -1e8 start lanes 0 and 1, which then lose the 1s added to them; lanes 2-7 hold 2 each
        let mut v = vec![1.0f32; 16];
        v[0] = 1e8;
        v[1] = -1e8;
        assert_eq!(pairwise_sum(&v), 12.0);
        let long: Vec<f32> = (0..1000).map(|i| ((i * 37 % 101) as f32 - 50.0) * 1e-3).collect();
        assert!((f64::from(pairwise_sum(&long)) - naive(&long)).abs() < 1e-4);
    }

    #[test]
    fn mean_divides_in_f64() {
        assert_eq!(numpy_mean_f32(&[]), None);
        assert_eq!(numpy_mean_f32(&[1.0, 2.0]), Some(1.5));
        let v = vec![0.1f32; 1000];
        assert!((numpy_mean_f32(&v).unwrap() - 0.1).abs() < 1e-6);
    }
}
