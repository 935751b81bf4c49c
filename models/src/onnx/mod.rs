//! What every ONNX detector shares: the runtime, opening and checking a model, finding its file, and saying whether
//! the detector can run here.
//!
//! The YOLO detector ([`crate::yolo`]), the XRAI classifier ([`crate::xrai`]) and the Pix2Pix generator
//! ([`crate::pix2pix`]) all run ONNX graphs. They used to borrow these pieces from the YOLO module; here they are
//! one layer under all three, so a fix to runtime discovery, a shape check or a lookup rule reaches every detector:
//! 1. [`runtime`]: where the ONNX Runtime library is found, and the process's one environment;
//! 2. [`model`]: a model file opened, its inputs and outputs checked against [`Dim`]s, errors naming the file;
//! 3. [`lookup`]: where model files are found (the astronomer's own, else the shipped one);
//! 4. [`Availability`]: "can this detector run here?", asked once per process for the detector list;
//! 5. [`error`]: [`OnnxError`], one error type for all of the above, so every ONNX detector fails in the same words.

pub mod error;
pub mod lookup;
pub mod model;
pub mod runtime;

use std::sync::OnceLock;

pub use error::{ModelProblem, OnnxError, PortMismatch};
pub use lookup::{find_model, first_shipped, shipped_candidates};
pub use model::{Dim, Model, Port};
pub use runtime::{environment, ORT_VERSION};

/// Whether an ONNX detector can run on this machine: its model files are found (`files`, which says where it looked
/// when they are not) and ONNX Runtime loads. The model itself is checked when the detector is created, so a bad file
/// is reported with its precise problem then.
#[derive(Debug)]
pub struct Availability {
    files: fn() -> Result<(), OnnxError>,
    cached: OnceLock<Result<(), OnnxError>>,
}

impl Availability {
    /// The availability of a detector whose model files `files` looks for.
    pub const fn new(files: fn() -> Result<(), OnnxError>) -> Self {
        Self { files, cached: OnceLock::new() }
    }

    /// Checks now.
    pub fn check(&self) -> Result<(), OnnxError> {
        (self.files)()?;
        environment().map(|_| ())
    }

    /// [`Self::check`] done once per process: the detector list is built often and ONNX Runtime is loaded once
    /// anyway, so a model file added later is seen when the driver or CLI starts again.
    pub fn cached(&self) -> Result<(), OnnxError> {
        self.cached.get_or_init(|| self.check()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_are_the_reason_before_the_runtime_is_tried() {
        static NONE: Availability =
            Availability::new(|| Err(OnnxError::Settings("no model: a.onnx is in none of /x".into())));
        assert_eq!(NONE.check().unwrap_err().to_string(), "no model: a.onnx is in none of /x");
        assert_eq!(NONE.cached(), NONE.check());
    }
}
