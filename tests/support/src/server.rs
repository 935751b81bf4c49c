//! A real `indiserver` (Debian's `indi-bin`) with real drivers, and the usual scene on it: the INDI CCD simulator
//! serving frames from a folder in directory mode, our driver snooping it, a TCP client taking exposures.
//!
//! The port is handed over bound, with no race: a free port is chosen by binding `127.0.0.1:0`, but another process
//! may take it between our test dropping that listener and indiserver binding it. Holding the listener until just
//! before the spawn narrows that window without closing it, and a client connecting to the port could then reach the
//! other process. So the server's own word decides: `indiserver -v` logs `listening to port N` once it has bound, or
//! `bind: Address already in use` and exits; the first is waited for, the second retried on a fresh port.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dso_detector::indi::{Message, PropertyState};

use crate::{connect_xml, is_def, is_set, secs, set_switch, set_text, skip, state_of, Peer};

/// How many fresh ports are tried when another process takes the chosen one first.
const PORT_ATTEMPTS: usize = 5;

/// How a server is started, beyond its drivers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'a> {
    /// More indiserver options (`-r 2`, `-m 1`).
    pub args: &'a [&'a str],
    /// Environment variables for the server and its drivers.
    pub env: &'a [(&'a str, &'a str)],
    /// With a FIFO (`-f`) for starting and stopping drivers at run time ([`Server::fifo`]).
    pub fifo: bool,
    /// A command the server is run under, its arguments then `indiserver …` appended (`unshare … sh -c …`).
    pub under: &'a [&'a str],
}

