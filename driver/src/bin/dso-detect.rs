//! `dso-detect`: analyse image files and folders, list detectors, evaluate on labelled images.

fn main() -> std::process::ExitCode {
    dso_detector::cli::main_with(std::env::args_os())
}
