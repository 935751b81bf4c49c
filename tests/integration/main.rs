//! DSO Detector's integration tests, one binary with topic modules (as ripgrep does): raw INDI XML spoken to the
//! driver binary, and the real `indiserver` with the real `indi_simulator_ccd` from Debian.

mod support;

mod arrival;
mod cli;
mod config;
mod heatmaps;
mod identify;
mod plugins;
mod protocol;
mod security;
mod server;
mod triage;
mod yolo;
