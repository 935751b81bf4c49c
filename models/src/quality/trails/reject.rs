//! What is not a trail: diffraction spikes and edge-on galaxies.

use super::segment::{band_on, Segment};
use super::{masked, star_mask_radius, Star, ASIDE, SPIKE_STAR};
use crate::ops::{self, Plane};
use crate::quality::measures::Work;

/// Diffraction spikes: a segment that runs through the centres of stars bright enough to show spikes (half of full
/// scale on the frame: [`SPIKE_STAR`]; within 2 working pixels and a tenth of the star's mask radius — a trail
/// passing near a star misses it by more, most of the time) and lies, for 60 % of its length or more, within the
/// reach of their spikes, taken as three mask radii and 6 pixels each way (spikes grow
/// with a star's brightness, as its mask does). Spikes of several stars on one line (they are all parallel) count
/// together. A short trail passing within a few pixels of a bright star is taken for a spike too: the price of
/// never reporting spikes (docs/TRIAGE.md).
pub(super) fn is_spike(seg: &Segment, work: &Work, stars: &[Star], residual: &Plane) -> bool {
    let mut zones: Vec<(f32, f32)> = stars
        .iter()
        .filter(|s| s.full_value >= SPIKE_STAR)
        .filter_map(|s| {
            let rm = star_mask_radius(s, work.sigma);
            let (n, t) = seg.project((s.x as f32, s.y as f32));
            let reach = 3.0 * rm + 6.0;
            if n > 2.0 + 0.1 * rm || t < seg.t0 - reach || t > seg.t1 + reach {
                return None;
            }
            if !has_cross(residual, s, (seg.line.dx, seg.line.dy), rm, reach, work.sigma) {
                return None;
            }
            Some((t - reach, t + reach))
        })
        .collect();
    if zones.is_empty() {
        return false;
    }
    zones.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut covered, mut end) = (0.0f32, seg.t0);
    for (a, b) in zones {
        let (a, b) = (a.max(end), b.min(seg.t1));
        if b > a {
            covered += b - a;
            end = b;
        }
    }
    covered >= 0.6 * seg.length()
}

/// Whether a star's light reaches out across the segment's direction as far as along it: diffraction spikes come
/// in crosses (four vanes) or at least in pairs of opposite arms at right angles, a trail is one line. Judged on the
/// median light between the star's mask and its spikes' reach, along `dir`, across it and along the diagonals
/// (which only the halo lights).
pub(super) fn has_cross(residual: &Plane, s: &Star, (dx, dy): (f32, f32), rm: f32, reach: f32, sigma: f32) -> bool {
    let arm = |ux: f32, uy: f32| -> f32 {
        let mut v = Vec::new();
        let mut d = rm + 1.0;
        while d <= reach {
            for sign in [-1.0f32, 1.0] {
                let (x, y) = (s.x as f32 + sign * d * ux, s.y as f32 + sign * d * uy);
                let (xi, yi) = (x.round(), y.round());
                if xi >= 0.0 && yi >= 0.0 && (xi as usize) < residual.width && (yi as usize) < residual.height {
                    v.push(residual.at(xi as usize, yi as usize));
                }
            }
            d += 1.0;
        }
        ops::quantile(&v, 0.5, usize::MAX).unwrap_or(0.0)
    };
    let r = std::f32::consts::FRAC_1_SQRT_2;
    let (along, across) = (arm(dx, dy), arm(-dy, dx));
    let halo = 0.5 * (arm(r * (dx - dy), r * (dx + dy)) + arm(r * (dx + dy), r * (dy - dx)));
    across - halo > (0.3 * (along - halo)).max(5.0 * sigma)
}

/// Thick or peaked: an edge-on galaxy (or a jet, a nebula's filament), not a trail. Judged on the smoothed residual
/// before the top-hat, which would have cut a galaxy's thick middle down to the even, thin ridge of a trail.
pub(super) fn is_galaxy(residual: &Plane, seg: &Segment, work: &Work, stars: &[Star]) -> bool {
    // Stars beside the line are masked; one on it stays: it may be the galaxy's core.
    let residual = &masked(residual, work, stars.iter().filter(|s| seg.project((s.x as f32, s.y as f32)).0 > 2.0));
    let part = |d: f32| -> Vec<f32> {
        let b = band_on(residual, &seg.line, d);
        let (i0, i1) = ((seg.t0 - seg.line.t_min) as usize, ((seg.t1 - seg.line.t_min) as usize).min(b.len() - 1));
        b[i0..=i1.max(i0)].to_vec()
    };
    // Medians, not means: a star the trail passes by must not make it look uneven.
    let mean = |v: &[f32]| ops::quantile(v, 0.5, usize::MAX).unwrap_or(0.0);
    let level = 0.5 * (mean(&part(ASIDE)) + mean(&part(-ASIDE)));
    let mean = |v: &[f32]| mean(v) - level;
    // The line found may sit a pixel off a bright trail's ridge (its clipped profile is flat there): centre it.
    let d0 = [-1.5f32, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5]
        .into_iter()
        .map(|d| (d, mean(&part(d))))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0.0, |b| b.0);
    let core = part(d0);
    let centre = mean(&core);
    if centre <= 0.0 {
        return true;
    }
    let side = 0.5 * (mean(&part(d0 + 3.0)) + mean(&part(d0 - 3.0)));
    if side > 0.25 * centre {
        return true;
    }
    // Evenness along the segment, in six pieces: a galaxy fades from its core outwards (wherever the segment
    // catches it), a trail keeps its brightness.
    // Pieces mostly under star masks say nothing.
    let mut pieces: Vec<f32> = core
        .chunks(core.len().div_ceil(6).max(1))
        .filter(|c| 3 * c.iter().filter(|v| v.is_finite()).count() >= c.len())
        .map(mean)
        .collect();
    if pieces.is_empty() {
        return false;
    }
    pieces.sort_by(f32::total_cmp);
    // The brightest piece is left out: it may hold a star the trail crosses.
    let top = if pieces.len() > 2 { pieces[pieces.len() - 2] } else { pieces[pieces.len() - 1] };
    top > 2.0 * pieces[0].max(0.0)
}
