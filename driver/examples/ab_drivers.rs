//! A/B of driver builds on the same frames: each build runs as indiserver runs it (on a socketpair, `Driver` of the
//! test kit), and the same generated 16-bit FITS frame is sent to each in turn, round after round, so that the
//! host's swings (±30 % on the project's shared VM) fall on every build alike. Prints each build's median time from
//! the first byte sent to its annotated picture, every frame's time, and its memory (high-water mark, and RSS just
//! after the last frame and 3 s later, when the kept memory has been given back).
//!
//! ```text
//! cp target/release/indi_dso_detector /tmp/before   # … change, rebuild …
//! DRIVERS=/tmp/before:target/release/indi_dso_detector cargo run --release -p dso-detector --example ab_drivers
//! ```
//! `SIZE` (square frame side, default 4096), `ROUNDS` (default 6, after one warm-up round), `MEMFD=1` (send the
//! frame as an attached memfd, as indiserver 1.9.9 does, instead of inline base64), `DET` (an element of
//! `DSO_DETECTOR`, e.g. `YOLO`; default the naive detector), `PAUSE_MS` (between frames, default 100).

use std::time::{Duration, Instant};

use dso_test_support::*;

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let Ok(drivers) = std::env::var("DRIVERS") else {
        eprintln!("usage: DRIVERS=/path/a:/path/b [SIZE=4096] [ROUNDS=6] [MEMFD=1] [DET=YOLO] ab_drivers");
        std::process::exit(2);
    };
    let drivers: Vec<&str> = drivers.split(':').collect();
    let (size, rounds, pause) = (env_or("SIZE", 4096usize), env_or("ROUNDS", 6usize), env_or("PAUSE_MS", 100u64));
    let memfd = std::env::var_os("MEMFD").is_some();
    let sky = Sky::render(size, size, (size as f32 * 0.6, size as f32 * 0.4), size as f32 / 60.0, 5);
    let fits = sky.to_fits();
    let inline = camera_blob_one_line("CCD Simulator", ".fits", &fits);
    let attached = camera_blob_attached("CCD Simulator", ".fits", fits.len());
    let mut started: Vec<Driver> = drivers
        .iter()
        .map(|path| {
            let mut d = Driver::start(path);
            d.connect();
            d.time_frames();
            if let Ok(detector) = std::env::var("DET") {
                d.switch("DSO_DETECTOR", &detector, true);
            }
            d
        })
        .collect();
    let mut times = vec![Vec::new(); started.len()];
    // Round 0 is the warm-up: models load, memory is mapped for the first time.
    for round in 0..=rounds {
        for (d, t) in started.iter_mut().zip(&mut times) {
            let from = d.peer.received.len();
            let start = Instant::now();
            if memfd {
                d.send_with_fd(&attached, &memfd_with(&fits));
            } else {
                d.peer.send(&inline);
            }
            d.peer.wait_from(from, Duration::from_secs(120), |m| is_set(m, "DSO_ANNOTATED"));
            if round > 0 {
                t.push(start.elapsed().as_secs_f64() * 1000.0);
            }
            std::thread::sleep(Duration::from_millis(pause));
        }
    }
    let now: Vec<(f64, f64)> = started.iter().map(|d| (d.peak_rss_mib(), d.memory_mib("VmRSS:"))).collect();
    std::thread::sleep(Duration::from_secs(3));
    let transport = if memfd { "memfd" } else { "base64" };
    println!("{size}×{size} 16-bit, {transport}, {rounds} rounds after a warm-up");
    for (((path, d), t), (hwm, rss)) in drivers.iter().zip(&started).zip(&times).zip(&now) {
        let mut sorted = t.clone();
        sorted.sort_by(f64::total_cmp);
        let each: Vec<String> = t.iter().map(|ms| format!("{ms:.0}")).collect();
        println!(
            "{path}: median {:.0} ms (frames {}); high-water {hwm:.0} MiB, RSS {rss:.0} MiB after the last frame, \
             {:.0} MiB 3 s later",
            sorted[sorted.len() / 2],
            each.join(", "),
            d.memory_mib("VmRSS:")
        );
    }
}
