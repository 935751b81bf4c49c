//! Framing: finds where each top-level INDI element ends in a byte stream, before any XML parsing.
//!
//! INDI has no length prefixes, so a stream reader must follow the XML just far enough to see the closing tag of
//! each top-level element. This scanner tracks tags, quoted attribute values, comments, CDATA, processing
//! instructions and nesting depth, byte by byte across arbitrary `push` boundaries, and hands each complete element
//! over the moment its last byte arrives (never when the next one starts: a driver must answer `getProperties` at
//! once). Full parsing is left to quick-xml on the complete element.
//!
//! Memory is bounded: a message may grow to `max_message` bytes plus, for each inline `oneBLOB`, the base64 size
//! its declared `len` allows. A BLOB declared larger than `max_blob`, or a message past its bound, switches the
//! element to *skip* mode: bytes are scanned (to find the closing tag) and dropped at once.
//!
//! Recovery: a `<` followed by the name of a top-level INDI element always starts a new message, wherever the
//! scanner is (INDI never nests top-level elements and `<` cannot occur unescaped in content or attributes), so a
//! truncated message or junk never swallows the valid messages that follow it.

use std::collections::VecDeque;
use std::mem;

use super::error::ErrorKind;
use super::markup::{classify, tag_attributes, Lt};

/// In skip mode, a start tag longer than this is dropped without reading its attributes.
const MAX_TAG: usize = 64 * 1024;
/// A complete frame at least this large is handed over by splitting the buffer instead of copying it.
const SPLIT_THRESHOLD: usize = 64 * 1024;

/// Size limits of the framer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Largest decoded BLOB, in bytes.
    pub max_blob: u64,
    /// Largest message, BLOB payloads aside, in bytes.
    pub max_message: u64,
}

/// What the framer learnt about an element without parsing it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FrameInfo {
    /// The top-level element name.
    pub tag: String,
    /// Its `device` attribute.
    pub device: Option<String>,
    /// Its `name` attribute.
    pub name: Option<String>,
    /// How many `oneBLOB` children carry `attached="true"` (each owns one received file descriptor).
    pub attached: usize,
}

/// One unit of framer output, in stream order.
#[derive(Debug)]
pub(crate) enum Framed {
    /// A complete top-level element, from `<` to its final `>`.
    Complete(Vec<u8>, FrameInfo),
    /// An element that was cut off, too large or skipped.
    Failed(FrameInfo, ErrorKind),
    /// Non-markup bytes between messages.
    Junk(usize),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Lex {
    Content,
    StartTag { quote: Option<u8>, slash: bool },
    EndTag,
    Comment { dashes: u8 },
    Cdata { brackets: u8 },
    Pi { question: bool },
    Bang,
}

#[derive(Clone, Copy, PartialEq)]
enum TagRole {
    Top,
    Blob,
    Other,
}

/// The element being framed.
struct Open {
    info: FrameInfo,
    /// Index of its `<` in the buffer (0 after compaction; meaningless in skip mode).
    start: usize,
    depth: usize,
    /// Current bound on its length.
    limit: u64,
    /// Why it is being skipped, if it is.
    skip: Option<ErrorKind>,
    /// Start of the start tag being scanned, if its bytes are kept.
    tag_start: Option<usize>,
    tag_role: TagRole,
}

/// The incremental scanner; see the module documentation.
pub(crate) struct Framer {
    buf: Vec<u8>,
    pos: usize,
    lex: Lex,
    open: Option<Open>,
    junk: usize,
    limits: Limits,
    out: VecDeque<Framed>,
}

impl Framer {
    /// A framer with the given limits.
    pub fn new(limits: Limits) -> Self {
        Framer { buf: Vec::new(), pos: 0, lex: Lex::Content, open: None, junk: 0, limits, out: VecDeque::new() }
    }

    /// Scans more bytes; complete frames become available from [`Framer::pop`].
    pub fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
        self.scan();
        self.compact();
    }

    /// The next framed unit, if any.
    pub fn pop(&mut self) -> Option<Framed> {
        self.out.pop_front()
    }

    /// Bytes held in the buffer (for tests and diagnostics).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Ends the stream: a pending element becomes a `Failed(Truncated)`, pending junk is reported.
    pub fn finish(&mut self) {
        if let Some(open) = self.open.take() {
            self.out.push_back(Framed::Failed(open.info, open.skip.unwrap_or(ErrorKind::Truncated)));
        }
        self.flush_junk();
        self.buf.clear();
        self.pos = 0;
        self.lex = Lex::Content;
    }

    fn flush_junk(&mut self) {
        if self.junk > 0 {
            self.out.push_back(Framed::Junk(mem::take(&mut self.junk)));
        }
    }

