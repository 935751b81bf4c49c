//! Binary masks and their growth by a disk, through an exact Euclidean distance transform.
//!
//! Star masks must grow by several pixels (a bright star's wings reach far beyond the pixels that crossed the
//! detection threshold), and growing by a disk of radius `r` is "distance to the nearest set pixel ≤ r". The
//! distance transform of P. Felzenszwalb and D. Huttenlocher ("Distance Transforms of Sampled Functions", Theory of
//! Computing 8, 2012) gives that in two linear passes for any radius, where repeated 3×3 dilations would be slow and
//! square-shaped.

/// A binary image, row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mask {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height` flags, `true` where set.
    pub data: Vec<bool>,
}

impl Mask {
    /// An empty (all clear) mask.
    pub fn new(width: usize, height: usize) -> Self {
        Self { width, height, data: vec![false; width * height] }
    }

    /// Number of set pixels.
    pub fn count(&self) -> usize {
        self.data.iter().filter(|&&b| b).count()
    }

    /// Sets every pixel within `radius` of `(cx, cy)` (clipped to the mask).
    pub fn paint_disk(&mut self, cx: f32, cy: f32, radius: f32) {
        if !(cx.is_finite() && cy.is_finite() && radius >= 0.0) {
            return;
        }
        let y0 = (cy - radius).floor().max(0.0) as usize;
        let y1 = ((cy + radius).ceil().max(0.0) as usize).min(self.height.saturating_sub(1));
        let x0 = (cx - radius).floor().max(0.0) as usize;
        let x1 = ((cx + radius).ceil().max(0.0) as usize).min(self.width.saturating_sub(1));
        for y in y0..=y1.min(self.height.saturating_sub(1)) {
            for x in x0..=x1 {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                if dx * dx + dy * dy <= radius * radius && y < self.height && x < self.width {
                    self.data[y * self.width + x] = true;
                }
            }
        }
    }
}

/// Stands for "no set pixel": large enough to dominate any real squared distance, small enough to stay finite in
/// the parabola intersections.
const FAR: f32 = 1e20;

/// Squared Euclidean distance transform of a sampled function along one line (Felzenszwalb & Huttenlocher, alg. 1).
fn edt_1d(f: &[f32], d: &mut [f32], v: &mut [usize], z: &mut [f32]) {
    let n = f.len();
    if n == 0 {
        return;
    }
    let inter =
        |q: usize, p: usize| ((f[q] + (q * q) as f32) - (f[p] + (p * p) as f32)) / (2.0 * (q as f32 - p as f32));
    let mut k = 0usize;
    v[0] = 0;
    z[0] = f32::NEG_INFINITY;
    z[1] = f32::INFINITY;
    for q in 1..n {
        let mut s = inter(q, v[k]);
        while s <= z[k] && k > 0 {
            k -= 1;
            s = inter(q, v[k]);
        }
        if s <= z[k] {
            // k == 0 and the new parabola is lower everywhere: replace the first one.
            v[0] = q;
            z[1] = f32::INFINITY;
            continue;
        }
        k += 1;
        v[k] = q;
        z[k] = s;
        z[k + 1] = f32::INFINITY;
    }
    k = 0;
    for (q, out) in d.iter_mut().enumerate() {
        while z[k + 1] < q as f32 {
            k += 1;
        }
        let p = v[k];
        *out = (q as f32 - p as f32).powi(2) + f[p];
    }
}

