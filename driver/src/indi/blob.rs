//! BLOB payloads in the forms INDI servers send: inline base64 (one line, or 72-column lines with indentation) and
//! attached memfds (only INDI 1.9.7 – 1.9.9, Debian 12's version, where the element is empty and the bytes come as a
//! file descriptor; since 2.0.0 the server converts BLOBs for drivers back to base64).
//!
//! Both are cut to the declared `len`: an fpacked `.fits.fz` payload is zero-padded (see INDI-NOTES.md), so the
//! data may be longer than `len`; shorter is a lie and an error.

use std::borrow::Cow;
use std::os::fd::OwnedFd;

use nix::errno::Errno;

use super::error::ErrorKind;

/// Decodes an inline payload, ignoring ASCII whitespace, and cuts it to `len` when given.
pub(crate) fn decode_inline(element: &str, text: &str, len: Option<u64>, max_blob: u64) -> Result<Vec<u8>, ErrorKind> {
    let compact = strip_whitespace(text.as_bytes());
    // Only the first ceil(len/3)*4 characters matter: padding beyond `len` is neither decoded nor checked.
    let needed = len.map_or(compact.len(), |len| len.div_ceil(3).saturating_mul(4).min(compact.len() as u64) as usize);
    // WHATWG's forgiving base64: padding optional, trailing bits ignored, as INDI writers need. SIMD (AVX2, NEON):
    // the `base64` crate's scalar decoder took ~50 ms of a 4096² frame's ~450 ms (docs/BENCHMARKS.md).
    let mut data = base64_simd::forgiving_decode_to_vec(&compact[..needed])
        .map_err(|e| ErrorKind::BadBase64 { element: element.to_owned(), detail: e.to_string() })?;
    match len {
        Some(len) if (data.len() as u64) < len => {
            return Err(ErrorKind::LyingLen { element: element.to_owned(), declared: len, actual: data.len() as u64 })
        }
        Some(len) => data.truncate(len as usize),
        None => {}
    }
    if data.len() as u64 > max_blob {
        return Err(ErrorKind::BlobTooLarge {
            element: Some(element.to_owned()),
            declared: data.len() as u64,
            limit: max_blob,
        });
    }
    Ok(data)
}

/// The size of an attached BLOB's descriptor, for messages that do not declare `len`.
pub(crate) fn attached_len(element: &str, fd: &OwnedFd) -> Result<u64, ErrorKind> {
    nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(fd))
        .map(|st| st.st_size.max(0) as u64)
        .map_err(|e| ErrorKind::FdRead { element: element.to_owned(), detail: e.to_string() })
}

/// Reads `len` bytes from offset 0 of an attached BLOB's descriptor, then closes it.
pub(crate) fn read_attached(element: &str, fd: OwnedFd, len: u64, max_blob: u64) -> Result<Vec<u8>, ErrorKind> {
    if len > max_blob {
        return Err(ErrorKind::BlobTooLarge { element: Some(element.to_owned()), declared: len, limit: max_blob });
    }
    let mut data = vec![0u8; len as usize];
    let mut filled = 0;
    while filled < data.len() {
        match nix::sys::uio::pread(&fd, &mut data[filled..], filled as i64) {
            Ok(0) => {
                return Err(ErrorKind::LyingLen { element: element.to_owned(), declared: len, actual: filled as u64 })
            }
            Ok(n) => filled += n,
            Err(Errno::EINTR) => {}
            Err(e) => return Err(ErrorKind::FdRead { element: element.to_owned(), detail: e.to_string() }),
        }
    }
    Ok(data)
}

/// The bytes without ASCII whitespace (space, tab, CR, LF); borrowed when there is none.
fn strip_whitespace(text: &[u8]) -> Cow<'_, [u8]> {
    let mut breaks = memchr::memchr3_iter(b'\n', b'\r', b' ', text).peekable();
    let has_tab = memchr::memchr(b'\t', text).is_some();
    if breaks.peek().is_none() && !has_tab {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut from = 0;
    for at in breaks {
        out.extend_from_slice(&text[from..at]);
        from = at + 1;
    }
    out.extend_from_slice(&text[from..]);
    if has_tab {
        out.retain(|&b| b != b'\t');
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_forms() {
        let limit = 1 << 20;
        assert_eq!(decode_inline("B", "SGVsbG8=", Some(5), limit).unwrap(), b"Hello");
        assert_eq!(decode_inline("B", "\n  SGVs\r\n\tbG8=\n  ", None, limit).unwrap(), b"Hello");
        assert_eq!(decode_inline("B", "SGVsbG8", Some(5), limit).unwrap(), b"Hello", "missing padding");
        // Zero padding after `len` bytes is cut off.
        assert_eq!(decode_inline("B", "SGVsbG8AAAAAAAA=", Some(5), limit).unwrap(), b"Hello");
        assert!(matches!(
            decode_inline("B", "SGVsbG8=", Some(6), limit),
            Err(ErrorKind::LyingLen { declared: 6, actual: 5, .. })
        ));
        assert!(matches!(decode_inline("B", "SGV*bG8=", None, limit), Err(ErrorKind::BadBase64 { .. })));
        assert!(matches!(decode_inline("B", "SGVsbG8=", None, 4), Err(ErrorKind::BlobTooLarge { .. })));
    }
}
