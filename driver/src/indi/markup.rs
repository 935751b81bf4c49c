//! The lexical side of framing: what a `<` starts (an end tag, a comment, CDATA, a processing instruction, a start
//! tag, and whether that start tag names a top-level INDI element), XML names, and the attributes of a start tag.
//! Apart from [`super::framer`]'s state machine so each can be read alone; the state machine only asks questions
//! of the bytes through these functions.

use quick_xml::events::BytesStart;
use quick_xml::XmlVersion;

/// The elements that can start an INDI message.
const TOP_LEVEL: [&[u8]; 21] = [
    b"getProperties",
    b"defTextVector",
    b"defNumberVector",
    b"defSwitchVector",
    b"defLightVector",
    b"defBLOBVector",
    b"setTextVector",
    b"setNumberVector",
    b"setSwitchVector",
    b"setLightVector",
    b"setBLOBVector",
    b"newTextVector",
    b"newNumberVector",
    b"newSwitchVector",
    b"newBLOBVector",
    b"delProperty",
    b"enableBLOB",
    b"message",
    b"pingRequest",
    b"pingReply",
    b"newLightVector",
];

/// Names longer than this are not INDI names; the scanner stops collecting them (and never waits for more).
const MAX_NAME: usize = 64;

/// What a `<` starts.
pub(super) enum Lt {
    NeedMore,
    NotTag,
    EndTag,
    Comment,
    Cdata,
    Bang,
    Pi,
    Start { name_len: usize, top_level: bool },
}

/// Classifies the markup that starts at `s[0] == b'<'`.
pub(super) fn classify(s: &[u8]) -> Lt {
    const COMMENT: &[u8] = b"<!--";
    const CDATA: &[u8] = b"<![CDATA[";
    let Some(&second) = s.get(1) else { return Lt::NeedMore };
    match second {
        b'/' => Lt::EndTag,
        b'?' => Lt::Pi,
        b'!' => {
            for (prefix, lt) in [(COMMENT, Lt::Comment), (CDATA, Lt::Cdata)] {
                let n = s.len().min(prefix.len());
                if s[..n] == prefix[..n] {
                    return if n == prefix.len() { lt } else { Lt::NeedMore };
                }
            }
            Lt::Bang
        }
        c if is_name_start(c) => {
            let name = &s[1..];
            match name.iter().take(MAX_NAME + 1).position(|&c| !is_name_char(c)) {
                Some(name_len) => Lt::Start { name_len, top_level: TOP_LEVEL.contains(&&name[..name_len]) },
                None if name.len() > MAX_NAME => Lt::Start { name_len: MAX_NAME, top_level: false },
                None => Lt::NeedMore,
            }
        }
        _ => Lt::NotTag,
    }
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b':' || c >= 0x80
}

fn is_name_char(c: u8) -> bool {
    is_name_start(c) || c.is_ascii_digit() || c == b'-' || c == b'.'
}

/// The attributes of a complete start tag `<name ...>` or `<name .../>`, best effort (bad ones are left out).
pub(super) fn tag_attributes(tag: &[u8]) -> Vec<(String, String)> {
    let inner = tag.strip_prefix(b"<").unwrap_or(tag);
    let inner = inner.strip_suffix(b">").unwrap_or(inner);
    let inner = inner.strip_suffix(b"/").unwrap_or(inner);
    let Ok(inner) = std::str::from_utf8(inner) else { return Vec::new() };
    let name_len = inner.bytes().position(|c| !is_name_char(c)).unwrap_or(inner.len());
    BytesStart::from_content(inner, name_len)
        .attributes()
        .filter_map(Result::ok)
        .filter_map(|a| {
            Some((a.key.as_ref().to_owned(), a.normalized_value(XmlVersion::Implicit1_0).ok()?.into_owned()))
        })
        .collect()
}
