//! `dso-detect eval --objects LIST`: does a detector box the main object of real raw frames, at the right size and
//! with the right class, without drawing boxes over half the frame? (issue 14: "the default detector boxes that
//! object").
//!
//! The dev set's patches are stretched live stacks; what the driver sees at the eyepiece are raw sub-frames. This
//! check runs each detector on real raw FITS whose main object is known, exactly as `dso-detect detect` does (decoding,
//! debayering, naming and plate solve included), and asks four questions of every frame:
//! - **boxed**: is there a box at the operating confidence whose centre lies inside the object's catalogue disc and
//!   whose long side is ×0.3–×3 of the object's *visible* extent (what a 10-s sub shows of a galaxy is its core)?
//!   A box the detector drew and one the catalogue evidence check added (`source: catalogue`) are told apart;
//! - **class**: is that box's class the catalogue's (galaxy / nebula / cluster), after naming and as the detector
//!   itself said it;
//! - **over half**: how many boxes cover more than half the frame when the object does not.
//!
//! `LIST` is a text file of `file<TAB>name<TAB>x,y<TAB>visible px<TAB>catalogue px` lines: the main object's name,
//! its centre in frame pixels, its visible diameter and its catalogue major axis in pixels (paths relative to the
//! list's folder; `#` starts a comment). `docs/real-fits-objects.tsv` says how its numbers were measured.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::bail;
use dso_models::registry;
use dso_models::sky::Catalog;

use super::detect::{analyse_file, NamingArgs};
use crate::pipeline::Outputs;
use crate::report::{JsonDetection, Selection};

/// One frame with a known main object.
#[derive(Debug, PartialEq)]
struct Known {
    path: PathBuf,
    /// The name as the list gives it (`M 94`).
    name: String,
    /// The catalogue's class: `galaxy`, `nebula` or `cluster`.
    class: &'static str,
    /// Centre, frame pixels.
    x: f64,
    y: f64,
    /// Visible diameter, pixels.
    visible: f64,
    /// Catalogue major axis, pixels.
    catalogue: f64,
}

fn read_list(list: &Path) -> anyhow::Result<Vec<Known>> {
    let mut out = Vec::new();
    for line in super::files::read_tab_list(list)? {
        let at = &line.at;
        let [name, centre, visible, catalogue] = &line.fields[..] else {
            bail!("{at}: expected 'file<TAB>name<TAB>x,y<TAB>visible px<TAB>catalogue px'");
        };
        let Some(object) = Catalog::openngc().lookup(name) else {
            bail!("{at}: '{name}' is not in the OpenNGC catalogue");
        };
        let Some(class) = object.class() else { bail!("{at}: '{name}' is not a galaxy, nebula or cluster") };
        let number = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
        let (Some(x), Some(y)) = centre.split_once(',').map_or((None, None), |(x, y)| (number(x), number(y))) else {
            bail!("{at}: the centre must be 'x,y' in pixels, not '{centre}'");
        };
        let (Some(visible), Some(catalogue)) = (number(visible).filter(|v| *v > 0.0), number(catalogue)) else {
            bail!("{at}: the visible and catalogue sizes must be pixels > 0");
        };
        out.push(Known { path: line.path, name: name.clone(), class, x, y, visible, catalogue });
    }
    Ok(out)
}

/// What one detector made of one frame.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    /// The most confident box on the object, if any.
    best: Option<JsonDetection>,
    /// Boxes over more than half the frame when the object is smaller than that.
    over_half: usize,
    /// The detector's boxes that are neither on the main object nor named after a catalogue object: false
    /// detections, or objects the catalogue does not hold.
    unnamed: usize,
}

/// Whether `d` boxes `k`: centre inside the catalogue disc (or the visible one when larger), long side ×0.3–×3 of
/// the visible extent.
fn boxes(d: &JsonDetection, k: &Known) -> bool {
    let (cx, cy) = (f64::from(d.x + d.width / 2.0), f64::from(d.y + d.height / 2.0));
    let radius = k.catalogue.max(k.visible) / 2.0;
    let long = f64::from(d.width.max(d.height));
    (cx - k.x).hypot(cy - k.y) <= radius && (0.3 * k.visible..=3.0 * k.visible).contains(&long)
}

fn outcome(detections: &[JsonDetection], k: &Known, width: usize, height: usize) -> Outcome {
    let frame = (width * height) as f64;
    let object_is_large = k.visible * k.visible > 0.5 * frame;
    let over_half = if object_is_large {
        0
    } else {
        detections.iter().filter(|d| f64::from(d.width * d.height) > 0.5 * frame).count()
    };
    let best = detections.iter().filter(|d| boxes(d, k)).max_by(|a, b| a.confidence.total_cmp(&b.confidence)).cloned();
    let unnamed = detections.iter().filter(|d| d.source == "detector" && d.identity.is_none() && !boxes(d, k)).count();
    Outcome { best, over_half, unnamed }
}

