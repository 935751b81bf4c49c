//! A local plate solve with astrometry.net's `solve-field`, run as a child process.
//!
//! A plate solve is the most trusted way to know where a frame points when the frame carries no WCS of its own
//! (issue 13): the telescope's pointing is off by arc-minutes, a solve is right to an arc-second. astrometry.net is
//! the solver every Linux astronomy stack already packages (Debian `astrometry.net` and the
//! `astrometry-data-tycho2-*` index files, installed by `installers/deps.sh`; nothing is fetched at run time), so we
//! run it rather than reimplement it. Running it as a separate process also bounds it: it gets a hard wall-clock
//! timeout, its whole process group (`solve-field` starts `astrometry-engine` and friends) is killed on timeout and
//! reaped, its temporary files live in a fresh directory that is always removed, and its stdout is captured — the
//! driver's stdout is the INDI protocol.
//!
//! [`solve`] returns the solution's FITS WCS cards (TAN, usually with SIP terms) in pixel coordinates of the frame as
//! given: frame column 0 is FITS column 1, frame row 0 is FITS row 1. [`check`] says cheaply whether a solve can run.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dso_plugin_api::{Frame, HeaderCard};

mod fits_io;
mod process;

pub use fits_io::parse_header;
use fits_io::write_fits;
use process::run;
pub use process::stop_all;

/// Search radius around [`Hints::ra_deg`]/[`Hints::dec_deg`] when [`Hints::radius_deg`] is not given: wide enough
/// for a smart telescope's or a mount's pointing error (and JNow given as J2000), narrow enough to stay fast.
pub const DEFAULT_RADIUS_DEG: f64 = 5.0;

/// Longest side, in pixels, that source extraction works on when [`SolverConfig::downsample`] is `None`: a
/// 1000–1500 px field keeps enough stars for the tycho2 indices and extracts them in well under a second.
pub const AUTO_DOWNSAMPLE_SIDE: usize = 1500;

/// Where Debian's `solve-field` reads its index configuration when no [`SolverConfig::index_dir`] is given.
const DEFAULT_CONFIGS: &[&str] = &["/etc/astrometry.cfg", "/usr/local/astrometry/etc/astrometry.cfg"];
/// Where Debian's index packages put their files, looked at when no configuration names a directory.
const DEFAULT_INDEX_DIR: &str = "/usr/share/astrometry";

/// Hints that narrow the search; all optional. A hinted solve of a Seestar sub takes seconds, a blind one much
/// longer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hints {
    /// Right ascension of the field centre (J2000, degrees); used only together with [`Hints::dec_deg`].
    pub ra_deg: Option<f64>,
    /// Declination of the field centre (J2000, degrees); used only together with [`Hints::ra_deg`].
    pub dec_deg: Option<f64>,
    /// How far from that centre to search, degrees; [`DEFAULT_RADIUS_DEG`] when absent.
    pub radius_deg: Option<f64>,
    /// Smallest plausible pixel scale, arc-seconds per pixel of the frame as given.
    pub scale_low_arcsec: Option<f64>,
    /// Largest plausible pixel scale, arc-seconds per pixel of the frame as given.
    pub scale_high_arcsec: Option<f64>,
}

/// How to run the solver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SolverConfig {
    /// The `solve-field` program: a name looked up on `PATH`, or a path. Default `solve-field`.
    pub command: PathBuf,
    /// Wall-clock limit for one solve; the solver's process group is killed when it is reached. Default 60 s.
    pub timeout: Duration,
    /// A directory of index files to use instead of the solver's own configuration (`/etc/astrometry.cfg`).
    pub index_dir: Option<PathBuf>,
    /// Downsampling factor for source extraction; `None` chooses one from the frame size so that the longest side
    /// is at most [`AUTO_DOWNSAMPLE_SIDE`] pixels.
    pub downsample: Option<u32>,
}

impl Default for SolverConfig {
    fn default() -> Self {
        Self {
            command: PathBuf::from("solve-field"),
            timeout: Duration::from_secs(60),
            index_dir: None,
            downsample: None,
        }
    }
}

/// Why a frame was not solved. The messages are meant for the astronomer.
#[derive(Debug)]
pub enum SolveError {
    /// The solver program is missing or cannot be run; says which and how to install it.
    NotInstalled(String),
    /// No index files where the solver looks; says where it looked.
    NoIndex(String),
    /// The solver ran longer than [`SolverConfig::timeout`] and was stopped.
    Timeout(Duration),
    /// The solver ran but found no solution, or reported an error; carries the useful end of what it said.
    Failed(String),
    /// Writing the frame or reading the solution failed.
    Io(io::Error),
}

impl fmt::Display for SolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInstalled(why) => write!(f, "plate solver not available: {why}"),
            Self::NoIndex(why) => write!(f, "plate solver has no index files: {why}"),
            Self::Timeout(limit) => write!(
                f,
                "plate solve stopped after {:.0} s without a solution (too few stars, a field narrower than the \
                 index files cover, or wrong pointing/scale hints)",
                limit.as_secs_f64()
            ),
            Self::Failed(why) => write!(f, "plate solve failed: {why}"),
            Self::Io(e) => write!(f, "plate solve could not write or read its temporary files: {e}"),
        }
    }
}

