//! Processes a test did not start itself but must find and signal: the drivers indiserver runs, read from `/proc`
//! (Linux), so a test can kill a driver as a crash would, or send it SIGTERM as a service manager does.

use std::time::{Duration, Instant};

/// The children of `parent`: process id and command line (`argv`).
pub fn children(parent: u32) -> Vec<(u32, Vec<String>)> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| parent_of(pid) == Some(parent))
        .filter_map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let argv = cmdline.split(|&b| b == 0).filter(|a| !a.is_empty());
            Some((pid, argv.map(|a| String::from_utf8_lossy(a).into_owned()).collect()))
        })
        .collect()
}

/// The parent of `pid`, from `/proc/<pid>/stat` (the fourth field, after the parenthesised name).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

/// Whether `pid` has ended (gone, or a zombie its parent has not reaped yet).
pub fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => true,
    }
}

/// Sends `signal` to `pid`.
pub fn signal(pid: u32, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal).expect("signalling the process");
}

/// Waits until `pid` has ended and returns how long it took, or `None` after `timeout`.
pub fn wait_ended(pid: u32, timeout: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if ended(pid) {
            return Some(start.elapsed());
        }
        // Another process's exit sends us nothing to wait on: a time between looks, not a barrier.
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// Waits until a child of `parent` whose command line holds `program` (the executable, or the script a shell runs)
/// runs, other than `not` (a pid that has ended), and returns it.
pub fn wait_child(parent: u32, program: &str, not: Option<u32>, timeout: Duration) -> Option<u32> {
    let start = Instant::now();
    while start.elapsed() < timeout {
        let found = children(parent)
            .into_iter()
            .find(|(pid, argv)| argv.iter().any(|a| a == program) && Some(*pid) != not && !ended(*pid));
        if let Some((pid, _)) = found {
            return Some(pid);
        }
        // As above: polling /proc, which has nothing to wait on.
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}
