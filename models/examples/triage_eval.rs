//! The figures of `docs/TRIAGE.md` on generated frames: trail precision and recall on a realistic mix, and how
//! often clouds, defocus and bad tracking are caught, and good frames rejected, in simulated sessions.
//!
//! ```text
//! cargo run --release -p dso-models --example triage_eval [-- SESSIONS TRAIL_FRAMES]
//! ```
//!
//! `TRIAGE_EVAL_SEED=N` draws another set of trail frames (2026 by default, the set the trail detector was tuned
//! on; `docs/TRIAGE.md` reports 2027 and 2028 too).
//!
//! Trails: 1280×1024 frames, two thirds with one or two trails — faint (1–2 σ peak), medium (2–5 σ) or bright
//! (5–50 σ); short (15–35 % of the width) or crossing the frame; a third passing within 15 px of a bright star, anywhere along the trail —
//! among fields with diffraction spikes (half the frames) and edge-on galaxies (a third). A found trail matches a
//! true one when both its ends lie within 8 px of the true line and half its length overlaps it.
//!
//! Verdicts: sessions of 60 frames (the first 5 good, then 25 good and 10 each of clouds, defocus and tracking in
//! random order) judged in sequence by one [`Session`]. Good frames vary as a night does: transparency 0.9–1,
//! FWHM 2.4–2.9 px, up to 0.8 px of drift, dithers. Bad ones: transparency 0.15–0.6, FWHM × 1.5–2.5, stars smeared
//! over 1.5–4 FWHM.

use dso_models::naive::synth::{Galaxy, Rng};
use dso_models::quality::synth::{render, Conditions, Field, TrailSpec};
use dso_models::quality::{measure, Level, Params, Session, Trail};

const W: usize = 1280;
const H: usize = 1024;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sessions = args.first().copied().unwrap_or(5);
    let trail_frames = args.get(1).copied().unwrap_or(120);
    trails(trail_frames);
    verdicts(sessions);
}

fn uniform(rng: &mut Rng, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * rng.uniform()
}

/// A trail's ends: across the frame (edge to edge) or a short piece inside it, optionally through `via`.
fn trail_ends(rng: &mut Rng, long: bool, via: Option<(f32, f32)>) -> ((f32, f32), (f32, f32)) {
    let (cx, cy) = via.unwrap_or((uniform(rng, 200.0, W as f32 - 200.0), uniform(rng, 200.0, H as f32 - 200.0)));
    let angle = uniform(rng, 0.0, std::f32::consts::PI);
    let (s, c) = angle.sin_cos();
    let half = if long { 2000.0 } else { 0.5 * uniform(rng, 0.15, 0.35) * W as f32 };
    // The bright star within 15 px of the line, somewhere along the trail (not on it, not always in its middle).
    let (off, along) =
        if via.is_some() { (uniform(rng, -15.0, 15.0), uniform(rng, -0.8, 0.8) * half.min(600.0)) } else { (0.0, 0.0) };
    let (cx, cy) = (cx - off * s - along * c, cy + off * c - along * s);
    let clip = |t: f32| {
        let (x, y) = (cx + t * c, cy + t * s);
        (x.clamp(0.0, W as f32 - 1.0), y.clamp(0.0, H as f32 - 1.0))
    };
    // Clip the long ones to the frame along the line.
    let mut t0 = -half;
    let mut t1 = half;
    for (o, d, hi) in [(cx, c, W as f32 - 1.0), (cy, s, H as f32 - 1.0)] {
        if d.abs() > 1e-6 {
            let (a, b) = ((0.0 - o) / d, (hi - o) / d);
            t0 = t0.max(a.min(b));
            t1 = t1.min(a.max(b));
        }
    }
    (clip(t0), clip(t1))
}

