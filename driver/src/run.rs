//! The driver's event loop: stdin bytes (and passed file descriptors) → INDI messages → [`Device`] → stdout.
//!
//! Three threads, one owner of state. A reader thread decodes stdin and stamps each message with the time it was
//! complete; the worker thread analyses frames; both post [`Event`]s to the main thread, which alone owns the
//! [`Device`]. Everything the device wants to say goes to a writer thread, so a 30 MB annotated image being
//! written never delays the answer to a `getProperties`, and messages never interleave on stdout. The loop ends
//! when stdin closes (the server stopped or dropped the driver).
//!
//! Plain threads rather than an async runtime: the reader blocks in `recvmsg` to collect file descriptors and the
//! worker is CPU-bound, so there is nothing for an executor to interleave.

use std::io::Write;
use std::sync::mpsc;
use std::time::Instant;

use dso_models::decode;

use crate::device::{Device, Level};
use crate::indi::{self, Message, ProtocolError};
use crate::solver::{Solved, Solver};
use crate::worker::{Outcome, Worker};

/// What the main thread reacts to.
pub enum Event {
    /// A message (or a message that failed to decode) from the server, with the time it was complete.
    Incoming(Result<Message, ProtocolError>, Instant),
    /// The worker's news.
    Worker(Outcome),
    /// A plate solve ended.
    Solved(Box<Solved>),
    /// stdin is closed or failed: time to go.
    Closed(Option<std::io::Error>),
}

/// Limits applied to everything received.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Protocol limits (largest BLOB accepted, largest message).
    pub protocol: indi::DecoderConfig,
    /// Image limits (largest frame decoded).
    pub image: decode::Limits,
}

/// Largest frame accepted by default, MiB (see [`dso_models::settings::DEFAULT_MAX_FRAME_MIB`]).
pub const DEFAULT_MAX_FRAME_MIB: u64 = dso_models::settings::DEFAULT_MAX_FRAME_MIB;

impl Default for Limits {
    /// `DSO_MAX_FRAME_MB` ([`dso_models::settings`], which reports a malformed value and keeps the default) bounds
    /// a frame however it arrives: the largest BLOB, the largest file a camera saved locally, and what compressed
    /// data (zlib/gzip, tile-compressed FITS, XISF blocks) and JPEG/PNG decoding may expand to.
    fn default() -> Self {
        Self::for_frame_mib(dso_models::settings::get().max_frame_mib)
    }
}

impl Limits {
    /// The limits for a frame limit of `mib` MiB.
    pub fn for_frame_mib(mib: u64) -> Self {
        let bytes = mib << 20;
        Self {
            protocol: indi::DecoderConfig { max_blob: bytes, ..indi::DecoderConfig::default() },
            image: decode::Limits { max_bytes: bytes, ..decode::Limits::default() },
        }
    }
}

/// Runs the driver on this process's stdin/stdout until stdin closes.
pub fn run_stdio(device: Device, limits: Limits) -> std::io::Result<()> {
    let (events, inbox) = mpsc::channel::<Event>();
    let (outgoing, to_write) = mpsc::channel::<Message>();

    let writer = std::thread::Builder::new().name("indi-writer".into()).spawn(move || {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
        for msg in to_write {
            if indi::write_message(&mut out, &msg).and_then(|_| out.flush()).is_err() {
                break; // The server is gone; the reader will see EOF too.
            }
        }
    })?;

    let reader_events = events.clone();
    let protocol_limits = limits.protocol;
    std::thread::Builder::new()
        .name("indi-reader".into())
        .spawn(move || read_stdin(protocol_limits, &reader_events))?;

    let worker_events = events.clone();
    let worker = Worker::spawn(limits.image, move |o| {
        let _ = worker_events.send(Event::Worker(o));
    });
    let solver_events = events.clone();
    let solver = Solver::spawn(move |s| {
        let _ = solver_events.send(Event::Solved(Box::new(s)));
    });
    drop(events);

    let mut device = device;
    for event in inbox {
        match event {
            Event::Incoming(msg, received) => dispatch(&mut device, msg, received),
            Event::Worker(outcome) => device.worker_outcome(outcome),
            Event::Solved(solved) => device.solved(*solved),
            Event::Closed(err) => {
                if let Some(e) = err {
                    log::error!("stdin failed: {e}");
                }
                break;
            }
        }
        for job in device.jobs.drain(..).collect::<Vec<_>>() {
            if worker.submit(job) {
                device.frame_dropped();
            }
        }
        for job in device.solves.drain(..) {
            if solver.submit(job) {
                log::debug!("a frame waiting for a plate solve was replaced by a newer one");
            }
        }
        for msg in device.outbox.drain(..) {
            if outgoing.send(msg).is_err() {
                return Ok(());
            }
        }
    }
    drop(worker);
    drop(solver);
    drop(outgoing);
    let _ = writer.join();
    Ok(())
}

