//! The solver as a child process: its own process group, stdin closed, output to files, a time limit, and the whole
//! group killed and reaped on every path — also when the driver stops ([`stop_all`]). Apart from the solving logic
//! because this is the part that must never leak a process, and it is tested as such.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::SolveError;

/// Runs the solver in its own process group with stdin closed and stdout/stderr into the given files, and waits
/// for it for at most `timeout`. Whatever happens, the whole group is killed and the solver reaped before this
/// returns.
pub(super) fn run(
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
