//! What the integration tests share: the driver started on a socketpair exactly as indiserver ≥ 1.9.7 starts it
//! (stdin and stdout the same AF_UNIX stream), a real `indiserver` with real drivers, and an INDI client that reads
//! their XML with the project's own decoder while keeping the raw text for assertions.

pub mod sky;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dso_detector::indi::{Decoder, DecoderConfig, Message};

/// The driver binary built by this package.
pub const DRIVER: &str = env!("CARGO_BIN_EXE_indi_dso_detector");

/// Says why a test is skipped — or fails it when `DSO_REQUIRE_DATA=1` (CI sets it: there, `../shared/data` and
/// everything `installers/deps.sh` installs are present, and a skip would hide a broken setup).
pub fn skip(why: impl std::fmt::Display) {
    if std::env::var("DSO_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("required but missing (DSO_REQUIRE_DATA=1): {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// `../shared` beside the project, when present.
pub fn shared_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    p.join("data").is_dir().then(|| p.canonicalize().unwrap_or(p))
}

/// A real FITS file of `../shared/data/real-fits`, or `None` (and a message saying the test is skipped).
pub fn real_fits(name: &str) -> Option<PathBuf> {
    let Some(shared) = shared_dir() else {
        skip("../shared/data is absent");
        return None;
    };
    let path = shared.join("data/real-fits").join(name);
    if path.is_file() {
        Some(path)
    } else {
        skip(format!("{} is absent", path.display()));
        None
    }
}

/// An INDI peer: decodes what arrives, keeps every message and the raw text seen so far.
pub struct Peer<S: Read + Write> {
    /// The stream to the other side.
    pub stream: S,
    decoder: Decoder,
    /// Every message received, in order (errors as text).
    pub received: Vec<Result<Message, String>>,
    /// Everything received, as text (BLOB payloads included).
    pub raw: String,
}

impl<S: Read + Write + ReadTimeout> Peer<S> {
    /// Wraps a stream.
    pub fn new(stream: S) -> Self {
        let limits = DecoderConfig { max_blob: 512 << 20, ..DecoderConfig::default() };
        Self { stream, decoder: Decoder::with_config(limits), received: Vec::new(), raw: String::new() }
    }

    /// Sends raw XML.
    pub fn send(&mut self, xml: &str) {
        self.stream.write_all(xml.as_bytes()).expect("sending to the peer");
    }

    /// Reads until `pred` matches a message received after index `from`; returns it. Panics after `timeout`.
    pub fn wait_from(&mut self, from: usize, timeout: Duration, pred: impl Fn(&Message) -> bool) -> Message {
        let deadline = Instant::now() + timeout;
        let mut scanned = from;
        loop {
            while scanned < self.received.len() {
                if let Ok(m) = &self.received[scanned] {
                    if pred(m) {
                        return m.clone();
                    }
                }
                scanned += 1;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "timed out after {timeout:?}; received:\n{}", self.tail());
            self.read_some(left);
        }
    }

    /// [`Peer::wait_from`] over messages not yet received.
    pub fn wait(&mut self, timeout: Duration, pred: impl Fn(&Message) -> bool) -> Message {
        let from = self.received.len();
        self.wait_from(from, timeout, pred)
    }

    /// Reads what arrives during `d`.
    pub fn drain(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        while Instant::now() < deadline {
            self.read_some(deadline.saturating_duration_since(Instant::now()));
        }
    }

    fn read_some(&mut self, timeout: Duration) {
        self.stream.set_timeout(Some(timeout.max(Duration::from_millis(1))));
        let mut buf = vec![0u8; 1 << 16];
        match self.stream.read(&mut buf) {
            Ok(0) => panic!("the peer closed the connection; received:\n{}", self.tail()),
            Ok(n) => {
                self.raw.push_str(&String::from_utf8_lossy(&buf[..n]));
                self.decoder.push(&buf[..n]);
                while let Some(m) = self.decoder.next_message() {
                    self.received.push(m.map_err(|e| e.to_string()));
                }
            }
            // a signal (a child process of the test exiting) may interrupt the read: the caller's loop reads again
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut | std::io::ErrorKind::Interrupted
                ) => {}
            Err(e) => panic!("reading from the peer: {e}"),
        }
    }

    /// The last messages received, for failure reports (BLOBs shortened).
    pub fn tail(&self) -> String {
        let start = self.received.len().saturating_sub(25);
        self.received[start..]
            .iter()
            .map(|m| match m {
                Ok(m) => {
                    let s = format!("{m:?}");
                    if s.chars().count() > 400 {
                        format!("{}…", s.chars().take(400).collect::<String>())
                    } else {
                        s
                    }
                }
                Err(e) => format!("ERROR {e}"),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Streams whose reads can time out.
pub trait ReadTimeout {
    /// Sets the read timeout.
    fn set_timeout(&mut self, d: Option<Duration>);
}

impl ReadTimeout for UnixStream {
    fn set_timeout(&mut self, d: Option<Duration>) {
        let _ = self.set_read_timeout(d);
    }
}

impl ReadTimeout for TcpStream {
    fn set_timeout(&mut self, d: Option<Duration>) {
        let _ = self.set_read_timeout(d);
    }
}

/// The driver binary on a socketpair, as indiserver 1.9.7+ runs it.
pub struct Driver {
    /// The process.
    pub child: Child,
    /// Our end of the socketpair.
    pub peer: Peer<UnixStream>,
    _dir: Option<tempfile::TempDir>,
}

impl Driver {
    /// Starts the driver with a fresh configuration folder.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("DSO Detector_config.xml");
        let mut d = Self::start_with(&config, &[]);
        d._dir = Some(dir);
        d
    }

    /// Starts the driver with this configuration file and extra environment variables.
    pub fn start_with(config: &Path, env: &[(&str, &str)]) -> Self {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let out: OwnedFd = theirs.try_clone().unwrap().into();
        let mut cmd = Command::new(DRIVER);
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
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
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

/// Seconds.
/// Whether a detector can run here (`availability` from its module); prints why not, for tests that then skip.
pub fn runs_here(what: &str, availability: Result<(), String>) -> bool {
    match availability {
        Ok(()) => true,
        Err(why) => {
            skip(format!("{what} cannot run here: {why}"));
            false
        }
    }
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// `newSwitchVector CONNECTION=CONNECT` for a device.
pub fn connect_xml(device: &str) -> String {
    format!(
        "<newSwitchVector device=\"{device}\" name=\"CONNECTION\"><oneSwitch name=\"CONNECT\">On</oneSwitch></newSwitchVector>\n"
    )
}

/// True for a `defXXXVector` of this name.
pub fn is_def(m: &Message, name: &str) -> bool {
    matches!(m, Message::Def(d) if d.name == name)
}

/// True for a `setXXXVector` of this name.
pub fn is_set(m: &Message, name: &str) -> bool {
    matches!(m, Message::Set(s) if s.name == name)
}

/// The text of an element in a text `set` or `def` message.
pub fn text_of(m: &Message, element: &str) -> Option<String> {
    use dso_detector::indi::{DefElements, Values};
    match m {
        Message::Set(s) => match &s.values {
            Values::Text(v) => v.iter().find(|e| e.name == element).map(|e| e.value.clone()),
            _ => None,
        },
        Message::Def(d) => match &d.elements {
            DefElements::Text(v) => v.iter().find(|e| e.name == element).map(|e| e.value.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The value of an element in a number `set` or `def` message.
pub fn number_of(m: &Message, element: &str) -> Option<f64> {
    use dso_detector::indi::{DefElements, Values};
    match m {
        Message::Set(s) => match &s.values {
            Values::Number(v) => v.iter().find(|e| e.name == element).map(|e| e.value),
            _ => None,
        },
        Message::Def(d) => match &d.elements {
            DefElements::Number(v) => v.iter().find(|e| e.name == element).map(|e| e.value),
            _ => None,
        },
        _ => None,
    }
}

/// The state of a `set` message.
pub fn state_of(m: &Message) -> Option<dso_detector::indi::PropertyState> {
    match m {
        Message::Set(s) => s.state,
        Message::Def(d) => Some(d.state),
        _ => None,
    }
}

/// A `setBLOBVector` from a camera, inline base64 on one line with `len` (as a server forwards it).
pub fn camera_blob_one_line(device: &str, format: &str, data: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    format!(
        "<setBLOBVector device=\"{device}\" name=\"CCD1\" state=\"Ok\" timestamp=\"2026-11-25T19:13:03\">\n<oneBLOB name=\"CCD1\" size=\"{}\" format=\"{format}\" len=\"{}\">{b64}</oneBLOB>\n</setBLOBVector>\n",
        data.len(),
        data.len()
    )
}

/// The same, as a libindi driver writes it: `enclen` and 72-column lines.
pub fn camera_blob_72(device: &str, format: &str, data: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    let lines: Vec<&str> = b64.as_bytes().chunks(72).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!(
        "<setBLOBVector device=\"{device}\" name=\"CCD1\" state=\"Ok\">\n  <oneBLOB name=\"CCD1\" size=\"{}\" enclen=\"{}\" format=\"{format}\">\n{}\n  </oneBLOB>\n</setBLOBVector>\n",
        data.len(),
        b64.len(),
        lines.join("\n")
    )
}

/// The JSON of the next `DSO_RESULTS` in state Ok.
pub fn results_json(m: &Message) -> serde_json::Value {
    let text = text_of(m, "JSON").expect("DSO_RESULTS has JSON");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON {text}: {e}"))
}

/// Best IoU between a JSON detection list and a box.
pub fn best_iou(json: &serde_json::Value, (x, y, w, h): (f32, f32, f32, f32)) -> f32 {
    let truth = dso_plugin_api::Detection { x, y, width: w, height: h, label: String::new(), confidence: 1.0 };
    json["detections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let f = |k: &str| d[k].as_f64().unwrap() as f32;
            let found = dso_plugin_api::Detection {
                x: f("x"),
                y: f("y"),
                width: f("width"),
                height: f("height"),
                label: String::new(),
                confidence: 1.0,
            };
            found.iou(&truth)
        })
        .fold(0.0, f32::max)
}

/// A memfd holding these bytes, as indiserver 1.9.9 makes for an attached BLOB.
pub fn memfd_with(bytes: &[u8]) -> OwnedFd {
    use nix::sys::memfd::{memfd_create, MemFdCreateFlag};
    let fd = memfd_create(c"blob", MemFdCreateFlag::MFD_CLOEXEC).unwrap();
    let mut f = std::fs::File::from(fd);
    std::io::Write::write_all(&mut f, bytes).unwrap();
    f.into()
}
