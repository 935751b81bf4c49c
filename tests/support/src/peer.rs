//! An INDI peer: one end of a conversation with the driver or with indiserver, reading their XML with the project's own
//! decoder while keeping the raw text for assertions.
//!
//! Waiting is always for a message, never for a time: [`Peer::wait`] reads until a message matches, and
//! [`Peer::ping`] is the barrier for "everything sent so far has been handled" — the driver answers a `pingRequest`
//! in order with what it says, so once the reply is here, whatever the earlier messages made it say is here too.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use dso_detector::indi::{Decoder, DecoderConfig, Message};

use crate::secs;

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

    /// Sends a `pingRequest` and reads until its `pingReply`: a barrier, since the driver handles its input in
    /// order and answers through the same writer as everything else it says.
    pub fn ping(&mut self, uid: &str) {
        self.send(&format!("<pingRequest uid=\"{uid}\"/>\n"));
        self.wait(secs(10), |m| matches!(m, Message::PingReply { uid: u } if u == uid));
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
