//! A minimal FITS writer for tests: header cards in 2880-byte blocks, then big-endian data padded to a block
//! (FITS 4.0 §3.1, §4.1, §5.2). Enough to build every BITPIX, scaling, cube and damaged file the decoder must meet.

/// One 80-column card. `value` is written as given: `"T"`, `"16"`, `"'GRBG'"`.
fn card(keyword: &str, value: &str) -> String {
    let text = if value.starts_with('\'') {
        format!("{keyword:<8}= {value:<20}")
    } else {
        format!("{keyword:<8}= {value:>20}")
    };
    format!("{text:<80}")
}

/// Header bytes: SIMPLE, BITPIX, NAXIS, NAXISn, the extra cards, END, padded with blanks.
pub(crate) fn header(bitpix: i32, axes: &[usize], extra: &[(&str, &str)]) -> Vec<u8> {
    let mut text = card("SIMPLE", "T");
    text += &card("BITPIX", &bitpix.to_string());
    text += &card("NAXIS", &axes.len().to_string());
    for (i, a) in axes.iter().enumerate() {
        text += &card(&format!("NAXIS{}", i + 1), &a.to_string());
    }
    for (k, v) in extra {
        text += &card(k, v);
    }
    text += &format!("{:<80}", "END");
    let mut bytes = text.into_bytes();
    bytes.resize(bytes.len().div_ceil(2880) * 2880, b' ');
    bytes
}

/// Samples that can be written big-endian.
pub(crate) trait BigEndian: Copy {
    /// The value's big-endian bytes.
    fn be(self) -> Vec<u8>;
}

macro_rules! big_endian {
    ($($t:ty),*) => {$(impl BigEndian for $t {
        fn be(self) -> Vec<u8> {
            self.to_be_bytes().to_vec()
        }
    })*};
}
big_endian!(u8, i16, i32, i64, f32, f64);

/// A whole single-HDU FITS file.
pub(crate) fn fits<T: BigEndian>(bitpix: i32, axes: &[usize], extra: &[(&str, &str)], data: &[T]) -> Vec<u8> {
    let mut bytes = header(bitpix, axes, extra);
    for &v in data {
        bytes.extend(v.be());
    }
    bytes.resize(bytes.len().div_ceil(2880) * 2880, 0);
    bytes
}

/// Unsigned 16-bit camera counts stored as FITS does: signed, offset by BZERO = 32768.
pub(crate) fn u16_as_stored(counts: &[u16]) -> Vec<i16> {
    counts.iter().map(|&c| (i32::from(c) - 32768) as i16).collect()
}
