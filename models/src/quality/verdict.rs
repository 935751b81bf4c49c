//! The verdict: good, marginal or reject, with the reasons, judged against the session's own best frames.
//!
//! Absolute numbers mean little across rigs (a star count of 300 is a clear sky for one camera and thin clouds for
//! another), so a [`Session`] remembers every frame's measures and compares each new frame with the best of the
//! night so far: the star count and star flux against their 80th percentile (transparency), the FWHM and the
//! elongation against their 20th percentile (focus, seeing, tracking), the sky level against the median of the last
//! five frames, in units of the frame's noise (clouds lit by a town, dawn, the Moon). Percentiles rather than the
//! single best frame keep one odd frame from setting the bar. Thresholds are [`Thresholds`], read from the
//! `[triage]` section of `dso-detector.conf`.
//!
//! Stars fade for more reasons than clouds: a defocused or trailed star has a lower peak and drops below the
//! detection threshold. So when focus or tracking explains the frame, "clouds" is only said if the sky also
//! brightened.

use std::collections::VecDeque;
use std::fmt;

use super::Measures;

/// How usable a frame is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Stack it.
    Good,
    /// Usable, but worse than the session's best; look at it.
    Marginal,
    /// Leave it out.
    Reject,
}

impl Level {
    /// `good`, `marginal`, `reject`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Good => "good",
            Level::Marginal => "marginal",
            Level::Reject => "reject",
        }
    }

    /// The level named by [`Level::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Level::Good, Level::Marginal, Level::Reject].into_iter().find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The adjustable limits (`[triage]` in `dso-detector.conf`); percentages are changes against the session's best.
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// `clouds_marginal`: stars (count or flux) down by this many percent.
    pub clouds_marginal: f32,
    /// `clouds_reject`.
    pub clouds_reject: f32,
    /// `focus_marginal`: FWHM up by this many percent.
    pub focus_marginal: f32,
    /// `focus_reject`.
    pub focus_reject: f32,
    /// `tracking_marginal`: median elongation this much above the session's.
    pub tracking_marginal: f32,
    /// `tracking_reject`.
    pub tracking_reject: f32,
    /// `elongation_max`: rejected whatever the session does (a whole night of trailed stars is still trailed).
    pub elongation_max: f32,
    /// `sky_marginal`: sky background up by this many noise sigmas against the last frames.
    pub sky_marginal: f32,
    /// `saturation_marginal`: percent of saturated pixels.
    pub saturation_marginal: f32,
    /// `trail`: the level of a frame with a trail (`marginal` by default: sigma-clipped stacking removes most
    /// trails, but the user should know).
    pub trail: Level,
    /// `history`: frames remembered for the session's reference.
    pub history: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            clouds_marginal: 30.0,
            clouds_reject: 50.0,
            focus_marginal: 25.0,
            focus_reject: 50.0,
            tracking_marginal: 0.12,
            tracking_reject: 0.25,
            elongation_max: 1.6,
            sky_marginal: 5.0,
            saturation_marginal: 1.0,
            trail: Level::Marginal,
            history: 500,
        }
    }
}

/// One reason for a verdict below good.
#[derive(Clone, Debug, PartialEq)]
pub struct Reason {
    /// `clouds`, `sky`, `focus`, `tracking`, `trail`, `saturation`, `no stars`.
    pub kind: &'static str,
    /// How bad.
    pub level: Level,
    /// `clouds: background +2.1σ, stars −63 %`.
    pub text: String,
}

/// Changes against the session's reference (`None`: nothing to compare with yet).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// Sky level minus the recent frames', in noise sigmas.
    pub background_sigma: Option<f32>,
    /// Star count against the best, percent (negative: fewer).
    pub stars_pct: Option<f32>,
    /// Star flux against the best, percent.
    pub flux_pct: Option<f32>,
    /// FWHM against the best, percent.
    pub fwhm_pct: Option<f32>,
    /// Elongation minus the best.
    pub elongation: Option<f32>,
}

/// A frame's verdict.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// The worst of the reasons' levels; good without reasons.
    pub level: Level,
    /// Why, worst first.
    pub reasons: Vec<Reason>,
    /// The numbers behind them.
    pub changes: Changes,
}

impl Verdict {
    /// The reasons in one line, `;`-separated (empty when good).
    pub fn reasons_text(&self) -> String {
        self.reasons.iter().map(|r| r.text.as_str()).collect::<Vec<_>>().join("; ")
    }

    /// `good`, or `reject: clouds: background +2.1σ, stars −63 %`.
    pub fn summary(&self) -> String {
        if self.reasons.is_empty() {
            self.level.to_string()
        } else {
            format!("{}: {}", self.level, self.reasons_text())
        }
    }

    /// Whether a reason of this kind is among the reasons.
    pub fn has(&self, kind: &str) -> bool {
        self.reasons.iter().any(|r| r.kind == kind)
    }
}

/// What is remembered of a frame.
#[derive(Clone, Copy, Debug)]
struct Entry {
    background: f32,
    stars: f32,
    flux: f32,
    fwhm: Option<f32>,
    elongation: Option<f32>,
}

/// The night so far: the measures of the frames seen, for the reference the next frame is judged against.
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// The limits in force.
    pub thresholds: Thresholds,
    history: VecDeque<Entry>,
}

/// Signed percent change, with the typographic minus.
fn pct(v: f32) -> String {
    if v < 0.0 {
        format!("\u{2212}{:.0} %", -v)
    } else {
        format!("+{v:.0} %")
    }
}

fn signed(v: f32, digits: usize) -> String {
    if v < 0.0 {
        format!("\u{2212}{:.*}", digits, -v)
    } else {
        format!("+{v:.digits$}")
    }
}

