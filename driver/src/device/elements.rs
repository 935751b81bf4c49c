//! The elements the device reads and writes, as typed ids: each names its property and its INDI element name, so
//! the INDI names are written once (here, and the definitions use them) and `CONFIDENCE` cannot be read from the
//! wrong vector. libindi drivers index their elements by enum (`ConnectionS[CONNECT]`) for the same reason.
//!
//! `DSO_DETECTOR`'s elements are not here: they come from the detector registry at run time.

use super::table::Prop;
use super::Device;
use crate::props;

/// An element of one of the device's properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct El {
    /// The property it belongs to.
    pub prop: Prop,
    /// Its INDI name.
    pub name: &'static str,
}

/// Declares one module of element ids per property.
macro_rules! elements {
    ($($module:ident for $prop:ident { $($id:ident = $name:literal),* $(,)? })*) => {
        $(
            #[doc = concat!("The elements of [`Prop::", stringify!($prop), "`].")]
            pub mod $module {
                use super::{El, Prop};
                $(
                    #[doc = concat!("`", $name, "`.")]
                    pub const $id: El = El { prop: Prop::$prop, name: $name };
                )*
            }
        )*
    };
}

elements! {
    connection for Connection { CONNECT = "CONNECT", DISCONNECT = "DISCONNECT" }
    driver_info for DriverInfo {
        NAME = "DRIVER_NAME", EXEC = "DRIVER_EXEC", VERSION = "DRIVER_VERSION", INTERFACE = "DRIVER_INTERFACE",
    }
    debug for Debug { ENABLE = "ENABLE", DISABLE = "DISABLE" }
    config_process for ConfigProcess {
        LOAD = "CONFIG_LOAD", SAVE = "CONFIG_SAVE", DEFAULT = "CONFIG_DEFAULT", PURGE = "CONFIG_PURGE",
    }
    active_devices for ActiveDevices { CCD = "ACTIVE_CCD", TELESCOPE = "ACTIVE_TELESCOPE" }
    settings for Settings { CONFIDENCE = "CONFIDENCE", MAX_DETECTIONS = "MAX_DETECTIONS", PICTURE_SIZE = "PICTURE_SIZE" }
    outputs for Outputs { ANNOTATED_IMAGE = "ANNOTATED_IMAGE", HEATMAP = "HEATMAP" }
    image_upload for ImageUpload { IMAGE = "IMAGE" }
    identify for Identify { NAMES = "NAMES", PLATE_SOLVE = "PLATE_SOLVE" }
    solver for Solver { TIMEOUT = "TIMEOUT" }
    target for Target { NAME = "NAME" }
    target_state for TargetState { STATE = "STATE", DETAIL = "DETAIL" }
    results for Results { JSON = "JSON", SUMMARY = "SUMMARY" }
    stats for Stats {
        COUNT = "COUNT", MAX_CONFIDENCE = "MAX_CONFIDENCE", LATENCY_MS = "LATENCY_MS",
        FRAMES_PROCESSED = "FRAMES_PROCESSED", FRAMES_DROPPED = "FRAMES_DROPPED", WIDTH = "WIDTH", HEIGHT = "HEIGHT",
    }
    annotated for Annotated { IMAGE = "ANNOTATED_IMAGE" }
    heatmap for Heatmap { IMAGE = "HEATMAP" }
    quality for Quality {
        BACKGROUND = "BACKGROUND", NOISE = "NOISE", STARS = "STARS", FWHM = "FWHM", ELONGATION = "ELONGATION",
        TRAILS = "TRAILS",
    }
    verdict for Verdict { VERDICT = "VERDICT", REASONS = "REASONS" }
}

impl Device {
    /// A number element's value (0 when absent).
    pub(super) fn number(&self, e: El) -> f64 {
        props::number_value(self.props.get(e.prop), e.name)
    }

    /// Sets a number element.
    pub(super) fn set_number(&mut self, e: El, value: f64) {
        props::set_number(self.props.get_mut(e.prop), e.name, value);
    }

    /// A text element's value ("" when absent).
    pub(super) fn text(&self, e: El) -> &str {
        props::text_value(self.props.get(e.prop), e.name)
    }

    /// Sets a text element.
    pub(super) fn set_text(&mut self, e: El, value: &str) {
        props::set_text(self.props.get_mut(e.prop), e.name, value);
    }

    /// Whether a switch element is on.
    pub(super) fn is_on(&self, e: El) -> bool {
        props::is_on(self.props.get(e.prop), e.name)
    }
}
