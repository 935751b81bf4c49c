//! What DSO Detector's integration tests, benchmarks and examples share, in one crate instead of source files
//! included by path: synthetic sky frames with a known truth ([`sky`]), the seeded generator ([`Rng`], the
//! product's), NumPy's `.npy`/`.npz` reader for reference fixtures ([`npy`]), the Python baselines of the benchmarks
//! ([`python`]), skips that CI turns into failures ([`data`]), and — with the `indi` feature, on by default — INDI
//! peers ([`peer`]), the driver on a socketpair ([`driver`]), a real indiserver ([`server`]) and the drivers it runs ([`process`]), the messages tests send
//! and ask about ([`xml`]) and C libraries built for a test ([`cc`]).
//!
//! Test code, `publish = false`: helpers panic with a message where a test would.

pub mod data;
pub mod npy;
pub mod python;
pub mod sky;

#[cfg(feature = "indi")]
pub mod cc;
#[cfg(feature = "indi")]
pub mod driver;
#[cfg(feature = "indi")]
pub mod peer;
#[cfg(feature = "indi")]
pub mod process;
#[cfg(feature = "indi")]
pub mod server;
#[cfg(feature = "indi")]
pub mod xml;

pub use data::{real_fits, runs_here, shared_dir, skip};
/// The one seeded generator of tests, benchmarks, examples and the detectors' tuning renders (SplitMix64).
pub use dso_models::naive::synth::Rng;
pub use sky::Sky;

#[cfg(feature = "indi")]
pub use driver::{memfd_with, Driver};
#[cfg(feature = "indi")]
pub use peer::{Peer, ReadTimeout};
#[cfg(feature = "indi")]
pub use server::Server;
#[cfg(feature = "indi")]
pub use xml::*;

/// Seconds.
pub fn secs(s: u64) -> std::time::Duration {
    std::time::Duration::from_secs(s)
}
