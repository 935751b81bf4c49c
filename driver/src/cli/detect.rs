//! `dso-detect detect`: analyse files and folders, write YOLO text, JSON, annotated JPEG and heat maps per image.
//! One bad file is reported and the batch goes on; the exit code says whether any failed.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime};

use anyhow::Context;
use clap::Args;
use dso_models::{annotate, decode, registry};
use dso_plugin_api::Detection;

use super::batch::{self, Shard};
use super::{ensure_dir, files};
use crate::indi::format_timestamp;
use crate::naming::{self, Naming};
use crate::pipeline::{analyse_frame_with_half, Analysis, Origin, Outputs, PipelineError, Source};
use crate::report::{Selection, DEFAULT_CONFIDENCE, DEFAULT_MAX_DETECTIONS};

/// Arguments of `dso-detect detect`.
#[derive(Args, Debug)]
pub struct DetectArgs {
    /// Detector name (see `dso-detect list`).
    #[arg(long, default_value = registry::default_name())]
    detector: String,
    /// Minimum confidence, 0–1.
    #[arg(long, default_value_t = DEFAULT_CONFIDENCE)]
    confidence: f32,
    /// Maximum number of detections per image.
    #[arg(long, default_value_t = DEFAULT_MAX_DETECTIONS)]
    max_detections: usize,
    /// Write `<stem>.txt` in YOLO format (`class cx cy w h conf`, normalised) here.
    #[arg(long)]
    yolo_dir: Option<PathBuf>,
    /// Write `<stem>.json` (the driver's DSO_RESULTS.JSON schema) here.
    #[arg(long)]
    json_dir: Option<PathBuf>,
    /// Write `<stem>.jpg`, the stretched image with boxes, here.
    #[arg(long)]
    annotated_dir: Option<PathBuf>,
    /// Longest side of the annotated images and heat maps in pixels (larger frames are binned to fit); 0 = full
    /// size. Detections always use the full frame.
    #[arg(long, default_value_t = annotate::DEFAULT_MAX_SIDE)]
    max_side: usize,
    /// Write `<stem>.png` heat maps here (detectors that make one).
    #[arg(long)]
    heatmap_dir: Option<PathBuf>,
    #[command(flatten)]
    naming: NamingArgs,
    /// Images analysed at once, each job with its own detector and one frame at a time (0 = one job per core).
    /// With more than one, results are printed as images finish.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Analyse only shard K of N (`K/N`, from 0/N to N-1/N): every N-th image of the sorted list from the K-th, so
    /// that N hosts given the same folder cover it once (GNU parallel, Slurm array jobs; docs/BENCHMARKS.md).
    #[arg(long)]
    shard: Option<Shard>,
    /// Image files or folders of images.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

/// How `detect` and `identify` name objects.
#[derive(Args, Debug, Clone)]
pub struct NamingArgs {
    /// Do not name objects (no WCS, catalogue or plate solve).
    #[arg(long)]
    no_identify: bool,
    /// Never run the plate solver (frames without a WCS are named from their pointing only, roughly).
    #[arg(long)]
    no_solve: bool,
    /// Plate-solve time limit, seconds (1–3600) [default: `timeout_s` under `[solver]` in the settings file, 60]
    #[arg(long, value_parser = solve_timeout)]
    solve_timeout: Option<f64>,
    /// The target to look for (default: the frame's OBJECT keyword).
    #[arg(long, default_value = "")]
    target: String,
}

impl NamingArgs {
    /// The pipeline's naming settings.
    pub fn naming(&self) -> Naming {
        let settings = dso_models::settings::get();
        Naming {
            enabled: !self.no_identify && settings.identify.enabled,
            solve: !self.no_solve && settings.solver.enabled,
            blind: !self.no_solve,
            target: self.target.clone(),
            ..Naming::off()
        }
    }

    /// The solver's settings: the program, index files and default time limit from the settings file (`[solver]`),
    /// as the driver has them; `--solve-timeout` overrides the limit.
    pub fn solver(&self) -> dso_models::sky::solve::SolverConfig {
        let s = &dso_models::settings::get().solver;
        dso_models::sky::solve::SolverConfig {
            command: s.command.clone(),
            index_dir: s.index_dir.clone(),
            timeout: std::time::Duration::from_secs_f64(self.solve_timeout.unwrap_or(s.timeout_s).clamp(1.0, 3600.0)),
            ..Default::default()
        }
    }
}

/// `--solve-timeout`: a number of seconds from 1 to 3600 (`nan` or `inf` would not make a time limit).
fn solve_timeout(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (1.0..=3600.0).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a number of seconds from 1 to 3600")),
    }
}

/// Decodes and analyses one file, plate-solving in line when naming asks for it (the CLI may wait; the driver
/// does this in the background). The annotated image is drawn again with the solved names.
pub fn analyse_file(
    path: &Path,
    detector: &mut dyn dso_plugin_api::Detector,
    selection: Selection,
    outputs: Outputs,
    naming_args: &NamingArgs,
) -> Result<Analysis, PipelineError> {
    let bytes = std::fs::read(path)?;
    let source = Source {
        origin: Origin::File(path.to_path_buf()),
        format: decode::format_from_path(path),
        timestamp: format_timestamp(SystemTime::now()),
        received: Instant::now(),
    };
    let (frame, half) = decode::decode_with_half(&bytes, &source.format, &decode::Limits::default())?;
    drop(bytes);
    let mut an = analyse_frame_with_half(&frame, half, &source, detector, selection, outputs, &naming_args.naming())?;
    if let Some(pending) = an.pending.take() {
        match naming::solve_pending(&pending, &naming_args.solver()) {
            Ok(solved) => {
                let latency = an.report.latency_ms;
                an.report = solved.report;
                an.report.update = None;
                an.report.latency_ms = latency;
                if outputs.annotated {
                    // Redrawn with the names, and with the trails the first picture had.
                    let trails = an.quality.as_ref().map_or(&[][..], |m| m.trails.as_slice());
                    an.annotated = Some(
                        annotate::annotated_jpeg_with_trails(
                            &frame,
                            &an.report.picture_labels(),
                            trails,
                            85,
                            outputs.max_side,
                        )
                        .map_err(PipelineError::Annotated)?,
                    );
                }
            }
            Err(e) => an.report.field_note = Some(e.to_string()),
        }
    }
    // The next image's samples go into this one's memory (`decode::raw::recycle`).
    decode::raw::recycle(frame);
    Ok(an)
}

