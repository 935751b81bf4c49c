//! The "DSO Detector" INDI device: its properties and what it does when a client or the server talks to it.
//!
//! The methods follow libindi's driver hooks, in the same order, so INDI developers find their way: [`Device::new`]
//! (initProperties), [`Device::get_properties`] (ISGetProperties), [`Device::update_properties`]
//! (updateProperties: define when connected, delete otherwise), [`Device::new_vector`] (ISNewSwitch/Number/Text/
//! BLOB), [`Device::snooped`] (ISSnoopDevice) and [`Device::save_config`] (saveConfigItems).
//!
//! The device never blocks and never does I/O besides the configuration file: it pushes messages to send into
//! [`Device::outbox`] and frames to analyse into [`Device::jobs`], which the event loop in [`crate::run`] drains.
//! That keeps every handler testable without a server. Publishing results lives in `results.rs`, the
//! configuration hooks in `config_hooks.rs`.

mod arrival;
mod config_hooks;
mod identify;
mod quality;
mod results;

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use dso_models::{annotate, registry};

use crate::indi::format_timestamp;
use crate::indi::{
    BlobEnable, DefVector, DelProperty, DeviceMessage, EnableBlob, GetProperties, Message, NewVector, OneBlob,
    OneSwitch, Permission, PropertyState, SetVector, SwitchRule, Values,
};
use crate::naming::Solved;
use crate::pipeline::{Outputs, Source};
use crate::props::{self, num};
use crate::report::{self, Selection};
use crate::solver::SolveJob;
use crate::worker::{Job, Payload};

/// `DRIVER_INTERFACE` of an auxiliary driver: `AUX_INTERFACE = 1 << 15` in libindi's `basedevice.h`.
pub const AUX_INTERFACE: u32 = 1 << 15;
/// The default device name when `INDIDEV` is not set.
pub const DEFAULT_NAME: &str = "DSO Detector";
/// The camera snooped by default: the INDI CCD simulator.
pub const DEFAULT_CCD: &str = "CCD Simulator";
/// The camera's image property (libindi's primary CCD chip).
pub const CCD_BLOB: &str = "CCD1";
/// Where a camera in `UPLOAD_LOCAL` mode reports the file it saved instead of sending a BLOB (libindi's
/// `CCD_FILE_PATH.FILE_PATH`).
pub const CCD_FILE_PATH: &str = "CCD_FILE_PATH";
/// Where such a camera saves its files (libindi's `UPLOAD_SETTINGS.UPLOAD_DIR`): the only folder a
/// `CCD_FILE_PATH` is read from (see [`crate::local_file`]).
pub const UPLOAD_SETTINGS: &str = "UPLOAD_SETTINGS";
/// The camera's exposure (libindi's `CCD_EXPOSURE`): Busy while exposing, Ok when the exposure ended. Watched to tell
/// when the camera's frames never arrive (`arrival.rs`).
pub const CCD_EXPOSURE: &str = "CCD_EXPOSURE";
/// The longest device name `ACTIVE_CCD` and `ACTIVE_TELESCOPE` accept, in bytes. libindi keeps device names in
/// `char[MAXINDIDEVICE]` buffers of 64 bytes (`indiapi.h`: "implementations are only obliged to support these
/// lengths"), so no libindi camera or mount has a longer name; twice that leaves room for other implementations
/// while a 100 KB name (which would be echoed in every snoop request and message) is refused.
pub const MAX_DEVICE_NAME: usize = 128;

const MAIN: &str = "Main Control";
const OPTIONS: &str = "Options";
const GENERAL: &str = "General Info";
const DETECTION: &str = "Detection";
const RESULTS: &str = "Results";
const IDENTIFY: &str = "Identification";
const QUALITY: &str = "Quality";

