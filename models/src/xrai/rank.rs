//! XRAI's greedy region ranking, the "full" algorithm of `saliency` 0.2.1 (`XRAI._xrai`).
//!
//! XRAI turns a pixel attribution into a map of regions: starting from nothing, it repeatedly takes the candidate
//! mask whose not-yet-covered pixels have the highest mean attribution (the gain), gives those pixels that gain, and
//! goes on until the covered area passes `area_threshold`. Masks that would add fewer than `min_pixel_diff` new pixels
//! are dropped for good. Pixels never covered get the mean attribution over all of them, so the map's total stays
//! close to the attribution's.
//!
//! Matched to the reference in the details that decide the outcome: candidates are visited in their input order
//! and only a strictly greater gain replaces the best (the first of equal gains wins, as with Python's dict order);
//! gains are NumPy `float32` means ([`super::numeric`]); the coverage test is `≤` on the covered fraction; the
//! regions are listed by descending gain with a stable sort, the uncovered rest last.

use super::numeric::numpy_mean_f32;
use super::segments::Mask;

/// The ranking's parameters; [`Default`] is the reference's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankConfig {
    /// Stop once this fraction of the image is covered (1.0: rank every region; the reference's `area_threshold`).
    pub area_threshold: f64,
    /// Drop masks adding fewer new pixels than this (the reference's `experimental_params['min_pixel_diff']`).
    pub min_pixel_diff: usize,
}

impl Default for RankConfig {
    fn default() -> Self {
        RankConfig { area_threshold: 1.0, min_pixel_diff: 50 }
    }
}

/// One ranked region: the pixels a mask newly covered when it was taken, and its gain.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Pixels this region gave its gain to.
    pub pixels: Mask,
    /// Mean attribution over those pixels.
    pub gain: f32,
}

/// The result of [`rank`].
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// The XRAI map, row-major: each pixel holds the gain of the region that covered it first.
    pub map: Vec<f32>,
    /// Each pixel's region rank, row-major: 1 for the region of highest gain, the uncovered rest last (the
    /// reference's flattened `XRAIOutput.segments`).
    pub ranks: Vec<u32>,
    /// The regions by descending gain (ties in the order they were taken), then the uncovered rest if any.
    pub regions: Vec<Region>,
}