    fn scan(&mut self) {
        while self.pos < self.buf.len() {
            let byte = self.buf[self.pos];
            match self.lex {
                Lex::Content => {
                    let rest = &self.buf[self.pos..];
                    let upto = memchr::memchr(b'<', rest).unwrap_or(rest.len());
                    if self.open.is_none() {
                        self.junk += rest[..upto].iter().filter(|b| !b.is_ascii_whitespace()).count();
                    }
                    self.pos += upto;
                    if self.pos < self.buf.len() && !self.at_lt() {
                        break;
                    }
                }
                Lex::StartTag { quote, slash } => {
                    self.lex = match (quote, byte) {
                        // `<` cannot occur in a tag: the tag was cut off; let `Content` classify the `<`.
                        (_, b'<') => {
                            self.abandon_tag();
                            continue;
                        }
                        (Some(q), b) if b == q => Lex::StartTag { quote: None, slash: false },
                        (Some(_), _) => self.lex,
                        (None, b'"' | b'\'') => Lex::StartTag { quote: Some(byte), slash: false },
                        (None, b'>') => {
                            self.pos += 1;
                            self.end_of_start_tag(slash);
                            continue;
                        }
                        (None, b'/') => Lex::StartTag { quote: None, slash: true },
                        (None, _) => Lex::StartTag { quote: None, slash: false },
                    };
                    self.pos += 1;
                }
                Lex::EndTag => {
                    let rest = &self.buf[self.pos..];
                    match memchr::memchr2(b'>', b'<', rest) {
                        None => self.pos = self.buf.len(),
                        Some(i) if rest[i] == b'<' => {
                            self.pos += i;
                            self.lex = Lex::Content;
                        }
                        Some(i) => {
                            self.pos += i + 1;
                            self.lex = Lex::Content;
                            self.end_of_end_tag();
                        }
                    }
                }
                Lex::Comment { .. } | Lex::Cdata { .. } | Lex::Pi { .. } | Lex::Bang => {
                    if byte == b'<' {
                        match classify(&self.buf[self.pos..]) {
                            Lt::NeedMore => break,
                            Lt::Start { top_level: true, .. } => {
                                self.lex = Lex::Content;
                                continue;
                            }
                            _ => {}
                        }
                    }
                    self.lex = match (self.lex, byte) {
                        (Lex::Comment { dashes }, b'-') => Lex::Comment { dashes: (dashes + 1).min(2) },
                        (Lex::Comment { dashes: 2 }, b'>') => Lex::Content,
                        (Lex::Comment { .. }, _) => Lex::Comment { dashes: 0 },
                        (Lex::Cdata { brackets }, b']') => Lex::Cdata { brackets: (brackets + 1).min(2) },
                        (Lex::Cdata { brackets: 2 }, b'>') => Lex::Content,
                        (Lex::Cdata { .. }, _) => Lex::Cdata { brackets: 0 },
                        (Lex::Pi { question: true }, b'>') => Lex::Content,
                        (Lex::Pi { .. }, _) => Lex::Pi { question: byte == b'?' },
                        (Lex::Bang, b'>') => Lex::Content,
                        (lex, _) => lex,
                    };
                    self.pos += 1;
                }
            }
            self.check_size();
        }
    }

    /// Handles the `<` at `pos` in content; returns `false` when more bytes are needed to classify it.
    fn at_lt(&mut self) -> bool {
        let (lex, advance) = match classify(&self.buf[self.pos..]) {
            Lt::NeedMore => return false,
            Lt::NotTag => {
                if self.open.is_none() {
                    self.junk += 1;
                }
                (Lex::Content, 1)
            }
            Lt::EndTag if self.open.is_none() => {
                self.junk += 1;
                (Lex::Content, 1)
            }
            Lt::EndTag => (Lex::EndTag, 2),
            Lt::Comment => (Lex::Comment { dashes: 0 }, 4),
            Lt::Cdata => (Lex::Cdata { brackets: 0 }, 9),
            Lt::Bang => (Lex::Bang, 2),
            Lt::Pi => (Lex::Pi { question: false }, 2),
            Lt::Start { name_len, top_level } => {
                let name = &self.buf[self.pos + 1..self.pos + 1 + name_len];
                let is_blob = name == b"oneBLOB";
                let tag = String::from_utf8_lossy(name).into_owned();
                match &mut self.open {
                    Some(open) if !top_level => {
                        open.tag_start = Some(self.pos);
                        open.tag_role = if is_blob { TagRole::Blob } else { TagRole::Other };
                    }
                    _ => {
                        // A top-level name inside an element means that element was cut off.
                        if let Some(cut) = self.open.take() {
                            let kind = cut.skip.unwrap_or(ErrorKind::Truncated);
                            self.out.push_back(Framed::Failed(cut.info, kind));
                        }
                        self.flush_junk();
                        let info = FrameInfo { tag, ..FrameInfo::default() };
                        self.open = Some(Open {
                            info,
                            start: self.pos,
                            depth: 0,
                            limit: self.limits.max_message,
                            skip: None,
                            tag_start: Some(self.pos),
                            tag_role: TagRole::Top,
                        });
                    }
                }
                (Lex::StartTag { quote: None, slash: false }, 1 + name_len)
            }
        };
        self.lex = lex;
        self.pos += advance;
        true
    }

