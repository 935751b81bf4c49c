//! DSO Detector's detectors and the image operations they share.
//!
//! Everything here is independent of INDI: the driver and the `dso-detect` command line both decode bytes with
//! [`decode`], stretch with [`stretch`], run a [`Detector`](dso_plugin_api::Detector) from [`registry`], and draw
//! the result with [`annotate`]. Keeping these in one library is what lets the CLI and the driver give the same
//! answer for the same file. Third-party detectors join the built-in ones through [`plugins`].

pub mod annotate;
pub mod decode;
pub mod heatmap;
pub mod naive;
pub mod onnx;
pub mod ops;
pub mod pix2pix;
pub mod plugins;
pub mod quality;
pub mod registry;
pub mod settings;
pub mod sky;
pub mod stretch;
pub mod xrai;
pub mod yolo;

/// Says why a test is skipped — or fails it when `DSO_REQUIRE_DATA=1` (CI sets it: there, `../shared/data` and
/// everything `installers/deps.sh` installs are present, and a skip would hide a broken setup).
#[cfg(test)]
pub(crate) fn skip(why: impl std::fmt::Display) {
    if std::env::var("DSO_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("required but missing (DSO_REQUIRE_DATA=1): {why}");
    }
    eprintln!("SKIPPED: {why}");
}
