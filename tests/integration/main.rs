//! DSO Detector's integration tests, one binary with topic modules (as ripgrep does): raw INDI XML spoken to the
//! driver binary, and the real `indiserver` with the real `indi_simulator_ccd` from Debian. What they share lives in
//! the test kit, `tests/support` (`dso-test-support`).

/// The driver binary built by this package: cargo names it to integration tests only, so the kit takes it as an
/// argument.
const DRIVER: &str = env!("CARGO_BIN_EXE_indi_dso_detector");

mod arrival;
mod batch;
mod blobs;
mod cli;
mod config;
mod faults;
mod faults_storage;
mod heatmaps;
mod identify;
mod malformed;
mod plugins;
mod protocol;
mod security;
mod server;
mod triage;
mod yolo;
