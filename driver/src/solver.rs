//! Plate solving off the protocol loop and off the detection worker: a frame's detections are published first and
//! its names follow when `solve-field` finishes (seconds), so a solve never delays a frame's results or the next
//! frame's detection.
//!
//! Like the worker, a one-frame waiting slot (the newest frame waiting for a solve wins) and one thread. The
//! solver process itself runs with a hard timeout in [`dso_models::sky::solve`].

use std::sync::Arc;
use std::thread::JoinHandle;

use dso_models::sky::solve::SolverConfig;

use crate::latest::Latest;
use crate::naming::{self, SolvedReport};
use crate::pipeline::PendingSolve;

/// A frame to solve.
#[derive(Debug)]
pub struct SolveJob {
    /// The frame's source (`CCD Simulator.CCD1`, `upload`).
    pub source: String,
    /// What the solve needs.
    pub pending: Box<PendingSolve>,
    /// How to run the solver.
    pub config: SolverConfig,
}

/// What the solver thread reports.
#[derive(Debug)]
pub struct Solved {
    /// The frame's source.
    pub source: String,
    /// True when the solve had no hints (no pointing, no earlier solution).
    pub blind: bool,
    /// The named report and the solution, or why there are no names.
    pub result: Result<SolvedReport, naming::SolveFailed>,
}

/// The solver thread.
pub struct Solver {
    slot: Arc<Latest<SolveJob>>,
    thread: Option<JoinHandle<()>>,
}

impl Solver {
    /// Starts the thread; `report` is called from it when a solve ends.
    pub fn spawn(report: impl Fn(Solved) + Send + 'static) -> Self {
        let slot: Arc<Latest<SolveJob>> = Arc::new(Latest::default());
        let theirs = Arc::clone(&slot);
        let thread = std::thread::Builder::new()
            .name("dso-solver".into())
            .spawn(move || {
                while let Some(job) = theirs.take() {
                    let result = naming::solve_pending(&job.pending, &job.config);
                    report(Solved { source: job.source, blind: job.pending.hints.is_none(), result });
                }
            })
            .expect("spawning the solver thread");
        Self { slot, thread: Some(thread) }
    }

    /// Queues a frame; true when it replaced one still waiting (that frame keeps its detections, unnamed).
    pub fn submit(&self, job: SolveJob) -> bool {
        self.slot.put(job)
    }
}

impl Drop for Solver {
    fn drop(&mut self) {
        self.slot.close();
        // The driver is exiting: end a solve in progress now rather than leave solve-field running for its timeout.
        dso_models::sky::solve::stop_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