impl std::error::Error for SolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for SolveError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// A solved frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// The solution's FITS WCS cards (`CTYPE1/2`, `CRVAL1/2`, `CRPIX1/2`, `CD1_1`…, SIP `A_ORDER`, `A_i_j`, `B_…`,
    /// `IMAGEW`/`IMAGEH`), in FITS pixel coordinates of the frame as given (frame row 0 = FITS row 1). The cards
    /// that describe the solver's output file itself (`SIMPLE`, `BITPIX`, `NAXIS…`, `EXTEND`) are left out.
    pub cards: Vec<HeaderCard>,
    /// Wall-clock time of the solve, including writing the frame.
    pub elapsed: Duration,
}

impl Solution {
    /// The value of a card, if present (keywords compare case-insensitively).
    pub fn value(&self, keyword: &str) -> Option<&str> {
        self.cards.iter().find(|c| c.keyword.eq_ignore_ascii_case(keyword)).map(|c| c.value.as_str())
    }

    /// The value of a card as a number, if present and numeric (FITS `D` exponents accepted).
    pub fn number(&self, keyword: &str) -> Option<f64> {
        self.value(keyword)?.replace(['D', 'd'], "E").parse().ok()
    }
}

/// Whether the solver can run here: the command exists and is executable, and index files are where it will look.
/// Cheap (no process is started), for availability messages.
pub fn check(config: &SolverConfig) -> Result<(), SolveError> {
    find_command(&config.command)?;
    let dirs = match &config.index_dir {
        Some(dir) => vec![dir.clone()],
        None => default_index_dirs(),
    };
    if dirs.iter().any(|d| has_index_files(d)) {
        return Ok(());
    }
    let list = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ");
    Err(SolveError::NoIndex(format!(
        "no index files (*.fits) in {list}; install astrometry-data-tycho2-07/08/09/10-19-littleendian \
         (fields of 22′ and wider) or set the index directory"
    )))
}

