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
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use dso_plugin_api::{Frame, HeaderCard};
use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::sync::{Mutex, PoisonError};

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

/// The keyword cards of a FITS header (80-character cards up to `END`): keyword from columns 1–8, value after the
/// `= ` of columns 9–10 with string quotes and the `/ comment` removed. Commentary cards (`COMMENT`, `HISTORY`,
/// blank) are skipped. Enough for the WCS files astrometry.net writes; not a general FITS parser.
pub fn parse_header(bytes: &[u8]) -> Vec<HeaderCard> {
    let mut cards = Vec::new();
    for raw in bytes.chunks(80) {
        let card = String::from_utf8_lossy(raw);
        let keyword = card.get(..8.min(card.len())).unwrap_or("").trim_end();
        if keyword == "END" {
            break;
        }
        // FITS 4.0 §4.4.2.4: COMMENT and HISTORY are commentary even with `= ` in columns 9–10.
        if matches!(keyword, "" | "COMMENT" | "HISTORY") || card.get(8..10) != Some("= ") {
            continue;
        }
        let rest = card[10..].trim_start();
        let value = match rest.strip_prefix('\'') {
            // FITS 4.0 §4.2.1: a string ends at a lone quote; a doubled quote stands for one.
            Some(body) => {
                let mut value = String::new();
                let mut chars = body.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    value.push(c);
                }
                value.trim_end().to_string()
            }
            None => rest.split('/').next().unwrap_or("").trim().to_string(),
        };
        cards.push(HeaderCard { keyword: keyword.to_string(), value });
    }
    cards
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

/// Writes the frame's luminance as a primary FITS image, BITPIX 16 with BZERO 32768 (unsigned 16-bit), frame row 0
/// as FITS row 1.
fn write_fits(path: &Path, frame: &Frame) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut header = String::new();
    for (keyword, value) in [
        ("SIMPLE", "T".to_string()),
        ("BITPIX", "16".into()),
        ("NAXIS", "2".into()),
        ("NAXIS1", frame.width.to_string()),
        ("NAXIS2", frame.height.to_string()),
        ("BZERO", "32768".into()),
        ("BSCALE", "1".into()),
    ] {
        header.push_str(&format!("{keyword:<8}= {value:>20}{:50}", ""));
    }
    header.push_str(&format!("{:<80}", "END"));
    let padded = header.len().div_ceil(2880) * 2880;
    out.write_all(format!("{header:<padded$}").as_bytes())?;
    let luminance = frame.luminance();
    let mut row = Vec::with_capacity(frame.width * 2);
    for line in luminance.chunks(frame.width.max(1)) {
        row.clear();
        for v in line {
            // NaN becomes 0 (a float-to-int `as` saturates and maps NaN to 0).
            let unsigned = (v.clamp(0.0, 1.0) * 65535.0).round() as u16;
            row.extend_from_slice(&((i32::from(unsigned) - 32768) as i16).to_be_bytes());
        }
        out.write_all(&row)?;
    }
    let data = luminance.len() * 2;
    out.write_all(&vec![0; data.div_ceil(2880) * 2880 - data])?;
    // No fsync: the solver reads it back through the page cache, and an SD card (a Raspberry Pi) syncs slowly.
    out.flush()
}

/// Runs the solver in its own process group with stdin closed and stdout/stderr into the given files, and waits
/// for it for at most `timeout`. Whatever happens, the whole group is killed and the solver reaped before this
/// returns.
fn run(
    command: &Path,
    args: &[OsString],
    stdout: File,
    stderr: File,
    timeout: Duration,
) -> Result<ExitStatus, SolveError> {
    let mut cmd = Command::new(command);
    cmd.args(args).stdin(Stdio::null()).stdout(stdout).stderr(stderr).process_group(0);
    let child = spawn(&mut cmd).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => {
            SolveError::NotInstalled(format!("cannot run {}: {e}", command.display()))
        }
        _ => SolveError::Io(e),
    })?;
    let mut group = Group::new(child);
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        // WNOWAIT: learn that the solver exited without reaping it, so its pid (the group id) cannot be reused
        // before the group is killed below.
        match waitid(Id::Pid(group.pid()), WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(_) => break,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(SolveError::Io(e.into())),
        }
        if start.elapsed() >= timeout {
            group.finish()?;
            return Err(SolveError::Timeout(timeout));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    group.finish()
}

/// Spawns, retrying briefly on `ETXTBSY`: an executable written just before (a test's script) can still be open for
/// writing in a child another thread forked in the meantime.
fn spawn(cmd: &mut Command) -> io::Result<Child> {
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(Errno::ETXTBSY as i32) && tries < 10 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

/// The process groups of solves in progress, so that [`stop_all`] can end them when the program exits (a solver
/// left behind would run on for minutes on a Raspberry Pi), and whether it was called. A group leaves the list, under
/// the lock, before its leader is reaped: a listed group id is never a reused one.
static LIVE: Mutex<Live> = Mutex::new(Live { stopping: false, groups: Vec::new() });

struct Live {
    /// [`stop_all`] was called: a solver that starts afterwards is stopped at once.
    stopping: bool,
    groups: Vec<i32>,
}

/// Kills every solve in progress, and any that starts later (the driver calls this when it exits); their callers
/// get an error.
pub fn stop_all() {
    let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
    live.stopping = true;
    for pgid in live.groups.iter() {
        let _ = killpg(Pid::from_raw(*pgid), Signal::SIGKILL);
    }
}

/// The solver's process group, led by the child we spawned. Dropping it kills the group and reaps the child.
struct Group {
    child: Child,
    reaped: bool,
}

impl Group {
    fn new(child: Child) -> Self {
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        live.groups.push(child.id() as i32);
        if live.stopping {
            // Spawned while the program was stopping (after stop_all looked): end it now.
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
        }
        Self { child, reaped: false }
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Kills what is left of the group and takes it off [`LIVE`]; the leader is not reaped yet.
    fn kill_and_unlist(&self) {
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        live.groups.retain(|p| *p != self.child.id() as i32);
        // Before the reap: until then the leader's pid, which is the group id, is still ours.
        let _ = killpg(self.pid(), Signal::SIGKILL);
    }

    /// Kills everything left in the group (helpers the solver started, or the solver itself) and reaps the solver.
    fn finish(&mut self) -> Result<ExitStatus, SolveError> {
        self.kill_and_unlist();
        let status = self.child.wait()?;
        self.reaped = true;
        Ok(status)
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill_and_unlist();
            let _ = self.child.wait();
        }
    }
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
#[path = "solve_tests.rs"]
mod tests;
