//! Frame triage end to end (issue 19): `DSO_QUALITY` and `DSO_VERDICT` for every frame through the real indiserver
//! and CCD simulator, with a warning when a frame fails; and `dso-detect triage` over a folder.

use std::process::Command;

use dso_detector::indi::{Message, PropertyState};

use dso_test_support::server::{expose, simulator_setup};

use dso_test_support::*;

use crate::DRIVER;

/// A clear frame: the test sky (stars of FWHM 3 px on 1200 ADU, 25 ADU of noise).
fn clear(seed: u64) -> Sky {
    Sky::render(1280, 1024, (900.0, 300.0), 22.0, seed)
}

/// The same sky behind clouds lit by a town: a third of the starlight, the sky 400 ADU brighter.
fn cloudy(seed: u64) -> Sky {
    let mut sky = clear(seed);
    for v in &mut sky.data {
        *v = ((*v as f32 - 1200.0) * 0.3 + 1600.0).clamp(0.0, 65535.0) as u16;
    }
    sky
}

/// Adds a satellite trail across the frame: 150 ADU peak (6 noise sigmas), 3 px wide.
fn with_trail(mut sky: Sky) -> Sky {
    let (x0, y0, x1, y1) = (100.0f32, 900.0f32, 1200.0f32, 150.0f32);
    let len = (x1 - x0).hypot(y1 - y0);
    let (nx, ny) = (-(y1 - y0) / len, (x1 - x0) / len);
    for y in 0..sky.height {
        for x in 0..sky.width {
            let (dx, dy) = (x as f32 - x0, y as f32 - y0);
            let t = (dx * (x1 - x0) + dy * (y1 - y0)) / (len * len);
            let d = dx * nx + dy * ny;
            if (0.0..=1.0).contains(&t) && d.abs() < 6.0 {
                let v = &mut sky.data[y * sky.width + x];
                *v = (*v as f32 + 150.0 * (-d * d / (2.0 * 1.3 * 1.3)).exp()).min(65535.0) as u16;
            }
        }
    }
    sky
}

fn quality_of(c: &mut Peer<std::net::TcpStream>, from: usize) -> (Message, Message) {
    let ours = |m: &Message| m.device() == Some("DSO Detector");
    let q = c.wait_from(from, secs(10), |m| is_set(m, "DSO_QUALITY") && ours(m));
    let v = c.wait_from(from, secs(10), |m| is_set(m, "DSO_VERDICT") && ours(m));
    (q, v)
}

#[test]
fn quality_and_verdict_are_published_for_every_frame_through_the_server() {
    let frames = tempfile::tempdir().unwrap();
    std::fs::write(frames.path().join("frame1.fits"), clear(11).to_fits()).unwrap();
    std::fs::write(frames.path().join("frame2.fits"), with_trail(cloudy(12)).to_fits()).unwrap();
    let Some((server, mut c)) = simulator_setup(DRIVER, frames.path()) else { return };
    for name in ["DSO_QUALITY", "DSO_VERDICT"] {
        c.wait_from(0, secs(5), |m| is_def(m, name));
    }
    let from = c.received.len();
    expose(&mut c, &server);
    let (q, v) = quality_of(&mut c, from);
    eprintln!("clear frame: {q:?}\n{v:?}");
    let n = |e: &str| number_of(&q, e).unwrap_or_else(|| panic!("DSO_QUALITY.{e} missing: {q:?}"));
    assert!((n("BACKGROUND") - 1200.0).abs() < 30.0, "{q:?}");
    assert!((n("NOISE") - 25.0).abs() < 4.0, "{q:?}");
    assert!(n("STARS") > 50.0, "{q:?}");
    assert!((2.0..4.5).contains(&n("FWHM")), "{q:?}");
    assert!((1.0..1.25).contains(&n("ELONGATION")), "{q:?}");
    assert_eq!(n("TRAILS"), 0.0, "{q:?}");
    assert_eq!(text_of(&v, "VERDICT").as_deref(), Some("good"), "{v:?}");
    assert_eq!(state_of(&v), Some(PropertyState::Ok));

    let from = c.received.len();
    expose(&mut c, &server);
    let (q, v) = quality_of(&mut c, from);
    eprintln!("cloudy frame with a trail: {q:?}\n{v:?}");
    assert_eq!(number_of(&q, "TRAILS"), Some(1.0), "{q:?}");
    assert_eq!(text_of(&v, "VERDICT").as_deref(), Some("reject"), "{v:?}");
    let reasons = text_of(&v, "REASONS").unwrap();
    assert!(reasons.contains("clouds: background +") && reasons.contains("trail in frame"), "{reasons}");
    assert_eq!(state_of(&v), Some(PropertyState::Alert));
    let warning = c.wait_from(from, secs(5), |m| {
        matches!(m, Message::Message(d) if d.message.as_deref().is_some_and(|t| t.starts_with("[WARNING] ") && t.contains("clouds?")))
    });
    eprintln!("{warning:?}");
}

