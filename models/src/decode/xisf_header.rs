//! The XISF XML header: the first `<Image>` element's geometry, sample format, bounds, pixel storage, data block
//! location and compression, with its `<FITSKeyword>` and `<ColorFilterArray>` children (XISF 1.0 §8, §9.4.3, §11).
//!
//! Parsing the header is all XML and attribute checking; reading the data block it points at is bytes and sizes.
//! They are separate steps with separate failure modes ([`HeaderError`] against [`DecodeError`]), so they live in
//! separate modules: this one, and [`super::xisf`], which trusts nothing here before checking sizes against its
//! limits.

use dso_plugin_api::HeaderCard;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::fits::unquote;
use super::DecodeError;

/// Sample formats, XISF 1.0 §8.5.5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SampleFormat {
    UInt8,
    UInt16,
    UInt32,
    Float32,
    Float64,
}

impl SampleFormat {
    fn parse(s: &str) -> Result<Self, HeaderError> {
        Ok(match s {
            "UInt8" => Self::UInt8,
            "UInt16" => Self::UInt16,
            "UInt32" => Self::UInt32,
            "Float32" => Self::Float32,
            "Float64" => Self::Float64,
            other => return Err(HeaderError::Unsupported(format!("sample format '{other}' is not supported"))),
        })
    }

    pub(super) fn item_size(self) -> usize {
        match self {
            Self::UInt8 => 1,
            Self::UInt16 => 2,
            Self::UInt32 | Self::Float32 => 4,
            Self::Float64 => 8,
        }
    }

    pub(super) fn float(self) -> bool {
        matches!(self, Self::Float32 | Self::Float64)
    }

    /// The FITS `BITPIX` of the same samples, for [`normalise`]'s integer full scales.
    pub(super) fn bitpix(self) -> i32 {
        match self {
            Self::UInt8 => 8,
            Self::UInt16 => 16,
            Self::UInt32 => 32,
            Self::Float32 => -32,
            Self::Float64 => -64,
        }
    }
}

/// A data block's compression, XISF 1.0 §9.4.3.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Compression {
    pub(super) codec: String,
    pub(super) uncompressed: usize,
    /// The item size when bytes were shuffled (`codec+sh`).
    pub(super) shuffled_item: Option<usize>,
}

/// What the header says about the first image.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct ImageHeader {
    pub(super) geometry: (usize, usize, usize),
    pub(super) format: SampleFormat,
    pub(super) bounds: Option<(f32, f32)>,
    pub(super) interleaved: bool,
    pub(super) big_endian: bool,
    pub(super) location: (usize, usize),
    pub(super) compression: Option<Compression>,
    pub(super) keywords: Vec<HeaderCard>,
    pub(super) cfa: Option<String>,
}

/// Why a header cannot be used.
pub(super) enum HeaderError {
    Corrupt(String),
    Unsupported(String),
}

impl From<HeaderError> for DecodeError {
    fn from(e: HeaderError) -> Self {
        match e {
            HeaderError::Corrupt(what) => DecodeError::Corrupt(format!("XISF: {what}")),
            HeaderError::Unsupported(what) => DecodeError::Unsupported(format!("XISF {what}")),
        }
    }
}

/// The first `<Image>` of the XML header, with its `<FITSKeyword>` and `<ColorFilterArray>` children; `None` when
/// there is no image.
pub(super) fn parse_header(xml: &str) -> Result<Option<ImageHeader>, HeaderError> {
    let mut reader = Reader::from_str(xml);
    let mut image: Option<ImageHeader> = None;
    // Nesting depth inside the first <Image> while it is open.
    let mut inside = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| HeaderError::Corrupt(format!("header XML: {e}")))?;
        match (event, image.as_mut()) {
            (Event::Eof, _) => break,
            (Event::Start(e), None) if e.local_name().as_ref() == "Image" => {
                image = Some(image_header(&e)?);
                inside = 1;
            }
            (Event::Empty(e), None) if e.local_name().as_ref() == "Image" => return Ok(Some(image_header(&e)?)),
            (Event::Start(e), Some(img)) if inside > 0 => {
                child(&e, img)?;
                inside += 1;
            }
            (Event::Empty(e), Some(img)) if inside > 0 => child(&e, img)?,
            (Event::End(_), Some(_)) if inside > 0 => {
                inside -= 1;
                if inside == 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    Ok(image)
}

/// An element's attributes, entities resolved.
fn attributes(e: &BytesStart<'_>) -> Result<Vec<(String, String)>, HeaderError> {
    let bad = |what: String| HeaderError::Corrupt(format!("<{}>: {what}", e.name().as_ref()));
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|x| bad(x.to_string()))?;
        let value = a.normalized_value(XmlVersion::Implicit1_0).map_err(|x| bad(x.to_string()))?;
        out.push((a.key.local_name().as_ref().to_owned(), value.into_owned()));
    }
    Ok(out)
}

