//! `dso-detect`: the offline side of DSO Detector. The same decoding, detectors and reports as the driver, over the
//! thousands of frames a night leaves behind — to tag or discard them, find what was captured, and measure a detector
//! on labelled images.

mod batch;
mod detect;
mod evaluate;
mod files;
mod identify;
mod names_eval;
mod objects_eval;
mod triage;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use detect::yolo_class;

/// Finds deep-sky objects in astronomical images.
#[derive(Parser, Debug)]
#[command(name = "dso-detect", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Analyse images (FITS incl. .fits.fz, XISF, JPEG, PNG; files or folders) and write the results.
    Detect(detect::DetectArgs),
    /// List the available detectors, one per line, name first.
    List,
    /// Measure a detector on labelled images (YOLO label files).
    Eval(evaluate::EvalArgs),
    /// Where images point on the sky and which catalogued (OpenNGC) objects they contain.
    Identify(identify::IdentifyArgs),
    /// Judge a night's frames (clouds, focus, tracking, satellite trails): CSV, summary, plot, rejected frames
    /// moved aside on request.
    Triage(triage::TriageArgs),
}

/// Runs the command line; the exit code says whether everything succeeded.
pub fn main_with(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    // Plugins report what they repair or refuse through `log`; warnings and errors reach the terminal.
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .target(env_logger::Target::Stderr)
        .try_init();
    let result = match cli.command {
        Command::Detect(a) => detect::run(&a),
        Command::List => {
            list();
            Ok(true)
        }
        Command::Eval(a) => evaluate::run(&a),
        Command::Identify(a) => identify::run(&a),
        Command::Triage(a) => triage::run(&a),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("dso-detect: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn list() {
    for problem in &dso_models::registry::plugins().problems {
        eprintln!("dso-detect: plugins: {problem}");
    }
    for d in dso_models::registry::detectors() {
        match d.available {
            Ok(()) => println!("{}\tavailable\t{}", d.name, d.description),
            Err(why) => println!("{}\tunavailable: {why}\t{}", d.name, d.description),
        }
    }
}

/// Creates an output folder when one is asked for.
fn ensure_dir(dir: &Option<PathBuf>) -> anyhow::Result<()> {
    if let Some(d) = dir {
        std::fs::create_dir_all(d).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", d.display()))?;
    }
    Ok(())
}