const CLI: &str = env!("CARGO_BIN_EXE_dso-detect");

#[test]
fn the_cli_triages_a_folder_writes_csv_and_plot_and_moves_rejected_frames_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let night = dir.path().join("night");
    std::fs::create_dir(&night).unwrap();
    for i in 0..4 {
        std::fs::write(night.join(format!("f{i}.fits")), clear(30 + i).to_fits()).unwrap();
    }
    std::fs::write(night.join("f4.fits"), cloudy(40).to_fits()).unwrap();
    std::fs::write(night.join("f5.fits"), with_trail(clear(41)).to_fits()).unwrap();
    std::fs::write(night.join("f6.fits"), b"not a FITS file").unwrap();
    let (csv, png) = (dir.path().join("t.csv"), dir.path().join("t.png"));
    let run = |extra: &[&str]| {
        let mut args = vec!["triage", "--csv", csv.to_str().unwrap(), "--plot", png.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.push(night.to_str().unwrap());
        let out = Command::new(CLI).args(&args).env("HOME", dir.path()).output().expect("running dso-detect");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["--move-rejected"]);
    eprintln!("{out}\n{err}");
    // The broken file is reported and makes the exit code 1; the others are judged.
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("f6.fits: error"), "{err}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(lines[0].starts_with("file,width,height,background_adu"), "{text}");
    let row = |name: &str| *lines.iter().find(|l| l.contains(name)).unwrap_or_else(|| panic!("{name}: {text}"));
    for i in 0..4 {
        assert!(row(&format!("f{i}.fits")).ends_with(",good,,"), "{text}");
    }
    assert!(row("f4.fits").contains(",reject,") && row("f4.fits").contains("clouds"), "{text}");
    assert!(row("f5.fits").contains("trail in frame"), "{text}");
    // The trail's ends, as drawn: from (100, 900) to (1200, 150), within 40 px (3 % of its length).
    let ends: Vec<f32> = row("f5.fits").rsplit(',').next().unwrap().split(' ').map(|v| v.parse().unwrap()).collect();
    let near = |x: f32, y: f32, u: f32, v: f32| (x - u).hypot(y - v) < 40.0;
    let (a, b) = ((ends[0], ends[1]), (ends[2], ends[3]));
    assert!(
        (near(a.0, a.1, 100.0, 900.0) && near(b.0, b.1, 1200.0, 150.0))
            || (near(b.0, b.1, 100.0, 900.0) && near(a.0, a.1, 1200.0, 150.0)),
        "{ends:?}"
    );
    assert!(out.contains("6 frames: 4 good, 1 marginal, 1 rejected"), "{out}");
    let plot = image::open(&png).expect("the plot is a PNG");
    assert!(plot.width() >= 800 && plot.height() >= 400);
    // A dry run: nothing moved.
    assert!(out.contains("dry run") && night.join("f4.fits").exists() && !night.join("rejected").exists(), "{out}");
    let (_, out, _) = run(&["--move-rejected", "--yes"]);
    assert!(out.contains("moved"), "{out}");
    assert!(!night.join("f4.fits").exists() && night.join("rejected/f4.fits").exists());
    let left = std::fs::read_dir(&night).unwrap().count();
    assert_eq!(left, 7, "six files and the subfolder: nothing deleted");
}
