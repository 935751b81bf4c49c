//! The "DSO Detector" INDI device: its properties and what it does when a client or the server talks to it.
//!
//! The methods follow libindi's driver hooks, in the same order, so INDI developers find their way: [`Device::new`]
//! (initProperties), [`Device::get_properties`] (ISGetProperties), [`Device::update_properties`]
//! (updateProperties: define when connected, delete otherwise), [`Device::new_vector`] (ISNewSwitch/Number/Text/
//! BLOB), [`Device::snooped`] (ISSnoopDevice) and [`Device::save_config`] (saveConfigItems).
//!
//! The properties are listed once, in `table.rs` ([`Prop`]), defined in `definitions.rs`, and their elements
//! named in `elements.rs`; the standard INDI properties and the helpers every handler uses form a base layer
//! (`base.rs`, libindi's `DefaultDevice`) that [`Device::new_vector`] offers each change to first. This file holds
//! the DSO handlers the base falls through to. Snooping the camera lives in `snoop.rs`, publishing results in
//! `results.rs`, the configuration hooks in `config_hooks.rs`.
//!
//! The device never blocks and never does I/O besides the configuration file: it pushes messages to send into
//! [`Device::outbox`] and frames to analyse into [`Device::jobs`], which the event loop in [`crate::run`] drains.
//! That keeps every handler testable without a server.

mod arrival;
mod base;
mod config_hooks;
mod definitions;
mod elements;
mod identify;
mod quality;
mod results;
mod snoop;
mod table;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use dso_models::registry;

use crate::indi::{
    format_timestamp, shorten, DefVector, Message, NewVector, OneBlob, OneSwitch, PropertyState, Values,
};
use crate::naming::Solved;
use crate::pipeline::{Origin, Outputs, Source};
use crate::props;
use crate::report::Selection;
use crate::solver::SolveJob;
use crate::worker::{Job, Payload};

pub use base::Level;
pub use table::{Kind, Prop};

use base::Handled;
use elements::{image_upload, outputs, settings};
use table::Props;

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

