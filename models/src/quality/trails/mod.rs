//! Satellite, aircraft and meteor trails: straight lines on the star-removed residual.
//!
//! 1. **Residual.** The working residual (sky removed, [`super::measures`]) minus its opening by a disk of radius 3
//!    (a white top-hat): what is narrower than 7 working pixels survives — trails and stars — while nebulae and the
//!    bodies of galaxies go. Stars brighter than 10 σ (`MASK_SIGMA`) are then painted over with the residual's
//!    median, on a disk that grows with the logarithm of their peak so that bright stars' halos go too; fainter
//!    ones are left to vote as noise does (masking them also masked a faint trail's own noisy maxima, cutting it to
//!    pieces). A 3 × 3 binomial smoothing matches a trail's width in the working image.
//! 2. **Votes.** Pixels above the smoothed residual's median plus [`TrailParams::vote_sigma`] robust sigmas vote
//!    in a Hough accumulator (R. O. Duda & P. E. Hart, CACM 15, 1972) of 0.5° by 2-pixel cells. imageproc's
//!    `hough::detect_lines` is not used: its 1° angle step smears a 1000-pixel line over ten distance cells, and
//!    its fixed vote threshold cannot tell a long chord of noise from a short trail. Here each cell is scored
//!    against what noise alone would give along its chord (Poisson: `(votes − expected) / √expected`), so long
//!    and short lines are judged by the same significance.
//! 3. **Segments.** The strongest cell's line is refined (±0.6° and ±3.5 px) on the residual, the profile along it
//!    (masked stars skipped, not read as gaps) is compared with the same profile on two parallel lines 8 px aside
//!    (the local noise), and the longest run above it, bridging gaps, is the candidate. Its ends are those of the
//!    stretch that gains most over half the run's median level (a maximum subarray): a running mean falls to half
//!    a trail's level right at its end, and a star's bump past the end is not taken in. The segment's
//!    signal-to-noise ratio gives the confidence.
//! 4. **What is not a trail.** A diffraction spike is a line through a bright star's centre reaching a few mask
//!    radii out, with arms across it as well: a segment through such stars and mostly within their spikes' reach is
//!    rejected. An edge-on galaxy is thicker than a trail and brightest at its core: a segment whose profile 3 px
//!    aside keeps a quarter of its brightness, or whose second-brightest sixth is twice its faintest (the brightest
//!    may hold a star the trail crosses), is rejected (on the smoothed residual before the top-hat, which would cut
//!    a galaxy down to a trail's thin, even ridge).
//!
//! The thresholds were chosen on generated frames of seed 2026 (`models/examples/triage_eval.rs`) and checked on
//! seeds 2027 and 2028 and on the real frames (`docs/TRIAGE.md`).
//!
//! The Hough accumulator and its lines are in `hough`, the segment along a line in `segment`, the tests that reject
//! spikes and edge-on galaxies in `reject`.

mod hough;
mod reject;
mod segment;

use crate::ops::{self, morph, Plane};

use super::measures::Work;
use super::stars::Star;
use hough::Hough;
use reject::{is_galaxy, is_spike};
use segment::{refine, segment, Segment};

/// One trail, in full-frame pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Trail {
    /// One end, x.
    pub x0: f32,
    /// One end, y.
    pub y0: f32,
    /// Other end, x.
    pub x1: f32,
    /// Other end, y.
    pub y1: f32,
    /// Signal-to-noise ratio of the whole segment.
    pub snr: f32,
    /// `1 − exp(−snr / 15)`: 0.45 at the detection limit, 0.95 for an obvious trail.
    pub confidence: f32,
}

impl Trail {
    /// Length in full-frame pixels.
    pub fn length(&self) -> f32 {
        (self.x1 - self.x0).hypot(self.y1 - self.y0)
    }
}

/// Tunables of trail detection.
#[derive(Clone, Debug, PartialEq)]
pub struct TrailParams {
    /// Pixels this many robust sigmas above the smoothed residual's median vote.
    pub vote_sigma: f32,
    /// A Hough cell this significant is examined.
    pub min_significance: f32,
    /// A segment must reach this signal-to-noise ratio.
    pub min_snr: f32,
    /// A segment must be at least this fraction of the frame's diagonal.
    pub min_length: f32,
    /// Most trails reported per frame.
    pub max_trails: usize,
}

impl Default for TrailParams {
    fn default() -> Self {
        Self { vote_sigma: 2.0, min_significance: 7.0, min_snr: 9.0, min_length: 0.05, max_trails: 4 }
    }
}

