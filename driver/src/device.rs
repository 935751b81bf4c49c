//! The "DSO Detector" INDI device: its properties and what it does when a client or the server talks to it.
//!
//! The methods follow libindi's driver hooks, in the same order, so INDI developers find their way: [`Device::new`]
//! (initProperties), [`Device::get_properties`] (ISGetProperties), [`Device::update_properties`]
//! (updateProperties: define when connected, delete otherwise), [`Device::new_vector`] (ISNewSwitch/Number/Text/
//! BLOB), [`Device::snooped`] (ISSnoopDevice) and [`Device::save_config`] (saveConfigItems).
//!
//! The device never blocks and never does I/O besides the configuration file: it pushes messages to send into
//! [`Device::outbox`] and frames to analyse into [`Device::jobs`], which the event loop in [`crate::run`] drains.
//! That keeps every handler testable without a server.

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use dso_models::registry;

use crate::config;
use crate::indi::format_timestamp;
use crate::indi::{
    BlobEnable, DefElements, DefVector, DelProperty, DeviceMessage, EnableBlob, GetProperties, Message, NewVector,
    OneBlob, OneSwitch, Permission, PropertyState, ProtocolError, SetVector, SwitchRule, SwitchState, Values,
};
use crate::pipeline::{Outputs, Source};
use crate::props::{self, num};
use crate::report::{self, Selection};
use crate::worker::{Job, Outcome};

/// `DRIVER_INTERFACE` of an auxiliary driver: `AUX_INTERFACE = 1 << 15` in libindi's `basedevice.h`.
pub const AUX_INTERFACE: u32 = 1 << 15;
/// The default device name when `INDIDEV` is not set.
pub const DEFAULT_NAME: &str = "DSO Detector";
/// The camera snooped by default: the INDI CCD simulator.
pub const DEFAULT_CCD: &str = "CCD Simulator";
/// The camera's image property (libindi's primary CCD chip).
pub const CCD_BLOB: &str = "CCD1";