fn percentile(mut v: Vec<f32>, q: f32) -> Option<f32> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    let k = ((v.len() - 1) as f32 * q).round() as usize;
    Some(*v.select_nth_unstable_by(k, f32::total_cmp).1)
}

impl Session {
    /// A session with these thresholds and no frames yet.
    pub fn new(thresholds: Thresholds) -> Self {
        Self { thresholds, history: VecDeque::new() }
    }

    /// Frames remembered.
    pub fn len(&self) -> usize {
        self.history.len()
    }

    /// Whether no frame was judged yet.
    pub fn is_empty(&self) -> bool {
        self.history.is_empty()
    }

    /// Forgets the frames seen (a new target, a new night).
    pub fn clear(&mut self) {
        self.history.clear();
    }

    /// Judges a frame against the frames before it, then remembers it.
    pub fn judge(&mut self, m: &Measures) -> Verdict {
        let verdict = self.compare(m);
        if self.history.len() >= self.thresholds.history.max(1) {
            self.history.pop_front();
        }
        self.history.push_back(Entry {
            background: m.background,
            stars: m.stars as f32,
            flux: m.star_flux,
            fwhm: m.fwhm,
            elongation: m.elongation,
        });
        verdict
    }

    /// The verdict for `m` against the frames seen, without remembering it.
    pub fn compare(&self, m: &Measures) -> Verdict {
        let t = &self.thresholds;
        let h = &self.history;
        let best_stars = percentile(h.iter().map(|e| e.stars).collect(), 0.8);
        let best_flux = percentile(h.iter().map(|e| e.flux).collect(), 0.8);
        let best_fwhm = percentile(h.iter().filter_map(|e| e.fwhm).collect(), 0.2);
        let best_elong = percentile(h.iter().filter_map(|e| e.elongation).collect(), 0.2);
        let recent_bg = percentile(h.iter().rev().take(5).map(|e| e.background).collect(), 0.5);
        let change = |now: f32, best: Option<f32>| best.filter(|b| *b > 0.0).map(|b| 100.0 * (now - b) / b);
        let changes = Changes {
            background_sigma: recent_bg.filter(|_| m.noise > 0.0).map(|b| (m.background - b) / m.noise),
            stars_pct: change(m.stars as f32, best_stars),
            flux_pct: change(m.star_flux, best_flux),
            fwhm_pct: m.fwhm.and_then(|f| change(f, best_fwhm)),
            elongation: m.elongation.zip(best_elong).map(|(e, b)| e - b),
        };
        let mut reasons = Vec::new();
        let level = |v: f32, marginal: f32, reject: f32| {
            if v >= reject {
                Some(Level::Reject)
            } else if v >= marginal {
                Some(Level::Marginal)
            } else {
                None
            }
        };
        if let Some(l) = changes.fwhm_pct.and_then(|p| level(p, t.focus_marginal, t.focus_reject)) {
            let p = changes.fwhm_pct.unwrap_or(0.0);
            reasons.push(Reason { kind: "focus", level: l, text: format!("focus drifted: FWHM {}", pct(p)) });
        }
        let elong_abs = m.elongation.filter(|e| *e >= t.elongation_max).map(|_| Level::Reject);
        let elong_rel = changes.elongation.and_then(|d| level(d, t.tracking_marginal, t.tracking_reject));
        if let Some(l) = elong_abs.max(elong_rel) {
            let at = m.orientation.map(|a| format!(" at {a:.0}°")).unwrap_or_default();
            let e = m.elongation.unwrap_or(1.0);
            reasons.push(Reason { kind: "tracking", level: l, text: format!("tracking: elongation {e:.2}{at}") });
        }
        let bg = changes.background_sigma.unwrap_or(0.0);
        let stars_drop = -changes.stars_pct.unwrap_or(0.0);
        let flux_drop = -changes.flux_pct.unwrap_or(0.0);
        let explained = !reasons.is_empty();
        let drop = if explained { flux_drop.min(stars_drop) } else { stars_drop.max(flux_drop) };
        if m.stars == 0 && best_stars.is_some_and(|b| b >= 10.0) {
            let text = format!("no stars (background {}σ)", signed(bg, 1));
            reasons.push(Reason { kind: "no stars", level: Level::Reject, text });
        } else if let Some(l) = level(drop, t.clouds_marginal, t.clouds_reject).filter(|_| !explained || bg >= 2.0) {
            let stars = changes.stars_pct.map(pct).unwrap_or_default();
            let text = format!("clouds: background {}σ, stars {stars}", signed(bg, 1));
            reasons.push(Reason { kind: "clouds", level: l, text });
        } else if bg >= t.sky_marginal {
            let text = format!("bright sky: background {}σ", signed(bg, 1));
            reasons.push(Reason { kind: "sky", level: Level::Marginal, text });
        }
        if !m.trails.is_empty() && t.trail > Level::Good {
            let text = match m.trails.len() {
                1 => "trail in frame".to_owned(),
                n => format!("{n} trails in frame"),
            };
            reasons.push(Reason { kind: "trail", level: t.trail, text });
        }
        if 100.0 * m.saturation >= t.saturation_marginal {
            let text = format!("saturated: {:.1} % of pixels", 100.0 * m.saturation);
            reasons.push(Reason { kind: "saturation", level: Level::Marginal, text });
        }
        reasons.sort_by_key(|r| std::cmp::Reverse(r.level));
        let level = reasons.iter().map(|r| r.level).max().unwrap_or(Level::Good);
        Verdict { level, reasons, changes }
    }
}
