//! The base layer: what every INDI driver does, whatever it is for, in the spirit of libindi's `DefaultDevice`.
//!
//! It owns the standard properties — `CONNECTION`, `DRIVER_INFO`, `DEBUG`, `CONFIG_PROCESS` (in
//! `config_hooks.rs`) and `ACTIVE_DEVICES` — and the helpers every handler uses: [`Device::log`] with its levels,
//! and defining, publishing, Ok and Alert by [`Prop`]. The DSO logic (`mod.rs`) falls through to it the way a
//! libindi driver calls `DefaultDevice::ISNewSwitch` first: [`Device::new_vector`] offers each client change to
//! [`Device::base_new_vector`], and only what the base does not handle reaches the DSO handlers.
//!
//! The hooks keep libindi's order: constructor and `initProperties` ([`Device::new`]) → `ISGetProperties`
//! ([`Device::get_properties`]: the standard properties always, the detection ones when connected) →
//! `updateProperties` ([`Device::update_properties`]: define when connected, delete otherwise, run on every
//! connection change) → `ISNewXXX` ([`Device::new_vector`]: base first, then the DSO handlers) → `ISSnoopDevice`
//! ([`Device::snooped`]) → `saveConfigItems` ([`Device::save_config`]). Which property is which kind comes from the
//! table (`table.rs`), never from a list kept here.

use std::time::SystemTime;

use crate::indi::{
    DelProperty, DeviceMessage, GetProperties, Message, NewVector, OneSwitch, Permission, PropertyState, Values,
};
use crate::props;

use super::elements::{active_devices, connection, debug};
use super::table::{Kind, Prop};
use super::{Device, CCD_BLOB, MAX_DEVICE_NAME};

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

/// What the base did with a client's change.
pub(super) enum Handled {
    /// It was a standard property: done, or refused with the reason.
    Done(Result<(), String>),
    /// Not a standard property: for the DSO handlers.
    Pass(NewVector),
}

impl Device {
    /// Whether `CONNECTION.CONNECT` is on.
    pub fn is_connected(&self) -> bool {
        self.is_on(connection::CONNECT)
    }

