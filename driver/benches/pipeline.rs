//! `cargo bench -p dso-detector --bench pipeline`: the driver end to end on 16-bit frames, against the same naive
//! pipeline written in Python (numpy + OpenCV), on the same frames, side by side.
//!
//! For each frame size and each way a BLOB reaches a driver (inline base64 as INDI 2.x sends it, a memfd as Debian
//! 12's indiserver 1.9.9 sends it), a fresh driver process receives the frame and publishes results and the
//! annotated JPEG; the time is from the first byte sent to the `DSO_ANNOTATED` BLOB received, and the memory is
//! the driver's peak RSS. Each case runs `ROUNDS` times on one driver; the median is printed. The Python baseline
//! (`dso_training.tools.bench_naive`) base64-decodes, parses, stretches, removes stars, finds edges and contours, and
//! writes the JPEG, binned to the driver's default picture size, in a fresh interpreter per case.

use std::time::{Duration, Instant};

use dso_test_support::{python, *};

/// The driver binary built by this package.
const DRIVER: &str = env!("CARGO_BIN_EXE_indi_dso_detector");

const ROUNDS: usize = 5;

/// Median milliseconds and peak RSS (MiB) of the driver for one frame and transport.
fn driver_case(fits: &[u8], memfd: bool) -> (f64, f64) {
    let mut d = Driver::start(DRIVER);
    d.connect();
    // The frames are generated, with no real sky to solve (as `installers/demo.sh` does, the plate solve is off).
    d.time_frames();
    let inline = camera_blob_one_line("CCD Simulator", ".fits", fits);
    let attached = camera_blob_attached("CCD Simulator", ".fits", fits.len());
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        if !memfd {
            times.push(d.annotated_ms(&inline, Duration::from_secs(120)));
            continue;
        }
        let fd = memfd_with(fits);
        let from = d.peer.received.len();
        let t = Instant::now();
        d.send_with_fd(&attached, &fd);
        d.peer.wait_from(from, Duration::from_secs(120), |m| is_set(m, "DSO_ANNOTATED"));
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[ROUNDS / 2], d.peak_rss_mib())
}

/// Median milliseconds the driver takes to answer a `getProperties` while it analyses `fits` (sent after its Busy
/// result): the protocol loop must not wait for the worker.
fn answer_while_busy(fits: &[u8]) -> f64 {
    let mut d = Driver::start(DRIVER);
    d.connect();
    d.switch("DSO_IDENTIFY", "PLATE_SOLVE", false);
    let frame = camera_blob_one_line("CCD Simulator", ".fits", fits);
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        let from = d.peer.received.len();
        d.peer.send(&frame);
        d.peer.wait_from(from, Duration::from_secs(120), |m| {
            is_set(m, "DSO_RESULTS") && state_of(m) == Some(dso_detector::indi::PropertyState::Busy)
        });
        let asked = d.peer.received.len();
        let t = Instant::now();
        d.peer.send("<getProperties version=\"1.7\" device=\"DSO Detector\" name=\"DSO_SETTINGS\"/>");
        d.peer.wait_from(asked, Duration::from_secs(120), |m| is_def(m, "DSO_SETTINGS"));
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        d.peer.wait_from(asked, Duration::from_secs(120), |m| {
            is_set(m, "DSO_RESULTS") && state_of(m) == Some(dso_detector::indi::PropertyState::Ok)
        });
    }
    times.sort_by(f64::total_cmp);
    times[ROUNDS / 2]
}

/// The Python pipeline's median milliseconds and peak RSS with OpenCV on `threads` threads, or why it could not run.
fn python_case(path: &std::path::Path, threads: usize) -> Result<(f64, f64), String> {
    let (rounds, side) = (ROUNDS.to_string(), dso_models::annotate::DEFAULT_MAX_SIDE.to_string());
    let threads = threads.to_string();
    let args = [path.to_str().unwrap(), "--rounds", &rounds, "--max-side", &side, "--threads", &threads];
    let nums = python::figures("bench_naive", &args)?;
    match nums.as_slice() {
        [ms, mib, ..] => Ok((*ms, *mib)),
        _ => Err(format!("unexpected output: {nums:?}")),
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would too: only run the figures when asked for them.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    println!("DSO Detector pipeline benchmark: receive + decode + stretch + naive detection + annotated JPEG");
    println!(
        "{} cores; median of {ROUNDS} frames; peak RSS of the process",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    // The driver uses every core; the Python pipeline is run with OpenCV on one thread and on every core (numpy's
    // part stays on one either way), so the ratio is not only the count of cores.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "| frame | driver, base64 | driver, memfd | Python, OpenCV 1 thread | Python, OpenCV {cores} threads | Python / driver (base64) |"
    );
    println!("|---|---|---|---|---|---|");
    let mut last = Vec::new();
    for (w, h) in [(1280, 1024), (4096, 4096)] {
        let sky = Sky::render(w, h, (w as f32 * 0.6, h as f32 * 0.4), w as f32 / 60.0, 5);
        let fits = sky.to_fits();
        let path = dir.path().join(format!("frame_{w}x{h}.fits"));
        std::fs::write(&path, &fits).unwrap();
        let (b64_ms, b64_mib) = driver_case(&fits, false);
        let (fd_ms, fd_mib) = driver_case(&fits, true);
        let cell = |py: &Result<(f64, f64), String>| match py {
            Ok((ms, mib)) => (format!("{ms:.0} ms, {mib:.0} MiB"), format!("{:.2}×", ms / b64_ms)),
            Err(e) => (format!("not run: {e}"), "–".into()),
        };
        let (one, one_ratio) = cell(&python_case(&path, 1));
        let (all, all_ratio) = cell(&python_case(&path, cores));
        println!(
            "| {w}×{h} 16-bit | {b64_ms:.0} ms, {b64_mib:.0} MiB | {fd_ms:.0} ms, {fd_mib:.0} MiB | {one} | {all} | {one_ratio} / {all_ratio} |"
        );
        last = fits;
    }
    println!();
    println!(
        "getProperties answered in {:.2} ms (median of {ROUNDS}) while a 4096×4096 frame was being analysed",
        answer_while_busy(&last)
    );
}
