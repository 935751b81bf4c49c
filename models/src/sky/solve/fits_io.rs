//! The FITS files exchanged with `solve-field`: the frame written for it (16-bit luminance) and the header cards read
//! back from the WCS file it writes. Apart from the solving logic because both are byte formats, tested as such;
//! neither is a general FITS reader or writer (`crate::decode` is the reader).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use dso_plugin_api::{Frame, HeaderCard};

/// The keyword cards of a FITS header (80-character cards up to `END`): keyword from columns 1–8, value after the
/// `= ` of columns 9–10 with string quotes and the `/ comment` removed. Commentary cards (`COMMENT`, `HISTORY`,
/// blank) are skipped. Enough for the WCS files astrometry.net writes; not a general FITS parser.
pub fn parse_header(bytes: &[u8]) -> Vec<HeaderCard> {
    let mut cards = Vec::new();
    for raw in bytes.chunks(80) {
        let card = String::from_utf8_lossy(raw);
        let keyword = card.get(..8.min(card.len())).unwrap_or("").trim_end();
        if keyword == "END" {
            break;
        }
        // FITS 4.0 §4.4.2.4: COMMENT and HISTORY are commentary even with `= ` in columns 9–10.
        if matches!(keyword, "" | "COMMENT" | "HISTORY") || card.get(8..10) != Some("= ") {
            continue;
        }
        let rest = card[10..].trim_start();
        let value = match rest.strip_prefix('\'') {
            // FITS 4.0 §4.2.1: a string ends at a lone quote; a doubled quote stands for one.
            Some(body) => {
                let mut value = String::new();
                let mut chars = body.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    value.push(c);
                }
                value.trim_end().to_string()
            }
            None => rest.split('/').next().unwrap_or("").trim().to_string(),
        };
        cards.push(HeaderCard { keyword: keyword.to_string(), value });
    }
    cards
}

/// Writes the frame's luminance as a primary FITS image, BITPIX 16 with BZERO 32768 (unsigned 16-bit), frame row 0
/// as FITS row 1.
pub(super) fn write_fits(path: &Path, frame: &Frame) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut header = String::new();
    for (keyword, value) in [
        ("SIMPLE", "T".to_string()),
        ("BITPIX", "16".into()),
        ("NAXIS", "2".into()),
        ("NAXIS1", frame.width.to_string()),
        ("NAXIS2", frame.height.to_string()),
        ("BZERO", "32768".into()),
        ("BSCALE", "1".into()),
    ] {
        header.push_str(&format!("{keyword:<8}= {value:>20}{:50}", ""));
    }
    header.push_str(&format!("{:<80}", "END"));
    let padded = header.len().div_ceil(2880) * 2880;
    out.write_all(format!("{header:<padded$}").as_bytes())?;
    let luminance = frame.luminance();
    let mut row = Vec::with_capacity(frame.width * 2);
    for line in luminance.chunks(frame.width.max(1)) {
        row.clear();
        for v in line {
            // NaN becomes 0 (a float-to-int `as` saturates and maps NaN to 0).
            let unsigned = (v.clamp(0.0, 1.0) * 65535.0).round() as u16;
            row.extend_from_slice(&((i32::from(unsigned) - 32768) as i16).to_be_bytes());
        }
        out.write_all(&row)?;
    }
    let data = luminance.len() * 2;
    out.write_all(&vec![0; data.div_ceil(2880) * 2880 - data])?;
    // No fsync: the solver reads it back through the page cache, and an SD card (a Raspberry Pi) syncs slowly.
    out.flush()
}
