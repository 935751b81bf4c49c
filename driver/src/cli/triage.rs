//! `dso-detect triage DIR`: a night's folder judged frame by frame, as the driver judges frames live — a CSV with
//! one line per frame (measures, verdict, reasons), a summary, a plot of the measures over the night, and the
//! rejected frames moved into a subfolder on request (a dry run unless `--yes`; nothing is ever deleted).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use dso_models::quality::{self, Level, Measures, Session, Verdict};
use dso_models::{decode, settings};

use super::detect::progress;
use super::files;

/// Arguments of `dso-detect triage`.
#[derive(Args, Debug)]
pub struct TriageArgs {
    /// Where the CSV goes (one line per frame).
    #[arg(long, default_value = "triage.csv")]
    csv: PathBuf,
    /// Where the plot of the measures over the night goes (PNG).
    #[arg(long, default_value = "triage.png")]
    plot: PathBuf,
    /// Move the rejected frames into a subfolder of their folder (a dry run that lists the moves unless `--yes`
    /// is given too; nothing is ever deleted or overwritten).
    #[arg(long)]
    move_rejected: bool,
    /// The subfolder for `--move-rejected`.
    #[arg(long, default_value = "rejected", value_name = "NAME")]
    rejected_dir: String,
    /// Really move the rejected frames (with `--move-rejected`).
    #[arg(long, requires = "move_rejected")]
    yes: bool,
    /// Image files or folders of images, judged in this order (folders sorted by name).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

/// One frame's outcome.
struct Row {
    path: PathBuf,
    measures: Measures,
    verdict: Verdict,
}

pub(super) fn run(a: &TriageArgs) -> anyhow::Result<bool> {
    let inputs = files::expand(&a.inputs);
    let local = settings::get();
    let params = quality::Params { trails: local.triage.trails, ..quality::Params::default() };
    let mut session = Session::new(local.triage.thresholds.clone());
    let bar = progress(inputs.len());
    let (mut rows, mut failed) = (Vec::new(), 0usize);
    for path in &inputs {
        bar.set_message(path.display().to_string());
        let measured = std::fs::read(path)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|bytes| {
                decode::decode(&bytes, &decode::format_from_path(path), &decode::Limits::default())
                    .map_err(|e| e.to_string())
            })
            .map(|frame| quality::measure(&frame, &params));
        match measured {
            Ok(measures) => {
                let verdict = session.judge(&measures);
                bar.suspend(|| println!("{}: {}", path.display(), verdict.summary()));
                rows.push(Row { path: path.clone(), measures, verdict });
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("{}: error: {e}", path.display()));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    std::fs::write(&a.csv, csv(&rows)).with_context(|| format!("cannot write {}", a.csv.display()))?;
    if !rows.is_empty() {
        plot(&rows).save(&a.plot).with_context(|| format!("cannot write {}", a.plot.display()))?;
    }
    print!("{}", summary(&rows));
    println!("CSV: {}, plot: {}", a.csv.display(), a.plot.display());
    if a.move_rejected {
        failed += move_rejected(&rows, &a.rejected_dir, a.yes);
    }
    if failed > 0 {
        eprintln!("{failed} of {} images failed", inputs.len());
    }
    Ok(failed == 0)
}

/// A CSV field, quoted when it needs to be (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn opt(v: Option<f32>, digits: usize) -> String {
    v.map(|v| format!("{v:.digits$}")).unwrap_or_default()
}

/// The CSV: a header, then one line per frame in the order judged.
fn csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "file,width,height,background_adu,noise_adu,stars,star_flux,fwhm_px,elongation,orientation_deg,\
         saturated_pct,trails,verdict,reasons,trail_ends\n",
    );
    for r in rows {
        let m = &r.measures;
        let _ = writeln!(
            out,
            "{},{},{},{:.1},{:.2},{},{:.1},{},{},{},{:.3},{},{},{},{}",
            field(&r.path.display().to_string()),
            m.width,
            m.height,
            m.background,
            m.noise,
            m.stars,
            m.star_flux,
            opt(m.fwhm, 2),
            opt(m.elongation, 3),
            opt(m.orientation, 0),
            100.0 * m.saturation,
            m.trails.len(),
            r.verdict.level,
            field(&r.verdict.reasons_text()),
            trail_ends(&m.trails)
        );
    }
    out
}

/// `x0 y0 x1 y1 confidence` per trail (full-frame pixels), `;`-separated.
fn trail_ends(trails: &[quality::Trail]) -> String {
    let ends: Vec<String> =
        trails.iter().map(|t| format!("{:.0} {:.0} {:.0} {:.0} {:.2}", t.x0, t.y0, t.x1, t.y1, t.confidence)).collect();
    ends.join(";")
}