/// Solves a frame: writes its luminance as a 16-bit FITS file in a fresh temporary directory, runs `solve-field` on
/// it with the hints, and returns the WCS it found. Blocks for up to [`SolverConfig::timeout`]: call it from a
/// worker thread.
pub fn solve(frame: &Frame, hints: &Hints, config: &SolverConfig) -> Result<Solution, SolveError> {
    let start = Instant::now();
    check(config)?;
    // Removed when dropped, on every path out of this function (the solver is dead and reaped by then).
    let tmp = tempfile::Builder::new().prefix("dso-solve-").tempdir()?;
    let dir = tmp.path();
    let image = dir.join("frame.fits");
    write_fits(&image, frame)?;
    let wcs = dir.join("out.wcs");
    let backend = match &config.index_dir {
        Some(index) => {
            let path = dir.join("backend.cfg");
            std::fs::write(&path, format!("add_path {}\nautoindex\ninparallel\n", index.display()))?;
            Some(path)
        }
        None => None,
    };
    let downsample = config.downsample.unwrap_or_else(|| auto_downsample(frame.width, frame.height));
    let args = arguments(&image, dir, &wcs, backend.as_deref(), hints, downsample, config.timeout);
    let (out, err) = (dir.join("solve-field.out"), dir.join("solve-field.err"));
    let status = run(&config.command, &args, File::create(&out)?, File::create(&err)?, config.timeout)?;
    let said = || {
        let stderr = tail(&std::fs::read(&err).unwrap_or_default(), dir);
        if stderr.is_empty() {
            tail(&std::fs::read(&out).unwrap_or_default(), dir)
        } else {
            stderr
        }
    };
    if !status.success() {
        let text = said();
        if text.contains("at least one index") || text.contains("No index files") {
            return Err(SolveError::NoIndex(text));
        }
        return Err(SolveError::Failed(format!("{} ({status})", if text.is_empty() { "no message" } else { &text })));
    }
    let bytes = match std::fs::read(&wcs) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(SolveError::Failed(format!(
                "no solution: no match among the index stars (too few stars, a field narrower than 22′, or wrong \
                 hints); the solver said: {}",
                said()
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let cards: Vec<HeaderCard> = parse_header(&bytes)
        .into_iter()
        .filter(|c| !matches!(c.keyword.as_str(), "SIMPLE" | "BITPIX" | "EXTEND") && !c.keyword.starts_with("NAXIS"))
        .collect();
    if !cards.iter().any(|c| c.keyword == "CRVAL1") {
        return Err(SolveError::Failed("the solver's WCS file has no CRVAL1".into()));
    }
    Ok(Solution { cards, elapsed: start.elapsed() })
}

/// `solve-field`'s command line. Every output it does not need is turned off, and everything it writes goes into
/// `dir`.
fn arguments(
    image: &Path,
    dir: &Path,
    wcs: &Path,
    backend: Option<&Path>,
    hints: &Hints,
    downsample: u32,
    timeout: Duration,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |flag: &str, value: Option<OsString>| {
        args.push(flag.into());
        args.extend(value);
    };
    // --no-remove-lines and --uniformize 0 skip two Python helpers (removelines.py, uniformize.py) that cost about
    // a second each here, most of a hinted solve, and more on a Raspberry Pi.
    for flag in ["--overwrite", "--no-plots", "--no-verify", "--crpix-center", "--temp-axy", "--no-remove-lines"] {
        push(flag, None);
    }
    for flag in ["--new-fits", "--match", "--rdls", "--corr", "--solved", "--index-xyls"] {
        push(flag, Some("none".into()));
    }
    push("--uniformize", Some("0".into()));
    push("--dir", Some(dir.into()));
    push("--temp-dir", Some(dir.into()));
    push("--wcs", Some(wcs.into()));
    // The engine's own CPU limit, a little under our wall-clock one, so it usually stops by itself and says why.
    let secs = timeout.as_secs();
    push("--cpulimit", Some((secs.saturating_sub((secs / 10).max(2))).max(1).to_string().into()));
    if downsample > 1 {
        push("--downsample", Some(downsample.to_string().into()));
    }
    let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
    if let (Some(ra), Some(dec)) = (finite(hints.ra_deg), finite(hints.dec_deg)) {
        let radius = finite(hints.radius_deg).filter(|r| *r > 0.0).unwrap_or(DEFAULT_RADIUS_DEG);
        push("--ra", Some(ra.rem_euclid(360.0).to_string().into()));
        push("--dec", Some(dec.clamp(-90.0, 90.0).to_string().into()));
        push("--radius", Some(radius.to_string().into()));
    }
    let (low, high) = (finite(hints.scale_low_arcsec), finite(hints.scale_high_arcsec));
    if low.is_some() || high.is_some() {
        push("--scale-units", Some("arcsecperpix".into()));
        if let Some(low) = low {
            push("--scale-low", Some(low.to_string().into()));
        }
        if let Some(high) = high {
            push("--scale-high", Some(high.to_string().into()));
        }
    }
    if let Some(backend) = backend {
        push("--config", Some(backend.into()));
    }
    args.push(image.into());
    args
}

/// The downsampling factor that brings the longest side to at most [`AUTO_DOWNSAMPLE_SIDE`] pixels.
fn auto_downsample(width: usize, height: usize) -> u32 {
    u32::try_from(width.max(height).div_ceil(AUTO_DOWNSAMPLE_SIDE)).unwrap_or(u32::MAX).max(1)
}

/// The program the solver command names: a path as given, or the first match on `PATH`.
fn find_command(command: &Path) -> Result<PathBuf, SolveError> {
    let executable = |p: &Path| p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0);
    let install = "install astrometry.net (Debian: installers/deps.sh, or apt install astrometry.net) or set the \
                   solver path";
    if command.components().count() > 1 || command.is_absolute() {
        return match command.metadata() {
            Err(e) => Err(SolveError::NotInstalled(format!("{}: {e}; {install}", command.display()))),
            Ok(_) if !executable(command) => {
                Err(SolveError::NotInstalled(format!("{} is not an executable file", command.display())))
            }
            Ok(_) => Ok(command.to_path_buf()),
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(command))
        .find(|p| executable(p))
        .ok_or_else(|| SolveError::NotInstalled(format!("'{}' is not on PATH; {install}", command.display())))
}

/// The index directories the solver's default configuration names (`add_path` lines), or Debian's.
fn default_index_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = DEFAULT_CONFIGS
        .iter()
        .filter_map(|cfg| std::fs::read_to_string(cfg).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(|l| l.trim().strip_prefix("add_path").map(|d| PathBuf::from(d.trim())))
                .collect::<Vec<_>>()
        })
        .collect();
    if dirs.is_empty() {
        dirs.push(DEFAULT_INDEX_DIR.into());
    }
    dirs
}

/// Whether a directory holds at least one FITS file (astrometry.net's `autoindex` loads every index file there).
fn has_index_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.ends_with(".fits") || name.ends_with(".fits.fz")
        })
    })
}

/// The last few distinct non-empty lines of what the solver printed, for an error message; lines naming our
/// temporary directory (gone by the time anyone reads the message) are left out.
fn tail(bytes: &[u8], tmp: &Path) -> String {
    let text = String::from_utf8_lossy(bytes);
    let tmp = tmp.to_string_lossy();
    let mut lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.contains(&*tmp)).collect();
    lines.dedup();
    let tail = lines[lines.len().saturating_sub(4)..].join(" | ");
    match tail.char_indices().rev().nth(400) {
        Some((cut, _)) => format!("…{}", &tail[cut..]),
        None => tail,
    }
}

#[cfg(test)]
mod tests;
