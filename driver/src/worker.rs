//! Detection off the protocol loop, newest frame first.
//!
//! A detector can take longer than a camera's exposure, and the driver must keep answering `getProperties` and
//! switches meanwhile (libindi's astrometry driver solves on a thread for the same reason). The worker owns the
//! detectors and a one-frame waiting slot: a frame arriving while another waits replaces it and the replaced one is
//! counted as dropped. Memory is therefore bounded by three frames: one being received, one waiting, one in work.
//!
//! Only the detector in use keeps its models loaded. A model file replaced while the driver runs does not disturb
//! it (ONNX Runtime read the file when the detector was created); a client choosing a detector again (`DSO_DETECTOR`,
//! even the same one) has the next frame load its files anew, so a new model is taken without a restart and a broken
//! one is that frame's error (`tests/integration/faults_storage.rs`).

use std::sync::Arc;
use std::thread::JoinHandle;

use dso_models::decode;
use dso_models::registry::{self, CreateError};
use dso_plugin_api::Detector;

use crate::latest::Latest;
use crate::naming::Naming;
use crate::pipeline::{analyse, Analysis, Origin, Outputs, PipelineError, Source};
use crate::report::Selection;

/// One frame to analyse, with the settings in force when it arrived.
#[derive(Debug)]
pub struct Job {
    /// The encoded image, or where to read it.
    pub payload: Payload,
    /// Where it came from.
    pub source: Source,
    /// Detector name (lowercase).
    pub detector: String,
    /// Which choice of a detector by a client this job follows (it counts them): a new choice, of another detector
    /// or of the same one again, has the worker load the detector's models anew.
    pub choice: u64,
    /// Threshold and count.
    pub selection: Selection,
    /// Pictures to make.
    pub outputs: Outputs,
    /// How to name what is found.
    pub naming: Naming,
}

/// Where a job's image is.
#[derive(Debug)]
pub enum Payload {
    /// The bytes of a BLOB.
    Bytes(Vec<u8>),
    /// A file the camera saved on this machine (`UPLOAD_LOCAL`): read by the worker, so a slow SD card never holds
    /// up the protocol loop, and only as [`crate::local_file`] allows.
    File {
        /// The path the camera (or someone posing as it) announced.
        path: std::path::PathBuf,
        /// The camera's upload directory, when it said.
        upload_dir: Option<std::path::PathBuf>,
    },
}

impl Payload {
    /// The bytes, reading the file when there is one (at most `max_bytes`).
    pub fn into_bytes(self, max_bytes: u64) -> Result<Vec<u8>, crate::local_file::ReadError> {
        match self {
            Payload::Bytes(b) => Ok(b),
            Payload::File { path, upload_dir } => {
                crate::local_file::read_frame(&path, upload_dir.as_deref(), max_bytes)
            }
        }
    }
}

/// What the worker reports back, in order: `Started` then `Finished` for every job it takes.
#[derive(Debug)]
pub enum Outcome {
    /// Work began on a frame from this source.
    Started {
        /// Where the frame came from.
        source: Origin,
    },
    /// A slow detector (XRAI) reports how far it is with the frame in work: `Started`, then any number of these
    /// (whole percents, each larger than the last), then `Finished`.
    Progress {
        /// Where the frame came from.
        source: Origin,
        /// Percent done, 0–100.
        percent: u8,
    },
    /// The frame is done, or failed with a message for the astronomer.
    Finished {
        /// Where the frame came from.
        source: Origin,
        /// The detector used.
        detector: String,
        /// The result.
        result: Result<Box<Analysis>, PipelineError>,
    },
}

/// The detection thread and its waiting slot.
pub struct Worker {
    slot: Arc<Latest<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread; `report` is called from it for every outcome.
    pub fn spawn(limits: decode::Limits, report: impl Fn(Outcome) + Send + Sync + 'static) -> Self {
        let slot = Arc::new(Latest::default());
        let theirs = Arc::clone(&slot);
        let report: Report = Arc::new(report);
        let thread = std::thread::Builder::new()
            .name("dso-worker".into())
            .spawn(move || run(&theirs, &limits, &report))
            .expect("spawning the worker thread");
        Self { slot, thread: Some(thread) }
    }