    fn debug_enabled(&self) -> bool {
        self.is_on(debug::ENABLE)
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

    /// Defines a property (`defXXXVector`) with its current values.
    fn def(&mut self, p: Prop) {
        let mut v = self.props.get(p).clone();
        v.timestamp = Some(SystemTime::now());
        self.outbox.push(Message::Def(v));
    }

    /// Publishes a property's current state and values (`setXXXVector`).
    pub(super) fn publish(&mut self, p: Prop, message: Option<String>) {
        let set = props::set_of(self.props.get(p), message);
        self.outbox.push(Message::Set(set));
    }

    /// Sets a property's state and publishes it.
    pub(super) fn publish_state(&mut self, p: Prop, state: PropertyState) {
        self.props.get_mut(p).state = state;
        self.publish(p, None);
    }

    /// Marks a property Ok and publishes it.
    pub(super) fn ok(&mut self, p: Prop, message: Option<String>) {
        self.props.get_mut(p).state = PropertyState::Ok;
        self.publish(p, message);
    }

    /// A client's change (or message) for the named property refused: the reason as an error message, and Alert on
    /// the property when a client may write it. A read-only property keeps its state: that state is the driver's
    /// (the last frame's results, the statistics), and a stale Alert from someone's write to it used to ride along
    /// on its next publication, after a successful plate solve say (found by the `device_messages` fuzz target).
    pub fn refuse_named(&mut self, name: &str, why: &str) {
        match Prop::by_name(name) {
            Some(p) if self.props.get(p).perm == Permission::ReadOnly => self.log(Level::Error, why),
            _ => self.alert_named(name, why),
        }
    }

    /// Sets the named property (if it is ours) to Alert and sends the reason as an error message. `DRIVER_INFO`
    /// describes the driver and never goes Alert.
    pub fn alert_named(&mut self, name: &str, why: &str) {
        if let Some(p) = Prop::by_name(name).filter(|p| *p != Prop::DriverInfo) {
            self.publish_state(p, PropertyState::Alert);
        }
        self.log(Level::Error, why);
    }

    /// Whether `name` is one of the properties defined only while connected.
    pub(super) fn is_detection_property(&self, name: &str) -> bool {
        Prop::by_name(name).is_some_and(|p| p.kind() == Kind::Detection)
    }

    /// Answers `getProperties` (libindi's `ISGetProperties`): always the standard properties, the detector's when
    /// connected. The first one also applies the saved snoop target and starts snooping the camera.
    pub fn get_properties(&mut self, req: &GetProperties) {
        if req.device.as_deref().is_some_and(|d| d != self.name) {
            return;
        }
        if !self.started {
            self.started = true;
            let standard_saved: Vec<Prop> = Prop::saved_ones().filter(|p| p.kind() == Kind::Standard).collect();
            self.load_config_items(&standard_saved, false);
            self.snoop();
            self.snoop_telescope();
        }
        let wanted = |p: &Prop| req.name.as_deref().is_none_or(|n| n == p.name());
        let kinds: &[Kind] = if self.is_connected() { &[Kind::Standard, Kind::Detection] } else { &[Kind::Standard] };
        for &kind in kinds {
            for p in Prop::of_kind(kind).filter(wanted) {
                self.def(p);
            }
        }
    }

    /// Defines the detection properties when connected and deletes them when not (libindi's `updateProperties`).
    pub fn update_properties(&mut self) {
        let connected = self.is_connected();
        for p in Prop::of_kind(Kind::Detection) {
            if connected {
                self.def(p);
            } else {
                self.outbox.push(Message::DelProperty(DelProperty {
                    device: self.name.clone(),
                    name: Some(p.name().to_owned()),
                    timestamp: Some(SystemTime::now()),
                    message: None,
                }));
            }
        }
    }

    /// Handles a client's change to a standard property; hands anything else back for the DSO handlers.
    pub(super) fn base_new_vector(&mut self, new: NewVector) -> Handled {
        let result = match (Prop::by_name(&new.name), &new.values) {
            (Some(Prop::Connection), Values::Switch(s)) => self.set_connection(s),
            (Some(Prop::Debug), Values::Switch(s)) => {
                props::update_switches(self.props.get_mut(Prop::Debug), s).map(|_| self.ok(Prop::Debug, None))
            }
            (Some(Prop::ConfigProcess), Values::Switch(s)) => self.config_process(s),
            (Some(Prop::ActiveDevices), Values::Text(t)) => self.set_active_devices(t),
            _ => return Handled::Pass(new),
        };
        Handled::Done(result)
    }

    /// `CONNECTION`: on a change, defines or deletes the detection properties, and on connecting applies their
    /// saved values (libindi's `Connect` → `updateProperties` → `loadConfig`).
    fn set_connection(&mut self, s: &[OneSwitch]) -> Result<(), String> {
        let was = self.is_connected();
        props::update_switches(self.props.get_mut(Prop::Connection), s)?;
        let now = self.is_connected();
        self.ok(Prop::Connection, None);
        if was != now {
            self.update_properties();
            if now {
                let detection_saved: Vec<Prop> = Prop::saved_ones().filter(|p| p.kind() == Kind::Detection).collect();
                self.load_config_items(&detection_saved, false);
                let ccd = self.snooped_ccd.clone().unwrap_or_else(|| "no camera (set ACTIVE_CCD)".into());
                self.log(Level::Info, &format!("{} is online, watching {ccd}.{CCD_BLOB}", self.name));
                self.plugin_warnings();
            } else {
                self.log(Level::Info, &format!("{} is offline", self.name));
            }
        }
        Ok(())
    }

    /// `ACTIVE_DEVICES`: the camera and mount to snoop. Names longer than [`MAX_DEVICE_NAME`], or with control
    /// characters, are refused whole; accepted ones go to the snoop hooks (`snoop.rs`, `identify.rs`), as a libindi
    /// driver calls `IDSnoopDevice`. A newline or tab cannot be part of a device name on the wire: XML turns it into
    /// a space in the `device` attribute of the snoop request, so the driver would snoop a name it never matches
    /// (found by the `device_messages` fuzz target).
    fn set_active_devices(&mut self, t: &[crate::indi::OneText]) -> Result<(), String> {
        if let Some(odd) = t.iter().find(|one| one.value.trim().chars().any(char::is_control)) {
            return Err(format!(
                "{}.{}: a device name cannot contain control characters (newlines, tabs)",
                Prop::ActiveDevices.name(),
                crate::indi::shorten(&odd.name)
            ));
        }
        if let Some(long) = t.iter().find(|one| one.value.trim().len() > MAX_DEVICE_NAME) {
            return Err(format!(
                "{}.{}: a device name of {} bytes is refused; INDI device names have at most {MAX_DEVICE_NAME}",
                Prop::ActiveDevices.name(),
                crate::indi::shorten(&long.name),
                long.value.trim().len()
            ));
        }
        for one in t {
            props::set_text(self.props.get_mut(Prop::ActiveDevices), &one.name, one.value.trim());
        }
        self.ok(Prop::ActiveDevices, None);
        self.snoop();
        self.snoop_telescope();
        Ok(())
    }

    /// The camera `ACTIVE_DEVICES` names.
    pub(super) fn active_ccd(&self) -> String {
        self.text(active_devices::CCD).to_owned()
    }

    /// The mount `ACTIVE_DEVICES` names.
    pub(super) fn active_telescope(&self) -> String {
        self.text(active_devices::TELESCOPE).to_owned()
    }
}