/// Severity of a device message, with the prefix KStars needs to show it (INDI-NOTES: only `[INFO] `,
/// `[WARNING] ` and `[ERROR] ` reach the control panel; other text is treated as debug).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Shown in the control panel.
    Info,
    /// Shown in orange.
    Warning,
    /// Shown in red.
    Error,
    /// Sent only while `DEBUG` is enabled.
    Debug,
}

impl Level {
    fn prefix(self) -> &'static str {
        match self {
            Level::Info => "[INFO] ",
            Level::Warning => "[WARNING] ",
            Level::Error => "[ERROR] ",
            Level::Debug => "[DEBUG] ",
        }
    }
}

/// The device state: one field per property vector.
pub struct Device {
    name: String,
    config_path: PathBuf,
    connection: DefVector,
    driver_info: DefVector,
    debug: DefVector,
    config_process: DefVector,
    active_devices: DefVector,
    detector: DefVector,
    settings: DefVector,
    outputs: DefVector,
    results: DefVector,
    stats: DefVector,
    annotated: DefVector,
    heatmap: DefVector,
    upload: DefVector,
    identify: DefVector,
    solver: DefVector,
    target: DefVector,
    target_state: DefVector,
    quality: DefVector,
    verdict: DefVector,
    /// The night's frames so far, for the verdicts.
    session: dso_models::quality::Session,
    /// The last verdict's level and reason kinds, to warn when frames start failing rather than at every frame.
    last_verdict: Option<(dso_models::quality::Level, Vec<&'static str>)>,
    /// The factory values of the saved properties, for `CONFIG_DEFAULT`.
    defaults: Vec<NewVector>,
    /// True once the first `getProperties` arrived and the configuration's snoop target was applied.
    started: bool,
    /// The camera currently snooped.
    snooped_ccd: Option<String>,
    /// Whether its exposures end without its frames arriving (a chained server), to warn once.
    frame_watch: arrival::FrameWatch,
    /// Its upload directory, once it said (`UPLOAD_SETTINGS`).
    upload_dir: Option<PathBuf>,
    frames_processed: u64,
    frames_dropped: u64,
    /// What the snooped mount and camera say about the pointing and optics.
    sky: identify::SnoopedSky,
    /// The last plate solution of the snooped camera (reused while the pointing holds).
    last_solution: Option<Solved>,
    /// The target state last announced, to say only changes.
    announced_target: Option<String>,
    /// Blind plate solves wait until then after one failed.
    blind_pause_until: Option<Instant>,
    /// Messages to send, in order.
    pub outbox: Vec<Message>,
    /// Frames to hand to the worker.
    pub jobs: Vec<Job>,
    /// Frames to hand to the plate solver.
    pub solves: Vec<SolveJob>,
}

impl Device {
    /// Builds every property once (libindi's `initProperties`).
    pub fn new(name: &str, config_path: PathBuf) -> Self {
        use Permission::{ReadOnly, ReadWrite, WriteOnly};
        let n = name;
        let detectors = registry::detectors();
        let det_els: Vec<(String, String, bool)> =
            detectors.iter().map(|d| (d.element(), d.label.clone(), d.name == registry::default_name())).collect();
        let det_refs: Vec<(&str, &str, bool)> = det_els.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), *c)).collect();
        let mut dev = Self {
            name: name.to_owned(),
            config_path,
            connection: props::switch(
                n,
                "CONNECTION",
                "Connection",
                MAIN,
                SwitchRule::OneOfMany,
                &[("CONNECT", "Connect", false), ("DISCONNECT", "Disconnect", true)],
            ),
            driver_info: props::text(
                n,
                "DRIVER_INFO",
                "Driver Info",
                GENERAL,
                ReadOnly,
                &[
                    ("DRIVER_NAME", "Name", DEFAULT_NAME),
                    ("DRIVER_EXEC", "Exec", "indi_dso_detector"),
                    ("DRIVER_VERSION", "Version", env!("CARGO_PKG_VERSION")),
                    ("DRIVER_INTERFACE", "Interface", &AUX_INTERFACE.to_string()),
                ],
            ),
            debug: props::switch(
                n,
                "DEBUG",
                "Debug",
                OPTIONS,
                SwitchRule::OneOfMany,
                &[("ENABLE", "Enable", false), ("DISABLE", "Disable", true)],
            ),
            config_process: props::switch(
                n,
                "CONFIG_PROCESS",
                "Configuration",
                OPTIONS,
                SwitchRule::AtMostOne,
                &[
                    ("CONFIG_LOAD", "Load", false),
                    ("CONFIG_SAVE", "Save", false),
                    ("CONFIG_DEFAULT", "Default", false),
                    ("CONFIG_PURGE", "Purge", false),
                ],
            ),
            active_devices: props::text(
                n,
                "ACTIVE_DEVICES",
                "Snoop devices",
                OPTIONS,
                ReadWrite,
                &[("ACTIVE_CCD", "CCD", DEFAULT_CCD), ("ACTIVE_TELESCOPE", "Telescope", "Telescope Simulator")],
            ),
            detector: props::switch(n, "DSO_DETECTOR", "Detector", DETECTION, SwitchRule::OneOfMany, &det_refs),
            settings: props::number(
                n,
                "DSO_SETTINGS",
                "Settings",
                DETECTION,
                ReadWrite,
                vec![
                    num("CONFIDENCE", "Min confidence", "%.2f", 0.0, 1.0, 0.05, report::DEFAULT_CONFIDENCE as f64),
                    num(
                        "MAX_DETECTIONS",
                        "Max detections",
                        "%.0f",
                        1.0,
                        500.0,
                        1.0,
                        report::DEFAULT_MAX_DETECTIONS as f64,
                    ),
                    num(
                        "PICTURE_SIZE",
                        "Picture size (px, 0 = full)",
                        "%.0f",
                        0.0,
                        65535.0,
                        256.0,
                        annotate::DEFAULT_MAX_SIDE as f64,
                    ),
                ],
            ),
            outputs: props::switch(
                n,
                "DSO_OUTPUTS",
                "Outputs",
                DETECTION,
                SwitchRule::AnyOfMany,
                &[("ANNOTATED_IMAGE", "Annotated image", false), ("HEATMAP", "Heat map", false)],
            ),
            results: props::text(
                n,
                "DSO_RESULTS",
                "Results",
                RESULTS,
                ReadOnly,
                &[("JSON", "JSON", ""), ("SUMMARY", "Summary", "no frame yet")],
            ),
            stats: props::number(
                n,
                "DSO_STATS",
                "Statistics",
                RESULTS,
                ReadOnly,
                vec![
                    num("COUNT", "Objects", "%.0f", 0.0, 1e6, 1.0, 0.0),
                    num("MAX_CONFIDENCE", "Best confidence", "%.2f", 0.0, 1.0, 0.0, 0.0),
                    num("LATENCY_MS", "Latency (ms)", "%.0f", 0.0, 1e9, 0.0, 0.0),
                    num("FRAMES_PROCESSED", "Frames processed", "%.0f", 0.0, 1e12, 1.0, 0.0),
                    num("FRAMES_DROPPED", "Frames dropped", "%.0f", 0.0, 1e12, 1.0, 0.0),
                    num("WIDTH", "Width", "%.0f", 0.0, 1e6, 1.0, 0.0),
                    num("HEIGHT", "Height", "%.0f", 0.0, 1e6, 1.0, 0.0),
                ],
            ),
            annotated: props::blob(
                n,
                "DSO_ANNOTATED",
                "Annotated image",
                RESULTS,
                ReadOnly,
                &[("ANNOTATED_IMAGE", "Annotated image")],
            ),
            heatmap: props::blob(n, "DSO_HEATMAP", "Heat map", RESULTS, ReadOnly, &[("HEATMAP", "Heat map")]),
            upload: props::blob(n, "DSO_IMAGE_UPLOAD", "Analyse image", DETECTION, WriteOnly, &[("IMAGE", "Image")]),
            identify: props::switch(
                n,
                "DSO_IDENTIFY",
                "Identify",
                IDENTIFY,
                SwitchRule::AnyOfMany,
                &[("NAMES", "Name objects", true), ("PLATE_SOLVE", "Plate solve", true)],
            ),
            solver: props::number(
                n,
                "DSO_SOLVER",
                "Plate solver",
                IDENTIFY,
                ReadWrite,
                vec![num("TIMEOUT", "Time limit (s)", "%.0f", 5.0, 600.0, 5.0, 60.0)],
            ),
            target: props::text(n, "DSO_TARGET", "Target", IDENTIFY, ReadWrite, &[("NAME", "Target", "")]),
            target_state: props::text(
                n,
                "DSO_TARGET_STATE",
                "Target state",
                IDENTIFY,
                ReadOnly,
                &[("STATE", "State", "no frame yet"), ("DETAIL", "Detail", "")],
            ),
            quality: props::number(
                n,
                "DSO_QUALITY",
                "Frame quality",
                QUALITY,
                ReadOnly,
                vec![
                    num("BACKGROUND", "Sky background (ADU)", "%.1f", 0.0, 65535.0, 0.0, 0.0),
                    num("NOISE", "Noise (ADU)", "%.2f", 0.0, 65535.0, 0.0, 0.0),
                    num("STARS", "Stars", "%.0f", 0.0, 1e7, 1.0, 0.0),
                    num("FWHM", "FWHM (px)", "%.2f", 0.0, 1000.0, 0.0, 0.0),
                    num("ELONGATION", "Elongation", "%.2f", 0.0, 100.0, 0.0, 0.0),
                    num("TRAILS", "Trails", "%.0f", 0.0, 100.0, 1.0, 0.0),
                ],
            ),
            verdict: props::text(
                n,
                "DSO_VERDICT",
                "Verdict",
                QUALITY,
                ReadOnly,
                &[("VERDICT", "Verdict", "no frame yet"), ("REASONS", "Reasons", "")],
            ),
            session: dso_models::quality::Session::new(dso_models::settings::get().triage.thresholds.clone()),
            last_verdict: None,
            defaults: Vec::new(),
            started: false,
            snooped_ccd: None,
            frame_watch: arrival::FrameWatch::default(),
            upload_dir: None,
            frames_processed: 0,
            frames_dropped: 0,
            sky: identify::SnoopedSky::default(),
            last_solution: None,
            announced_target: None,
            blind_pause_until: None,
            outbox: Vec::new(),
            jobs: Vec::new(),
            solves: Vec::new(),
        };
        dev.defaults = dev.config_items();
        dev
    }

    /// The device name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `CONNECTION.CONNECT` is on.
    pub fn is_connected(&self) -> bool {
        props::is_on(&self.connection, "CONNECT")
    }

    fn debug_enabled(&self) -> bool {
        props::is_on(&self.debug, "ENABLE")
    }

    /// Sends a device message with its level prefix (debug ones only while `DEBUG` is on); also logs it to stderr,
    /// which indiserver writes to its log.
    pub fn log(&mut self, level: Level, text: &str) {
        match level {
            Level::Error => log::error!("{text}"),
            Level::Warning => log::warn!("{text}"),
            Level::Info => log::info!("{text}"),
            Level::Debug => log::debug!("{text}"),
        }
        if level == Level::Debug && !self.debug_enabled() {
            return;
        }
        self.outbox.push(Message::Message(DeviceMessage {
            device: Some(self.name.clone()),
            timestamp: Some(SystemTime::now()),
            message: Some(format!("{}{text}", level.prefix())),
        }));
    }

    fn def(&mut self, which: fn(&Device) -> &DefVector) {
        let mut v = which(self).clone();
        v.timestamp = Some(SystemTime::now());
        self.outbox.push(Message::Def(v));
    }

    fn publish(&mut self, which: fn(&Device) -> &DefVector, message: Option<String>) {
        let set = props::set_of(which(self), message);
        self.outbox.push(Message::Set(set));
    }

    /// Answers `getProperties` (libindi's `ISGetProperties`): always the standard properties, the detector's when
    /// connected. The first one also applies the saved snoop target and starts snooping the camera.
    pub fn get_properties(&mut self, req: &GetProperties) {
        if req.device.as_deref().is_some_and(|d| d != self.name) {
            return;
        }
        if !self.started {
            self.started = true;
            self.load_config_items(&["ACTIVE_DEVICES"], false);
            self.snoop();
            self.snoop_telescope();
        }
        let wanted = |name: &str| req.name.as_deref().is_none_or(|n| n == name);
        let always: [fn(&Device) -> &DefVector; 5] =
            [|d| &d.connection, |d| &d.driver_info, |d| &d.debug, |d| &d.config_process, |d| &d.active_devices];
        for which in always {
            if wanted(&which(self).name) {
                self.def(which);
            }
        }
        if self.is_connected() {
            for which in Self::detection_properties() {
                if wanted(&which(self).name) {
                    self.def(which);
                }
            }
        }
    }

    fn detection_properties() -> [fn(&Device) -> &DefVector; 14] {
        [
            |d| &d.detector,
            |d| &d.settings,
            |d| &d.outputs,
            |d| &d.upload,
            |d| &d.identify,
            |d| &d.solver,
            |d| &d.target,
            |d| &d.target_state,
            |d| &d.results,
            |d| &d.stats,
            |d| &d.annotated,
            |d| &d.heatmap,
            |d| &d.quality,
            |d| &d.verdict,
        ]
    }

    /// Defines the detection properties when connected and deletes them when not (libindi's `updateProperties`).
    pub fn update_properties(&mut self) {
        if self.is_connected() {
            for which in Self::detection_properties() {
                self.def(which);
            }
        } else {
            for which in Self::detection_properties() {
                let name = which(self).name.clone();
                self.outbox.push(Message::DelProperty(DelProperty {
                    device: self.name.clone(),
                    name: Some(name),
                    timestamp: Some(SystemTime::now()),
                    message: None,
                }));
            }
        }
    }

    /// Asks the server for the camera's image and its BLOBs, after stopping the previous camera's BLOBs.
    fn snoop(&mut self) {
        let ccd = props::text_value(&self.active_devices, "ACTIVE_CCD").to_owned();
        if self.snooped_ccd.as_deref() == Some(ccd.as_str()) {
            return;
        }
        self.upload_dir = None;
        self.frame_watch.reset();
        if let Some(old) = self.snooped_ccd.take() {
            self.outbox.push(Message::EnableBlob(EnableBlob {
                device: old,
                name: Some(CCD_BLOB.into()),
                mode: BlobEnable::Never,
            }));
        }
        if ccd.is_empty() {
            return;
        }
        for name in [CCD_BLOB, CCD_FILE_PATH, UPLOAD_SETTINGS, CCD_EXPOSURE] {
            self.outbox.push(Message::GetProperties(GetProperties {
                version: Some("1.7".into()),
                device: Some(ccd.clone()),
                name: Some(name.into()),
            }));
        }
        self.outbox.push(Message::EnableBlob(EnableBlob {
            device: ccd.clone(),
            name: Some(CCD_BLOB.into()),
            mode: BlobEnable::Also,
        }));
        for name in identify::CAMERA_PROPERTIES {
            self.outbox.push(Message::GetProperties(GetProperties {
                version: Some("1.7".into()),
                device: Some(ccd.clone()),
                name: Some((*name).into()),
            }));
        }
        self.snooped_ccd = Some(ccd);
    }

    /// Handles a client's `newXXXVector` for this device (libindi's `ISNewSwitch`/`ISNewNumber`/`ISNewText`/
    /// `ISNewBLOB`). A refused change sets the property to Alert and says why.
    pub fn new_vector(&mut self, new: NewVector, received: Instant) {
        if new.device != self.name {
            return;
        }
        let result = match (new.name.as_str(), new.values) {
            ("CONNECTION", Values::Switch(s)) => self.set_connection(&s),
            ("DEBUG", Values::Switch(s)) => {
                props::update_switches(&mut self.debug, &s).map(|_| self.ok(|d| &mut d.debug, None))
            }
            ("CONFIG_PROCESS", Values::Switch(s)) => self.config_process(&s),
            ("ACTIVE_DEVICES", Values::Text(t)) => self.set_active_devices(&t),
            (name, _) if !self.is_connected() && self.is_detection_property(name) => {
                Err(format!("{name} can be changed once the device is connected"))
            }
            ("DSO_DETECTOR", Values::Switch(s)) => self.select_detector(&s),
            ("DSO_SETTINGS", Values::Number(n)) => {
                props::update_numbers(&mut self.settings, &n).map(|_| self.ok(|d| &mut d.settings, None))
            }
            ("DSO_OUTPUTS", Values::Switch(s)) => {
                props::update_switches(&mut self.outputs, &s).map(|_| self.ok(|d| &mut d.outputs, None))
            }
            ("DSO_IMAGE_UPLOAD", Values::Blob(b)) => self.upload(b, received),
            ("DSO_IDENTIFY", Values::Switch(s)) => {
                props::update_switches(&mut self.identify, &s).map(|_| self.ok(|d| &mut d.identify, None))
            }
            ("DSO_SOLVER", Values::Number(n)) => {
                props::update_numbers(&mut self.solver, &n).map(|_| self.ok(|d| &mut d.solver, None))
            }
            ("DSO_TARGET", Values::Text(t)) => self.set_target(&t),
            (name, values) => Err(format!("{name} is not a writable {:?} property of {}", values.kind(), self.name)),
        };
        if let Err(why) = result {
            self.alert_named(&new.name, &why);
        }
    }

    /// `ACTIVE_DEVICES`: the camera and mount to snoop. Names longer than [`MAX_DEVICE_NAME`] are refused whole.
    fn set_active_devices(&mut self, t: &[crate::indi::OneText]) -> Result<(), String> {
        if let Some(long) = t.iter().find(|one| one.value.trim().len() > MAX_DEVICE_NAME) {
            return Err(format!(
                "ACTIVE_DEVICES.{}: a device name of {} bytes is refused; INDI device names have at most \
                 {MAX_DEVICE_NAME}",
                crate::indi::shorten(&long.name),
                long.value.trim().len()
            ));
        }
        for one in t {
            props::set_text(&mut self.active_devices, &one.name, one.value.trim());
        }
        self.ok(|d| &mut d.active_devices, None);
        self.snoop();
        self.snoop_telescope();
        Ok(())
    }

    fn is_detection_property(&self, name: &str) -> bool {
        Self::detection_properties().iter().any(|w| w(self).name == name)
    }

    /// Marks a property Ok and publishes it.
    fn ok(&mut self, which: fn(&mut Device) -> &mut DefVector, message: Option<String>) {
        let v = which(self);
        v.state = PropertyState::Ok;
        let set = props::set_of(v, message);
        self.outbox.push(Message::Set(set));
    }

    /// Sets the named property (if it is ours) to Alert and sends the reason as an error message.
    pub fn alert_named(&mut self, name: &str, why: &str) {
        if let Some(v) = self.property_mut(name) {
            v.state = PropertyState::Alert;
            let set = props::set_of(v, None);
            self.outbox.push(Message::Set(set));
        }
        self.log(Level::Error, why);
    }

    fn property_mut(&mut self, name: &str) -> Option<&mut DefVector> {
        [
            &mut self.connection,
            &mut self.debug,
            &mut self.config_process,
            &mut self.active_devices,
            &mut self.detector,
            &mut self.settings,
            &mut self.outputs,
            &mut self.results,
            &mut self.stats,
            &mut self.annotated,
            &mut self.heatmap,
            &mut self.upload,
            &mut self.identify,
            &mut self.solver,
            &mut self.target,
            &mut self.target_state,
            &mut self.quality,
            &mut self.verdict,
        ]
        .into_iter()
        .find(|v| v.name == name)
    }

    fn set_connection(&mut self, s: &[OneSwitch]) -> Result<(), String> {
        let was = self.is_connected();
        props::update_switches(&mut self.connection, s)?;
        let now = self.is_connected();
        self.ok(|d| &mut d.connection, None);
        if was != now {
            self.update_properties();
            if now {
                self.load_config_items(
                    &["DSO_DETECTOR", "DSO_SETTINGS", "DSO_OUTPUTS", "DSO_IDENTIFY", "DSO_SOLVER", "DSO_TARGET"],
                    false,
                );
                let ccd = self.snooped_ccd.clone().unwrap_or_else(|| "no camera (set ACTIVE_CCD)".into());
                self.log(Level::Info, &format!("{} is online, watching {ccd}.{CCD_BLOB}", self.name));
                self.plugin_warnings();
            } else {
                self.log(Level::Info, &format!("{} is offline", self.name));
            }
        }
        Ok(())
    }

    /// Tells the user about every plugin that was refused or disabled (at startup and at each connection: a client
    /// that was not there at startup still learns why a detector is missing or unavailable).
    pub fn plugin_warnings(&mut self) {
        for warning in registry::plugins().warnings() {
            self.log(Level::Warning, &warning);
        }
    }

    fn select_detector(&mut self, s: &[OneSwitch]) -> Result<(), String> {
        let before = self.detector.clone();
        props::update_switches(&mut self.detector, s)?;
        let chosen = props::first_on(&self.detector).unwrap_or_default().to_owned();
        match registry::find(&chosen).map(|d| d.available) {
            Some(Ok(())) => {
                self.ok(|d| &mut d.detector, None);
                self.log(Level::Info, &format!("detector: {}", chosen.to_ascii_lowercase()));
                Ok(())
            }
            Some(Err(why)) => {
                self.detector = before;
                Err(format!("detector {chosen} cannot run: {why}"))
            }
            None => {
                self.detector = before;
                Err(format!("unknown detector {chosen}"))
            }
        }
    }

    fn current_job_settings(&self) -> (String, Selection, Outputs) {
        let detector = props::first_on(&self.detector).unwrap_or(registry::default_name()).to_ascii_lowercase();
        let selection = Selection {
            confidence: props::number_value(&self.settings, "CONFIDENCE") as f32,
            max_detections: props::number_value(&self.settings, "MAX_DETECTIONS").max(1.0) as usize,
        };
        let outputs = Outputs {
            annotated: props::is_on(&self.outputs, "ANNOTATED_IMAGE"),
            heatmap: props::is_on(&self.outputs, "HEATMAP"),
            max_side: props::number_value(&self.settings, "PICTURE_SIZE").max(0.0) as usize,
            triage: dso_models::settings::get().triage.enabled,
        };
        (detector, selection, outputs)
    }

    fn queue_frame(&mut self, blob: OneBlob, source: String, received: Instant) {
        let (detector, selection, outputs) = self.current_job_settings();
        let timestamp = format_timestamp(SystemTime::now());
        let naming = self.naming(&source);
        let source = Source { name: source, format: blob.format, timestamp, received };
        self.jobs.push(Job { payload: Payload::Bytes(blob.data), source, detector, selection, outputs, naming });
    }

    fn upload(&mut self, blobs: Vec<OneBlob>, received: Instant) -> Result<(), String> {
        let blob = blobs.into_iter().find(|b| b.name == "IMAGE").ok_or("DSO_IMAGE_UPLOAD needs an IMAGE element")?;
        if blob.data.is_empty() {
            return Err("the uploaded image is empty".into());
        }
        self.upload.state = PropertyState::Busy;
        self.publish(|d| &d.upload, None);
        self.queue_frame(blob, "upload".into(), received);
        Ok(())
    }

    /// Handles a property definition the server forwards from a snooped device: the camera's upload directory.
    pub fn snooped_def(&mut self, def: &DefVector) {
        if def.name == UPLOAD_SETTINGS && Some(def.device.as_str()) == self.snooped_ccd.as_deref() {
            if let crate::indi::DefElements::Text(texts) = &def.elements {
                if let Some(dir) = texts.iter().find(|t| t.name == "UPLOAD_DIR") {
                    self.set_upload_dir(&dir.value);
                }
            }
        }
    }

    fn set_upload_dir(&mut self, value: &str) {
        let dir = crate::local_file::upload_dir(value);
        if dir != self.upload_dir {
            let shown = dir.as_ref().map_or("unknown".into(), |d| d.display().to_string());
            self.log(Level::Debug, &format!("camera upload directory: {shown}"));
            self.upload_dir = dir;
        }
    }

    /// Handles what the server forwards from snooped devices (libindi's `ISSnoopDevice`): the camera's image.
    pub fn snooped(&mut self, set: SetVector, received: Instant) {
        if self.snooped_sky(&set) || Some(set.device.as_str()) != self.snooped_ccd.as_deref() {
            return;
        }
        if set.name == UPLOAD_SETTINGS {
            if let Values::Text(texts) = &set.values {
                if let Some(dir) = texts.iter().find(|t| t.name == "UPLOAD_DIR") {
                    self.set_upload_dir(&dir.value);
                }
            }
            return;
        }
        if !self.is_connected() {
            return;
        }
        if set.name == CCD_EXPOSURE {
            if let Some(n) = set.state.and_then(|s| self.frame_watch.exposure_state(s)) {
                self.log(Level::Warning, &arrival::warning(&set.device, n));
            }
            return;
        }
        if set.name == CCD_FILE_PATH {
            if set.state == Some(PropertyState::Ok) {
                self.frame_watch.frame();
            }
            return self.snooped_file(set, received);
        }
        if set.name != CCD_BLOB {
            return;
        }
        let Values::Blob(blobs) = set.values else { return };
        let Some(blob) = blobs.into_iter().find(|b| !b.data.is_empty()) else { return };
        self.frame_watch.frame();
        let source = format!("{}.{}", set.device, set.name);
        self.log(Level::Debug, &format!("frame from {source}: {} bytes, {}", blob.data.len(), blob.format));
        self.queue_frame(blob, source, received);
    }

    /// A camera in `UPLOAD_LOCAL` mode saved a frame on this machine and says where: analyse the file. indiserver
    /// forwards a client's forged `CCD_FILE_PATH` as it forwards the camera's, so only image file names are taken,
    /// and the worker reads only a regular file in the camera's upload directory within the frame limit
    /// ([`crate::local_file`]).
    fn snooped_file(&mut self, set: SetVector, received: Instant) {
        if set.state != Some(PropertyState::Ok) {
            return;
        }
        let Values::Text(texts) = set.values else { return };
        let Some(path) = texts.into_iter().find(|t| t.name == "FILE_PATH").map(|t| t.value.trim().to_owned()) else {
            return;
        };
        if path.is_empty() {
            return;
        }
        if !dso_models::decode::is_image_name(&path) {
            self.log(Level::Debug, &format!("{path}: not an image file, ignored"));
            return;
        }
        let format = dso_models::decode::format_from_path(&path);
        let (detector, selection, outputs) = self.current_job_settings();
        let name = format!("{}.{CCD_FILE_PATH}", set.device);
        let naming = self.naming(&name);
        let source = Source { name, format, timestamp: format_timestamp(SystemTime::now()), received };
        let payload = Payload::File { path: PathBuf::from(path), upload_dir: self.upload_dir.clone() };
        self.jobs.push(Job { payload, source, detector, selection, outputs, naming });
    }
}
