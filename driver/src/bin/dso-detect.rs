//! `dso-detect`: analyse image files and folders, list detectors, evaluate on labelled images.

/// Transparent huge pages for the frame-sized buffers (`dso_detector::memory`).
#[global_allocator]
static ALLOCATOR: dso_detector::memory::LargeBlocks = dso_detector::memory::LargeBlocks;

fn main() -> std::process::ExitCode {
    dso_detector::cli::main_with(std::env::args_os())
}
