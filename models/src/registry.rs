//! The detectors this build offers, by name: one list the driver turns into `DSO_DETECTOR` elements and the CLI
//! into `dso-detect list`.
