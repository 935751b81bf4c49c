//! Identification in the device: what the snooped mount and camera say about the pointing (`ACTIVE_TELESCOPE`'s
//! `EQUATORIAL_EOD_COORD` and `TELESCOPE_INFO`/`SCOPE_INFO`, the camera's `CCD_INFO` and `CCD_BINNING`), the
//! naming settings handed to each frame's job, the target (`DSO_TARGET`, `DSO_TARGET_STATE`) and the names that
//! arrive after a plate solve.

use std::time::{Duration, Instant, SystemTime};

use dso_models::sky::pointing::{jnow_to_j2000, pixel_scale};
use dso_models::sky::solve::SolverConfig;
use dso_models::sky::{Pointing, TargetState};

use crate::indi::{GetProperties, Message, OneText, PropertyState, SetVector, Values};
use crate::naming::Naming;
use crate::pipeline::Origin;
use crate::report::Report;
use crate::solver::{SolveJob, Solved};

use super::elements::{identify, solver, target, target_state};
use super::table::Prop;
use super::{Device, Level};

/// How long blind solves pause after one failed.
const BLIND_PAUSE: Duration = Duration::from_secs(120);
/// The camera properties that give the pixel size and binning.
pub(super) const CAMERA_PROPERTIES: &[&str] = &["CCD_INFO", "CCD_BINNING"];
/// The mount properties that give its pointing (JNow) and focal length (INDI 1.9: `TELESCOPE_INFO`; 2.x: `SCOPE_INFO`).
const TELESCOPE_PROPERTIES: &[&str] = &["EQUATORIAL_EOD_COORD", "TELESCOPE_INFO", "SCOPE_INFO"];

/// What the snooped devices said last.
#[derive(Clone, Debug, Default)]
pub(super) struct SnoopedSky {
    telescope: Option<String>,
    /// JNow RA (hours), Dec (degrees).
    coords: Option<(f64, f64)>,
    focal_mm: Option<f64>,
    pixel_um: Option<f64>,
    binning: Option<f64>,
}

impl SnoopedSky {
    /// The mount's pointing in J2000 with the optics' scale, when the mount reported coordinates.
    fn pointing(&self) -> Option<Pointing> {
        let (ra_h, dec) = self.coords?;
        let year = 1970.0 + SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs_f64() / 31_557_600.0;
        let (ra, dec) = jnow_to_j2000(ra_h * 15.0, dec, year);
        let scale = match (self.focal_mm, self.pixel_um) {
            (Some(f), Some(p)) if f > 0.0 && p > 0.0 => Some(pixel_scale(p * self.binning.unwrap_or(1.0), f)),
            _ => None,
        };
        Some(Pointing { ra, dec, scale })
    }
}

impl Device {
    /// Snoops the mount named in `ACTIVE_TELESCOPE` for its pointing and focal length.
    pub(super) fn snoop_telescope(&mut self) {
        let scope = self.active_telescope();
        if self.sky.telescope.as_deref() == Some(scope.as_str()) {
            return;
        }
        self.sky.coords = None;
        self.sky.focal_mm = None;
        self.sky.telescope = (!scope.is_empty()).then(|| scope.clone());
        if scope.is_empty() {
            return;
        }
        for name in TELESCOPE_PROPERTIES {
            self.outbox.push(Message::GetProperties(GetProperties {
                version: Some("1.7".into()),
                device: Some(scope.clone()),
                name: Some((*name).into()),
            }));
        }
    }

    /// Takes what the mount and camera report about pointing and optics; true when the message was one of those.
    pub(super) fn snooped_sky(&mut self, set: &SetVector) -> bool {
        let Values::Number(n) = &set.values else { return false };
        let get = |k: &str| n.iter().find(|e| e.name == k).map(|e| e.value).filter(|v| v.is_finite());
        let from_scope = self.sky.telescope.as_deref() == Some(set.device.as_str());
        let from_camera = self.snooped_ccd.as_deref() == Some(set.device.as_str());
        match set.name.as_str() {
            "EQUATORIAL_EOD_COORD" if from_scope => {
                if let (Some(ra), Some(dec)) = (get("RA"), get("DEC")) {
                    self.sky.coords = Some((ra, dec));
                }
            }
            "TELESCOPE_INFO" if from_scope => self.sky.focal_mm = get("TELESCOPE_FOCAL_LENGTH").or(self.sky.focal_mm),
            "SCOPE_INFO" if from_scope => self.sky.focal_mm = get("FOCAL_LENGTH").or(self.sky.focal_mm),
            "CCD_INFO" if from_camera => self.sky.pixel_um = get("CCD_PIXEL_SIZE_X").or(self.sky.pixel_um),
            "CCD_BINNING" if from_camera => self.sky.binning = get("HOR_BIN").or(self.sky.binning),
            _ => return false,
        }
        true
    }

