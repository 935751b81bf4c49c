//! The driver started on a socketpair exactly as indiserver ≥ 1.9.7 starts it: stdin and stdout the same AF_UNIX
//! stream, so BLOBs can arrive as passed memfds (`SCM_RIGHTS`) as Debian 12's indiserver sends them.
//!
//! The binary's path is an argument: only the tests and benchmarks of the `dso-detector` package know it (cargo
//! gives it to them as `CARGO_BIN_EXE_indi_dso_detector`).

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{connect_xml, is_def, is_set, new_switch, secs, Peer};

/// The driver binary on a socketpair, as indiserver 1.9.7+ runs it.
pub struct Driver {
    /// The process.
    pub child: Child,
    /// Our end of the socketpair.
    pub peer: Peer<UnixStream>,
    _dir: Option<tempfile::TempDir>,
}

impl Driver {
    /// Starts the driver binary `exe` with a fresh configuration folder.
    pub fn start(exe: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("DSO Detector_config.xml");
        let mut d = Self::start_with(exe, &config, &[]);
        d._dir = Some(dir);
        d
    }

    /// Starts the driver binary `exe` with this configuration file and extra environment variables.
    pub fn start_with(exe: &str, config: &Path, env: &[(&str, &str)]) -> Self {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let out: OwnedFd = theirs.try_clone().unwrap().into();
        let mut cmd = Command::new(exe);
        cmd.env("INDICONFIG", config).env_remove("INDIDEV").stdin(Stdio::from(OwnedFd::from(theirs)));
        cmd.stdout(Stdio::from(out)).stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("starting indi_dso_detector");
        // Keep stderr flowing (the driver logs there) without letting it fill a pipe.
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            if std::env::var_os("DSO_TEST_STDERR").is_some() {
                eprintln!("--- driver stderr ---\n{s}");
            }
        });
        Self { child, peer: Peer::new(ours), _dir: None }
    }

    /// `getProperties`, then `CONNECTION=CONNECT`; waits until `DSO_RESULTS` is defined.
    pub fn connect(&mut self) {
        self.peer.send("<getProperties version=\"1.7\"/>\n");
        self.peer.wait(secs(10), |m| is_def(m, "ACTIVE_DEVICES"));
        self.peer.send(&connect_xml("DSO Detector"));
        self.peer.wait(secs(10), |m| is_def(m, "DSO_RESULTS"));
    }

    /// Turns one switch of the DSO Detector on or off, as a client's control panel does.
    pub fn switch(&mut self, property: &str, element: &str, on: bool) {
        self.peer.send(&new_switch("DSO Detector", property, element, on));
    }

    /// Set up for timing frames of generated skies: the annotated picture on (the end of a frame's work) and the
    /// plate solve off (there is no real sky to solve; a blind solve would only take a core from the frames).
    pub fn time_frames(&mut self) {
        self.switch("DSO_IDENTIFY", "PLATE_SOLVE", false);
        self.switch("DSO_OUTPUTS", "ANNOTATED_IMAGE", true);
    }

    /// Sends `message` (a camera BLOB, inline) and waits for the annotated picture: milliseconds from the first
    /// byte sent.
    pub fn annotated_ms(&mut self, message: &str, timeout: Duration) -> f64 {
        let from = self.peer.received.len();
        let t = Instant::now();
        self.peer.send(message);
        self.peer.wait_from(from, timeout, |m| is_set(m, "DSO_ANNOTATED"));
        t.elapsed().as_secs_f64() * 1000.0
    }

    /// Sends XML and a file descriptor in one `sendmsg`, as indiserver 1.9.9 sends an attached BLOB.
    pub fn send_with_fd(&mut self, xml: &str, fd: &OwnedFd) {
        use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
        let fds = [fd.as_raw_fd()];
        let iov = [std::io::IoSlice::new(xml.as_bytes())];
        let sent = sendmsg::<()>(
            self.peer.stream.as_raw_fd(),
            &iov,
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::empty(),
            None,
        )
        .expect("sendmsg");
        assert_eq!(sent, xml.len());
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Peak resident memory of the process, in MiB (VmHWM).
    pub fn peak_rss_mib(&self) -> f64 {
        self.memory_mib("VmHWM:")
    }

    /// A memory line of the process's `/proc/PID/status` (`VmHWM:`, `VmRSS:`…), in MiB; 0 when it cannot be read.
    pub fn memory_mib(&self, key: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

impl Drop for Driver {
    /// Closes the driver's stdin as indiserver does when it stops, so the driver ends its own work (a plate solve in
    /// progress included); killed only if it has not gone within 5 s.
    fn drop(&mut self) {
        let _ = self.peer.stream.shutdown(std::net::Shutdown::Both);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A memfd holding these bytes, as indiserver 1.9.9 makes for an attached BLOB.
pub fn memfd_with(bytes: &[u8]) -> OwnedFd {
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    let fd = memfd_create(c"blob", MemFdCreateFlag::MFD_CLOEXEC).unwrap();
    let mut f = std::fs::File::from(fd);
    std::io::Write::write_all(&mut f, bytes).unwrap();
    f.into()
}
