//! Tests of the plate solver. Real Seestar frames go through the real `solve-field` here (skipped with a message
//! when `../shared/data/real-fits` or the solver is absent, failed instead when `DSO_REQUIRE_DATA=1`); the failure
//! modes and the reading back of a solution, through stand-in scripts, are in [`fake`].

use std::path::PathBuf;
use std::time::{Duration, Instant};

use dso_plugin_api::{Encoding, Frame};

use super::*;
use crate::decode::{decode, Limits};
use fake::{running_in_group, script};

/// M 94 (NGC 4736), OpenNGC J2000.
const M94: (f64, f64) = (192.7213, 41.1203);

use crate::skip;

fn real_frame(name: &str) -> Option<Frame> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/real-fits")).join(name);
    match std::fs::read(&path) {
        Ok(bytes) => Some(decode(&bytes, ".fits", &Limits::default()).expect("the real frame decodes")),
        Err(e) => {
            skip(format!("{} not readable ({e}): the shared data folder is absent", path.display()));
            None
        }
    }
}

fn solver_present(config: &SolverConfig) -> bool {
    match check(config) {
        Ok(()) => true,
        Err(e) => {
            skip(format!("{e}"));
            false
        }
    }
}

/// Pointing and scale from a Seestar header, as the driver will take them: RA/DEC, and the pixel scale from
/// FOCALLEN and XPIXSZ (206.265″ per µm/mm) within ±10 %.
fn header_hints(frame: &Frame) -> Hints {
    let num = |k: &str| frame.header_value(k).and_then(|v| v.parse::<f64>().ok());
    let scale = 206.265 * num("XPIXSZ").unwrap() * num("XBINNING").unwrap_or(1.0) / num("FOCALLEN").unwrap();
    Hints {
        ra_deg: num("RA"),
        dec_deg: num("DEC"),
        radius_deg: Some(2.0),
        scale_low_arcsec: Some(scale * 0.9),
        scale_high_arcsec: Some(scale * 1.1),
    }
}

/// A minimal TAN (gnomonic) WCS, SIP ignored: enough to check a solution to an arc-minute.
struct Tan {
    crval: (f64, f64),
    crpix: (f64, f64),
    /// Degrees per pixel: `[[CD1_1, CD1_2], [CD2_1, CD2_2]]`.
    cd: [[f64; 2]; 2],
}

impl Tan {
    /// From CD cards, or PC with CDELT.
    fn from_cards(num: impl Fn(&str) -> Option<f64>) -> Tan {
        let cd = |i: usize, j: usize| {
            num(&format!("CD{i}_{j}")).unwrap_or_else(|| {
                let pc = num(&format!("PC{i}_{j}")).unwrap_or(if i == j { 1.0 } else { 0.0 });
                pc * num(&format!("CDELT{i}")).expect("CD or CDELT")
            })
        };
        Tan {
            crval: (num("CRVAL1").unwrap(), num("CRVAL2").unwrap()),
            crpix: (num("CRPIX1").unwrap(), num("CRPIX2").unwrap()),
            cd: [[cd(1, 1), cd(1, 2)], [cd(2, 1), cd(2, 2)]],
        }
    }

    /// FITS pixel (1-based) → RA, Dec in degrees.
    fn pixel_to_sky(&self, x: f64, y: f64) -> (f64, f64) {
        let (dx, dy) = (x - self.crpix.0, y - self.crpix.1);
        let xi = (self.cd[0][0] * dx + self.cd[0][1] * dy).to_radians();
        let eta = (self.cd[1][0] * dx + self.cd[1][1] * dy).to_radians();
        let (ra0, dec0) = (self.crval.0.to_radians(), self.crval.1.to_radians());
        let denom = dec0.cos() - eta * dec0.sin();
        let ra = ra0 + xi.atan2(denom);
        let dec = (dec0.sin() + eta * dec0.cos()).atan2(xi.hypot(denom));
        (ra.to_degrees().rem_euclid(360.0), dec.to_degrees())
    }