    /// The naming settings for a frame from `origin` queued now. An uploaded image is not the snooped camera's:
    /// the camera's last plate solution does not apply to it.
    pub(super) fn naming(&self, origin: &Origin) -> Naming {
        let settings = dso_models::settings::get();
        Naming {
            enabled: settings.identify.enabled && self.is_on(identify::NAMES),
            solve: settings.solver.enabled && self.is_on(identify::PLATE_SOLVE),
            target: self.text(target::NAME).to_owned(),
            pointing: self.sky.pointing(),
            solved: self.last_solution.as_ref().filter(|_| *origin != Origin::Upload).cloned(),
            blind: self.blind_pause_until.is_none_or(|t| Instant::now() >= t),
        }
    }

    /// How the solver runs now.
    /// The program and index files come from the settings file (`[solver]`), never from INDI.
    pub(super) fn solver_config(&self) -> SolverConfig {
        let timeout = self.number(solver::TIMEOUT).clamp(5.0, 600.0);
        let s = &dso_models::settings::get().solver;
        SolverConfig {
            command: s.command.clone(),
            index_dir: s.index_dir.clone(),
            timeout: Duration::from_secs_f64(timeout),
            ..SolverConfig::default()
        }
    }

    pub(super) fn set_target(&mut self, t: &[OneText]) -> Result<(), String> {
        let name = t.iter().find(|e| e.name == target::NAME.name).map(|e| e.value.trim()).unwrap_or("");
        if name.chars().count() > 64 {
            return Err("a target name has at most 64 characters".into());
        }
        let known = name.is_empty() || dso_models::sky::Catalog::openngc().lookup(name).is_some();
        self.set_text(target::NAME, name);
        self.ok(Prop::Target, None);
        if !known {
            self.log(Level::Warning, &format!("target '{name}' is not in the OpenNGC catalogue: it cannot be found"));
        }
        self.announced_target = None;
        Ok(())
    }

    /// Publishes the target's state from a frame's report, with an `[INFO]` message when it changes.
    pub(super) fn publish_target(&mut self, report: &Report) {
        let Some(t) = &report.target else {
            self.set_text(target_state::STATE, "no target");
            self.set_text(target_state::DETAIL, "set Target, or take frames with an OBJECT keyword");
            self.publish_state(Prop::TargetState, PropertyState::Idle);
            return;
        };
        let state = t.state.describe();
        // "M 94 = NGC 4736" when the observer's name is not the catalogue id itself.
        let who = match &t.catalog_id {
            Some(id) if id != &t.name => format!("{} = {id}", t.name),
            _ => t.name.clone(),
        };
        let detail = match &report.field {
            Some(f) => format!("{who}; field by {}", f.solved_by.as_str()),
            None => format!("{who}; {}", report.field_note.as_deref().unwrap_or("no WCS or pointing")),
        };
        self.set_text(target_state::STATE, state);
        self.set_text(target_state::DETAIL, &detail);
        let light = match t.state {
            TargetState::Captured => PropertyState::Ok,
            TargetState::InField => PropertyState::Busy,
            TargetState::NotInField => PropertyState::Alert,
            TargetState::Unknown => PropertyState::Idle,
        };
        self.publish_state(Prop::TargetState, light);
        let line = format!("{}: {state}", t.name);
        if self.announced_target.as_deref() != Some(line.as_str()) {
            self.log(Level::Info, &format!("target {line}"));
            self.announced_target = Some(line);
        }
    }

    /// Queues a frame for a plate solve (its detections are published already).
    pub(super) fn queue_solve(&mut self, source: String, pending: Box<crate::pipeline::PendingSolve>) {
        let config = self.solver_config();
        self.solves.push(SolveJob { source, pending, config });
    }

    /// Publishes the names a plate solve found for a frame whose detections were already published.
    pub fn solved(&mut self, solved: Solved) {
        if !self.is_connected() {
            return;
        }
        match solved.result {
            Ok(named) => {
                self.blind_pause_until = None;
                if let Some(s) = named.solved {
                    self.last_solution = Some(s);
                }
                let report = named.report;
                self.log(
                    Level::Debug,
                    &format!("{}: plate solved in {:.1} s", solved.source, named.elapsed.as_secs_f64()),
                );
                self.set_counts(&report);
                self.publish(Prop::Stats, None);
                self.publish_target(&report);
                self.publish_results(&report);
            }
            Err(why) if solved.blind => {
                self.blind_pause_until = Some(Instant::now() + BLIND_PAUSE);
                let pause = BLIND_PAUSE.as_secs() / 60;
                self.log(
                    Level::Warning,
                    &format!(
                        "{}: no names: {why}; no pointing is known (set ACTIVE_TELESCOPE or add RA/DEC and FOCALLEN \
                         to the frames), so blind solves pause for {pause} min",
                        solved.source
                    ),
                );
            }
            Err(why) => self.log(Level::Warning, &format!("{}: no names: {why}", solved.source)),
        }
    }
}
