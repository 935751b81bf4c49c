//! XRAI's candidate regions: Felzenszwalb segments at six scales, each dilated, as `saliency` 0.2.1's
//! `_get_segments_felzenszwalb` makes them.
//!
//! XRAI ranks overlapping regions of several sizes, so the reference segments one image at scales 50 to 1200 and
//! keeps every label of every scale as a mask. The steps, each as the reference does it:
//! 1. the image is min/max normalised to `[-1, 1]` in `f32` (`_normalize_image`), because Felzenszwalb's thresholds
//!    are absolute and the parameters were tuned for that range;
//! 2. it is resized to 224×224 (skimage `resize`, cubic, anti-aliased: [`super::resize`]); an image already that
//!    size is used as it is;
//! 3. Felzenszwalb with `sigma` 0.8 and `min_size` 150 at each scale ([`super::felzenszwalb`]);
//! 4. label maps brought back to the image's size by nearest neighbour, every label from the smallest to the largest
//!    present becoming one mask (so a label lost in a shrink gives an empty mask, as in the reference);
//! 5. every mask dilated by skimage's `disk(5)` (`x² + y² ≤ 25`), which lets regions take in their edges.
//!
//! Masks are kept as sorted pixel lists rather than full boolean images: the ranking visits only their pixels.

use ndarray::{Array3, ArrayView3};

use super::felzenszwalb::{Graph, Labels};
use super::resize::{resize_cubic, resize_nearest};

/// A set of pixels of an image, as ascending row-major indices (`y · width + x`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mask {
    pixels: Vec<u32>,
}

impl Mask {
    /// The mask of the given pixel indices (sorted and deduplicated here).
    pub fn from_indices(mut pixels: Vec<u32>) -> Mask {
        pixels.sort_unstable();
        pixels.dedup();
        Mask { pixels }
    }

    /// The mask of the `true` entries of a row-major boolean image.
    pub fn from_dense(bits: &[bool]) -> Mask {
        Mask { pixels: bits.iter().enumerate().filter(|(_, &b)| b).map(|(i, _)| i as u32).collect() }
    }

    /// The pixels, ascending.
    pub fn pixels(&self) -> &[u32] {
        &self.pixels
    }

    /// Number of pixels.
    pub fn len(&self) -> usize {
        self.pixels.len()
    }

    /// Whether the mask has no pixel.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// The mask as a row-major boolean image of `n` pixels.
    pub fn to_dense(&self, n: usize) -> Vec<bool> {
        let mut bits = vec![false; n];
        self.pixels.iter().filter(|&&p| (p as usize) < n).for_each(|&p| bits[p as usize] = true);
        bits
    }
}

/// How XRAI segments an image; [`Default`] is the reference's.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentConfig {
    /// Felzenszwalb scales, one segmentation each (`_FELZENSZWALB_SCALE_VALUES`).
    pub scales: Vec<f64>,
    /// Gaussian smoothing before segmenting (`_FELZENSZWALB_SIGMA_VALUES`).
    pub sigma: f64,
    /// Smallest segment kept, in pixels of the segmented image (`_FELZENSZWALB_MIN_SEGMENT_SIZE`).
    pub min_size: usize,
    /// `(height, width)` the image is resized to for segmenting (`_FELZENSZWALB_IM_RESIZE`); `None` segments it as
    /// it is.
    pub size: Option<(usize, usize)>,
    /// Radius of the disk each mask is dilated by; 0 leaves masks as they are.
    pub dilation_radius: usize,
}

impl Default for SegmentConfig {
    fn default() -> Self {
        SegmentConfig {
            scales: vec![50.0, 100.0, 150.0, 250.0, 500.0, 1200.0],
            sigma: 0.8,
            min_size: 150,
            size: Some((224, 224)),
            dilation_radius: 5,
        }
    }
}

/// The image min/max normalised to `[-1, 1]`, in `f32` as the reference computes it. A constant image (where the
/// reference divides by zero) becomes all zeros.
pub fn normalize(image: ArrayView3<f32>) -> Array3<f32> {
    let lo = image.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = image.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let range = hi - lo;
    if range.is_nan() || range <= 0.0 {
        return Array3::zeros(image.dim());
    }
    image.mapv(|v| (v - lo) / range * 2.0 + -1.0)
}