/// The YOLO class id of a label: the order of the project's classes (galaxy, nebula, cluster); class-less
/// detections (`dso`) are class 0 like the single-class DeepSpaceYolo labels.
pub fn yolo_class(label: &str) -> usize {
    ["galaxy", "nebula", "cluster"].iter().position(|c| c.eq_ignore_ascii_case(label)).unwrap_or(0)
}

/// YOLO prediction lines, as `yolo predict --save-txt --save-conf` writes them.
pub fn yolo_lines(dets: &[Detection], width: usize, height: usize) -> String {
    let (w, h) = (width as f32, height as f32);
    dets.iter()
        .map(|d| {
            format!(
                "{} {:.6} {:.6} {:.6} {:.6} {:.4}\n",
                yolo_class(&d.label),
                (d.x + d.width / 2.0) / w,
                (d.y + d.height / 2.0) / h,
                d.width / w,
                d.height / h,
                d.confidence
            )
        })
        .collect()
}

pub(super) fn run(a: &DetectArgs) -> anyhow::Result<bool> {
    for d in [&a.yolo_dir, &a.json_dir, &a.annotated_dir, &a.heatmap_dir] {
        ensure_dir(d)?;
    }
    let mut inputs = files::expand(&a.inputs);
    if let Some(shard) = a.shard {
        inputs = shard.select(inputs);
    }
    let selection = Selection { confidence: a.confidence, max_detections: a.max_detections };
    let outputs = Outputs {
        annotated: a.annotated_dir.is_some(),
        heatmap: a.heatmap_dir.is_some(),
        max_side: a.max_side,
        // Trails are drawn on the annotated images, as the driver draws them.
        triage: a.annotated_dir.is_some(),
    };
    let bar = progress(inputs.len());
    let failed = AtomicUsize::new(0);
    let jobs = batch::job_count(a.jobs, inputs.len());
    let make = || registry::create(&a.detector).map_err(|e| anyhow::anyhow!("{e}"));
    batch::for_each(&inputs, jobs, make, |detector, path| {
        bar.set_message(path.display().to_string());
        let result = analyse_file(path, detector.as_mut(), selection, outputs, &a.naming);
        let result = result.map_err(|e| e.to_string());
        match result.and_then(|an| write_outputs(a, path, &an).map_err(|e| format!("{e:#}")).map(|_| an)) {
            Ok(an) => bar.suspend(|| println!("{}: {}", path.display(), an.report.summary())),
            Err(e) => {
                failed.fetch_add(1, Ordering::Relaxed);
                bar.suspend(|| eprintln!("{}: error: {e}", path.display()));
            }
        }
        bar.inc(1);
    })?;
    bar.finish_and_clear();
    let failed = failed.into_inner();
    if failed > 0 {
        eprintln!("{failed} of {} images failed", inputs.len());
    }
    Ok(failed == 0)
}

fn write_outputs(a: &DetectArgs, path: &Path, an: &Analysis) -> anyhow::Result<()> {
    let stem = files::stem(path);
    let (w, h) = (an.report.frame.width, an.report.frame.height);
    let write = |dir: &Option<PathBuf>, ext: &str, bytes: &[u8]| -> anyhow::Result<()> {
        if let Some(d) = dir {
            let out = d.join(format!("{stem}.{ext}"));
            std::fs::write(&out, bytes).with_context(|| format!("cannot write {}", out.display()))?;
        }
        Ok(())
    };
    write(&a.yolo_dir, "txt", yolo_lines(&an.detections, w, h).as_bytes())?;
    write(&a.json_dir, "json", an.report.to_json().as_bytes())?;
    if let Some(jpeg) = &an.annotated {
        write(&a.annotated_dir, "jpg", jpeg)?;
    }
    if let Some(png) = &an.heatmap {
        write(&a.heatmap_dir, "png", png)?;
    }
    Ok(())
}

/// A progress bar on a terminal with more than one image; hidden otherwise (pipes and CI logs stay clean).
pub(super) fn progress(n: usize) -> indicatif::ProgressBar {
    if n > 1 && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(n as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {eta} {wide_msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_timeouts_are_seconds_from_1_to_3600() {
        assert_eq!(solve_timeout("90"), Ok(90.0));
        for bad in ["nan", "inf", "-1", "0.5", "3601", "soon"] {
            assert!(solve_timeout(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn yolo_lines_are_normalised_centres() {
        let d = Detection { x: 10.0, y: 20.0, width: 20.0, height: 40.0, label: "nebula".into(), confidence: 0.5 };
        assert_eq!(yolo_lines(&[d], 100, 200), "1 0.200000 0.200000 0.200000 0.200000 0.5000\n");
        assert_eq!(yolo_class("dso"), 0);
        assert_eq!(yolo_class("Cluster"), 2);
    }
}
