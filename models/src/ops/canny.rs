//! Canny edges (J. Canny, "A Computational Approach to Edge Detection", IEEE PAMI 8(6), 1986) on a float plane,
//! with every local stage in row bands on all cores.
//!
//! imageproc's `edges::canny` does the same on an 8-bit image, on one thread, with an `atan2` per pixel to pick
//! the gradient's direction; on the naive detector's 1024² working image it was the longest stage of a frame
//! (docs/BENCHMARKS.md). Here the plane is blurred, its Sobel gradient taken, non-maximum suppression picks the
//! direction by comparing `|gy|` with `tan 22.5° · |gx|` and `tan 67.5° · |gx|` (the same four sectors, no
//! trigonometry), and only the hysteresis — a flood from the strong edges through the weak ones, which may cross
//! the whole image — runs on one thread, over the edge pixels alone.

use super::{gaussian_blur, mask::Mask, par_rows, Plane};

/// `tan 22.5°`: gradients within 22.5° of an axis point along it.
const TAN_22_5: f32 = 0.414_213_57;
/// `tan 67.5°`.
const TAN_67_5: f32 = 2.414_213_6;

/// The edges of `plane` after a Gaussian blur of `sigma` pixels: local maxima of the gradient magnitude (Sobel,
/// in the plane's units per pixel × 8) along the gradient, at least `low`, and connected (8-neighbours) to one
/// at least `high`.
pub fn canny(plane: &Plane, sigma: f32, low: f32, high: f32) -> Mask {
    let (w, h) = (plane.width, plane.height);
    let mut edges = Mask::new(w, h);
    if w < 3 || h < 3 {
        return edges;
    }
    let b = gaussian_blur(plane, sigma);
    let at = |x: usize, y: usize, dx: isize, dy: isize| b.at_clamped(x as isize + dx, y as isize + dy);
    // Gradient magnitude, and the sector of its direction: 0 along x, 1 along the y = x diagonal, 2 along y,
    // 3 along the y = −x diagonal (image rows grow downwards).
    let mut grad = vec![(0.0f32, 0u8); w * h];
    par_rows(&mut grad, w, |y0, band| {
        for (i, g) in band.iter_mut().enumerate() {
            let (x, y) = (i % w, y0 + i / w);
            let gx = at(x, y, 1, -1) + 2.0 * at(x, y, 1, 0) + at(x, y, 1, 1)
                - at(x, y, -1, -1)
                - 2.0 * at(x, y, -1, 0)
                - at(x, y, -1, 1);
            let gy = at(x, y, -1, 1) + 2.0 * at(x, y, 0, 1) + at(x, y, 1, 1)
                - at(x, y, -1, -1)
                - 2.0 * at(x, y, 0, -1)
                - at(x, y, 1, -1);
            let (ax, ay) = (gx.abs(), gy.abs());
            let sector = if ay <= TAN_22_5 * ax {
                0
            } else if ay >= TAN_67_5 * ax {
                2
            } else if (gx > 0.0) == (gy > 0.0) {
                1
            } else {
                3
            };
            *g = (gx.hypot(gy), sector);
        }
    });
    let mag = |i: usize| grad[i].0;
    // Non-maximum suppression: a pixel stays when no neighbour along its gradient is stronger (ties: the one
    // before it wins, so a flat-topped ridge keeps one pixel).
    let mut thin = vec![0.0f32; w * h];
    par_rows(&mut thin, w, |y0, band| {
        for (i, t) in band.iter_mut().enumerate() {
            let (x, y) = (i % w, y0 + i / w);
            let (m, sector) = grad[y * w + x];
            if m < low || x == 0 || y == 0 || x + 1 == w || y + 1 == h {
                continue;
            }
            let (a, c) = match sector {
                0 => (mag(y * w + x - 1), mag(y * w + x + 1)),
                1 => (mag((y - 1) * w + x - 1), mag((y + 1) * w + x + 1)),
                2 => (mag((y - 1) * w + x), mag((y + 1) * w + x)),
                _ => (mag((y - 1) * w + x + 1), mag((y + 1) * w + x - 1)),
            };
            if m > a && m >= c {
                *t = m;
            }
        }
    });
    // Hysteresis from the strong edges.
    let mut stack: Vec<usize> = (0..w * h).filter(|&i| thin[i] >= high).collect();
    for &i in &stack {
        edges.data[i] = true;
    }
    while let Some(i) = stack.pop() {
        let (x, y) = ((i % w) as isize, (i / w) as isize);
        for dy in -1..=1 {
            for dx in -1..=1 {
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= w as isize || ny >= h as isize {
                    continue;
                }
                let j = ny as usize * w + nx as usize;
                if !edges.data[j] && thin[j] >= low {
                    edges.data[j] = true;
                    stack.push(j);
                }
            }
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bright disc on a flat plane.
    fn disc(w: usize, h: usize, r: f32, level: f32) -> Plane {
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        let data = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 - cx, (i / w) as f32 - cy);
                if x.hypot(y) <= r {
                    level
                } else {
                    0.0
                }
            })
            .collect();
        Plane { width: w, height: h, data }
    }

    #[test]
    fn a_disc_gives_a_thin_closed_ring_at_its_border() {
        let p = disc(64, 48, 12.0, 10.0);
        let e = canny(&p, 1.4, 2.0, 6.0);
        let (cx, cy) = (32.0f32, 24.0f32);
        let mut radii = Vec::new();
        for (i, &on) in e.data.iter().enumerate() {
            if on {
                radii.push(((i % 64) as f32 - cx).hypot((i / 64) as f32 - cy));
            }
        }
        assert!(radii.len() > 50, "{} edge pixels", radii.len());
        assert!(radii.iter().all(|r| (r - 12.0).abs() <= 2.0), "edges off the border: {radii:?}");
        // Thin: far fewer pixels than a 3-pixel-wide ring would have.
        assert!((radii.len() as f32) < 2.0 * std::f32::consts::TAU * 12.0, "{} pixels", radii.len());
        // Closed: every direction from the centre meets the ring.
        for k in 0..72 {
            let a = (k as f32 * 5.0).to_radians();
            let hit = (90..150).any(|r10| {
                let r = r10 as f32 / 10.0;
                let (x, y) = ((cx + r * a.cos()).round() as usize, (cy + r * a.sin()).round() as usize);
                e.data[y * 64 + x] || e.data[y * 64 + x + 1] || e.data[(y + 1) * 64 + x]
            });
            assert!(hit, "no edge at {}°", k * 5);
        }
    }

    #[test]
    fn flat_and_faint_planes_have_no_edges_and_hysteresis_follows_strong_ones() {
        assert_eq!(canny(&disc(40, 30, 8.0, 0.0), 1.4, 1.0, 2.0).count(), 0);
        // A step too faint for `high` gives nothing; a step that fades from strong (6) at the top to faint (1) at
        // the bottom, slowly enough to stay a vertical edge, gives the whole border.
        let mut p = Plane { width: 60, height: 40, data: vec![0.0; 2400] };
        for y in 0..40 {
            let step = 6.0 * (1.0f32 / 6.0).powf(y as f32 / 39.0);
            for x in 30..60 {
                p.data[y * 60 + x] = step;
            }
        }
        let faint = Plane { data: p.data.iter().map(|v| v.min(1.0)).collect(), ..p.clone() };
        assert_eq!(canny(&faint, 1.0, 2.0, 12.0).count(), 0);
        let e = canny(&p, 1.0, 2.0, 12.0);
        let column = |y: usize| (28..33).any(|x| e.data[y * 60 + x]);
        assert!(column(5), "strong part");
        assert!((12..38).all(column), "weak part joined through hysteresis");
    }

    #[test]
    fn large_planes_are_cut_in_bands_without_seams() {
        // Above the size where par_rows splits (bands meet at rows 105, 210 and 315 on four cores, 210 on two): discs
        // across those rows must come out as whole rings, and nothing else.
        let (w, h) = (700, 420);
        let centres = [(150.0f32, 105.0f32), (350.0, 210.0), (550.0, 315.0)];
        let mut p = Plane { width: w, height: h, data: vec![0.0; w * h] };
        for (i, v) in p.data.iter_mut().enumerate() {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            if centres.iter().any(|&(cx, cy)| (x - cx).hypot(y - cy) <= 20.0) {
                *v = 10.0;
            }
        }
        let e = canny(&p, 1.4, 2.0, 6.0);
        for (i, _) in e.data.iter().enumerate().filter(|(_, &on)| on) {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            let r = centres.iter().map(|&(cx, cy)| (x - cx).hypot(y - cy)).fold(f32::MAX, f32::min);
            assert!((r - 20.0).abs() <= 2.0, "edge at ({x}, {y}), {r} px from the nearest centre");
        }
        for &(cx, cy) in &centres {
            for k in 0..72 {
                let a = (k as f32 * 5.0).to_radians();
                let hit = (180..220).any(|r10| {
                    let r = r10 as f32 / 10.0;
                    let (x, y) = ((cx + r * a.cos()).round() as usize, (cy + r * a.sin()).round() as usize);
                    e.data[y * w + x] || e.data[y * w + x + 1] || e.data[(y + 1) * w + x]
                });
                assert!(hit, "disc at ({cx}, {cy}): no edge at {}°", k * 5);
            }
        }
    }
}