    /// RA, Dec in degrees → FITS pixel (1-based).
    fn sky_to_pixel(&self, ra: f64, dec: f64) -> (f64, f64) {
        let (ra0, dec0) = (self.crval.0.to_radians(), self.crval.1.to_radians());
        let (ra, dec) = (ra.to_radians(), dec.to_radians());
        let cos_c = dec0.sin() * dec.sin() + dec0.cos() * dec.cos() * (ra - ra0).cos();
        let xi = (dec.cos() * (ra - ra0).sin() / cos_c).to_degrees();
        let eta = ((dec0.cos() * dec.sin() - dec0.sin() * dec.cos() * (ra - ra0).cos()) / cos_c).to_degrees();
        let [[a, b], [c, d]] = self.cd;
        let det = a * d - b * c;
        (self.crpix.0 + (d * xi - b * eta) / det, self.crpix.1 + (a * eta - c * xi) / det)
    }
}

/// Angular distance between two positions, degrees.
fn separation(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (ra1, dec1, ra2, dec2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((dec2 - dec1) / 2.0).sin().powi(2) + dec1.cos() * dec2.cos() * ((ra2 - ra1) / 2.0).sin().powi(2);
    (2.0 * h.sqrt().asin()).to_degrees()
}

/// Checks a solution of a real frame against its header: the centre within 1° of the pointing; M 94 inside the
/// M 94 frames; the frame's own WCS (NGC 7023) agreeing to 1′ at the centre and 2′ at the corners.
fn check_solution(name: &str, frame: &Frame, solution: &Solution) {
    let header = |k: &str| frame.header_value(k).and_then(|v| v.parse::<f64>().ok());
    let tan = Tan::from_cards(|k| solution.number(k));
    let pointing = (header("RA").unwrap(), header("DEC").unwrap());
    let centre = tan.pixel_to_sky((frame.width as f64 + 1.0) / 2.0, (frame.height as f64 + 1.0) / 2.0);
    assert!(separation(centre, pointing) < 1.0, "{name}: centre {centre:?} vs pointing {pointing:?}");
    assert_eq!(solution.number("IMAGEW"), Some(frame.width as f64), "{name}: solved at full size");
    if frame.header_value("OBJECT") == Some("M 94") {
        let (x, y) = tan.sky_to_pixel(M94.0, M94.1);
        let inside = (0.5..frame.width as f64 + 0.5).contains(&x) && (0.5..frame.height as f64 + 0.5).contains(&y);
        assert!(inside, "{name}: M 94 projects to FITS pixel ({x:.0}, {y:.0}), outside the frame");
        eprintln!("{name}: M 94 at FITS pixel ({x:.0}, {y:.0})");
    }
    if header("CRVAL1").is_some() {
        let own = Tan::from_cards(header);
        let (w, h) = (frame.width as f64, frame.height as f64);
        for (x, y, limit) in [((w + 1.0) / 2.0, (h + 1.0) / 2.0, 1.0), (1.0, 1.0, 2.0), (w, 1.0, 2.0), (1.0, h, 2.0)] {
            let off = separation(own.pixel_to_sky(x, y), tan.pixel_to_sky(x, y)) * 60.0;
            eprintln!("{name}: at FITS pixel ({x}, {y}) the solution is {off:.2}′ from the frame's own WCS");
            assert!(off < limit, "{name}: {off:.2}′ from the frame's own WCS at ({x}, {y})");
        }
    }
}

const REAL: [&str; 4] = [
    "Light_M94_10.0s_IRCUT_20250326-212046.fit",
    "Light_M94_10.0s_IRCUT_20250326-212057.fit",
    "Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs.fit",
    "Light_NGC7023_10.0s_IRCUT_20240730-224448_wcs.fit",
];

/// Real solves one at a time, so that their times mean something (printed, not asserted).
static REAL_SOLVER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Measured here (2 cores shared with other builds, load ~6; solve-field 0.93, tycho2 07–19, downsample 2):
/// 1.1–1.3 s per Seestar frame with pointing and scale hints, 6–8 s blind ([`real_seestar_frames_solve_blind`]).
/// With solve-field's Python helpers (remove-lines, uniformize) on, as by default: 3–5 s hinted, 27–55 s blind.
#[test]
fn real_seestar_frames_solve_with_hints() {
    let _one = REAL_SOLVER.lock().unwrap_or_else(|e| e.into_inner());
    let config = SolverConfig::default();
    if !solver_present(&config) {
        return;
    }
    for name in REAL {
        let Some(frame) = real_frame(name) else { return };
        // The frame's own WCS is not a hint: only its pointing and scale are.
        let solution = solve(&frame, &header_hints(&frame), &config).unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("TIMING {name}: solved with hints in {:.1} s", solution.elapsed.as_secs_f64());
        check_solution(name, &frame, &solution);
    }
    // Our own backend configuration (`--config`) instead of the system's, pointing at the same index files.
    let name = REAL[0];
    let Some(frame) = real_frame(name) else { return };
    let own = SolverConfig { index_dir: Some(default_index_dirs()[0].clone()), ..config };
    let solution = solve(&frame, &header_hints(&frame), &own).unwrap_or_else(|e| panic!("{name}, own config: {e}"));
    eprintln!("TIMING {name}: solved with hints and our backend config in {:.1} s", solution.elapsed.as_secs_f64());
    check_solution(name, &frame, &solution);
}

/// A frame without stars: the real solver gives up and says so.
#[test]
fn a_real_solver_on_an_empty_frame_fails_with_a_message() {
    let _one = REAL_SOLVER.lock().unwrap_or_else(|e| e.into_inner());
    let config = SolverConfig { timeout: Duration::from_secs(30), ..SolverConfig::default() };
    if !solver_present(&config) {
        return;
    }
    let frame = Frame::new(300, 200, vec![vec![0.1; 300 * 200]], Encoding::Linear).unwrap();
    let err = solve(&frame, &Hints::default(), &config).unwrap_err();
    eprintln!("empty frame: {err}");
    assert!(matches!(err, SolveError::Failed(_)), "{err:?}");
}

/// The real solver, stopped in the middle of a blind solve: nothing of its process group (solve-field,
/// astrometry-engine) is left running. A wrapper records the group id and `exec`s solve-field under it.
#[test]
fn a_real_solver_is_stopped_at_the_timeout() {
    let _one = REAL_SOLVER.lock().unwrap_or_else(|e| e.into_inner());
    if !solver_present(&SolverConfig::default()) {
        return;
    }
    let Some(frame) = real_frame(REAL[0]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let wrapper = script(dir.path(), &format!("echo $$ > '{}'\nexec solve-field \"$@\"", pid_file.display()));
    // Short enough that even a blind solve whose index files are cached cannot finish (one did in under 3 s).
    let timeout = Duration::from_millis(1500);
    let config = SolverConfig { command: wrapper, timeout, ..SolverConfig::default() };
    let watcher = std::thread::spawn(move || {
        std::thread::sleep(timeout - Duration::from_millis(500));
        let pgid: i32 = std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok()?;
        Some((pgid, running_in_group(pgid)))
    });
    let start = Instant::now();
    let err = solve(&frame, &Hints::default(), &config).unwrap_err();
    assert!(matches!(err, SolveError::Timeout(_)), "{err:?}");
    eprintln!("real solver stopped after {:.2} s", start.elapsed().as_secs_f64());
    let (pgid, before) = watcher.join().unwrap().expect("the wrapper recorded its process group");
    let names = |procs: &[String]| -> Vec<String> {
        procs.iter().filter_map(|s| Some(s[s.find('(')? + 1..s.rfind(')')?].to_string())).collect()
    };
    eprintln!("the solver's group before the timeout: {:?}", names(&before));
    assert!(!before.is_empty());
    let deadline = Instant::now() + Duration::from_secs(2);
    while !running_in_group(pgid).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(names(&running_in_group(pgid)), Vec::<String>::new(), "processes left in the solver's group");
}

/// Blind solves (no pointing, no scale): what the driver falls back to when a frame says nothing about where it
/// points. 6–8 s a frame here, so all four run by default.
#[test]
fn real_seestar_frames_solve_blind() {
    let _one = REAL_SOLVER.lock().unwrap_or_else(|e| e.into_inner());
    let config = SolverConfig { timeout: Duration::from_secs(300), ..SolverConfig::default() };
    if !solver_present(&config) {
        return;
    }
    for name in REAL {
        let Some(frame) = real_frame(name) else { return };
        let solution = solve(&frame, &Hints::default(), &config).unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("TIMING {name}: solved without hints in {:.1} s", solution.elapsed.as_secs_f64());
        check_solution(name, &frame, &solution);
    }
}

#[path = "fake_tests.rs"]
mod fake;
