//! DSO Detector's INDI driver (`indi_dso_detector`) and offline command line (`dso-detect`), as a library so the
//! tests and benchmarks reach the very code the binaries run.
//!
//! Layers, one module each, from the wire up: [`indi`] (XML and file descriptors ↔ messages), [`props`] and
//! [`device`] (the INDI device and its properties), [`worker`] and [`pipeline`] (frames → detections, off the
//! protocol loop; [`local_file`] reads the frames a camera saved), [`report`] (what results look like), [`config`]
//! (libindi's configuration file), [`run`] (the event loop tying them together), and [`cli`] and [`eval`] for
//! `dso-detect`.
//!
//! stdout belongs to the INDI protocol in the driver: printing is denied everywhere but in the CLI.
#![deny(clippy::print_stdout)]

#[allow(clippy::print_stdout)]
pub mod cli;
pub mod config;
pub mod device;
pub mod eval;
pub mod indi;
pub mod latest;
pub mod local_file;
pub mod memory;
pub mod naming;
pub mod pipeline;
pub mod props;
pub mod report;
pub mod run;
pub mod solver;
pub mod worker;