/// One mask per label of a label map, for every label from the smallest to the largest present.
fn label_masks(labels: &[u32]) -> Vec<Mask> {
    let (Some(&lo), Some(&hi)) = (labels.iter().min(), labels.iter().max()) else { return Vec::new() };
    let mut masks = vec![Vec::new(); (hi - lo) as usize + 1];
    for (p, &l) in labels.iter().enumerate() {
        masks[(l - lo) as usize].push(p as u32);
    }
    masks.into_iter().map(|pixels| Mask { pixels }).collect()
}

/// Half-widths of skimage's `disk(radius)` footprint, row `|dy|` = `0..=radius`: the largest `dx` with
/// `dx² + dy² ≤ radius²`.
pub fn disk_half_widths(radius: usize) -> Vec<usize> {
    (0..=radius).map(|dy| (0..=radius).rev().find(|dx| dx * dx + dy * dy <= radius * radius).unwrap_or(0)).collect()
}

/// `skimage.morphology.dilation(mask, disk(radius))` for a mask of a `width × height` image. (The disk is
/// symmetric and convex, so skimage's reflecting border adds nothing that a zero border would not.)
pub fn dilate(mask: &Mask, width: usize, height: usize, radius: usize) -> Mask {
    if mask.is_empty() || radius == 0 || width == 0 {
        return mask.clone();
    }
    let half = disk_half_widths(radius);
    let (mut x0, mut x1) = (usize::MAX, 0);
    let (y0, y1) = (mask.pixels[0] as usize / width, *mask.pixels.last().unwrap_or(&0) as usize / width);
    for &p in &mask.pixels {
        let x = p as usize % width;
        x0 = x0.min(x);
        x1 = x1.max(x);
    }
    // the output's bounding box: the mask's grown by the radius, inside the image
    let (ox0, ox1) = (x0.saturating_sub(radius), (x1 + radius).min(width - 1));
    let (oy0, oy1) = (y0.saturating_sub(radius), (y1 + radius).min(height - 1));
    let ow = ox1 - ox0 + 1;
    // for each mask row and each output column, the horizontal distance to the row's nearest mask pixel (capped)
    let far = radius + 1;
    let rows = y1 - y0 + 1;
    let mut near = vec![far; rows * ow];
    for &p in &mask.pixels {
        let (y, x) = (p as usize / width, p as usize % width);
        near[(y - y0) * ow + (x - ox0)] = 0;
    }
    for row in near.chunks_exact_mut(ow) {
        for i in 1..ow {
            row[i] = row[i].min(row[i - 1] + 1);
        }
        for i in (0..ow - 1).rev() {
            row[i] = row[i].min(row[i + 1] + 1);
        }
    }
    let mut pixels = Vec::new();
    for y in oy0..=oy1 {
        // mask rows within the radius of this output row, with the half-width the disk allows at that distance
        let lo = y.saturating_sub(radius).max(y0);
        let hi = (y + radius).min(y1);
        for x in 0..ow {
            if (lo..=hi).any(|sy| near[(sy - y0) * ow + x] <= half[sy.abs_diff(y)]) {
                pixels.push((y * width + ox0 + x) as u32);
            }
        }
    }
    Mask { pixels }
}