/// Routes one incoming message to the device hook that handles it.
pub fn dispatch(device: &mut Device, msg: Result<Message, ProtocolError>, received: Instant) {
    match msg {
        Ok(Message::GetProperties(g)) => device.get_properties(&g),
        Ok(Message::New(n)) => device.new_vector(n, received),
        Ok(Message::Set(s)) => device.snooped(s, received),
        Ok(Message::Def(d)) => device.snooped_def(&d),
        Ok(Message::PingRequest { uid }) => device.outbox.push(Message::PingReply { uid }),
        Ok(other) => log::trace!("ignored <{}>", other.tag()),
        Err(e) => device.protocol_error(&e),
    }
}

/// The reader thread: stdin → decoder → events, until EOF.
fn read_stdin(limits: indi::DecoderConfig, events: &mpsc::Sender<Event>) {
    let mut transport = indi::Transport::stdin();
    let mut decoder = indi::Decoder::with_config(limits);
    loop {
        let more = match transport.read_into(&mut decoder) {
            Ok(more) => more,
            Err(e) => {
                let _ = events.send(Event::Closed(Some(e)));
                return;
            }
        };
        while let Some(msg) = decoder.next_message() {
            if events.send(Event::Incoming(msg, Instant::now())).is_err() {
                return;
            }
        }
        if !more {
            let _ = events.send(Event::Closed(None));
            return;
        }
    }
}

/// Logs through the `log` crate to stderr, which indiserver copies into its own log.
pub fn init_logging() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .target(env_logger::Target::Stderr)
        .format_timestamp_millis()
        .try_init();
}

/// A startup message, so that a user reading the INDI log sees what the driver found.
pub fn announce(device: &mut Device) {
    let detectors: Vec<String> = dso_models::registry::detectors()
        .into_iter()
        .map(|d| match d.available {
            Ok(()) => d.name,
            Err(why) => format!("{} (unavailable: {why})", d.name),
        })
        .collect();
    device.log(Level::Debug, &format!("detectors: {}", detectors.join(", ")));
    device.plugin_warnings();
}

/// Makes SIGTERM, SIGINT and SIGHUP end the driver cleanly, with exit status 0 even in the middle of a frame: a plate
/// solve in progress is killed with its process group instead of running on for minutes (indiserver and service
/// managers stop drivers with signals too). Call it
/// first in `main`, before any thread starts: the signals are blocked in every thread and one thread waits for them.
pub fn stop_on_signals() {
    use nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    for s in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(s);
    }
    if let Err(e) = set.thread_block() {
        log::warn!("cannot block termination signals ({e}): a plate solve may outlive the driver");
        return;
    }
    let spawned = std::thread::Builder::new().name("signals".into()).spawn(move || {
        if let Ok(signal) = set.wait() {
            log::info!("{signal:?}: stopping");
            dso_models::sky::solve::stop_all();
            // `_exit`, not `std::process::exit`: the latter runs the C++ static destructors of ONNX Runtime while
            // the worker may be inside a session, which crashed the driver with SIGSEGV (exit status 139) when
            // SIGTERM came during an XRAI frame (tests/integration/faults.rs). Nothing is left to flush: stdout
            // carries only whole messages, and what the writer has not sent yet is lost either way.
            // SAFETY: `_exit` ends the process at once; it touches no memory of this program.
            unsafe { nix::libc::_exit(0) }
        }
    });
    if let Err(e) = spawned {
        log::warn!("cannot watch termination signals ({e})");
    }
}