/// Angle step of the accumulator, degrees.
const ANGLE_STEP: f32 = 0.5;
/// Distance cell of the accumulator, working pixels.
const RHO_STEP: f32 = 2.0;
/// Running-mean window along a line, working pixels.
const WINDOW: usize = 15;
/// Gaps bridged within a segment (masked stars), working pixels.
const GAP: usize = 25;
/// Stars whose brightest pixel reaches this fraction of full scale can have visible diffraction spikes.
const SPIKE_STAR: f32 = 0.5;
/// Stars fainter than this many noise sigmas (working image) are not masked: they vote as noise does, while a
/// masked trail's own noisy maxima would cut a faint trail into pieces.
const MASK_SIGMA: f32 = 10.0;
/// Working pixels along each edge that do not vote.
const BORDER: usize = 4;
/// Where the reference lines run beside a candidate, working pixels.
const ASIDE: f32 = 8.0;

/// The trails of a frame, strongest first.
pub fn find(work: &Work, stars: &[Star], p: &TrailParams) -> Vec<Trail> {
    // Local maxima along a trail are found as "stars" too: only point-like ones are masked and can make spikes.
    // A saturated star with spikes looks like a ridge locally; saturated trails are rare enough to lose.
    let points: Vec<Star> = stars
        .iter()
        .filter(|s| s.full_value >= SPIKE_STAR || (s.peak > MASK_SIGMA * work.sigma && !is_ridge(&work.residual, s)))
        .cloned()
        .collect();
    let stars = points.as_slice();
    let Some(img) = prepared(work, stars) else { return Vec::new() };
    let smoothed = smooth3(&work.residual);
    let (w, h) = (img.plane.width, img.plane.height);
    let thr = img.median + p.vote_sigma * img.sigma;
    let mut voters: Vec<(u16, u16)> = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if img.plane.at(x, y) > thr {
                voters.push((x as u16, y as u16));
            }
        }
    }
    // A frame full of structure (nebulosity the top-hat left) votes everywhere: keep the strongest 5 %.
    let cap = w * h / 20;
    if voters.len() > cap {
        let mut v: Vec<f32> = voters.iter().map(|&(x, y)| img.plane.at(x as usize, y as usize)).collect();
        let k = v.len() - cap;
        let cut = *v.select_nth_unstable_by(k, f32::total_cmp).1;
        voters.retain(|&(x, y)| img.plane.at(x as usize, y as usize) > cut);
    }
    if voters.is_empty() {
        return Vec::new();
    }
    let mut hough = Hough::new(w, h);
    for &(x, y) in &voters {
        hough.vote(x as f32, y as f32, 1);
    }
    let p_vote = voters.len() as f32 / (w * h) as f32;
    let diag = (w as f32).hypot(h as f32);
    let mut found = Vec::new();
    for _ in 0..2 * p.max_trails + 2 {
        let Some((theta, rho, z)) = hough.best(p_vote) else { break };
        if z < p.min_significance {
            break;
        }
        hough.suppress(theta, rho);
        let line = refine(&img, theta, rho);
        let Some(seg) = segment(&img, &line) else { continue };
        log::trace!(
            "trail candidate z {z:.1} θ {theta} ρ {rho}: {:?}–{:?}, length {:.0}, snr {:.1}",
            seg.line.at(seg.t0),
            seg.line.at(seg.t1),
            seg.length(),
            seg.snr
        );
        // Whatever the verdict, its votes go so that the next peak is another line.
        for &(x, y) in &voters {
            if seg.covers(x as f32, y as f32, 3.0) {
                hough.vote(x as f32, y as f32, -1);
            }
        }
        if seg.length() < p.min_length * diag || seg.snr < p.min_snr {
            continue;
        }
        if is_spike(&seg, work, stars, &smoothed) || is_galaxy(&smoothed, &seg, work, stars) {
            continue;
        }
        // A trail broken by a masked star or a spike is found in pieces: one trail.
        if let Some(t) = found.iter_mut().find(|t: &&mut Segment| t.same_line(&seg)) {
            t.merge(&seg);
            continue;
        }
        found.push(seg);
        if found.len() == p.max_trails {
            break;
        }
    }
    let f = work.factor as f32;
    let full = |v: f32| v * f + (f - 1.0) / 2.0;
    found
        .iter()
        .map(|s| {
            let (a, b) = (s.line.at(s.t0), s.line.at(s.t1));
            Trail {
                x0: full(a.0),
                y0: full(a.1),
                x1: full(b.0),
                y1: full(b.1),
                snr: s.snr,
                confidence: 1.0 - (-s.snr / 15.0).exp(),
            }
        })
        .collect()
}

/// The smoothed, star-masked top-hat residual and its robust level and spread.
struct Prepared {
    plane: Plane,
    /// The same with the star masks NaN: profiles along a line skip them instead of reading the fill as a gap.
    view: Plane,
    median: f32,
    sigma: f32,
}

