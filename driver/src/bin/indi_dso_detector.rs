//! `indi_dso_detector`: the INDI driver binary. indiserver starts it with no arguments; the device name comes from
//! `INDIDEV` (KStars and INDI Web Manager always set it) and the configuration file from `INDICONFIG`.
#![deny(clippy::print_stdout)]

use dso_detector::{config, device, run};

/// Transparent huge pages for the frame-sized buffers (`dso_detector::memory`).
#[global_allocator]
static ALLOCATOR: dso_detector::memory::LargeBlocks = dso_detector::memory::LargeBlocks;

fn main() {
    // Before any thread: the worker, the reader and the detectors' bands all allocate.
    dso_detector::memory::limit_arenas();
    run::init_logging();
    run::stop_on_signals();
    let name = std::env::var("INDIDEV").ok().filter(|n| !n.trim().is_empty()).unwrap_or(device::DEFAULT_NAME.into());
    let mut device = device::Device::new(&name, config::path_for(&name));
    run::announce(&mut device);
    if let Err(e) = run::run_stdio(device, run::Limits::default()) {
        log::error!("driver stopped: {e}");
        std::process::exit(1);
    }
}
