//! From a Hough line to a segment: the line refined on the residual, the run of signal along it, its ends and its
//! signal-to-noise ratio.

use super::hough::Line;
use super::{Prepared, ASIDE, GAP, WINDOW};
use crate::ops::{self, Plane};

/// The line through the peak cell that best follows the residual: ±0.5° by 0.1°, ±3 px by 0.5 px.
pub(super) fn refine(img: &Prepared, theta: f32, rho: f32) -> Line {
    let (w, h) = (img.plane.width, img.plane.height);
    let hi = img.median + 6.0 * img.sigma;
    // Clipped so a star left over on the line does not pull it.
    let score = |line: &Line| -> f32 {
        line.profile(&img.plane).iter().filter(|v| v.is_finite()).map(|v| v.min(hi) - img.median).sum()
    };
    let mut best: Option<(f32, f32, f32)> = None;
    // Coarse (0.25°, 1 px), then fine (0.1°, 0.5 px) around the best.
    for (steps, da, dr, centre) in [(2, 0.25f32, 1.0f32, (theta, rho)), (1, 0.1, 0.5, (theta, rho))] {
        let (t0, r0) = best.map_or(centre, |b| (b.1, b.2));
        let reach = if steps == 2 { 3 } else { 1 };
        for a in -steps..=steps {
            for r in -reach..=reach {
                let (t, rr) = (t0 + a as f32 * da, r0 + r as f32 * dr);
                let Some(line) = Line::new(w, h, t, rr) else { continue };
                let s = score(&line);
                if best.is_none_or(|b| s > b.0) {
                    best = Some((s, t, rr));
                }
            }
        }
    }
    best.and_then(|b| Line::new(w, h, b.1, b.2)).or_else(|| Line::new(w, h, theta, rho)).unwrap_or(Line {
        ox: 0.0,
        oy: 0.0,
        dx: 1.0,
        dy: 0.0,
        t_min: 0.0,
        t_max: 0.0,
    })
}

/// A piece of a line: `t0..=t1`, and its signal-to-noise ratio.
pub(super) struct Segment {
    pub(super) line: Line,
    pub(super) t0: f32,
    pub(super) t1: f32,
    pub(super) snr: f32,
}

impl Segment {
    pub(super) fn length(&self) -> f32 {
        self.t1 - self.t0
    }

    /// Whether `(x, y)` lies within `d` of the segment.
    pub(super) fn covers(&self, x: f32, y: f32, d: f32) -> bool {
        let (rx, ry) = (x - self.line.ox, y - self.line.oy);
        let t = rx * self.line.dx + ry * self.line.dy;
        let n = (-rx * self.line.dy + ry * self.line.dx).abs();
        n <= d && t >= self.t0 - d && t <= self.t1 + d
    }

    /// Distance of a point from the segment's infinite line, and its position along it.
    pub(super) fn project(&self, (x, y): (f32, f32)) -> (f32, f32) {
        let (rx, ry) = (x - self.line.ox, y - self.line.oy);
        ((-rx * self.line.dy + ry * self.line.dx).abs(), rx * self.line.dx + ry * self.line.dy)
    }

    /// Whether another segment lies on this one's line (the same trail, or a piece of it, found again).
    pub(super) fn same_line(&self, other: &Segment) -> bool {
        let cos = (self.line.dx * other.line.dx + self.line.dy * other.line.dy).abs();
        let (a, b) = (self.project(other.line.at(other.t0)), self.project(other.line.at(other.t1)));
        cos > 0.998 && a.0 <= 6.0 && b.0 <= 6.0
    }

    /// Extends this segment over another on the same line; the signal-to-noise ratios add in quadrature.
    pub(super) fn merge(&mut self, other: &Segment) {
        let (a, b) = (self.project(other.line.at(other.t0)).1, self.project(other.line.at(other.t1)).1);
        self.t0 = self.t0.min(a.min(b));
        self.t1 = self.t1.max(a.max(b));
        self.snr = self.snr.hypot(other.snr);
    }
}

