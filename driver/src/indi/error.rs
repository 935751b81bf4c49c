//! Errors of the INDI codec: what went wrong with one message, plus whatever is known about which property it
//! concerned, so the driver can set that property to Alert and tell the user with an INDI `message`.
//!
//! A [`ProtocolError`] never ends decoding: the decoder has already skipped the bad message when it returns one.

use std::fmt;

/// One message (or run of bytes) that could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError {
    /// The top-level XML element, e.g. `setBLOBVector`, when it was recognised.
    pub tag: Option<String>,
    /// The `device` attribute of the message, when it could be read.
    pub device: Option<String>,
    /// The `name` attribute (the property) of the message, when it could be read.
    pub name: Option<String>,
    /// What went wrong.
    pub kind: ErrorKind,
}

/// What went wrong with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bytes between messages that are not XML markup (binary junk, stray text or end tags).
    Junk {
        /// How many bytes were skipped.
        bytes: usize,
    },
    /// The message was cut off: another message started before its closing tag, or the input ended.
    Truncated,
    /// The XML of the message is malformed (mismatched tags, bad attribute syntax, invalid UTF-8, ...).
    Xml(String),
    /// An element that INDI does not define here (top-level or child).
    UnknownElement(String),
    /// A required attribute is absent.
    MissingAttribute {
        /// The XML element that lacks it.
        element: String,
        /// The attribute.
        attribute: &'static str,
    },
    /// An attribute or element text that cannot be understood (a bad number, state, timestamp, ...).
    BadValue {
        /// The INDI element name (`oneNumber`'s `name`), or the XML element when the value is an attribute of it.
        element: String,
        /// The attribute, or `"text"` for element content.
        what: String,
        /// The offending value, shortened to 80 bytes.
        value: String,
    },
    /// The base64 payload of an inline BLOB does not decode.
    BadBase64 {
        /// The BLOB element name.
        element: String,
        /// The decoder's explanation.
        detail: String,
    },
    /// A BLOB has fewer bytes than its `len` attribute declares.
    LyingLen {
        /// The BLOB element name.
        element: String,
        /// The declared `len`.
        declared: u64,
        /// The bytes actually available.
        actual: u64,
    },
    /// A BLOB's declared `len` (or `size`) exceeds the configured limit; its payload was skipped unbuffered.
    BlobTooLarge {
        /// The BLOB element name, when known.
        element: Option<String>,
        /// The declared size.
        declared: u64,
        /// The limit in force.
        limit: u64,
    },
    /// A message grew past its size limit (whether or not its closing tag came later); its bytes were discarded.
    MessageTooLarge {
        /// The limit in force, in bytes.
        limit: u64,
    },
    /// An attached BLOB (`attached="true"`) found no file descriptor in the queue.
    MissingFd {
        /// The BLOB element name.
        element: String,
    },
    /// Reading an attached BLOB's file descriptor failed.
    FdRead {
        /// The BLOB element name.
        element: String,
        /// The system error.
        detail: String,
    },
}

impl ProtocolError {
    /// An error with no context yet.
    pub fn new(kind: ErrorKind) -> Self {
        ProtocolError { tag: None, device: None, name: None, kind }
    }
}

/// Every name and detail in the text is shortened (80 bytes): they come from the peer, and the driver sends this
/// text to every client (a 4 000-character tag made a 3.8 KB `[ERROR]` message; found by the `device_messages` fuzz
/// target).
impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.tag, &self.device, &self.name) {
            (_, Some(device), Some(name)) => write!(f, "{}.{}: ", shorten(device), shorten(name))?,
            (_, Some(device), None) => write!(f, "{}: ", shorten(device))?,
            (Some(tag), None, _) => write!(f, "<{}>: ", shorten(tag))?,
            (None, None, _) => {}
        }
        write!(f, "{}", self.kind)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = shorten;
        match self {
            ErrorKind::Junk { bytes } => write!(f, "skipped {bytes} bytes that are not INDI XML"),
            ErrorKind::Truncated => write!(f, "message cut off before its closing tag"),
            ErrorKind::Xml(detail) => write!(f, "malformed XML: {}", s(detail)),
            ErrorKind::UnknownElement(name) => write!(f, "unknown element <{}>", s(name)),
            ErrorKind::MissingAttribute { element, attribute } => {
                write!(f, "<{}> lacks the attribute {attribute:?}", s(element))
            }
            ErrorKind::BadValue { element, what, value } => write!(f, "{}: bad {} {value:?}", s(element), s(what)),
            ErrorKind::BadBase64 { element, detail } => write!(f, "BLOB {}: bad base64 ({})", s(element), s(detail)),
            ErrorKind::LyingLen { element, declared, actual } => {
                write!(f, "BLOB {}: declares {declared} bytes but carries only {actual}", s(element))
            }
            ErrorKind::BlobTooLarge { element, declared, limit } => write!(
                f,
                "BLOB {}: {declared} bytes exceed the limit of {limit}; skipped",
                s(element.as_deref().unwrap_or("?"))
            ),
            ErrorKind::MessageTooLarge { limit } => write!(f, "message longer than the {limit} bytes allowed; skipped"),
            ErrorKind::MissingFd { element } => {
                write!(f, "BLOB {} is attached but no file descriptor was received", s(element))
            }
            ErrorKind::FdRead { element, detail } => {
                write!(f, "BLOB {}: reading its descriptor: {}", s(element), s(detail))
            }
        }
    }
}

impl std::error::Error for ProtocolError {}

/// Shortens a value for an error message, on a character boundary.
pub(crate) fn shorten(value: &str) -> String {
    if value.len() <= 80 {
        return value.to_owned();
    }
    let mut end = 80;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &value[..end])
}