const MAIN: &str = "Main Control";
const OPTIONS: &str = "Options";
const GENERAL: &str = "General Info";
const DETECTION: &str = "Detection";
const RESULTS: &str = "Results";

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
    /// The factory values of the saved properties, for `CONFIG_DEFAULT`.
    defaults: Vec<NewVector>,
    /// True once the first `getProperties` arrived and the configuration's snoop target was applied.
    started: bool,
    /// The camera currently snooped.
    snooped_ccd: Option<String>,
    frames_processed: u64,
    frames_dropped: u64,
    /// Messages to send, in order.
    pub outbox: Vec<Message>,
    /// Frames to hand to the worker.
    pub jobs: Vec<Job>,
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
            defaults: Vec::new(),
            started: false,
            snooped_ccd: None,
            frames_processed: 0,
            frames_dropped: 0,
            outbox: Vec::new(),
            jobs: Vec::new(),
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

    fn detection_properties() -> [fn(&Device) -> &DefVector; 8] {
        [
            |d| &d.detector,
            |d| &d.settings,
            |d| &d.outputs,
            |d| &d.upload,
            |d| &d.results,
            |d| &d.stats,
            |d| &d.annotated,
            |d| &d.heatmap,
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
        self.outbox.push(Message::GetProperties(GetProperties {
            version: Some("1.7".into()),
            device: Some(ccd.clone()),
            name: Some(CCD_BLOB.into()),
        }));
        self.outbox.push(Message::EnableBlob(EnableBlob {
            device: ccd.clone(),
            name: Some(CCD_BLOB.into()),
            mode: BlobEnable::Also,
        }));
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
            ("ACTIVE_DEVICES", Values::Text(t)) => {
                for one in &t {
                    props::set_text(&mut self.active_devices, &one.name, one.value.trim());
                }
                self.ok(|d| &mut d.active_devices, None);
                self.snoop();
                Ok(())
            }
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
            (name, values) => Err(format!("{name} is not a writable {:?} property of {}", values.kind(), self.name)),
        };
        if let Err(why) = result {
            self.alert_named(&new.name, &why);
        }
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
                self.load_config_items(&["DSO_DETECTOR", "DSO_SETTINGS", "DSO_OUTPUTS"], false);
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
        };
        (detector, selection, outputs)
    }

    fn queue_frame(&mut self, blob: OneBlob, source: String, received: Instant) {
        let (detector, selection, outputs) = self.current_job_settings();
        let timestamp = format_timestamp(SystemTime::now());
        let source = Source { name: source, format: blob.format, timestamp, received };
        self.jobs.push(Job { bytes: blob.data, source, detector, selection, outputs });
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

    /// Handles what the server forwards from snooped devices (libindi's `ISSnoopDevice`): the camera's image.
    pub fn snooped(&mut self, set: SetVector, received: Instant) {
        if Some(set.device.as_str()) != self.snooped_ccd.as_deref() || set.name != CCD_BLOB {
            return;
        }
        let Values::Blob(blobs) = set.values else { return };
        let Some(blob) = blobs.into_iter().find(|b| !b.data.is_empty()) else { return };
        if !self.is_connected() {
            return;
        }
        let source = format!("{}.{}", set.device, set.name);
        self.log(Level::Debug, &format!("frame from {source}: {} bytes, {}", blob.data.len(), blob.format));
        self.queue_frame(blob, source, received);
    }

    /// Reports a message that could not be decoded: an error message, and Alert on the property involved (for a
    /// camera frame that is `DSO_RESULTS`, the property whose result it spoiled).
    pub fn protocol_error(&mut self, err: &ProtocolError) {
        let ours = err.device.as_deref() == Some(self.name.as_str());
        let camera = err.device.is_some() && err.device.as_deref() == self.snooped_ccd.as_deref();
        let target = match (&err.name, ours, camera) {
            (Some(name), true, _) => Some(name.clone()),
            (_, _, true) if self.is_connected() => Some("DSO_RESULTS".to_owned()),
            _ => None,
        };
        let text = format!("bad message ignored: {err}");
        match target {
            Some(name) => self.alert_named(&name, &text),
            None => self.log(Level::Error, &text),
        }
    }

    /// Counts a frame that was replaced before the worker could take it.
    pub fn frame_dropped(&mut self) {
        self.frames_dropped += 1;
        props::set_number(&mut self.stats, "FRAMES_DROPPED", self.frames_dropped as f64);
        if self.is_connected() {
            self.publish(|d| &d.stats, None);
        }
    }

    /// Publishes what the worker reports.
    pub fn worker_outcome(&mut self, outcome: Outcome) {
        if !self.is_connected() {
            return;
        }
        match outcome {
            Outcome::Started { source } => {
                self.results.state = PropertyState::Busy;
                props::set_text(&mut self.results, "SUMMARY", &format!("analysing {source}…"));
                self.publish(|d| &d.results, None);
            }
            Outcome::Finished { source, detector, result: Ok(a) } => {
                self.frames_processed += 1;
                let summary = a.report.summary();
                props::set_text(&mut self.results, "JSON", &a.report.to_json());
                props::set_text(&mut self.results, "SUMMARY", &summary);
                self.results.state = PropertyState::Ok;
                let max_conf = a.detections.iter().map(|d| d.confidence).fold(0.0f32, f32::max);
                for (k, v) in [
                    ("COUNT", a.detections.len() as f64),
                    ("MAX_CONFIDENCE", max_conf as f64),
                    ("LATENCY_MS", a.report.latency_ms),
                    ("FRAMES_PROCESSED", self.frames_processed as f64),
                    ("FRAMES_DROPPED", self.frames_dropped as f64),
                    ("WIDTH", a.report.frame.width as f64),
                    ("HEIGHT", a.report.frame.height as f64),
                ] {
                    props::set_number(&mut self.stats, k, v);
                }
                self.stats.state = PropertyState::Ok;
                self.publish(|d| &d.results, None);
                self.publish(|d| &d.stats, None);
                if let Some(jpeg) = a.annotated {
                    self.annotated.state = PropertyState::Ok;
                    let set = props::set_blob(&self.annotated, "ANNOTATED_IMAGE", ".jpg", jpeg);
                    self.outbox.push(Message::Set(set));
                }
                if let Some(png) = a.heatmap {
                    self.heatmap.state = PropertyState::Ok;
                    let set = props::set_blob(&self.heatmap, "HEATMAP", ".png", png);
                    self.outbox.push(Message::Set(set));
                }
                if source == "upload" {
                    self.ok(|d| &mut d.upload, None);
                }
                self.log(Level::Debug, &format!("{source} by {detector}: {summary}"));
            }
            Outcome::Finished { source, detector, result: Err(why) } => {
                props::set_text(&mut self.results, "SUMMARY", &format!("failed: {why}"));
                if source == "upload" {
                    self.upload.state = PropertyState::Alert;
                    self.publish(|d| &d.upload, None);
                }
                self.alert_named("DSO_RESULTS", &format!("{source} ({detector}): {why}"));
            }
        }
    }

    // --- configuration (libindi's saveConfigItems / loadConfig) ---

    /// The properties saved in the configuration file, as the `newXXXVector`s that restore them.
    fn config_items(&self) -> Vec<NewVector> {
        [&self.active_devices, &self.detector, &self.settings, &self.outputs]
            .into_iter()
            .map(|v| {
                let set = props::set_of(v, None);
                NewVector { device: self.name.clone(), name: v.name.clone(), timestamp: None, values: set.values }
            })
            .collect()
    }

    /// Writes the configuration file (and, the first time, the `.default` file with the factory values).
    pub fn save_config(&mut self) -> Result<(), String> {
        config::save(&self.config_path, &self.config_items(), &self.defaults)
    }

    /// Applies the saved values of some properties, as if a client had sent them. Missing file: nothing to do.
    fn load_config_items(&mut self, names: &[&str], report_missing: bool) {
        match config::load(&self.config_path) {
            Ok(items) => self.apply_items(items, names),
            Err(config::LoadError::Missing) if !report_missing => {}
            Err(e) => self.log(Level::Warning, &format!("configuration {}: {e}", self.config_path.display())),
        }
    }

    fn apply_items(&mut self, items: Vec<NewVector>, names: &[&str]) {
        for mut item in items {
            // Detection properties exist only while connected; the connect hook applies them then.
            let undefined = !self.is_connected() && self.is_detection_property(&item.name);
            if !names.contains(&item.name.as_str()) || undefined {
                continue;
            }
            item.device = self.name.clone();
            self.new_vector(item, Instant::now());
        }
    }

    fn config_process(&mut self, s: &[OneSwitch]) -> Result<(), String> {
        let action = s.iter().find(|o| o.state == SwitchState::On).map(|o| o.name.as_str());
        let all = ["ACTIVE_DEVICES", "DSO_DETECTOR", "DSO_SETTINGS", "DSO_OUTPUTS"];
        let result = match action {
            Some("CONFIG_SAVE") => {
                self.save_config().map(|_| format!("configuration saved to {}", self.config_path.display()))
            }
            Some("CONFIG_LOAD") => config::load(&self.config_path).map_err(|e| e.to_string()).map(|items| {
                self.apply_items(items, &all);
                "configuration loaded".to_owned()
            }),
            Some("CONFIG_DEFAULT") => {
                let defaults = self.defaults.clone();
                self.apply_items(defaults, &all);
                Ok("default configuration restored".to_owned())
            }
            Some("CONFIG_PURGE") => config::purge(&self.config_path).map(|_| "configuration purged".to_owned()),
            Some(other) => Err(format!("unknown configuration action {other}")),
            None => return Ok(()),
        };
        // CONFIG_PROCESS is a set of buttons: nothing stays on.
        if let DefElements::Switch(_, els) = &mut self.config_process.elements {
            els.iter_mut().for_each(|e| e.state = SwitchState::Off);
        }
        let text = result?;
        self.ok(|d| &mut d.config_process, None);
        self.log(Level::Info, &text);
        Ok(())
    }
}
