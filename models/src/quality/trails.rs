//! Satellite, aircraft and meteor trails: straight lines on the star-removed residual.
//!
//! 1. **Residual.** The working residual (sky removed, [`super::measures`]) minus its opening by a disk of radius 3
//!    (a white top-hat): what is narrower than 7 working pixels survives — trails and stars — while nebulae and the
//!    bodies of galaxies go. Stars brighter than [`MASK_SIGMA`] are then painted over with the residual's median, on
//!    a disk that grows with the logarithm of their peak so that bright stars' halos go too; fainter ones are left
//!    to vote as noise does (masking them also masked a faint trail's own noisy maxima, cutting it to pieces). A
//!    3 × 3 binomial smoothing matches a trail's width in the working image.
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

use crate::ops::{self, morph, Plane};

use super::measures::Work;
use super::stars::Star;

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

/// The Hough accumulator: angle rows, distance columns, distances from the image centre.
struct Hough {
    w: usize,
    h: usize,
    cos: Vec<f32>,
    sin: Vec<f32>,
    n_rho: usize,
    acc: Vec<i32>,
    /// Each cell's chord through the image (its length is what noise votes in proportion to).
    chord: std::sync::Arc<Vec<f32>>,
    /// Cells already examined.
    done: Vec<bool>,
}

impl Hough {
    fn new(w: usize, h: usize) -> Self {
        let n_theta = (180.0 / ANGLE_STEP) as usize;
        let (sin, cos): (Vec<f32>, Vec<f32>) =
            (0..n_theta).map(|k| (k as f32 * ANGLE_STEP).to_radians().sin_cos()).unzip();
        let n_rho = ((w as f32).hypot(h as f32) / RHO_STEP).ceil() as usize + 2;
        let cells = n_theta * n_rho;
        Self {
            w,
            h,
            cos,
            sin,
            n_rho,
            acc: vec![0; cells],
            chord: chords(w, h, n_theta, n_rho),
            done: vec![false; cells],
        }
    }

    fn rho_index(&self, rho: f32) -> usize {
        ((rho + self.n_rho as f32 * RHO_STEP / 2.0) / RHO_STEP) as usize
    }

    fn vote(&mut self, x: f32, y: f32, by: i32) {
        let (xc, yc) = (x - self.w as f32 / 2.0, y - self.h as f32 / 2.0);
        for k in 0..self.cos.len() {
            let rho = xc * self.cos[k] + yc * self.sin[k];
            let j = self.rho_index(rho).min(self.n_rho - 1);
            self.acc[k * self.n_rho + j] += by;
        }
    }

    /// The most significant pair of neighbouring distance cells: `(theta_deg, rho, z)`.
    fn best(&self, p_vote: f32) -> Option<(f32, f32, f32)> {
        let mut best: Option<(usize, f32)> = None;
        let scale = p_vote * 2.0 * RHO_STEP;
        for (i, pair) in self.acc.windows(2).enumerate() {
            let votes = (pair[0] + pair[1]) as f32;
            if votes < 8.0 || self.done[i] || (i + 1) % self.n_rho == 0 {
                continue;
            }
            let expected = scale * self.chord[i] + 1.0;
            let excess = votes - expected;
            // z = excess / √expected, compared without the root: z² · sign.
            let z2 = excess * excess.abs() / expected;
            if best.is_none_or(|b| z2 > b.1) {
                best = Some((i, z2));
            }
        }
        let (i, z2) = best?;
        let (k, j) = (i / self.n_rho, i % self.n_rho);
        let rho = (j as f32 + 1.0) * RHO_STEP - self.n_rho as f32 * RHO_STEP / 2.0;
        Some((k as f32 * ANGLE_STEP, rho, z2.signum() * z2.abs().sqrt()))
    }