fn matches(t: &Trail, truth: &TrailSpec) -> bool {
    let (ax, ay) = truth.a;
    let (dx, dy) = (truth.b.0 - ax, truth.b.1 - ay);
    let len = dx.hypot(dy).max(1e-6);
    let (ux, uy) = (dx / len, dy / len);
    let proj = |x: f32, y: f32| ((x - ax) * ux + (y - ay) * uy, (-(x - ax) * uy + (y - ay) * ux).abs());
    let (p0, d0) = proj(t.x0, t.y0);
    let (p1, d1) = proj(t.x1, t.y1);
    let overlap = (p0.max(p1).min(len) - p0.min(p1).max(0.0)).max(0.0);
    d0 <= 8.0 && d1 <= 8.0 && overlap >= 0.5 * t.length()
}

fn trails(frames: usize) {
    let seed: u64 = std::env::var("TRIAGE_EVAL_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(2026);
    let mut rng = Rng::new(seed);
    let (mut truths, mut found_true, mut found, mut correct) = (0usize, 0usize, 0usize, 0usize);
    let mut by_kind: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    let mut false_frames = 0;
    for i in 0..frames {
        let mut field = Field::new(W, H, 12.0, 500 + i as u64 + seed.wrapping_sub(2026).wrapping_mul(10_000));
        let bright: Vec<(f32, f32)> = (0..4)
            .map(|_| (uniform(&mut rng, 100.0, W as f32 - 100.0), uniform(&mut rng, 100.0, H as f32 - 100.0)))
            .collect();
        field = field.with_bright_stars(&bright, uniform(&mut rng, 1.0, 10.0));
        if i % 2 == 0 {
            field.spikes = Some(uniform(&mut rng, 0.0, 90.0));
        }
        if i % 3 == 0 {
            let (x, y) = (uniform(&mut rng, 200.0, W as f32 - 200.0), uniform(&mut rng, 200.0, H as f32 - 200.0));
            let g = Galaxy {
                x,
                y,
                peak: uniform(&mut rng, 0.005, 0.03),
                re: uniform(&mut rng, 20.0, 60.0),
                n: 1.0,
                q: uniform(&mut rng, 0.08, 0.15),
                angle: uniform(&mut rng, 0.0, std::f32::consts::PI),
            };
            field.galaxies.push(g);
        }
        let n_trails = match i % 3 {
            0 => 0,
            1 => 1,
            _ => 1 + usize::from(rng.uniform() < 0.3),
        };
        let mut specs = Vec::new();
        let mut kinds = Vec::new();
        for k in 0..n_trails {
            let (kind, peak) = match (i + k) % 3 {
                0 => ("faint 1–2σ", uniform(&mut rng, 1.0, 2.0)),
                1 => ("medium 2–5σ", uniform(&mut rng, 2.0, 5.0)),
                _ => ("bright 5–50σ", uniform(&mut rng, 5.0, 50.0)),
            };
            let long = rng.uniform() < 0.5;
            let via = (rng.uniform() < 0.33).then(|| bright[k % bright.len()]);
            let (a, b) = trail_ends(&mut rng, long, via);
            specs.push(TrailSpec { a, b, peak_sigma: peak });
            let shape = if long { "long" } else { "short" };
            let near = if via.is_some() { ", near a bright star" } else { "" };
            kinds.push([kind.to_owned(), format!("{shape}{near}")]);
        }
        let frame = render(
            &field,
            &Conditions::default(),
            &specs,
            900 + i as u64 + seed.wrapping_sub(2026).wrapping_mul(10_000),
        );
        if std::env::var("TRIAGE_EVAL_ONLY").is_ok_and(|v| v != i.to_string()) {
            continue;
        }
        if std::env::var("TRIAGE_EVAL_ONLY").is_ok() {
            eprintln!("bright stars {bright:?} spikes {:?} galaxies {:?}", field.spikes, field.galaxies);
        }
        let m = measure(&frame, &Params::default());
        truths += specs.len();
        for (spec, kind) in specs.iter().zip(&kinds) {
            let hit = m.trails.iter().any(|t| matches(t, spec));
            found_true += usize::from(hit);
            if !hit {
                eprintln!("frame {i}: missed {spec:?} ({kind:?}); found {:?}", m.trails);
            }
            for k in kind {
                let e = by_kind.entry(Box::leak(k.clone().into_boxed_str())).or_default();
                e.0 += 1;
                e.1 += usize::from(hit);
            }
        }
        found += m.trails.len();
        let ok = m.trails.iter().filter(|t| specs.iter().any(|s| matches(t, s))).count();
        correct += ok;
        if ok < m.trails.len() {
            false_frames += 1;
            eprintln!("frame {i}: false trail(s) {:?} (truth {:?})", m.trails, specs);
        }
    }
    println!("## Trails ({frames} frames of {W}×{H}, {truths} trails)\n");
    println!("| | count | found | recall |");
    println!("|---|---|---|---|");
    for (k, (n, hit)) in &by_kind {
        println!("| {k} | {n} | {hit} | {:.2} |", *hit as f32 / *n as f32);
    }
    println!("| **all** | {truths} | {found_true} | **{:.2}** |", found_true as f32 / truths.max(1) as f32);
    println!(
        "\nprecision **{:.2}** ({correct} of {found} reported trails are true; {false_frames} frames with a false one)\n",
        correct as f32 / found.max(1) as f32
    );
}

fn verdicts(sessions: usize) {
    let mut stats: std::collections::BTreeMap<&str, [usize; 4]> = Default::default(); // frames, flagged, rejected, right reason
    for s in 0..sessions {
        let mut rng = Rng::new(77 + s as u64);
        let field = Field::new(W, H, uniform(&mut rng, 8.0, 16.0), 40 + s as u64);
        let mut plan: Vec<&str> = vec!["good"; 25];
        plan.extend(["clouds"; 10]);
        plan.extend(["defocus"; 10]);
        plan.extend(["tracking"; 10]);
        for i in (1..plan.len()).rev() {
            let j = (rng.uniform() * (i + 1) as f32) as usize;
            plan.swap(i, j.min(i));
        }
        let mut order = vec!["good"; 5];
        order.extend(plan);
        let mut session = Session::default();
        for (i, kind) in order.iter().enumerate() {
            let mut c = Conditions {
                transparency: uniform(&mut rng, 0.9, 1.0),
                fwhm: uniform(&mut rng, 2.4, 2.9),
                trailing: uniform(&mut rng, 0.0, 0.8),
                trailing_angle: uniform(&mut rng, 0.0, 180.0),
                dither: (uniform(&mut rng, -20.0, 20.0), uniform(&mut rng, -20.0, 20.0)),
                ..Conditions::default()
            };
            match *kind {
                "clouds" => c.transparency = uniform(&mut rng, 0.15, 0.6),
                "defocus" => c.fwhm *= uniform(&mut rng, 1.5, 2.5),
                "tracking" => c.trailing = c.fwhm * uniform(&mut rng, 1.5, 4.0),
                _ => {}
            }
            let m = measure(&render(&field, &c, &[], 5000 + 100 * s as u64 + i as u64), &Params::default());
            let v = session.judge(&m);
            let reason = match *kind {
                "clouds" => v.has("clouds") || v.has("no stars"),
                "defocus" => v.has("focus"),
                "tracking" => v.has("tracking"),
                _ => v.level == Level::Good,
            };
            let e = stats.entry(kind).or_default();
            e[0] += 1;
            e[1] += usize::from(v.level != Level::Good);
            e[2] += usize::from(v.level == Level::Reject);
            e[3] += usize::from(reason && (v.level != Level::Good || *kind == "good"));
            if (*kind == "good" && v.level == Level::Reject) || (*kind != "good" && !reason) {
                eprintln!("session {s} frame {i} ({kind}): {} {m:?}", v.summary());
            }
        }
    }
    println!("## Verdicts ({sessions} sessions of 60 frames, {W}×{H})\n");
    println!("| frames | count | flagged (marginal or reject) | rejected | flagged for the right reason |");
    println!("|---|---|---|---|---|");
    for (k, [n, flagged, rejected, right]) in &stats {
        let pc = |v: &usize| format!("{v} ({:.0} %)", 100.0 * *v as f32 / *n as f32);
        let right = if *k == "good" { "—".to_owned() } else { pc(right) };
        println!("| {k} | {n} | {} | {} | {right} |", pc(flagged), pc(rejected));
    }
}
