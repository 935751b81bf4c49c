//! The INDI driver `indi_dso_detector` and the `dso-detect` command line, as a library so tests and benchmarks reach
//! the same code the binaries run.

pub mod indi;
