//! Names in results: which field a frame shows (its own WCS, a still-valid plate solution, or a rough pointing),
//! the catalogue identities added to its report, and the observer's target.
//!
//! The driver and `dso-detect` both call [`name_report`] after detection; a plate solve, which takes seconds, is
//! never run here: the caller decides whether to run one ([`Placement::wants_solve`]), in the background in the
//! driver (`crate::solver`) and in line in the CLI, and then calls [`name_report`] again with the solution.

use std::time::Duration;

use dso_models::sky::solve::{self, Hints, SolverConfig};
use dso_models::sky::{self, Catalog, Field, Identified, Pointing, SolvedBy, TargetState, Wcs};
use dso_plugin_api::{Detection, Frame};

use crate::pipeline::PendingSolve;

/// Why a frame was not placed on the sky by a plate solve; the text is the "no names" reason the astronomer reads.
#[derive(Debug, thiserror::Error)]
pub enum SolveFailed {
    /// The solver did not solve it (not installed, timed out, no match).
    #[error(transparent)]
    Solve(#[from] solve::SolveError),
    /// It solved, but the solution's WCS cannot be used.
    #[error("the plate solution is not usable: {0}")]
    Wcs(#[from] sky::WcsError),
    /// It solved, but the solution has no WCS.
    #[error("the plate solution has no WCS")]
    NoWcs,
}
use crate::report::{Report, Selection, TargetReport};

/// What naming may use for one frame, besides the frame itself.
#[derive(Clone, Debug, Default)]
pub struct Naming {
    /// Name objects at all (`DSO_IDENTIFY.NAMES`, `--no-identify`).
    pub enabled: bool,
    /// A plate solve may be run when the frame has no usable WCS (`DSO_IDENTIFY.PLATE_SOLVE`).
    pub solve: bool,
    /// The observer's target (`DSO_TARGET.NAME`); empty: the frame's `OBJECT`.
    pub target: String,
    /// The mount's pointing and the optics' scale, as snooped (J2000).
    pub pointing: Option<Pointing>,
    /// The last plate solution of this camera, reused while the frame's size and pointing match it.
    pub solved: Option<Solved>,
    /// A blind solve (no pointing, no earlier solution to hint with) may be run. The driver pauses blind solves
    /// after one failed, so a camera without a mount does not keep a core busy with hopeless solves.
    pub blind: bool,
}

/// A plate solution and the pointing it was made at.
#[derive(Clone, Debug)]
pub struct Solved {
    /// The solved field.
    pub field: Field,
    /// The pointing (frame keywords or mount) when the frame was solved.
    pub pointing: Pointing,
}

/// How far the pointing may move before a solution is no longer reused: a twentieth of the field's radius (objects
/// then move by less than 5 % of the frame), at least 10″ (a mount's reported position jitters).
fn reuse_tolerance(field: &Field) -> f64 {
    (field.radius() / 20.0).max(10.0 / 3600.0)
}

impl Naming {
    /// Naming turned off.
    pub fn off() -> Self {
        Self::default()
    }
}

/// Where a frame was placed, and whether a plate solve would do better.
#[derive(Clone, Debug, Default)]
pub struct Placement {
    /// The best field available now.
    pub field: Option<Field>,
    /// Why the frame's own WCS was not used, if it had one.
    pub note: Option<String>,
    /// The pointing to hint a solver with.
    pub hints: Option<Pointing>,
    /// True when only a rough pointing (or nothing) placed the frame and a solve is allowed.
    pub wants_solve: bool,
}

/// Places a frame on the sky from what it and the driver know, most trusted first: its WCS, a still-valid
/// solution, a rough pointing (the frame's keywords, else the snooped mount).
pub fn place(frame: &Frame, naming: &Naming) -> Placement {
    if !naming.enabled {
        return Placement::default();
    }
    let header = sky::frame_astrometry(frame);
    let pointing = match (header.pointing, naming.pointing) {
        (Some(mut p), snooped) => {
            p.scale = p.scale.or(snooped.and_then(|s| s.scale));
            Some(p)
        }
        (None, snooped) => snooped,
    };
    if let Some(field) = header.field {
        return Placement { field: Some(field), note: None, hints: pointing, wants_solve: false };
    }
    if let (Some(s), Some(p)) = (&naming.solved, &pointing) {
        let same_frame = s.field.width == frame.width && s.field.height == frame.height;
        if same_frame && p.separation(&s.pointing) <= reuse_tolerance(&s.field) {
            return Placement {
                field: Some(s.field.clone()),
                note: header.problem,
                hints: pointing,
                wants_solve: false,
            };
        }
    }
    let field = pointing.and_then(|p| Field::from_pointing(&p, frame.width, frame.height));
    // No pointing at all: the last solution of a frame this size is the best guess (a hinted solve takes a second
    // or two and fails fast if the camera moved; a blind one takes many).
    let hints = pointing.or_else(|| {
        let s = naming.solved.as_ref()?;
        (s.field.width == frame.width && s.field.height == frame.height).then_some(s.pointing)
    });
    let wants_solve = naming.solve && (hints.is_some() || naming.blind);
    Placement { field, note: header.problem, hints, wants_solve }
}

/// The target's name: the observer's, else the frame's `OBJECT` keyword (ignoring placeholders).
pub fn target_name(frame: &Frame, naming: &Naming) -> Option<String> {
    let chosen = naming.target.trim();
    if !chosen.is_empty() {
        return Some(chosen.to_owned());
    }
    let object = frame.header_value("OBJECT")?.trim();
    (!object.is_empty() && !matches!(object.to_ascii_lowercase().as_str(), "unknown" | "data" | "object"))
        .then(|| object.to_owned())
}

/// Names a report's detections (`detections` are those the report was made from, in order) in `field`, and
/// states the target. Returns what identification found, for callers that draw it.
pub fn name_report(
    report: &mut Report,
    frame: &Frame,
    detections: &[Detection],
    field: &Field,
    selection: Selection,
    target: Option<&str>,
) -> Identified {
    let catalog = Catalog::openngc();
    let id = sky::identify(frame, detections, field, catalog);
    report.add_names(&id, selection);
    report.target = target.map(|name| match catalog.lookup(name) {
        Some(o) => TargetReport { name: name.to_owned(), catalog_id: Some(o.catalog_id()), state: id.target_state(o) },
        None => TargetReport { name: name.to_owned(), catalog_id: None, state: TargetState::Unknown },
    });
    id
}

/// States the target when the frame could not be placed at all.
pub fn unplaced_target(report: &mut Report, target: Option<&str>) {
    report.target = target.map(|name| TargetReport {
        name: name.to_owned(),
        catalog_id: Catalog::openngc().lookup(name).map(|o| o.catalog_id()),
        state: TargetState::Unknown,
    });
}

/// Solver hints from a pointing: search within 3° of it (mounts before alignment), scale within ±20 %.
pub fn hints(pointing: Option<&Pointing>) -> Hints {
    let Some(p) = pointing else { return Hints::default() };
    Hints {
        ra_deg: Some(p.ra),
        dec_deg: Some(p.dec),
        radius_deg: Some(3.0),
        scale_low_arcsec: p.scale.map(|s| s * 0.8),
        scale_high_arcsec: p.scale.map(|s| s * 1.2),
    }
}

/// What a finished plate solve gives: the frame's report named in the solved field, and the solution.
#[derive(Debug)]
pub struct SolvedReport {
    /// The frame's report, named, marked as a names update.
    pub report: Report,
    /// The solution, for later frames.
    pub solved: Option<Solved>,
    /// How long the solve took.
    pub elapsed: Duration,
}

/// Plate-solves a pending frame (blocking: seconds) and names its report in the solved field.
pub fn solve_pending(pending: &PendingSolve, config: &SolverConfig) -> Result<SolvedReport, SolveFailed> {
    let (field, elapsed) = solve_field(&pending.frame, pending.hints.as_ref(), config)?;
    let mut report = pending.base.clone();
    name_report(&mut report, &pending.frame, &pending.detections, &field, pending.selection, pending.target.as_deref());
    report.update = Some("names");
    // Keyed by the pointing the frame had, else by the solution's own centre (a hint for the next frame).
    let pointing = pending.hints.unwrap_or_else(|| {
        let (ra, dec) = field.centre();
        Pointing { ra, dec, scale: Some(field.wcs.scale_arcsec()) }
    });
    let solved = Some(Solved { field, pointing });
    Ok(SolvedReport { report, solved, elapsed })
}

/// Plate-solves a frame (blocking: seconds) into a field, with the time it took.
pub fn solve_field(
    frame: &Frame,
    pointing: Option<&Pointing>,
    config: &SolverConfig,
) -> Result<(Field, Duration), SolveFailed> {
    let solution = solve::solve(frame, &hints(pointing), config)?;
    let wcs = Wcs::from_header(&solution.cards)?.ok_or(SolveFailed::NoWcs)?;
    let field = Field { wcs, solved_by: SolvedBy::AstrometryNet, width: frame.width, height: frame.height };
    Ok((field, solution.elapsed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dso_plugin_api::Encoding;

    fn frame(w: usize, h: usize) -> Frame {
        Frame::new(w, h, vec![vec![0.0; w * h]], Encoding::Linear).unwrap()
    }

    #[test]
    fn without_pointing_a_frame_is_solved_blind_only_when_allowed_and_else_hinted_by_the_last_solution() {
        let naming = Naming { enabled: true, solve: true, blind: false, ..Naming::off() };
        let p = place(&frame(200, 100), &naming);
        assert!(p.field.is_none() && p.hints.is_none() && !p.wants_solve, "no blind solve while paused");
        assert!(place(&frame(200, 100), &Naming { blind: true, ..naming.clone() }).wants_solve);
        let pointing = Pointing { ra: 10.0, dec: 20.0, scale: Some(2.0) };
        let field = Field::from_pointing(&pointing, 200, 100).unwrap();
        let with_solution = Naming { solved: Some(Solved { field, pointing }), ..naming };
        let p = place(&frame(200, 100), &with_solution);
        assert!(p.wants_solve && p.hints == Some(pointing), "hinted by the last solution: {p:?}");
        assert!(p.field.is_none(), "the last solution is not trusted without a pointing");
        let other_size = place(&frame(100, 100), &with_solution);
        assert!(!other_size.wants_solve && other_size.hints.is_none());
    }

    #[test]
    fn a_solution_is_reused_while_the_pointing_holds() {
        let pointing = Pointing { ra: 10.0, dec: 20.0, scale: Some(2.0) };
        let field = Field::from_pointing(&pointing, 200, 100).unwrap();
        let naming = Naming {
            enabled: true,
            solve: true,
            pointing: Some(pointing),
            solved: Some(Solved { field: Field { solved_by: SolvedBy::AstrometryNet, ..field }, pointing }),
            ..Naming::off()
        };
        let p = place(&frame(200, 100), &naming);
        assert_eq!(p.field.map(|f| f.solved_by), Some(SolvedBy::AstrometryNet));
        assert!(!p.wants_solve);
        let moved = Naming { pointing: Some(Pointing { ra: 10.5, ..pointing }), ..naming };
        let p = place(&frame(200, 100), &moved);
        assert_eq!(p.field.map(|f| f.solved_by), Some(SolvedBy::Pointing));
        assert!(p.wants_solve);
    }
}
