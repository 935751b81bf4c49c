//! Just enough of NumPy's `.npy` and `.npz` formats to read the reference fixture: C-order little-endian `f4`, `i8`
//! and `u1` arrays, and `np.savez_compressed` archives (a zip64 of `.npy` members, each deflated). The format is
//! documented in `numpy/lib/format.py`; the zip local-file header and zip64 extra field in PKWARE's APPNOTE 4.3.7
//! and 4.5.3.

use std::io::Read;
use std::path::Path;

/// An array read from a `.npy` file.
pub struct Npy {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// The `descr` field: `<f4`, `<i8`, `|u1`.
    pub descr: String,
    /// The raw little-endian data, C order.
    pub data: Vec<u8>,
}

impl Npy {
    /// Parses the bytes of a `.npy` file.
    pub fn parse(bytes: &[u8]) -> Npy {
        assert!(bytes.starts_with(b"\x93NUMPY"), "not a .npy file");
        let (len, start) = match bytes[6] {
            1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
            _ => (u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize, 12),
        };
        let header = std::str::from_utf8(&bytes[start..start + len]).expect("ASCII header");
        assert!(header.contains("'fortran_order': False"), "C order expected: {header}");
        let field = |key: &str| {
            let at = header.find(&format!("'{key}':")).unwrap_or_else(|| panic!("{key} in {header}")) + key.len() + 3;
            header[at..].trim_start().to_owned()
        };
        let descr = field("descr").trim_start_matches('\'').split('\'').next().unwrap().to_owned();
        let shape_text = field("shape");
        let shape = shape_text[1..shape_text.find(')').unwrap()]
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse().unwrap())
            .collect();
        Npy { shape, descr, data: bytes[start + len..].to_vec() }
    }

    /// Reads a `.npy` file.
    pub fn read(path: &Path) -> Npy {
        Npy::parse(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
    }

    /// The values of an `<f4` array.
    pub fn f32s(&self) -> Vec<f32> {
        assert_eq!(self.descr, "<f4");
        self.data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
    }

    /// The values of an `<i8` array.
    pub fn i64s(&self) -> Vec<i64> {
        assert_eq!(self.descr, "<i8");
        self.data.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().unwrap())).collect()
    }
}

/// Member `name` (e.g. `masks.npy`) of a `.npz` archive.
pub fn npz_member(path: &Path, name: &str) -> Npy {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut at = 0;
    while bytes[at..].starts_with(b"PK\x03\x04") {
        let u16_at = |o: usize| u16::from_le_bytes([bytes[at + o], bytes[at + o + 1]]) as usize;
        let u32_at = |o: usize| u32::from_le_bytes(bytes[at + o..at + o + 4].try_into().unwrap()) as usize;
        let (method, mut compressed) = (u16_at(8), u32_at(18));
        let (name_len, extra_len) = (u16_at(26), u16_at(28));
        assert_eq!(u16_at(6) & 8, 0, "sizes after the data are not supported");
        let member = std::str::from_utf8(&bytes[at + 30..at + 30 + name_len]).unwrap();
        if compressed == 0xFFFF_FFFF {
            // zip64 (NumPy forces it): the sizes are in extra field 1, uncompressed then compressed, 8 bytes each
            let mut e = at + 30 + name_len;
            while e < at + 30 + name_len + extra_len {
                let (id, len) =
                    (u16::from_le_bytes([bytes[e], bytes[e + 1]]), u16::from_le_bytes([bytes[e + 2], bytes[e + 3]]));
                if id == 1 {
                    compressed = u64::from_le_bytes(bytes[e + 12..e + 20].try_into().unwrap()) as usize;
                }
                e += 4 + len as usize;
            }
        }
        let data = &bytes[at + 30 + name_len + extra_len..at + 30 + name_len + extra_len + compressed];
        if member == name {
            let raw = match method {
                0 => data.to_vec(),
                8 => {
                    let mut out = Vec::new();
                    flate2::read::DeflateDecoder::new(data).read_to_end(&mut out).expect("inflate");
                    out
                }
                m => panic!("zip method {m} not supported"),
            };
            return Npy::parse(&raw);
        }
        at += 30 + name_len + extra_len + compressed;
    }
    panic!("{name} not found in {}", path.display())
}

#[test]
fn parses_a_header() {
    let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend((header.len() as u16).to_le_bytes());
    bytes.extend(header.as_bytes());
    bytes.extend((0..6).flat_map(|i| (i as f32).to_le_bytes()));
    let a = Npy::parse(&bytes);
    assert_eq!(a.shape, [2, 3]);
    assert_eq!(a.f32s(), [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
}
