//! Records where the driver's time goes for one detector (issue 17): the driver on a socketpair as indiserver runs
//! it, frames sent as INDI 2.x sends them (inline base64), `perf record` running the driver and recording only the
//! frames after a warm-up (so loading the models is not in the profile). `installers/flamegraphs.sh` runs it for
//! every detector and turns the recordings into the flame graphs of docs/BENCHMARKS.md.
//!
//! `cargo run --release --example profile_frames -- <detector> <width>x<height> <frames> <samples/s> <perf.data>`

use std::io::Read as _;
use std::time::Duration;

use dso_test_support::*;

/// The driver binary beside this example's folder (`target/release/examples/..`): cargo gives examples no
/// `CARGO_BIN_EXE_*`, so build it first (`cargo build --release -p dso-detector`).
fn driver() -> String {
    let exe = std::env::current_exe().expect("this example's path");
    let dir = exe.parent().and_then(|examples| examples.parent()).expect("target/<profile>/examples");
    dir.join("indi_dso_detector").to_string_lossy().into_owned()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [detector, size, frames, hz, out] = &args[..] else {
        eprintln!("usage: profile_frames <detector: NAIVE|YOLO|PIX2PIX|XRAI> <W>x<H> <frames> <samples/s> <perf.data>");
        std::process::exit(2);
    };
    let (w, h) = size.split_once('x').map(|(w, h)| (w.parse().unwrap(), h.parse().unwrap())).expect("<W>x<H>");
    let frames: usize = frames.parse().expect("a number of frames");
    let sky = Sky::render(w, h, (w as f32 * 0.6, h as f32 * 0.4), w as f32 / 60.0, 5);
    let blob = camera_blob_one_line("CCD Simulator", ".fits", &sky.to_fits());
    // The warm-up frame loads the models; a small one, so that XRAI's does not take minutes.
    let small = Sky::render(640, 512, (384.0, 205.0), 11.0, 5);
    let warm_up = camera_blob_one_line("CCD Simulator", ".fits", &small.to_fits());

    // perf starts the driver (so the threads it spawns for each frame are followed) with its events disabled, and
    // is told through a control FIFO to record only the frames after the warm-up.
    let dir = tempfile::tempdir().unwrap();
    let (ctl, ack) = (dir.path().join("ctl"), dir.path().join("ack"));
    for fifo in [&ctl, &ack] {
        nix::unistd::mkfifo(fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
    }
    let wrapper = dir.path().join("driver-under-perf");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec perf record -q -F {hz} --call-graph dwarf,32768 -D -1 --control fifo:{},{} -o {out} -- {}\n",
            ctl.display(),
            ack.display(),
            driver()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut d = Driver::start(wrapper.to_str().unwrap());
    d.connect();
    d.time_frames();
    d.switch("DSO_DETECTOR", detector, true);
    let frame = |d: &mut Driver, blob: &str| d.annotated_ms(blob, Duration::from_secs(1800));
    eprintln!("warm-up frame (640×512): {:.0} ms", frame(&mut d, &warm_up));
    let control = |command: &str| {
        std::fs::write(&ctl, format!("{command}\n")).expect("perf's control FIFO");
        let mut answer = [0u8; 16];
        std::fs::File::open(&ack).and_then(|mut f| f.read(&mut answer)).expect("perf's answer");
    };
    control("enable");
    let times: Vec<String> = (0..frames).map(|_| format!("{:.0}", frame(&mut d, &blob))).collect();
    control("disable");
    eprintln!("{detector} {w}×{h}: {} ms per frame under perf", times.join(", "));
    // Closing its stdin ends the driver; perf then finishes its file and exits.
    drop(d);
}
