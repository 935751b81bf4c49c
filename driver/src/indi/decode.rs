//! The streaming decoder: bytes and received file descriptors in, [`Message`]s (or per-message errors) out.
//!
//! A push parser, so that the driver's read loop owns all I/O (see [`super::Transport`]) and tests can feed bytes
//! at any split. Each message is available from [`Decoder::next_message`] as soon as its closing tag has been
//! pushed. Errors never stop decoding: the bad message is skipped and the next one decodes normally.

use std::collections::VecDeque;
use std::os::fd::OwnedFd;

use super::error::{ErrorKind, ProtocolError};
use super::framer::{FrameInfo, Framed, Framer, Limits};
use super::message::Message;
use super::parse::{to_message, BlobSource};
use super::tree::parse_element;

/// Size limits of a [`Decoder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Largest BLOB accepted, decoded bytes (default 256 MiB). A larger declared `len` (or `size` without `len`)
    /// is skipped without buffering its payload.
    pub max_blob: u64,
    /// Largest message, BLOB payloads aside (default 1 MiB); a longer one is discarded as it arrives.
    pub max_message: u64,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig { max_blob: 256 << 20, max_message: 1 << 20 }
    }
}

/// Decodes an INDI stream pushed in arbitrary pieces.
///
/// Push received file descriptors (with [`Decoder::push_fds`]) no later than the bytes that arrived with them:
/// each `oneBLOB` with `attached="true"` takes the oldest queued descriptor when its message is decoded.
pub struct Decoder {
    framer: Framer,
    fds: VecDeque<OwnedFd>,
    config: DecoderConfig,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder with the default limits.
    pub fn new() -> Self {
        Decoder::with_config(DecoderConfig::default())
    }

    /// A decoder with the given limits.
    pub fn with_config(config: DecoderConfig) -> Self {
        let limits = Limits { max_blob: config.max_blob, max_message: config.max_message };
        Decoder { framer: Framer::new(limits), fds: VecDeque::new(), config }
    }

    /// Adds received bytes. Scanning happens here, so a skipped payload is dropped at once.
    pub fn push(&mut self, bytes: &[u8]) {
        self.framer.feed(bytes);
    }

    /// Queues file descriptors received with `SCM_RIGHTS`, in arrival order.
    pub fn push_fds(&mut self, fds: impl IntoIterator<Item = OwnedFd>) {
        self.fds.extend(fds);
    }

    /// Ends the input: a message still incomplete comes out as a [`ErrorKind::Truncated`] error.
    pub fn finish(&mut self) {
        self.framer.finish();
    }

    /// The next decoded message or error, `None` until more bytes are pushed.
    pub fn next_message(&mut self) -> Option<Result<Message, ProtocolError>> {
        Some(match self.framer.pop()? {
            Framed::Complete(bytes, info) => {
                let mut blobs = BlobSource { fds: self.take_fds(&info), max_blob: self.config.max_blob };
                decode(&bytes, &mut blobs).map_err(|kind| context(info, kind))
                // Descriptors the message did not use are closed here, with `blobs`.
            }
            Framed::Failed(info, kind) => {
                drop(self.take_fds(&info));
                Err(context(info, kind))
            }
            Framed::Junk(bytes) => Err(ProtocolError::new(ErrorKind::Junk { bytes })),
        })
    }

    /// Bytes buffered for messages not yet complete (bounded by the limits).
    pub fn buffered_bytes(&self) -> usize {
        self.framer.buffered()
    }

    /// Received descriptors not yet claimed by an attached BLOB.
    pub fn queued_fds(&self) -> usize {
        self.fds.len()
    }

    /// The descriptors owned by a message's attached BLOBs (fewer if not enough were received).
    fn take_fds(&mut self, info: &FrameInfo) -> VecDeque<OwnedFd> {
        let count = info.attached.min(self.fds.len());
        self.fds.drain(..count).collect()
    }
}

fn decode(bytes: &[u8], blobs: &mut BlobSource) -> Result<Message, ErrorKind> {
    let xml = std::str::from_utf8(bytes).map_err(|e| ErrorKind::Xml(format!("invalid UTF-8: {e}")))?;
    let root = parse_element(xml).map_err(ErrorKind::Xml)?;
    to_message(&root, blobs)
}

fn context(info: FrameInfo, kind: ErrorKind) -> ProtocolError {
    ProtocolError { tag: Some(info.tag), device: info.device, name: info.name, kind }
}