/// Fills the holes of a mask (clear regions that do not touch the border, 4-connected) of at most `max_area`
/// pixels: a saturated star's top-hat is a ring around its flat core, and the core must be masked too.
pub fn fill_holes(mask: &Mask, max_area: usize) -> Mask {
    let (w, h) = (mask.width, mask.height);
    let mut out = mask.clone();
    let mut seen = vec![false; w * h];
    let mut stack = Vec::new();
    let mut region = Vec::new();
    for start in 0..w * h {
        if mask.data[start] || seen[start] {
            continue;
        }
        // Flood one clear region, noting whether it reaches the border.
        region.clear();
        let mut border = false;
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            region.push(i);
            let (x, y) = (i % w, i / w);
            border |= x == 0 || y == 0 || x + 1 == w || y + 1 == h;
            let mut visit = |j: usize| {
                if !mask.data[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        if !border && region.len() <= max_area {
            region.iter().for_each(|&i| out.data[i] = true);
        }
    }
    out
}

/// Squared distance from every pixel to the nearest set pixel (infinite when the mask is empty).
pub fn distance_squared(mask: &Mask) -> Vec<f32> {
    let (w, h) = (mask.width, mask.height);
    // Columns first, on the transpose so that both passes run over rows (and over bands of rows in parallel).
    let mut cols: Vec<f32> = vec![FAR; w * h];
    super::par_rows(&mut cols, h, |x0, band| {
        let (mut d, mut v, mut z) = (vec![0.0f32; h], vec![0usize; h], vec![0.0f32; h + 1]);
        let mut f = vec![0.0f32; h];
        for (dx, col) in band.chunks_exact_mut(h).enumerate() {
            let x = x0 + dx;
            for (y, fy) in f.iter_mut().enumerate() {
                *fy = if mask.data[y * w + x] { 0.0 } else { FAR };
            }
            edt_1d(&f, &mut d, &mut v, &mut z);
            col.copy_from_slice(&d);
        }
    });
    let mut grid = vec![0.0f32; w * h];
    super::par_rows(&mut grid, w, |y0, band| {
        let (mut d, mut v, mut z) = (vec![0.0f32; w], vec![0usize; w], vec![0.0f32; w + 1]);
        let mut f = vec![0.0f32; w];
        for (dy, row) in band.chunks_exact_mut(w).enumerate() {
            let y = y0 + dy;
            for (x, fx) in f.iter_mut().enumerate() {
                *fx = cols[x * h + y];
            }
            edt_1d(&f, &mut d, &mut v, &mut z);
            for (g, &dv) in row.iter_mut().zip(&d) {
                *g = if dv >= FAR * 0.5 { f32::INFINITY } else { dv };
            }
        }
    });
    grid
}

/// Grows a mask by a disk of radius `radius` (a pixel is set when a set pixel lies within `radius` of it).
pub fn dilate(mask: &Mask, radius: f32) -> Mask {
    if radius <= 0.0 {
        return mask.clone();
    }
    let r2 = radius * radius;
    if radius < 3.0 {
        return dilate_small(mask, r2);
    }
    let data = distance_squared(mask).into_iter().map(|d| d <= r2).collect();
    Mask { width: mask.width, height: mask.height, data }
}

/// [`dilate`] for small radii: each set pixel sets the few offsets within the disk (the same pixels as the distance
/// transform's `d² ≤ r²`, without its two passes over the plane).
fn dilate_small(mask: &Mask, r2: f32) -> Mask {
    let (w, h) = (mask.width, mask.height);
    let r = r2.sqrt().floor() as isize;
    let offsets: Vec<(isize, isize)> = (-r..=r)
        .flat_map(|dy| (-r..=r).map(move |dx| (dx, dy)))
        .filter(|&(dx, dy)| (dx * dx + dy * dy) as f32 <= r2)
        .collect();
    let mut out = Mask::new(w, h);
    for (i, _) in mask.data.iter().enumerate().filter(|(_, &b)| b) {
        let (x, y) = ((i % w) as isize, (i / w) as isize);
        for &(dx, dy) in &offsets {
            let (sx, sy) = (x + dx, y + dy);
            if sx >= 0 && sy >= 0 && (sx as usize) < w && (sy as usize) < h {
                out.data[sy as usize * w + sx as usize] = true;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_transform_matches_brute_force() {
        let (w, h) = (19, 13);
        let mut m = Mask::new(w, h);
        for &(x, y) in &[(0, 0), (7, 5), (18, 12), (12, 2)] {
            m.data[y * w + x] = true;
        }
        let d = distance_squared(&m);
        for y in 0..h {
            for x in 0..w {
                let best = [(0, 0), (7, 5), (18, 12), (12, 2)]
                    .iter()
                    .map(|&(px, py): &(i32, i32)| ((x as i32 - px).pow(2) + (y as i32 - py).pow(2)) as f32)
                    .fold(f32::INFINITY, f32::min);
                assert_eq!(d[y * w + x], best, "at {x},{y}");
            }
        }
    }

    #[test]
    fn small_holes_are_filled() {
        let mut m = Mask::new(30, 20);
        m.paint_disk(8.0, 8.0, 5.0);
        let mut ring = m.clone();
        let mut hole = Mask::new(30, 20);
        hole.paint_disk(8.0, 8.0, 2.0);
        ring.data.iter_mut().zip(&hole.data).for_each(|(r, h)| *r &= !*h);
        assert_eq!(fill_holes(&ring, 100), m);
        assert_eq!(fill_holes(&ring, 5), ring); // the hole has 13 pixels
    }

    #[test]
    fn dilation_is_a_disk_and_empty_stays_empty() {
        let mut m = Mask::new(21, 21);
        m.data[10 * 21 + 10] = true;
        let g = dilate(&m, 3.0);
        let mut disk = Mask::new(21, 21);
        disk.paint_disk(10.0, 10.0, 3.0);
        assert_eq!(g, disk);
        assert_eq!(dilate(&Mask::new(4, 3), 5.0).count(), 0);
    }

    #[test]
    fn small_dilations_match_the_distance_transform() {
        let (w, h) = (37, 23);
        let mut m = Mask::new(w, h);
        let mut state = 12345u32;
        for px in m.data.iter_mut() {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *px = state >> 28 == 0; // one pixel in 16, some at the edges
        }
        for r in [0.5f32, 1.0, 1.5, 2.0, 2.5, 2.99] {
            let r2 = r * r;
            let by_edt =
                Mask { width: w, height: h, data: distance_squared(&m).into_iter().map(|d| d <= r2).collect() };
            assert_eq!(dilate(&m, r), by_edt, "radius {r}");
        }
    }

    #[test]
    fn the_parallel_distance_transform_matches_brute_force_on_a_large_mask() {
        // Large enough (> ¼ Mpx) for the bands to run on several threads.
        let (w, h) = (700, 400);
        let mut m = Mask::new(w, h);
        let pts = [(3usize, 5usize), (650, 390), (350, 200), (699, 0)];
        for &(x, y) in &pts {
            m.data[y * w + x] = true;
        }
        let d = distance_squared(&m);
        for y in (0..h).step_by(7) {
            for x in (0..w).step_by(11) {
                let best = pts.iter().map(|&(px, py)| (x as f32 - px as f32).powi(2) + (y as f32 - py as f32).powi(2));
                assert_eq!(d[y * w + x], best.fold(f32::INFINITY, f32::min), "({x}, {y})");
            }
        }
    }
}