/// Ranks candidate `masks` by the row-major pixel attribution `attr` (one value per pixel).
pub fn rank(attr: &[f32], masks: &[Mask], cfg: &RankConfig) -> Ranking {
    let n = attr.len();
    let mut map = vec![f32::NEG_INFINITY; n];
    let mut covered = vec![false; n];
    let mut covered_count = 0usize;
    let mut area = 0.0f64;
    let mut remaining: Vec<usize> = (0..masks.len()).collect();
    let mut taken: Vec<Region> = Vec::new();
    let mut new_values: Vec<f32> = Vec::new();

    while area <= cfg.area_threshold {
        let mut best: Option<usize> = None;
        let mut best_gain = f32::NEG_INFINITY;
        remaining.retain(|&k| {
            new_values.clear();
            new_values.extend(
                masks[k]
                    .pixels()
                    .iter()
                    .filter(|&&p| (p as usize) < n && !covered[p as usize])
                    .map(|&p| attr[p as usize]),
            );
            if new_values.len() < cfg.min_pixel_diff {
                return false;
            }
            let gain = numpy_mean_f32(&new_values).unwrap_or(f32::NEG_INFINITY);
            if gain > best_gain {
                best_gain = gain;
                best = Some(k);
            }
            true
        });
        // the reference fails here if every gain is -inf or NaN; stopping is the useful reading
        let Some(k) = best else { break };
        let mut added = Vec::new();
        for &p in masks[k].pixels() {
            let p = p as usize;
            if p < n && !covered[p] {
                covered[p] = true;
                map[p] = best_gain;
                added.push(p as u32);
            }
        }
        covered_count += added.len();
        area = covered_count as f64 / n as f64;
        taken.push(Region { pixels: Mask::from_indices(added), gain: best_gain });
        remaining.retain(|&r| r != k);
    }

    let rest: Vec<u32> = (0..n).filter(|&p| map[p] == f32::NEG_INFINITY).map(|p| p as u32).collect();
    // stable: equal gains keep the order they were taken in, as Python's `sorted`
    taken.sort_by(|a, b| b.gain.total_cmp(&a.gain));
    if let Some(gain) = numpy_mean_f32(&rest.iter().map(|&p| attr[p as usize]).collect::<Vec<_>>()) {
        rest.iter().for_each(|&p| map[p as usize] = gain);
        taken.push(Region { pixels: Mask::from_indices(rest), gain });
    }
    let mut ranks = vec![0u32; n];
    for (i, region) in taken.iter().enumerate() {
        region.pixels.pixels().iter().for_each(|&p| ranks[p as usize] = i as u32 + 1);
    }
    Ranking { map, ranks, regions: taken }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(pixels: std::ops::Range<u32>) -> Mask {
        Mask::from_indices(pixels.collect())
    }

    #[test]
    fn takes_the_densest_new_pixels_first() {
        // 10 pixels: 0..5 hot, 5..10 cold; masks: all, the hot half, the cold half
        let attr = [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let masks = [mask(0..10), mask(0..5), mask(5..10)];
        let r = rank(&attr, &masks, &RankConfig { area_threshold: 1.0, min_pixel_diff: 1 });
        assert_eq!(r.map, [1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(r.ranks, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
        assert_eq!(r.regions.len(), 2, "the full mask adds nothing after both halves");
    }

    #[test]
    fn overlap_counts_only_new_pixels() {
        // mask A = 0..6 (mean 0.5), mask B = 4..10; after A, B's new pixels 6..10 have mean 0.9
        let attr = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 0.9, 0.9, 0.9];
        let masks = [mask(4..10), mask(0..6)];
        let r = rank(&attr, &masks, &RankConfig { area_threshold: 1.0, min_pixel_diff: 1 });
        // B first (mean of 4..10 = 0.74), then A adds 0..4 at 0.5
        assert_eq!(r.regions[0].pixels.pixels(), [4, 5, 6, 7, 8, 9]);
        assert_eq!(r.regions[1].gain, 0.5);
        assert_eq!(r.map[0], 0.5);
    }

    #[test]
    fn small_additions_are_dropped_and_the_rest_gets_its_mean() {
        let attr = [3.0, 1.0, 2.0, 0.0, 0.0, 0.0];
        let masks = [mask(0..1), mask(3..6)];
        let r = rank(&attr, &masks, &RankConfig { area_threshold: 1.0, min_pixel_diff: 2 });
        // the 1-pixel mask is dropped; 3..6 taken at 0; 0..3 uncovered get (3 + 1 + 2) / 3
        assert_eq!(r.map, [2.0, 2.0, 2.0, 0.0, 0.0, 0.0]);
        // the uncovered rest ranks last whatever its gain, as in the reference
        assert_eq!(r.ranks, [2, 2, 2, 1, 1, 1]);
    }

    #[test]
    fn equal_gains_keep_the_first_mask() {
        let attr = [1.0; 4];
        let masks = [mask(2..4), mask(0..2)];
        let r = rank(&attr, &masks, &RankConfig { area_threshold: 1.0, min_pixel_diff: 1 });
        assert_eq!(r.regions[0].pixels.pixels(), [2, 3]);
        assert_eq!(r.ranks, [2, 2, 1, 1]);
    }

    #[test]
    fn area_threshold_stops_early() {
        let attr = [4.0, 3.0, 2.0, 1.0];
        let masks = [mask(0..1), mask(1..2), mask(2..3), mask(3..4)];
        let r = rank(&attr, &masks, &RankConfig { area_threshold: 0.4, min_pixel_diff: 1 });
        // 0.25 ≤ 0.4 → second mask; 0.5 > 0.4 stops; the rest (2, 1) averages 1.5
        assert_eq!(r.map, [4.0, 3.0, 1.5, 1.5]);
        assert_eq!(r.regions.len(), 3);
    }
}