    /// A start tag was cut off by a `<`: forget it.
    fn abandon_tag(&mut self) {
        self.lex = Lex::Content;
        if let Some(open) = &mut self.open {
            open.tag_start = None;
        }
    }

    /// The `>` of a start tag has been consumed (`pos` is just after it).
    fn end_of_start_tag(&mut self, self_closing: bool) {
        self.lex = Lex::Content;
        let limits = self.limits;
        let Some(open) = &mut self.open else { return };
        if let Some(start) = open.tag_start.take() {
            let attributes = tag_attributes(&self.buf[start..self.pos]);
            let get = |key: &str| attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
            match open.tag_role {
                TagRole::Top => {
                    open.info.device = get("device").map(str::to_owned);
                    open.info.name = get("name").map(str::to_owned);
                }
                TagRole::Blob => {
                    let attached = get("attached").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
                    open.info.attached += usize::from(attached);
                    let declared = get("len").or(get("size")).and_then(|v| v.trim().parse::<u64>().ok());
                    match declared {
                        Some(declared) if declared > limits.max_blob => {
                            open.skip.get_or_insert(ErrorKind::BlobTooLarge {
                                element: get("name").map(str::to_owned),
                                declared,
                                limit: limits.max_blob,
                            });
                        }
                        _ if attached || self_closing => {}
                        declared => {
                            // Room for the base64 text of `len` bytes, allowing libindi's zero padding of
                            // `.fits.fz` payloads (up to 1 MiB) and 72-column lines with indentation.
                            let bytes = declared.unwrap_or(limits.max_blob) + (1 << 20);
                            let base64 = bytes.div_ceil(3) * 4;
                            open.limit += base64 + base64 / 32 + 4096;
                            // A declared frame's text is coming: one allocation instead of a dozen doublings, each
                            // copying what came before (a third of the framing time of a 4096² frame). Address
                            // space only until the bytes arrive, and within the limit checked just above.
                            if let Some(declared) = declared {
                                self.buf.reserve(declared.div_ceil(3) as usize * 4 + 4096);
                            }
                        }
                    }
                }
                TagRole::Other => {}
            }
        }
        if !self_closing {
            open.depth += 1;
        } else if open.depth == 0 {
            self.complete();
        }
    }

    /// The `>` of an end tag has been consumed.
    fn end_of_end_tag(&mut self) {
        if let Some(open) = &mut self.open {
            open.depth = open.depth.saturating_sub(1);
            if open.depth == 0 {
                self.complete();
            }
        }
    }

    /// The open element ends at `pos`.
    fn complete(&mut self) {
        let Some(open) = self.open.take() else { return };
        if let Some(kind) = open.skip {
            self.out.push_back(Framed::Failed(open.info, kind));
            return;
        }
        let bytes = if open.start == 0 && self.pos >= SPLIT_THRESHOLD {
            // Hand the buffer itself over; only the unscanned tail is copied.
            let rest = self.buf.split_off(self.pos);
            self.pos = 0;
            mem::replace(&mut self.buf, rest)
        } else {
            self.buf[open.start..self.pos].to_vec()
        };
        self.out.push_back(Framed::Complete(bytes, open.info));
    }

    /// Switches an element that outgrew its bound to skip mode.
    fn check_size(&mut self) {
        if let Some(open) = &mut self.open {
            if open.skip.is_none() && (self.pos - open.start) as u64 > open.limit {
                open.skip = Some(ErrorKind::MessageTooLarge { limit: open.limit });
            }
        }
    }

    /// Drops bytes that are no longer needed: everything scanned outside an element, and everything of a skipped
    /// element except the start tag being read.
    fn compact(&mut self) {
        let keep = match &mut self.open {
            None => self.pos,
            Some(open) if open.skip.is_none() => open.start,
            Some(open) => match open.tag_start {
                Some(start) if self.pos - start <= MAX_TAG => start,
                _ => {
                    open.tag_start = None;
                    self.pos
                }
            },
        };
        if keep == 0 {
            return;
        }
        self.buf.drain(..keep);
        self.pos -= keep;
        if let Some(open) = &mut self.open {
            open.start = open.start.saturating_sub(keep);
            open.tag_start = open.tag_start.map(|s| s - keep);
        }
    }
}