    /// Queues a frame. Returns true when it replaced a frame that was still waiting (that frame is dropped).
    pub fn submit(&self, job: Job) -> bool {
        self.slot.put(job)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.slot.close();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// After this long without a frame, the memory kept for the next frame is given back (`release_kept_memory`):
/// while frames come back to back their buffers reuse the last frame's memory (no page faults: a 4096² YOLO frame's
/// overhead around the model 98–114 → 52–66 ms, docs/YOLO.md); between the exposures of a slow cadence the driver
/// sits at the memory of an idle one.
pub const IDLE_RELEASE: std::time::Duration = std::time::Duration::from_secs(2);

/// Gives back the frame plane kept by `decode::raw::recycle` and the blocks kept by `memory::reuse`.
fn release_kept_memory() {
    dso_models::decode::raw::release_spare();
    crate::memory::release_free_memory();
}

/// Where outcomes go; shared with the progress callbacks the detectors hold.
type Report = Arc<dyn Fn(Outcome) + Send + Sync>;

fn run(slot: &Latest<Job>, limits: &decode::Limits, report: &Report) {
    let mut loaded: Option<Loaded> = None;
    while let Some(job) = slot.take_or_idle(IDLE_RELEASE, release_kept_memory) {
        report(Outcome::Started { source: job.source.origin.clone() });
        let result = detector_for(&mut loaded, &job.detector, job.choice).map_err(PipelineError::from).and_then(|d| {
            d.set_progress(progress(Arc::clone(report), job.source.origin.clone()));
            let bytes = job.payload.into_bytes(limits.max_bytes)?;
            analyse(&bytes, &job.source, d.as_mut(), job.selection, job.outputs, &job.naming, limits).map(Box::new)
        });
        report(Outcome::Finished { source: job.source.origin, detector: job.detector, result });
    }
}

/// A detector's progress callback for one frame: fractions become whole percents, sent only when they grow.
fn progress(report: Report, source: Origin) -> Box<dyn FnMut(f32) + Send> {
    let mut last = 0u8;
    Box::new(move |fraction: f32| {
        let percent = (fraction.clamp(0.0, 1.0) * 100.0).floor() as u8;
        if percent > last {
            last = percent;
            report(Outcome::Progress { source: source.clone(), percent });
        }
    })
}

/// The detector the worker holds, and the client's choice it was created for.
struct Loaded {
    name: String,
    choice: u64,
    detector: Box<dyn Detector>,
}

/// The detector by name, created on first use and kept while the client's choice stands (models stay loaded between
/// frames). After a new choice the one held is dropped first — only one detector's models are ever in memory — and
/// the chosen one is created again, reading its model files again.
fn detector_for<'a>(
    loaded: &'a mut Option<Loaded>,
    name: &str,
    choice: u64,
) -> Result<&'a mut Box<dyn Detector>, CreateError> {
    let current = loaded.as_ref().is_some_and(|l| l.name == name && l.choice == choice);
    if !current {
        if loaded.take().is_some() {
            // A model's weights and ONNX Runtime's buffers were hundreds of MB: give the pages back now.
            dso_models::decode::raw::release_spare();
            crate::memory::release_free_memory();
        }
        let detector = registry::create(name)?;
        return Ok(&mut loaded.insert(Loaded { name: name.to_owned(), choice, detector }).detector);
    }
    Ok(&mut loaded.as_mut().expect("checked just above").detector)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn progress_sends_whole_percents_only_when_they_grow() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let report: Report = Arc::new(move |o| {
            if let Outcome::Progress { source, percent } = o {
                sink.lock().unwrap().push((source, percent));
            }
        });
        let camera = Origin::Camera { device: "CCD".into(), property: "CCD1".into() };
        let mut cb = progress(report, camera.clone());
        for f in [0.0, 0.101, 0.105, 0.5, 0.4, f32::NAN, 1.0, 1.5] {
            cb(f);
        }
        let got: Vec<u8> = seen.lock().unwrap().iter().map(|(_, p)| *p).collect();
        assert_eq!(got, vec![10, 50, 100]);
        assert!(seen.lock().unwrap().iter().all(|(s, _)| *s == camera));
    }
}