/// Running mean over [`WINDOW`] samples, ignoring NaN.
pub(super) fn running_mean(v: &[f32]) -> Vec<f32> {
    let half = WINDOW / 2;
    (0..v.len())
        .map(|i| {
            let s = &v[i.saturating_sub(half)..(i + half + 1).min(v.len())];
            let (sum, n) = s.iter().filter(|x| x.is_finite()).fold((0.0, 0), |(a, n), x| (a + x, n + 1));
            if n > 0 {
                sum / n as f32
            } else {
                f32::NAN
            }
        })
        .collect()
}

/// The mean over three parallel lines one pixel apart, centred on `line` shifted by `d`.
pub(super) fn band(img: &Prepared, line: &Line, d: f32) -> Vec<f32> {
    band_on(&img.view, line, d)
}

/// [`band`] on any plane of the working image's size.
pub(super) fn band_on(plane: &Plane, line: &Line, d: f32) -> Vec<f32> {
    let rows: Vec<Vec<f32>> = [-1.0, 0.0, 1.0].iter().map(|o| line.aside(d + o).profile(plane)).collect();
    (0..rows[0].len()).map(|i| (rows[0][i] + rows[1][i] + rows[2][i]) / 3.0).collect()
}

/// The strongest run of signal along `line`, gaps up to [`GAP`] bridged.
pub(super) fn segment(img: &Prepared, line: &Line) -> Option<Segment> {
    let on = running_mean(&band(img, line, 0.0));
    // The noise of the same running mean beside the line: whatever the smoothing, the mask and the structure
    // around, this is what the line's own profile would be without a trail.
    let mut off: Vec<f32> =
        [-ASIDE, ASIDE].iter().flat_map(|d| running_mean(&band(img, line, *d))).filter(|v| v.is_finite()).collect();
    if off.len() < 2 * WINDOW {
        return None;
    }
    let level = ops::quantile(&off, 0.5, usize::MAX)?;
    off.iter_mut().for_each(|v| *v = (*v - level).abs());
    let spread = (ops::MAD_TO_SIGMA * ops::quantile(&off, 0.5, usize::MAX)?).max(1e-9);
    let above: Vec<bool> = on.iter().map(|v| v.is_finite() && *v > level + 3.0 * spread).collect();
    // Runs of `above`, bridged over short gaps; the one with the largest excess wins.
    let mut best: Option<(usize, usize, f32)> = None;
    let mut i = 0;
    while i < above.len() {
        if !above[i] {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        let mut gap = 0;
        let mut j = i;
        while j < above.len() && gap <= GAP {
            if above[j] {
                end = j;
                gap = 0;
            } else {
                gap += 1;
            }
            j += 1;
        }
        let excess: f32 = on[start..=end].iter().filter(|v| v.is_finite()).map(|v| v - level).sum();
        if best.is_none_or(|b| excess > b.2) {
            best = Some((start, end, excess));
        }
        i = end + 1;
    }
    let (mut start, mut end, _) = best?;
    // The running mean of an even trail falls to half its plateau right at the trail's end, and reaches half a
    // window beyond it. The ends are those of the stretch that gains most over half the run's median level
    // (a maximum subarray): the dips of masked stars inside the trail are bridged, a faint star's bump past its
    // end is not.
    let run: Vec<f32> = on[start..=end].iter().filter(|v| v.is_finite()).map(|v| v - level).collect();
    let half = 0.5 * ops::quantile(&run, 0.5, usize::MAX)?;
    let (mut sum, mut from, mut top) = (0.0f32, start, (f32::NEG_INFINITY, start, start));
    for (i, v) in on.iter().enumerate().take(end + 1).skip(start) {
        let gain = if v.is_finite() { v - level - half } else { -half };
        if sum <= 0.0 {
            (sum, from) = (gain, i);
        } else {
            sum += gain;
        }
        if sum > top.0 {
            top = (sum, from, i);
        }
    }
    (start, end) = (top.1, top.2);
    let (t0, t1) = (line.t_min + start as f32, line.t_min + end as f32);
    if t1 <= t0 {
        return None;
    }
    let n = (end - start + 1) as f32;
    let mean = on[start..=end].iter().filter(|v| v.is_finite()).map(|v| v - level).sum::<f32>() / n;
    // Running means WINDOW apart are independent: the segment holds n / WINDOW of them.
    let snr = mean / spread * (n / WINDOW as f32).sqrt();
    Some(Segment { line: *line, t0, t1, snr })
}