fn attribute<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Colon-separated whole numbers (`1280:1024:1`).
fn numbers(text: &str) -> Option<Vec<usize>> {
    text.split(':').map(|p| p.trim().parse().ok()).collect()
}

fn image_header(e: &BytesStart<'_>) -> Result<ImageHeader, HeaderError> {
    let attrs = attributes(e)?;
    let corrupt = HeaderError::Corrupt;
    let get = |name: &str| attribute(&attrs, name).ok_or_else(|| corrupt(format!("<Image> without {name}")));
    let geometry = get("geometry")?;
    let geometry = match numbers(geometry).as_deref() {
        Some(&[w, h, c]) if w > 0 && h > 0 && c > 0 => (w, h, c),
        Some(dims) if dims.len() > 3 => {
            return Err(HeaderError::Unsupported(format!("{}-D image (geometry {geometry})", dims.len() - 1)))
        }
        _ => return Err(corrupt(format!("geometry '{geometry}' is not width:height:channels"))),
    };
    let format = SampleFormat::parse(get("sampleFormat")?)?;
    let location = get("location")?;
    let location = match location.split_once(':') {
        Some(("attachment", rest)) => match numbers(rest).as_deref() {
            Some(&[position, size]) => (position, size),
            _ => return Err(corrupt(format!("location '{location}' is not attachment:position:size"))),
        },
        _ => return Err(HeaderError::Unsupported(format!("data location '{location}' (only attached blocks)"))),
    };
    let bounds = match attribute(&attrs, "bounds").map(|b| b.split_once(':')) {
        None => None,
        Some(Some((lo, hi))) => match (lo.trim().parse(), hi.trim().parse()) {
            (Ok(lo), Ok(hi)) => Some((lo, hi)),
            _ => return Err(corrupt(format!("bounds '{lo}:{hi}' are not numbers"))),
        },
        Some(None) => return Err(corrupt("bounds are not low:high".into())),
    };
    let compression = match attribute(&attrs, "compression") {
        None => None,
        Some(text) => {
            let mut parts = text.split(':');
            let codec = parts.next().unwrap_or_default();
            let rest: Option<Vec<usize>> = parts.map(|p| p.trim().parse().ok()).collect();
            let (codec, shuffled) = match codec.strip_suffix("+sh") {
                Some(c) => (c, true),
                None => (codec, false),
            };
            match (rest.as_deref(), shuffled) {
                (Some(&[uncompressed]), false) => {
                    Some(Compression { codec: codec.into(), uncompressed, shuffled_item: None })
                }
                (Some(&[uncompressed, item]), true) if item > 0 => {
                    Some(Compression { codec: codec.into(), uncompressed, shuffled_item: Some(item) })
                }
                _ => return Err(corrupt(format!("compression '{text}' is not codec:size or codec+sh:size:item"))),
            }
        }
    };
    Ok(ImageHeader {
        geometry,
        format,
        bounds,
        interleaved: attribute(&attrs, "pixelStorage") == Some("Normal"),
        big_endian: attribute(&attrs, "byteOrder") == Some("big"),
        location,
        compression,
        keywords: Vec::new(),
        cfa: None,
    })
}

/// A child of `<Image>`: FITS keywords become header cards (upper-case, string quotes removed, as from a FITS
/// header), a 2×2 colour filter array its pattern.
fn child(e: &BytesStart<'_>, image: &mut ImageHeader) -> Result<(), HeaderError> {
    match e.local_name().as_ref() {
        "FITSKeyword" => {
            let attrs = attributes(e)?;
            if let (Some(name), Some(value)) = (attribute(&attrs, "name"), attribute(&attrs, "value")) {
                let keyword = name.trim().to_ascii_uppercase();
                if !keyword.is_empty() && !matches!(keyword.as_str(), "COMMENT" | "HISTORY") {
                    image.keywords.push(HeaderCard { keyword, value: unquote(value) });
                }
            }
        }
        "ColorFilterArray" => {
            let attrs = attributes(e)?;
            let size = (attribute(&attrs, "width"), attribute(&attrs, "height"));
            if let (Some(pattern), (Some("2"), Some("2"))) = (attribute(&attrs, "pattern"), size) {
                image.cfa = Some(pattern.to_owned());
            }
        }
        _ => {}
    }
    Ok(())
}