/// The device state: its property vectors, indexed by [`Prop`], and what it remembers between messages.
pub struct Device {
    name: String,
    config_path: PathBuf,
    /// Every property vector, current values included.
    props: Props,
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
    /// How many times a client has chosen a detector: each job carries it, and the worker loads the detector anew
    /// after a new choice (a replaced model file is taken then).
    detector_choices: u64,
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
        let mut dev = Self {
            name: name.to_owned(),
            config_path,
            props: Props::new(|p| definitions::define(p, name)),
            session: dso_models::quality::Session::new(dso_models::settings::get().triage.thresholds.clone()),
            last_verdict: None,
            defaults: Vec::new(),
            started: false,
            snooped_ccd: None,
            frame_watch: arrival::FrameWatch::default(),
            upload_dir: None,
            frames_processed: 0,
            frames_dropped: 0,
            detector_choices: 0,
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

    /// A property's vector as it stands.
    pub fn get(&self, p: Prop) -> &DefVector {
        self.props.get(p)
    }

    /// Handles a client's `newXXXVector` for this device (libindi's `ISNewSwitch`/`ISNewNumber`/`ISNewText`/
    /// `ISNewBLOB`): the base layer first, then the DSO handlers. A refused change says why and sets the property
    /// to Alert (a read-only one keeps its state: [`Device::refuse_named`]).
    pub fn new_vector(&mut self, new: NewVector, received: Instant) {
        if new.device != self.name {
            return;
        }
        let name = new.name.clone();
        let result = match self.base_new_vector(new) {
            Handled::Done(result) => result,
            Handled::Pass(new) => self.dso_new_vector(new, received),
        };
        if let Err(why) = result {
            self.refuse_named(&name, &why);
        }
    }

    /// The DSO Detector's own properties, which exist only while connected.
    fn dso_new_vector(&mut self, new: NewVector, received: Instant) -> Result<(), String> {
        let prop = Prop::by_name(&new.name);
        if !self.is_connected() && prop.is_some_and(|p| p.kind() == Kind::Detection) {
            return Err(format!("{} can be changed once the device is connected", new.name));
        }
        match (prop, new.values) {
            (Some(Prop::Detector), Values::Switch(s)) => self.select_detector(&s),
            (Some(p @ (Prop::Outputs | Prop::Identify)), Values::Switch(s)) => {
                props::update_switches(self.props.get_mut(p), &s).map(|_| self.ok(p, None))
            }
            (Some(p @ (Prop::Settings | Prop::Solver)), Values::Number(n)) => {
                props::update_numbers(self.props.get_mut(p), &n).map(|_| self.ok(p, None))
            }
            (Some(Prop::ImageUpload), Values::Blob(b)) => self.upload(b, received),
            (Some(Prop::Target), Values::Text(t)) => self.set_target(&t),
            (_, values) => {
                Err(format!("{} is not a writable {:?} property of {}", shorten(&new.name), values.kind(), self.name))
            }
        }
    }

    /// Tells the user about every plugin that was refused or disabled (at startup and at each connection: a client
    /// that was not there at startup still learns why a detector is missing or unavailable).
    pub fn plugin_warnings(&mut self) {
        for warning in registry::plugins().warnings() {
            self.log(Level::Warning, &warning);
        }
    }

    fn select_detector(&mut self, s: &[OneSwitch]) -> Result<(), String> {
        let before = self.props.get(Prop::Detector).clone();
        props::update_switches(self.props.get_mut(Prop::Detector), s)?;
        let chosen = props::first_on(self.props.get(Prop::Detector)).unwrap_or_default().to_owned();
        match registry::find(&chosen).map(|d| d.available) {
            Some(Ok(())) => {
                self.detector_choices += 1;
                self.ok(Prop::Detector, None);
                self.log(Level::Info, &format!("detector: {}", chosen.to_ascii_lowercase()));
                Ok(())
            }
            Some(Err(why)) => {
                *self.props.get_mut(Prop::Detector) = before;
                Err(format!("detector {chosen} cannot run: {why}"))
            }
            None => {
                *self.props.get_mut(Prop::Detector) = before;
                Err(format!("unknown detector {chosen}"))
            }
        }
    }

    fn current_job_settings(&self) -> (String, Selection, Outputs) {
        let detector =
            props::first_on(self.props.get(Prop::Detector)).unwrap_or(registry::default_name()).to_ascii_lowercase();
        let selection = Selection {
            confidence: self.number(settings::CONFIDENCE) as f32,
            max_detections: self.number(settings::MAX_DETECTIONS).max(1.0) as usize,
        };
        let outputs = Outputs {
            annotated: self.is_on(outputs::ANNOTATED_IMAGE),
            heatmap: self.is_on(outputs::HEATMAP),
            max_side: self.number(settings::PICTURE_SIZE).max(0.0) as usize,
            triage: dso_models::settings::get().triage.enabled,
        };
        (detector, selection, outputs)
    }

    fn queue_frame(&mut self, blob: OneBlob, origin: Origin, received: Instant) {
        let (detector, selection, outputs) = self.current_job_settings();
        let timestamp = format_timestamp(SystemTime::now());
        let naming = self.naming(&origin);
        let source = Source { origin, format: blob.format, timestamp, received };
        let choice = self.detector_choices;
        self.jobs.push(Job {
            payload: Payload::Bytes(blob.data),
            source,
            detector,
            choice,
            selection,
            outputs,
            naming,
        });
    }

    fn upload(&mut self, blobs: Vec<OneBlob>, received: Instant) -> Result<(), String> {
        let blob = blobs
            .into_iter()
            .find(|b| b.name == image_upload::IMAGE.name)
            .ok_or("DSO_IMAGE_UPLOAD needs an IMAGE element")?;
        if blob.data.is_empty() {
            return Err("the uploaded image is empty".into());
        }
        self.publish_state(Prop::ImageUpload, PropertyState::Busy);
        self.queue_frame(blob, Origin::Upload, received);
        Ok(())
    }
}