    /// Marks the cells around a peak as examined.
    fn suppress(&mut self, theta: f32, rho: f32) {
        let n_theta = self.cos.len() as isize;
        let k0 = (theta / ANGLE_STEP).round() as isize;
        let j0 = self.rho_index(rho) as isize;
        for dk in -4..=4 {
            let k = (k0 + dk).rem_euclid(n_theta) as usize;
            // Past 180° the same line has the opposite distance.
            let j = if k0 + dk < 0 || k0 + dk >= n_theta { self.n_rho as isize - 1 - j0 } else { j0 };
            for dj in -3..=3 {
                if let Ok(j) = usize::try_from(j + dj) {
                    if j < self.n_rho {
                        self.done[k * self.n_rho + j] = true;
                    }
                }
            }
        }
    }
}

/// The chord of every accumulator cell, computed once per working-image size (a camera's frames all have one).
fn chords(w: usize, h: usize, n_theta: usize, n_rho: usize) -> std::sync::Arc<Vec<f32>> {
    type Cache = std::sync::Mutex<Option<((usize, usize), std::sync::Arc<Vec<f32>>)>>;
    static CACHE: Cache = std::sync::Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((size, chord)) = cache.as_ref() {
        if *size == (w, h) {
            return std::sync::Arc::clone(chord);
        }
    }
    let mut chord = vec![0.0f32; n_theta * n_rho];
    for k in 0..n_theta {
        for j in 0..n_rho - 1 {
            let rho = (j as f32 + 1.0) * RHO_STEP - n_rho as f32 * RHO_STEP / 2.0;
            chord[k * n_rho + j] = Line::new(w, h, k as f32 * ANGLE_STEP, rho).map_or(0.0, |l| l.t_max - l.t_min);
        }
    }
    let chord = std::sync::Arc::new(chord);
    *cache = Some(((w, h), std::sync::Arc::clone(&chord)));
    chord
}

/// A line across the working image: points `origin + t · dir`, `t` in `t_min..=t_max` inside the image.
#[derive(Clone, Copy, Debug)]
struct Line {
    ox: f32,
    oy: f32,
    dx: f32,
    dy: f32,
    t_min: f32,
    t_max: f32,
}

impl Line {
    /// The line at distance `rho` from the image centre along the normal at `theta_deg`; `None` when it misses
    /// the image.
    fn new(w: usize, h: usize, theta_deg: f32, rho: f32) -> Option<Self> {
        let (s, c) = theta_deg.to_radians().sin_cos();
        let (ox, oy) = (w as f32 / 2.0 + rho * c, h as f32 / 2.0 + rho * s);
        let (dx, dy) = (-s, c);
        let (mut t0, mut t1) = (f32::NEG_INFINITY, f32::INFINITY);
        for (o, d, hi) in [(ox, dx, w as f32 - 1.0), (oy, dy, h as f32 - 1.0)] {
            if d.abs() < 1e-6 {
                if o < 0.0 || o > hi {
                    return None;
                }
            } else {
                let (a, b) = ((0.0 - o) / d, (hi - o) / d);
                t0 = t0.max(a.min(b));
                t1 = t1.min(a.max(b));
            }
        }
        (t1 > t0).then_some(Self { ox, oy, dx, dy, t_min: t0, t_max: t1 })
    }

    fn at(&self, t: f32) -> (f32, f32) {
        (self.ox + t * self.dx, self.oy + t * self.dy)
    }

    /// Shifted by `d` along the normal.
    fn aside(&self, d: f32) -> Self {
        Self { ox: self.ox - d * self.dy, oy: self.oy + d * self.dx, ..*self }
    }

    /// The samples along the line at unit steps (nearest pixel), `t_min` first; outside the image is NaN.
    fn profile(&self, p: &Plane) -> Vec<f32> {
        let n = (self.t_max - self.t_min).max(0.0) as usize + 1;
        (0..n)
            .map(|i| {
                let (x, y) = self.at(self.t_min + i as f32);
                let (xi, yi) = (x.round(), y.round());
                if xi < 0.0 || yi < 0.0 || xi >= p.width as f32 || yi >= p.height as f32 {
                    f32::NAN
                } else {
                    p.at(xi as usize, yi as usize)
                }
            })
            .collect()
    }
}

