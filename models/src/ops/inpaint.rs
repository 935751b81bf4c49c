//! Filling masked pixels from their surroundings ("inpainting"), for star removal.
//!
//! No Rust crate inpaints `f32` planes, and star removal needs it: once the star pixels are masked, the hole must be
//! filled with what the sky (or the nebula behind the star) most likely looks like. The method is the pull-push
//! pyramid of S. Gortler et al. ("The Lumigraph", SIGGRAPH 1996, §3.3): average the known pixels into ever coarser
//! levels (each coarse pixel knows what any of its four children knew), then come back down, giving every unknown
//! pixel the bilinear interpolation of the level above. It fills holes of any size in `O(N)`, with a smooth surface
//! that follows gradients and nebulosity around the hole, and it is exact (a no-op) on pixels that were not masked.
//! A few Jacobi steps of Laplace diffusion inside the holes then remove the faint block pattern the pyramid leaves.

use super::mask::Mask;
use super::Plane;

/// One pyramid level: values and their confidence weights in `0..=1`.
struct Level {
    width: usize,
    height: usize,
    value: Vec<f32>,
    weight: Vec<f32>,
}

/// Returns `plane` with every pixel set in `mask` replaced by a smooth fill from the unmasked pixels around it,
/// followed by `smoothing` Jacobi diffusion steps inside the holes (0 for the raw pull-push result).
///
/// When the mask covers the whole plane there is nothing to fill from, and the plane is returned unchanged.
pub fn inpaint(plane: &Plane, mask: &Mask, smoothing: usize) -> Plane {
    let (w, h) = (plane.width, plane.height);
    if mask.width != w || mask.height != h || plane.data.is_empty() || !mask.data.iter().any(|&m| !m) {
        return plane.clone();
    }
    let known = |i: usize| !mask.data[i] && plane.data[i].is_finite();
    let mut levels = vec![Level {
        width: w,
        height: h,
        value: (0..w * h).map(|i| if known(i) { plane.data[i] } else { 0.0 }).collect(),
        weight: (0..w * h).map(|i| if known(i) { 1.0 } else { 0.0 }).collect(),
    }];
    // Pull: average known values upwards until a level is fully known (or one pixel).
    loop {
        let last = levels.last().expect("at least one level");
        if last.weight.iter().all(|&v| v >= 1.0) || (last.width == 1 && last.height == 1) {
            break;
        }
        let (cw, ch) = (last.width.div_ceil(2), last.height.div_ceil(2));
        let mut value = vec![0.0f32; cw * ch];
        let mut weight = vec![0.0f32; cw * ch];
        for y in 0..last.height {
            for x in 0..last.width {
                let (i, c) = (y * last.width + x, (y / 2) * cw + x / 2);
                value[c] += last.value[i] * last.weight[i];
                weight[c] += last.weight[i];
            }
        }
        for (v, wt) in value.iter_mut().zip(weight.iter_mut()) {
            if *wt > 0.0 {
                *v /= *wt;
            }
            *wt = wt.min(1.0);
        }
        levels.push(Level { width: cw, height: ch, value, weight });
    }
    // Push: from the coarsest level down, blend each partly known pixel with the level above.
    for l in (0..levels.len() - 1).rev() {
        let (upper, lower) = levels.split_at_mut(l + 1);
        let (fine, coarse) = (&mut upper[l], &lower[0]);
        let coarse_plane = Plane { width: coarse.width, height: coarse.height, data: coarse.value.clone() };
        for y in 0..fine.height {
            for x in 0..fine.width {
                let i = y * fine.width + x;
                let wt = fine.weight[i];
                if wt < 1.0 {
                    // Fine pixel centre (x, y) sits at ((x + 0.5) / 2 − 0.5) in the coarse grid.
                    let c = coarse_plane.bilinear((x as f32 + 0.5) * 0.5 - 0.5, (y as f32 + 0.5) * 0.5 - 0.5);
                    fine.value[i] = wt * fine.value[i] + (1.0 - wt) * c;
                    fine.weight[i] = 1.0;
                }
            }
        }
    }
    let mut out = Plane { width: w, height: h, data: std::mem::take(&mut levels[0].value) };
    let holes: Vec<usize> = (0..w * h).filter(|&i| !known(i)).collect();
    for _ in 0..smoothing {
        let next: Vec<f32> = holes
            .iter()
            .map(|&i| {
                let (x, y) = ((i % w) as isize, (i / w) as isize);
                0.25 * (out.at_clamped(x - 1, y)
                    + out.at_clamped(x + 1, y)
                    + out.at_clamped(x, y - 1)
                    + out.at_clamped(x, y + 1))
            })
            .collect();
        for (&i, v) in holes.iter().zip(next) {
            out.data[i] = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_a_hole_in_a_ramp_and_keeps_known_pixels() {
        let (w, h) = (64, 48);
        let data: Vec<f32> = (0..w * h).map(|i| 0.1 + 0.01 * (i % w) as f32 + 0.005 * (i / w) as f32).collect();
        let p = Plane::from_vec(w, h, data.clone()).unwrap();
        let mut m = Mask::new(w, h);
        m.paint_disk(30.0, 20.0, 6.0);
        let mut damaged = p.clone();
        for (v, &set) in damaged.data.iter_mut().zip(&m.data) {
            if set {
                *v = 5.0; // a star
            }
        }
        let f = inpaint(&damaged, &m, 20);
        for (i, ((&got, &want), &hole)) in f.data.iter().zip(&data).zip(&m.data).enumerate() {
            if hole {
                assert!((got - want).abs() < 0.03, "hole pixel {i}: {got} vs {want}");
            } else {
                assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn degenerate_masks() {
        let p = Plane::filled(3, 3, 1.0);
        let mut all = Mask::new(3, 3);
        all.data.fill(true);
        assert_eq!(inpaint(&p, &all, 3), p);
        let mut one = Mask::new(1, 1);
        one.data[0] = false;
        assert_eq!(inpaint(&Plane::filled(1, 1, 2.0), &one, 3).data, vec![2.0]);
    }
}