/// Counts by verdict and by reason, and the night's range of each measure.
fn summary(rows: &[Row]) -> String {
    let mut out = String::new();
    let n = rows.len().max(1);
    let count = |l: Level| rows.iter().filter(|r| r.verdict.level == l).count();
    let _ = writeln!(
        out,
        "{} frames: {} good, {} marginal, {} rejected",
        rows.len(),
        count(Level::Good),
        count(Level::Marginal),
        count(Level::Reject)
    );
    let mut kinds: Vec<&str> = rows.iter().flat_map(|r| r.verdict.reasons.iter().map(|x| x.kind)).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for k in kinds {
        let c = rows.iter().filter(|r| r.verdict.has(k)).count();
        let _ = writeln!(out, "  {k}: {c} frames ({:.0} %)", 100.0 * c as f32 / n as f32);
    }
    let range = |name: &str, v: Vec<f32>, digits: usize| {
        let mut v: Vec<f32> = v.into_iter().filter(|x| x.is_finite()).collect();
        v.sort_by(f32::total_cmp);
        if let (Some(lo), Some(hi)) = (v.first(), v.last()) {
            format!("{name} {lo:.digits$}–{hi:.digits$} (median {:.digits$})", v[v.len() / 2])
        } else {
            format!("{name} –")
        }
    };
    let _ = writeln!(
        out,
        "{}; {}; {}; {}",
        range("background", rows.iter().map(|r| r.measures.background).collect(), 0),
        range("stars", rows.iter().map(|r| r.measures.stars as f32).collect(), 0),
        range("FWHM", rows.iter().filter_map(|r| r.measures.fwhm).collect(), 2),
        range("elongation", rows.iter().filter_map(|r| r.measures.elongation).collect(), 2),
    );
    let trails: usize = rows.iter().map(|r| r.measures.trails.len()).sum();
    let with: usize = rows.iter().filter(|r| !r.measures.trails.is_empty()).count();
    let _ = writeln!(out, "trails: {trails} in {with} frames");
    out
}

/// Moves each rejected frame into `sub` beside it (or says it would); returns how many moves failed. A file that
/// is already there is never overwritten.
fn move_rejected(rows: &[Row], sub: &str, really: bool) -> usize {
    let mut failed = 0;
    let rejected: Vec<&Row> = rows.iter().filter(|r| r.verdict.level == Level::Reject).collect();
    if !really {
        println!("dry run: {} rejected frames would move into '{sub}/' (add --yes to move them)", rejected.len());
    }
    for r in rejected {
        let Some((dir, name)) = r.path.parent().zip(r.path.file_name()) else { continue };
        let target_dir = dir.join(sub);
        let target = target_dir.join(name);
        if !really {
            println!("  {} -> {}", r.path.display(), target.display());
            continue;
        }
        let moved = std::fs::create_dir_all(&target_dir)
            .map_err(|e| e.to_string())
            .and_then(|_| if target.exists() { Err("already exists".to_owned()) } else { Ok(()) })
            .and_then(|_| std::fs::rename(&r.path, &target).map_err(|e| e.to_string()));
        match moved {
            Ok(()) => println!("moved {} -> {}", r.path.display(), target.display()),
            Err(e) => {
                failed += 1;
                eprintln!("{}: not moved to {}: {e}", r.path.display(), target.display());
            }
        }
    }
    failed
}

/// The measures over the night: background, stars, FWHM and elongation in four panels against the frame number,
/// each frame's point coloured by its verdict (green good, yellow marginal, red reject).
fn plot(rows: &[Row]) -> image::RgbImage {
    use image::{Rgb, RgbImage};
    use imageproc::drawing::{draw_filled_circle_mut, draw_line_segment_mut};
    const W: u32 = 1200;
    const PANEL: u32 = 200;
    const LEFT: f32 = 70.0;
    let series: [(&str, Vec<Option<f32>>); 4] = [
        ("background (ADU)", rows.iter().map(|r| Some(r.measures.background)).collect()),
        ("stars", rows.iter().map(|r| Some(r.measures.stars as f32)).collect()),
        ("FWHM (px)", rows.iter().map(|r| r.measures.fwhm).collect()),
        ("elongation", rows.iter().map(|r| r.measures.elongation).collect()),
    ];
    let mut img = RgbImage::from_pixel(W, PANEL * series.len() as u32, Rgb([24, 24, 28]));
    let n = rows.len().max(2) - 1;
    let x_of = |i: usize| LEFT + (W as f32 - LEFT - 20.0) * i as f32 / n as f32;
    let grey = Rgb([90, 90, 100]);
    for (p, (name, values)) in series.iter().enumerate() {
        let top = (p as u32 * PANEL) as f32;
        let (y0, y1) = (top + 25.0, top + PANEL as f32 - 15.0);
        let finite: Vec<f32> = values.iter().flatten().copied().filter(|v| v.is_finite()).collect();
        let lo = finite.iter().copied().fold(f32::INFINITY, f32::min);
        let hi = finite.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let (lo, hi) = if lo.is_finite() && hi > lo { (lo, hi) } else { (lo.min(0.0), lo.max(0.0) + 1.0) };
        let y_of = |v: f32| y1 - (y1 - y0) * (v - lo) / (hi - lo);
        draw_line_segment_mut(&mut img, (LEFT, y1), (W as f32 - 20.0, y1), grey);
        draw_line_segment_mut(&mut img, (LEFT, y0), (LEFT, y1), grey);
        let white = Rgb([230, 230, 230]);
        dso_models::annotate::draw::draw_text(&mut img, 8, top as i64 + 6, name, 2, white);
        dso_models::annotate::draw::draw_text(&mut img, 4, y0 as i64, &format!("{hi:.1}"), 1, white);
        dso_models::annotate::draw::draw_text(&mut img, 4, y1 as i64 - 8, &format!("{lo:.1}"), 1, white);
        let mut last: Option<(f32, f32)> = None;
        for (i, (v, r)) in values.iter().zip(rows).enumerate() {
            let Some(v) = v.filter(|v| v.is_finite()) else {
                last = None;
                continue;
            };
            let pt = (x_of(i), y_of(v));
            if let Some(prev) = last {
                draw_line_segment_mut(&mut img, prev, pt, grey);
            }
            let colour = match r.verdict.level {
                Level::Good => Rgb([80, 200, 90]),
                Level::Marginal => Rgb([230, 200, 40]),
                Level::Reject => Rgb([230, 60, 50]),
            };
            draw_filled_circle_mut(&mut img, (pt.0 as i32, pt.1 as i32), 3, colour);
            last = Some(pt);
        }
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(field("plain"), "plain");
    }
}