/// XRAI's candidate regions for an `H × W × 3` image: every label of every scale as a mask of the image's own size,
/// dilated, in scale order then label order (the reference's order, which decides ties in the ranking).
pub fn segment(image: ArrayView3<f32>, cfg: &SegmentConfig) -> Vec<Mask> {
    let (h, w, _) = image.dim();
    let normalized = normalize(image);
    let work = match cfg.size {
        Some((sh, sw)) if (sh, sw) != (h, w) => resize_cubic(normalized.view(), sh, sw),
        _ => normalized,
    };
    let (sh, sw, _) = work.dim();
    let graph = Graph::new(work.view(), cfg.sigma);
    let mut masks = Vec::new();
    for &scale in &cfg.scales {
        let Labels { labels, .. } = graph.segment(scale, cfg.min_size);
        let labels = if (sh, sw) == (h, w) { labels } else { resize_nearest(&labels, (sh, sw), (h, w)) };
        masks.extend(label_masks(&labels).iter().map(|m| dilate(m, w, h, cfg.dilation_radius)));
    }
    masks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The straightforward dilation: every pixel within the disk of a mask pixel.
    fn dilate_slowly(mask: &Mask, width: usize, height: usize, radius: usize) -> Mask {
        let r = radius as isize;
        let mut out = Vec::new();
        for &p in mask.pixels() {
            let (y, x) = ((p as usize / width) as isize, (p as usize % width) as isize);
            for dy in -r..=r {
                for dx in -r..=r {
                    let (ny, nx) = (y + dy, x + dx);
                    if dx * dx + dy * dy <= r * r
                        && ny >= 0
                        && nx >= 0
                        && (ny as usize) < height
                        && (nx as usize) < width
                    {
                        out.push((ny as usize * width + nx as usize) as u32);
                    }
                }
            }
        }
        Mask::from_indices(out)
    }

    #[test]
    fn disk_is_skimages() {
        // skimage.morphology.disk(5).sum(axis=1) = [1, 9, 9, 11, 11, 11, 11, 11, 9, 9, 1]
        assert_eq!(disk_half_widths(5), [5, 4, 4, 4, 3, 0]);
        let area: usize =
            disk_half_widths(5).iter().enumerate().map(|(dy, w)| (2 * w + 1) * if dy == 0 { 1 } else { 2 }).sum();
        assert_eq!(area, 81);
    }

    #[test]
    fn dilation_matches_the_definition() {
        let (w, h) = (23, 17);
        let shapes: Vec<Vec<u32>> = vec![
            vec![0],
            vec![(16 * w + 22) as u32],
            vec![(8 * w + 11) as u32],
            (0..w as u32).map(|x| 5 * w as u32 + x).collect(),
            (0..(w * h) as u32).filter(|p| (p * 7919) % 13 == 0).collect(),
        ];
        for pixels in shapes {
            let m = Mask::from_indices(pixels);
            for r in [0, 1, 2, 5] {
                assert_eq!(dilate(&m, w, h, r), dilate_slowly(&m, w, h, r), "radius {r}, mask {:?}", m.pixels());
            }
        }
        assert!(dilate(&Mask::default(), w, h, 5).is_empty());
    }

    #[test]
    fn normalize_spans_minus_one_to_one() {
        let img = Array3::from_shape_fn((2, 3, 3), |(y, x, c)| (y * 9 + x * 3 + c) as f32 * 0.1 + 0.2);
        let n = normalize(img.view());
        assert_eq!(n[[0, 0, 0]], -1.0);
        assert_eq!(n[[1, 2, 2]], 1.0);
        assert_eq!(normalize(Array3::from_elem((2, 2, 3), 0.5).view()), Array3::zeros((2, 2, 3)));
    }

    #[test]
    fn every_label_of_every_scale_is_a_mask() {
        // left half dark, right half bright: two segments at every scale
        let img = Array3::from_shape_fn((40, 40, 3), |(_, x, _)| if x < 20 { 0.1f32 } else { 0.9 });
        let cfg = SegmentConfig { scales: vec![50.0, 500.0], min_size: 100, size: None, ..Default::default() };
        let masks = segment(img.view(), &cfg);
        assert_eq!(masks.len(), 4);
        // each half grown by the radius-5 disk across the border
        assert_eq!(masks[0].len(), 40 * 25);
        assert!(masks[0].pixels().contains(&24) && !masks[0].pixels().contains(&25));
        // segmented at 32×32 and brought back: the resampling ripples split the scale-50 halves, exactly as in
        // skimage 0.26 + saliency 0.2.1 (`_normalize_image(img, [-1, 1], (32, 32))`, the same felzenszwalb calls,
        // `resize(order=0)`, `dilation(disk(5))`), whose dilated mask sizes these are
        let resized = segment(img.view(), &SegmentConfig { size: Some((32, 32)), ..cfg });
        let sizes: Vec<usize> = resized.iter().map(Mask::len).collect();
        assert_eq!(sizes, [900, 925, 835, 835, 1000, 1000]);
    }

    #[test]
    fn label_masks_cover_the_label_range() {
        let masks = label_masks(&[2, 2, 4, 4]);
        assert_eq!(masks.len(), 3);
        assert_eq!(masks[0].pixels(), [0, 1]);
        assert!(masks[1].is_empty());
    }
}