/// An indiserver on a port of its own with its own unix socket, killed on drop.
pub struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    /// Starts indiserver with these drivers; `None` (test skipped) when it is not installed.
    pub fn start(drivers: &[&str]) -> Option<Self> {
        Self::start_with(drivers, &Options::default())
    }

    /// [`Server::start`] with extra environment variables for the server and its drivers.
    pub fn start_with_env(drivers: &[&str], env: &[(&str, &str)]) -> Option<Self> {
        Self::start_with(drivers, &Options { env, ..Options::default() })
    }

    /// [`Server::start`] with [`Options`]: indiserver's own options, environment, a FIFO, a command to run it under.
    pub fn start_with(drivers: &[&str], opts: &Options) -> Option<Self> {
        if Command::new("indiserver").arg("-h").stderr(Stdio::null()).stdout(Stdio::null()).status().is_err() {
            skip("indiserver is not installed (apt-get install indi-bin)");
            return None;
        }
        for _ in 0..PORT_ATTEMPTS {
            let dir = tempfile::tempdir().unwrap();
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let log = std::fs::File::create(dir.path().join("indiserver.log")).unwrap();
            let fifo = dir.path().join("fifo");
            if opts.fifo {
                nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).expect("mkfifo");
            }
            let (program, wrapper_args) = match opts.under {
                [first, rest @ ..] => (*first, rest),
                [] => ("indiserver", &[][..]),
            };
            let mut cmd = Command::new(program);
            if !opts.under.is_empty() {
                cmd.args(wrapper_args).arg("indiserver");
            }
            cmd.arg("-v").args(["-p", &port.to_string(), "-u", dir.path().join("sock").to_str().unwrap()]);
            if opts.fifo {
                cmd.args(["-f", fifo.to_str().unwrap()]);
            }
            let child = cmd
                .args(opts.args)
                .args(drivers)
                .env("HOME", dir.path()) // drivers write their configuration under ~/.indi
                .envs(opts.env.iter().copied())
                .stdout(Stdio::null())
                .stderr(Stdio::from(log))
                .spawn()
                .expect("starting indiserver");
            let mut server = Self { child, port, dir };
            if server.listening() {
                return Some(server);
            }
            eprintln!("port {port} was taken before indiserver bound it; trying another");
        }
        panic!("indiserver found no free port in {PORT_ATTEMPTS} attempts");
    }

    /// Waits until the server says it listens on its port (true), or exits because the port was taken (false).
    fn listening(&mut self) -> bool {
        let bound = format!("listening to port {} ", self.port);
        let deadline = Instant::now() + secs(10);
        loop {
            let log = self.log();
            if log.contains(&bound) {
                return true;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(log.contains("Address already in use"), "indiserver exited ({status}):\n{log}");
                return false;
            }
            assert!(Instant::now() < deadline, "indiserver did not listen within 10 s:\n{log}");
            // Polling the log, the only place the server says it has bound: a time between looks, not a barrier.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A client connected to the server (which already listens).
    pub fn client(&self) -> Peer<TcpStream> {
        let s = TcpStream::connect(("127.0.0.1", self.port))
            .unwrap_or_else(|e| panic!("indiserver listens on {} but refused: {e}", self.port));
        Peer::new(s)
    }

    /// The server's TCP port (for a second server chained to this one).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's folder: its log, its socket, its FIFO, and its drivers' `HOME` (so `.indi/` is there).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a line to the server's FIFO (started with [`Options::fifo`]): `start EXEC -n "Name"`, `stop EXEC`.
    pub fn fifo(&self, line: &str) {
        let mut f = std::fs::OpenOptions::new().write(true).open(self.dir.path().join("fifo")).expect("the FIFO");
        std::io::Write::write_all(&mut f, format!("{line}\n").as_bytes()).expect("writing to the FIFO");
    }

    /// The server's process id (its drivers are its children: [`crate::process`]).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server has logged so far (`-v`: drivers started, clients, errors).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("indiserver.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server with the CCD simulator serving `frames` and the driver `exe`, both devices connected, annotated
/// images on; `None` (test skipped) without indiserver.
pub fn simulator_setup(exe: &str, frames: &Path) -> Option<(Server, Peer<TcpStream>)> {
    let server = Server::start(&["indi_simulator_ccd", exe])?;
    Some(simulator_scene(server, frames))
}

/// [`simulator_setup`] on a server already started with `indi_simulator_ccd` and the driver.
pub fn simulator_scene(server: Server, frames: &Path) -> (Server, Peer<TcpStream>) {
    let mut c = server.client();
    c.send("<getProperties version=\"1.7\"/>\n");
    c.wait_from(0, secs(15), |m| is_def(m, "CONNECTION") && m.device() == Some("CCD Simulator"));
    c.wait_from(0, secs(15), |m| is_def(m, "CONNECTION") && m.device() == Some("DSO Detector"));
    c.send(&connect_xml("CCD Simulator"));
    c.send(&connect_xml("DSO Detector"));
    c.wait_from(0, secs(15), |m| is_def(m, "CCD_DIRECTORY_LOCATION"));
    c.wait_from(0, secs(15), |m| is_def(m, "DSO_RESULTS"));
    c.send(&set_text("CCD Simulator", "CCD_DIRECTORY_LOCATION", "LOCATION", frames.to_str().unwrap()));
    c.wait(secs(5), |m| is_set(m, "CCD_DIRECTORY_LOCATION"));
    c.send(&set_switch("CCD Simulator", "CCD_DIRECTORY_TOGGLE", "INDI_ENABLED"));
    c.wait(secs(5), |m| is_set(m, "CCD_DIRECTORY_TOGGLE"));
    c.send(&set_switch("DSO Detector", "DSO_OUTPUTS", "ANNOTATED_IMAGE"));
    c.send("<enableBLOB device=\"DSO Detector\">Also</enableBLOB>\n");
    (server, c)
}

/// Takes a 1 s exposure and returns the next successful DSO_RESULTS (how long that takes is the demo's and the
/// benchmarks' business, not a test's). On failure, the server's log is printed before the panic goes on.
pub fn expose(c: &mut Peer<TcpStream>, server: &Server) -> Message {
    let from = c.received.len();
    c.send("<newNumberVector device=\"CCD Simulator\" name=\"CCD_EXPOSURE\"><oneNumber name=\"CCD_EXPOSURE_VALUE\">1</oneNumber></newNumberVector>\n");
    with_log(server, || {
        c.wait_from(from, secs(60), |m| {
            is_set(m, "DSO_RESULTS") && m.device() == Some("DSO Detector") && state_of(m) == Some(PropertyState::Ok)
        })
    })
}

/// Runs `f`; if it panics, prints the server's log, then lets the panic go on.
pub fn with_log<T>(server: &Server, f: impl FnOnce() -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(e) => {
            let state = if crate::process::ended(server.pid()) { "has ended" } else { "still runs" };
            eprintln!("indiserver (pid {}) {state}; its log:\n{}", server.pid(), server.log());
            std::panic::resume_unwind(e)
        }
    }
}
