//! The detectors this build offers, by name: one list the driver turns into `DSO_DETECTOR` elements and the CLI
//! into `dso-detect list`.
//!
//! A detector that needs something missing (a model file, the ONNX Runtime library) is still listed, with the reason
//! it cannot run, so the astronomer sees *why* instead of a missing switch. Plugins (see [`crate::plugins`]) follow
//! the built-in detectors, usable or not, and are created through the same [`create`].
//!
//! The reasons are typed ([`Unavailable`], [`CreateError`]) on the ONNX layer's and the plugins' errors, so a caller
//! can tell a missing runtime from a refused plugin; their text is what the astronomer reads.

use dso_plugin_api::Detector;

use crate::naive::NaiveDetector;
use crate::onnx::OnnxError;
use crate::plugins::PluginError;

/// Why a listed detector cannot run on this machine.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// An ONNX detector: its model or ONNX Runtime is missing.
    #[error(transparent)]
    Onnx(#[from] OnnxError),
    /// A plugin that was refused or disabled.
    #[error(transparent)]
    Plugin(#[from] PluginError),
}

/// Why [`create`] made no detector.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    /// No detector has this name.
    #[error("unknown detector '{name}' (available: {})", known.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names listed.
        known: Vec<String>,
    },
    /// It is listed but cannot run here (the reason the list gives).
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// An ONNX detector whose model failed its checks.
    #[error(transparent)]
    Onnx(#[from] OnnxError),
    /// A plugin that failed to start.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// Listed, but neither built in nor a plugin (a bug).
    #[error("detector '{0}' is listed but not built in")]
    NotBuiltIn(String),
}

/// One entry of the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetectorInfo {
    /// Lowercase name (`"naive"`); the INDI element is its upper case.
    pub name: String,
    /// What a person sees as the switch label.
    pub label: String,
    /// One line on what it does.
    pub description: String,
    /// `Err(reason)` when it cannot run on this machine.
    pub available: Result<(), Unavailable>,
}

impl DetectorInfo {
    /// The `DSO_DETECTOR` element name: the upper-cased name.
    pub fn element(&self) -> String {
        self.name.to_ascii_uppercase()
    }
}

/// Every detector of this build, the default first, then the plugins found on this machine.
pub fn detectors() -> Vec<DetectorInfo> {
    let mut all = builtin();
    all.extend(plugins().entries.iter().map(|p| DetectorInfo {
        name: p.name.clone(),
        label: match &p.loaded {
            Ok(plugin) => format!("{} (plugin {})", p.name, plugin.version),
            Err(_) => format!("{} (plugin)", p.name),
        },
        description: match &p.loaded {
            Ok(plugin) => format!("{} [{}]", plugin.description, p.path.display()),
            Err(_) => format!("plugin [{}]", p.path.display()),
        },
        available: p.available().map_err(Unavailable::from),
    }));
    all
}

/// The plugins of this process (discovered on the first call), with the built-in names reserved.
pub fn plugins() -> &'static crate::plugins::Plugins {
    let names: Vec<String> = builtin().into_iter().map(|d| d.name).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    crate::plugins::all(&names)
}

/// The detectors compiled into this build, the default first.
fn builtin() -> Vec<DetectorInfo> {
    vec![
        DetectorInfo {
            name: "naive".into(),
            label: "Naive (classical)".into(),
            description: "star removal, Canny edges and contours: fast, no model (Parisot & Jaziri 2024, technique 1)"
                .into(),
            available: Ok(()),
        },
        DetectorInfo {
            name: "yolo".into(),
            label: "YOLO (neural network)".into(),
            description: "a YOLO model run with ONNX Runtime on the whole frame and on tiles; the shipped model or \
                      [yolo] model in ~/.config/dso-detector/dso-detector.conf"
                .into(),
            available: crate::yolo::AVAILABILITY.cached().map_err(Unavailable::from),
        },
        DetectorInfo {
            name: "xrai".into(),
            label: "XRAI (explainable)".into(),
            description: "a ResNet classifier on tiles and an XRAI heat map of where it looked, boxes from the map; \
                          slow: seconds per tile with an object on a Raspberry Pi (Parisot & Jaziri 2024, technique 3)"
                .into(),
            available: crate::xrai::detector::AVAILABILITY.cached().map_err(Unavailable::from),
        },
        DetectorInfo {
            name: "pix2pix".into(),
            label: "Pix2Pix (fast heat map)".into(),
            description: "a Pix2Pix generator imitating the XRAI heat map in one pass per tile, boxes from the map \
                          (Parisot & Jaziri 2024, technique 4)"
                .into(),
            available: crate::pix2pix::AVAILABILITY.cached().map_err(Unavailable::from),
        },
    ]
}

/// The name of the default detector.
pub fn default_name() -> &'static str {
    "naive"
}

/// Finds a detector by name, case-insensitively (so INDI element names work too).
pub fn find(name: &str) -> Option<DetectorInfo> {
    detectors().into_iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

/// Creates a detector by name (case-insensitive); the error says why it cannot run.
pub fn create(name: &str) -> Result<Box<dyn Detector>, CreateError> {
    let info = find(name).ok_or_else(|| CreateError::Unknown {
        name: name.into(),
        known: detectors().into_iter().map(|d| d.name).collect(),
    })?;
    info.available.clone()?;
    match info.name.as_str() {
        "naive" => Ok(Box::new(NaiveDetector::default())),
        "yolo" => Ok(Box::new(crate::yolo::YoloDetector::from_config()?)),
        "xrai" => Ok(Box::new(crate::xrai::detector::XraiDetector::new()?)),
        "pix2pix" => Ok(Box::new(crate::pix2pix::Pix2PixDetector::new()?)),
        other => match plugins().entries.iter().find(|p| p.name == other) {
            Some(plugin) => Ok(plugin.create()?),
            None => Err(CreateError::NotBuiltIn(other.into())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_listed_and_creatable() {
        assert_eq!(detectors()[0].name, default_name());
        let d = create("NAIVE").expect("naive detector");
        assert_eq!(d.name(), "naive");
    }

    #[test]
    fn heat_map_detectors_follow_yolo_and_are_created_when_available() {
        let names: Vec<String> = builtin().into_iter().map(|d| d.name).collect();
        assert_eq!(names, ["naive", "yolo", "xrai", "pix2pix"]);
        for name in ["xrai", "pix2pix"] {
            match find(name).expect("listed").available {
                Ok(()) => assert_eq!(create(name).expect("created").name(), name),
                Err(why) => assert_eq!(create(name).err().expect("an error").to_string(), why.to_string()),
            }
        }
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = create("nope").err().expect("error");
        assert!(err.to_string().contains("naive"), "{err}");
    }
}