/// Totals of one detector over the list.
#[derive(Debug, Default)]
struct Totals {
    frames: usize,
    by_detector: usize,
    in_results: usize,
    class_named: usize,
    class_own: usize,
    over_half_frames: usize,
    unnamed: usize,
    failed: usize,
}

/// Runs the check for one detector: the Markdown table rows (one per frame) and the totals line.
fn check(frames: &[Known], detector: &str, confidence: f32, naming: &NamingArgs) -> anyhow::Result<(String, Totals)> {
    let mut d = registry::create(detector).map_err(|e| anyhow::anyhow!("{e}"))?;
    let selection = Selection { confidence, ..Selection::default() };
    let mut rows = String::new();
    let mut t = Totals::default();
    for k in frames {
        let file = k.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let an = match analyse_file(&k.path, d.as_mut(), selection, Outputs::default(), naming) {
            Ok(an) => an,
            Err(e) => {
                eprintln!("{}: error: {e}", k.path.display());
                t.failed += 1;
                let _ = writeln!(rows, "| {detector} | {file} | {} | error: {e} | | | |", k.name);
                continue;
            }
        };
        t.frames += 1;
        let o = outcome(&an.report.detections, k, an.report.frame.width, an.report.frame.height);
        t.over_half_frames += usize::from(o.over_half > 0);
        t.unnamed += o.unnamed;
        let (boxed, class) = match &o.best {
            None => ("no".to_owned(), "–".to_owned()),
            Some(b) => {
                let by_detector = b.source == "detector";
                t.by_detector += usize::from(by_detector);
                t.in_results += 1;
                let own = if by_detector { b.detector_label.as_deref().unwrap_or(&b.label) } else { "–" };
                t.class_named += usize::from(b.label == k.class);
                t.class_own += usize::from(own == k.class);
                let how = if by_detector { "detector" } else { "catalogue evidence" };
                let size = b.width.max(b.height);
                let boxed =
                    format!("yes, {how}: {:.2}, {size:.0} px (×{:.1})", b.confidence, f64::from(size) / k.visible);
                (boxed, format!("{} (own: {own})", b.label))
            }
        };
        let _ = writeln!(
            rows,
            "| {detector} | {file} | {} {} ({:.0} px) | {boxed} | {class} | {} | {} |",
            k.name, k.class, k.visible, o.over_half, o.unnamed
        );
    }
    Ok((rows, t))
}

const HEADER: &str =
    "| detector | frame | main object (visible) | boxed? (confidence, long side, ×visible) | class after naming \
                      (detector's own) | boxes > ½ frame | other unnamed boxes |\n|---|---|---|---|---|---|---|\n";

fn totals_line(detector: &str, t: &Totals) -> String {
    let n = t.frames;
    format!(
        "| {detector} | {}/{n} | {}/{n} | {}/{n} | {}/{n} | {}/{n} | {} |",
        t.by_detector,
        t.in_results,
        t.class_named,
        t.class_own,
        n - t.over_half_frames,
        t.unnamed,
    )
}

const TOTALS_HEADER: &str = "| detector | boxed by the detector | boxed in the results | right class after naming | \
                             detector's own class right | no box > ½ frame | other unnamed boxes |\n|---|---|---|---|---|---|---|\n";

/// `dso-detect eval --objects LIST --detector D`: prints the table for one detector; false when a frame failed.
pub(super) fn run(list: &Path, detector: &str, confidence: f32, naming: &NamingArgs) -> anyhow::Result<bool> {
    let frames = read_list(list)?;
    let (rows, t) = check(&frames, detector, confidence, naming)?;
    println!("{HEADER}{rows}\n{TOTALS_HEADER}{}", totals_line(detector, &t));
    Ok(t.failed == 0)
}