fn prepared(work: &Work, stars: &[Star]) -> Option<Prepared> {
    let r = &work.residual;
    if r.width < 32 || r.height < 32 {
        return None;
    }
    let opened = morph::open_disk(r, 3);
    let mut top =
        Plane { width: r.width, height: r.height, data: r.data.iter().zip(&opened.data).map(|(a, b)| a - b).collect() };
    let fill = ops::quantile(&top.data, 0.5, 1 << 16)?;
    for s in stars {
        let rm = star_mask_radius(s, work.sigma);
        paint_disk(&mut top, s.x as f32, s.y as f32, rm, fill);
    }
    let mut plane = smooth3(&top);
    let view = masked(&plane, work, stars);
    // The top-hat and the smoothing see fewer pixels at the edges: the outer rows and columns do not vote.
    let (w, h) = (plane.width, plane.height);
    for y in 0..h {
        for x in 0..w {
            if x < BORDER || y < BORDER || x + BORDER >= w || y + BORDER >= h {
                plane.data[y * w + x] = fill;
            }
        }
    }
    let median = ops::quantile(&plane.data, 0.5, 1 << 18)?;
    let dev: Vec<f32> = plane.data.iter().step_by(3).map(|v| (v - median).abs()).collect();
    let sigma = ops::MAD_TO_SIGMA * ops::quantile(&dev, 0.5, 1 << 18)?;
    (sigma > 0.0).then_some(Prepared { plane, view, median, sigma })
}

/// Whether a star candidate is a point on a ridge: two opposite pixels two steps away both keep 40 % of its peak
/// while none of the three across it (±22.5°) do: a star falls off in every direction, a trail not along itself,
/// and a bright star's spikes make a cross, high across as well.
fn is_ridge(r: &Plane, s: &Star) -> bool {
    const RING: [(isize, isize); 8] = [(2, 0), (2, 1), (2, 2), (1, 2), (0, 2), (-1, 2), (-2, 2), (-2, 1)];
    let at = |dx: isize, dy: isize| {
        let (x, y) = (s.x as isize + dx, s.y as isize + dy);
        if x < 0 || y < 0 || x >= r.width as isize || y >= r.height as isize {
            0.0
        } else {
            r.at(x as usize, y as usize)
        }
    };
    let high: Vec<bool> =
        RING.iter().map(|&(dx, dy)| at(dx, dy) > 0.4 * s.peak && at(-dx, -dy) > 0.4 * s.peak).collect();
    // High along one direction and low across it; a bright star with spikes (a cross) or a saturated disc (high
    // all round) is not a ridge.
    (0..8).any(|i| high[i] && !high[(i + 3) % 8] && !high[(i + 4) % 8] && !high[(i + 5) % 8])
}

/// How far around a star its light (halo, the start of its spikes) is masked: grows with the log of its peak.
fn star_mask_radius(s: &Star, sigma: f32) -> f32 {
    1.5 + 0.9 * (s.peak / sigma).max(1.0).ln()
}

/// `p` with NaN over the masked stars, their disks grown by the smoothing's pixel.
fn masked<'a>(p: &Plane, work: &Work, stars: impl IntoIterator<Item = &'a Star>) -> Plane {
    let mut v = p.clone();
    for s in stars {
        paint_disk(&mut v, s.x as f32, s.y as f32, star_mask_radius(s, work.sigma) + 1.0, f32::NAN);
    }
    v
}

fn paint_disk(p: &mut Plane, cx: f32, cy: f32, r: f32, value: f32) {
    let (x0, x1) = ((cx - r).floor().max(0.0) as usize, ((cx + r).ceil() as usize).min(p.width - 1));
    let (y0, y1) = ((cy - r).floor().max(0.0) as usize, ((cy + r).ceil() as usize).min(p.height - 1));
    for y in y0..=y1 {
        for x in x0..=x1 {
            if (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) <= r * r {
                p.data[y * p.width + x] = value;
            }
        }
    }
}

/// 3 × 3 binomial smoothing, edges repeated.
fn smooth3(p: &Plane) -> Plane {
    let (w, h) = (p.width, p.height);
    let mut tmp = vec![0.0f32; w * h];
    for y in 0..h {
        let row = &p.data[y * w..(y + 1) * w];
        for x in 0..w {
            let (l, r) = (row[x.saturating_sub(1)], row[(x + 1).min(w - 1)]);
            tmp[y * w + x] = 0.25 * l + 0.5 * row[x] + 0.25 * r;
        }
    }
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        let (u, d) = (y.saturating_sub(1), (y + 1).min(h - 1));
        for x in 0..w {
            out[y * w + x] = 0.25 * tmp[u * w + x] + 0.5 * tmp[y * w + x] + 0.25 * tmp[d * w + x];
        }
    }
    Plane { width: w, height: h, data: out }
}