/// The line through the peak cell that best follows the residual: ±0.5° by 0.1°, ±3 px by 0.5 px.
fn refine(img: &Prepared, theta: f32, rho: f32) -> Line {
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
struct Segment {
    line: Line,
    t0: f32,
    t1: f32,
    snr: f32,
}

impl Segment {
    fn length(&self) -> f32 {
        self.t1 - self.t0
    }

    /// Whether `(x, y)` lies within `d` of the segment.
    fn covers(&self, x: f32, y: f32, d: f32) -> bool {
        let (rx, ry) = (x - self.line.ox, y - self.line.oy);
        let t = rx * self.line.dx + ry * self.line.dy;
        let n = (-rx * self.line.dy + ry * self.line.dx).abs();
        n <= d && t >= self.t0 - d && t <= self.t1 + d
    }

    /// Distance of a point from the segment's infinite line, and its position along it.
    fn project(&self, (x, y): (f32, f32)) -> (f32, f32) {
        let (rx, ry) = (x - self.line.ox, y - self.line.oy);
        ((-rx * self.line.dy + ry * self.line.dx).abs(), rx * self.line.dx + ry * self.line.dy)
    }

    /// Whether another segment lies on this one's line (the same trail, or a piece of it, found again).
    fn same_line(&self, other: &Segment) -> bool {
        let cos = (self.line.dx * other.line.dx + self.line.dy * other.line.dy).abs();
        let (a, b) = (self.project(other.line.at(other.t0)), self.project(other.line.at(other.t1)));
        cos > 0.998 && a.0 <= 6.0 && b.0 <= 6.0
    }

    /// Extends this segment over another on the same line; the signal-to-noise ratios add in quadrature.
    fn merge(&mut self, other: &Segment) {
        let (a, b) = (self.project(other.line.at(other.t0)).1, self.project(other.line.at(other.t1)).1);
        self.t0 = self.t0.min(a.min(b));
        self.t1 = self.t1.max(a.max(b));
        self.snr = self.snr.hypot(other.snr);
    }
}

/// Running mean over [`WINDOW`] samples, ignoring NaN.
fn running_mean(v: &[f32]) -> Vec<f32> {
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
fn band(img: &Prepared, line: &Line, d: f32) -> Vec<f32> {
    band_on(&img.view, line, d)
}

/// [`band`] on any plane of the working image's size.
fn band_on(plane: &Plane, line: &Line, d: f32) -> Vec<f32> {
    let rows: Vec<Vec<f32>> = [-1.0, 0.0, 1.0].iter().map(|o| line.aside(d + o).profile(plane)).collect();
    (0..rows[0].len()).map(|i| (rows[0][i] + rows[1][i] + rows[2][i]) / 3.0).collect()
}

/// The strongest run of signal along `line`, gaps up to [`GAP`] bridged.
fn segment(img: &Prepared, line: &Line) -> Option<Segment> {
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

/// Diffraction spikes: a segment that runs through the centres of stars bright enough to show spikes (half of full
/// scale on the frame: [`SPIKE_STAR`]; within 2 working pixels and a tenth of the star's mask radius — a trail
/// passing near a star misses it by more, most of the time) and lies, for 60 % of its length or more, within the
/// reach of their spikes, taken as three mask radii and 6 pixels each way (spikes grow
/// with a star's brightness, as its mask does). Spikes of several stars on one line (they are all parallel) count
/// together. A short trail passing within a few pixels of a bright star is taken for a spike too: the price of
/// never reporting spikes (docs/TRIAGE.md).
fn is_spike(seg: &Segment, work: &Work, stars: &[Star], residual: &Plane) -> bool {
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
fn has_cross(residual: &Plane, s: &Star, (dx, dy): (f32, f32), rm: f32, reach: f32, sigma: f32) -> bool {
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
fn is_galaxy(residual: &Plane, seg: &Segment, work: &Work, stars: &[Star]) -> bool {
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