/// The Markdown section of the evaluation report: every available detector over the list.
pub(super) fn section(list: &Path, confidence: f32, naming: &NamingArgs) -> anyhow::Result<(String, bool)> {
    let frames = read_list(list)?;
    let mut all_rows = String::new();
    let mut totals = String::new();
    let mut ok = true;
    for d in registry::detectors().into_iter().filter(|d| d.available.is_ok()) {
        let (rows, t) = check(&frames, &d.name, confidence, naming)?;
        ok &= t.failed == 0;
        all_rows.push_str(&rows);
        let _ = writeln!(totals, "{}", totals_line(&d.name, &t));
    }
    let mut md = String::new();
    let _ = writeln!(md, "\n## Main objects on real raw frames\n");
    let _ = writeln!(
        md,
        "{} real raw sub-frames (Seestar S50, ASI1600, a CCD, a DSS plate) from `../shared/data/real-fits`, each with \
         a known main object (`{}`: centre, visible diameter and catalogue size, measured as that file says), run as \
         `dso-detect detect` runs them: the driver's decoding and debayering, naming with the frame's WCS or a plate \
         solve. *Boxed*: a box at confidence ≥ {confidence:.2} with its centre inside the catalogue disc and its long \
         side ×0.3–×3 of the visible extent, drawn by the detector or added by the catalogue evidence check \
         (`source: catalogue`, docs/IDENTIFY.md). *Class*: the box's class against the catalogue type; after naming \
         it is the catalogue's, so the detector's own class is given beside it. *> ½ frame*: boxes covering more than \
         half the frame (none of these objects is that large). *Other unnamed boxes*: the detector's boxes that are \
         neither on the main object nor named after any catalogue object — false detections, mostly (M 13's frame \
         cannot be placed, so its boxes off the cluster count here too).\n",
        frames.len(),
        list.display(),
    );
    md.push_str(TOTALS_HEADER);
    md.push_str(&totals);
    let _ = writeln!(md, "\nPer frame:\n");
    md.push_str(HEADER);
    md.push_str(&all_rows);
    Ok((md, ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, y: f32, w: f32, h: f32, confidence: f32) -> JsonDetection {
        JsonDetection {
            x,
            y,
            width: w,
            height: h,
            label: "galaxy".into(),
            confidence,
            source: "detector",
            detector_label: Some("cluster".into()),
            identity: None,
        }
    }

    fn m94() -> Known {
        Known {
            path: "a.fits".into(),
            name: "M 94".into(),
            class: "galaxy",
            x: 600.0,
            y: 950.0,
            visible: 72.0,
            catalogue: 194.0,
        }
    }

    #[test]
    fn a_box_counts_when_centred_on_the_object_and_sized_like_what_shows() {
        let k = m94();
        assert!(boxes(&det(560.0, 910.0, 80.0, 80.0, 0.9), &k));
        // centre outside the catalogue disc (97 px)
        assert!(!boxes(&det(660.0, 1010.0, 80.0, 80.0, 0.9), &k));
        // too small (< 0.3 × 72) and too large (> 3 × 72)
        assert!(!boxes(&det(595.0, 945.0, 10.0, 10.0, 0.9), &k));
        assert!(!boxes(&det(480.0, 830.0, 240.0, 240.0, 0.9), &k));
    }

    #[test]
    fn the_most_confident_box_on_the_object_wins_and_half_frame_boxes_are_counted() {
        let k = m94();
        let dets = [
            det(560.0, 910.0, 80.0, 80.0, 0.6),
            det(570.0, 920.0, 60.0, 60.0, 0.8),
            det(0.0, 0.0, 1000.0, 1500.0, 0.9),
        ];
        let o = outcome(&dets, &k, 1080, 1920);
        assert_eq!(o.best.unwrap().confidence, 0.8);
        assert_eq!(o.over_half, 1);
        // the half-frame box is off the object and unnamed; the two boxes on the object are not counted
        assert_eq!(o.unnamed, 1);
        let o = outcome(&dets[2..], &k, 1080, 1920);
        assert!(o.best.is_none());
    }

    #[test]
    fn lists_resolve_names_classes_and_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("objects.tsv");
        std::fs::write(&list, "# frames\na.fits\tM 94\t605,957\t72\t194\nb.fits\tM 13\t661,513\t224\t250\n").unwrap();
        let got = read_list(&list).unwrap();
        assert_eq!((got[0].name.as_str(), got[0].class, got[0].x, got[0].visible), ("M 94", "galaxy", 605.0, 72.0));
        assert_eq!(got[1].class, "cluster");
        assert_eq!(got[1].path, dir.path().join("b.fits"));
        std::fs::write(&list, "a.fits\tM 94\t605\t72\t194\n").unwrap();
        assert!(read_list(&list).unwrap_err().to_string().contains("x,y"));
        std::fs::write(&list, "a.fits\tM 94\t605,957\t0\t194\n").unwrap();
        assert!(read_list(&list).unwrap_err().to_string().contains("> 0"));
        std::fs::write(&list, "a.fits\tNo Such Thing\t1,1\t1\t1\n").unwrap();
        assert!(read_list(&list).unwrap_err().to_string().contains("not in the OpenNGC"));
    }
}
