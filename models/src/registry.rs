//! The detectors this build offers, by name: one list the driver turns into `DSO_DETECTOR` elements and the CLI
//! into `dso-detect list`.
//!
//! A detector that needs something missing (a model file, the ONNX Runtime library) is still listed, with the reason
//! it cannot run, so the astronomer sees *why* instead of a missing switch.

use dso_plugin_api::{Detector, Error};

use crate::naive::NaiveDetector;

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
    pub available: Result<(), String>,
}

impl DetectorInfo {
    /// The `DSO_DETECTOR` element name: the upper-cased name.
    pub fn element(&self) -> String {
        self.name.to_ascii_uppercase()
    }
}

/// Every detector of this build, the default first.
pub fn detectors() -> Vec<DetectorInfo> {
    vec![DetectorInfo {
        name: "naive".into(),
        label: "Naive (classical)".into(),
        description: "star removal, Canny edges and contours: fast, no model (Parisot & Jaziri 2024, technique 1)"
            .into(),
        available: Ok(()),
    }]
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
pub fn create(name: &str) -> Result<Box<dyn Detector>, Error> {
    let info = find(name).ok_or_else(|| {
        let known: Vec<String> = detectors().into_iter().map(|d| d.name).collect();
        Error::new(format!("unknown detector '{name}' (available: {})", known.join(", ")))
    })?;
    info.available.clone().map_err(Error::new)?;
    match info.name.as_str() {
        "naive" => Ok(Box::new(NaiveDetector::default())),
        other => Err(Error::new(format!("detector '{other}' is listed but not built in"))),
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
    fn unknown_name_lists_the_known_ones() {
        let err = create("nope").err().expect("error");
        assert!(err.message().contains("naive"), "{err}");
    }
}
