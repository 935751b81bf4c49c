//! INDI semantics: an XML [`Element`] tree becomes a typed [`Message`].
//!
//! Policy: `device`, `name` and element names must be present; other attributes that INDI requires but a peer
//! omits take the defaults documented on the message types; any value present but not understood is an error
//! naming the element (a bad number must not silently become 0).

use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::time::SystemTime;

use super::blob;
use super::error::{shorten, ErrorKind};
use super::message::*;
use super::tree::Element;
use super::values::{parse_number, parse_timestamp};
use super::vector::*;

/// Decoding context: the descriptors owned by this message's attached BLOBs, in order, and the BLOB limit.
pub(crate) struct BlobSource {
    pub fds: VecDeque<OwnedFd>,
    pub max_blob: u64,
}

/// Converts a parsed top-level element.
pub(crate) fn to_message(root: &Element<'_>, blobs: &mut BlobSource) -> Result<Message, ErrorKind> {
    let tag = root.name.as_str();
    let kind_of = |suffix: &str| -> Option<VectorKind> {
        Some(match suffix {
            "TextVector" => VectorKind::Text,
            "NumberVector" => VectorKind::Number,
            "SwitchVector" => VectorKind::Switch,
            "LightVector" => VectorKind::Light,
            "BLOBVector" => VectorKind::Blob,
            _ => return None,
        })
    };
    // Element names may hold any Unicode letter: split on a character boundary (fuzzing found `<g\u{feff}/>`).
    let (prefix, suffix) = tag.split_at_checked(3).unwrap_or((tag, ""));
    match (prefix, kind_of(suffix)) {
        ("def", Some(kind)) => return def_vector(root, kind).map(Message::Def),
        ("set", Some(kind)) => return set_vector(root, kind, blobs).map(Message::Set),
        ("new", Some(kind)) if kind != VectorKind::Light => {
            let values = values(root, kind, blobs)?;
            let (device, name) = (required(root, "device")?, required(root, "name")?);
            return Ok(Message::New(NewVector { device, name, timestamp: timestamp(root)?, values }));
        }
        _ => {}
    }
    let uid = || required(root, "uid");
    Ok(match tag {
        "getProperties" => Message::GetProperties(GetProperties {
            version: optional(root, "version"),
            device: optional(root, "device"),
            name: optional(root, "name"),
        }),
        "delProperty" => Message::DelProperty(DelProperty {
            device: required(root, "device")?,
            name: optional(root, "name"),
            timestamp: timestamp(root)?,
            message: optional(root, "message"),
        }),
        "enableBLOB" => Message::EnableBlob(EnableBlob {
            device: required(root, "device")?,
            name: optional(root, "name"),
            mode: BlobEnable::from_wire(root.text.trim()).ok_or_else(|| bad(tag, "text", root.text.trim()))?,
        }),
        "message" => Message::Message(DeviceMessage {
            device: optional(root, "device"),
            timestamp: timestamp(root)?,
            message: optional(root, "message"),
        }),
        "pingRequest" => Message::PingRequest { uid: uid()? },
        "pingReply" => Message::PingReply { uid: uid()? },
        _ => return Err(ErrorKind::UnknownElement(tag.to_owned())),
    })
}

fn def_vector(root: &Element<'_>, kind: VectorKind) -> Result<DefVector, ErrorKind> {
    let children = children(root, kind.def_child())?;
    let elements = match kind {
        VectorKind::Text => DefElements::Text(
            children
                .map(|c| Ok(DefText { name: name(c)?, label: optional(c, "label"), value: c.text.trim().to_owned() }))
                .collect::<Result<_, ErrorKind>>()?,
        ),
        VectorKind::Number => DefElements::Number(
            children
                .map(|c| {
                    let name = name(c)?;
                    Ok(DefNumber {
                        label: optional(c, "label"),
                        format: optional(c, "format").unwrap_or_else(|| "%g".to_owned()),
                        min: number_attribute(c, &name, "min")?.unwrap_or(0.0),
                        max: number_attribute(c, &name, "max")?.unwrap_or(0.0),
                        step: number_attribute(c, &name, "step")?.unwrap_or(0.0),
                        value: number_text(c, &name)?,
                        name,
                    })
                })
                .collect::<Result<_, ErrorKind>>()?,
        ),
        VectorKind::Switch => {
            let rule = parsed(root, "rule", SwitchRule::from_wire)?.unwrap_or(SwitchRule::AnyOfMany);
            let switches = children
                .map(|c| Ok(DefSwitch { name: name(c)?, label: optional(c, "label"), state: switch_text(c)? }))
                .collect::<Result<_, ErrorKind>>()?;
            DefElements::Switch(rule, switches)
        }
        VectorKind::Light => DefElements::Light(
            children
                .map(|c| Ok(DefLight { name: name(c)?, label: optional(c, "label"), state: light_text(c)? }))
                .collect::<Result<_, ErrorKind>>()?,
        ),
        VectorKind::Blob => DefElements::Blob(
            children
                .map(|c| Ok(DefBlob { name: name(c)?, label: optional(c, "label") }))
                .collect::<Result<_, ErrorKind>>()?,
        ),
    };
    let light = kind == VectorKind::Light;
    Ok(DefVector {
        device: required(root, "device")?,
        name: required(root, "name")?,
        label: optional(root, "label"),
        group: optional(root, "group"),
        state: parsed(root, "state", PropertyState::from_wire)?.unwrap_or_default(),
        perm: if light { None } else { parsed(root, "perm", Permission::from_wire)? }.unwrap_or(Permission::ReadOnly),
        timeout: if light { None } else { parsed(root, "timeout", parse_number)? },
        timestamp: timestamp(root)?,
        message: optional(root, "message"),
        elements,
    })
}

fn set_vector(root: &Element<'_>, kind: VectorKind, blobs: &mut BlobSource) -> Result<SetVector, ErrorKind> {
    Ok(SetVector {
        device: required(root, "device")?,
        name: required(root, "name")?,
        state: parsed(root, "state", PropertyState::from_wire)?,
        timeout: parsed(root, "timeout", parse_number)?,
        timestamp: timestamp(root)?,
        message: optional(root, "message"),
        values: values(root, kind, blobs)?,
    })
}

/// The `oneXXX` children of a `set` or `new` vector.
fn values(root: &Element<'_>, kind: VectorKind, blobs: &mut BlobSource) -> Result<Values, ErrorKind> {
    let children = children(root, kind.one_child())?;
    Ok(match kind {
        VectorKind::Text => Values::Text(
            children
                .map(|c| Ok(OneText { name: name(c)?, value: c.text.trim().to_owned() }))
                .collect::<Result<_, ErrorKind>>()?,
        ),
        VectorKind::Number => Values::Number(
            children
                .map(|c| {
                    let name = name(c)?;
                    Ok(OneNumber { value: number_text(c, &name)?, name })
                })
                .collect::<Result<_, ErrorKind>>()?,
        ),
        VectorKind::Switch => Values::Switch(
            children
                .map(|c| Ok(OneSwitch { name: name(c)?, state: switch_text(c)? }))
                .collect::<Result<_, ErrorKind>>()?,
        ),
        VectorKind::Light => Values::Light(
            children
                .map(|c| Ok(OneLight { name: name(c)?, state: light_text(c)? }))
                .collect::<Result<_, ErrorKind>>()?,
        ),
        VectorKind::Blob => {
            let mut out = Vec::new();
            for child in children {
                out.push(one_blob(child, blobs)?);
            }
            Values::Blob(out)
        }
    })
}

fn one_blob(c: &Element<'_>, blobs: &mut BlobSource) -> Result<OneBlob, ErrorKind> {
    let attached = c.attribute("attached").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    // Take this BLOB's descriptor before anything can fail (the rest are closed with the message).
    let fd = if attached { Some(blobs.fds.pop_front()) } else { None };
    let name = name(c)?;
    let len = parsed(c, "len", |v| v.trim().parse::<u64>().ok())?;
    let size = parsed(c, "size", |v| v.trim().parse::<u64>().ok())?;
    let data = match fd {
        Some(Some(fd)) => {
            // indiserver 1.9.9 turns a client's inline upload without `len` into an attached BLOB without `len`:
            // the descriptor's own length is the payload's then.
            let len = match len {
                Some(len) => len,
                None => blob::attached_len(&name, &fd)?,
            };
            blob::read_attached(&name, fd, len, blobs.max_blob)?
        }
        Some(None) => return Err(ErrorKind::MissingFd { element: name }),
        None => blob::decode_inline(&name, &c.text, len, blobs.max_blob)?,
    };
    Ok(OneBlob {
        size: size.unwrap_or(data.len() as u64),
        format: optional(c, "format").unwrap_or_default(),
        data,
        name,
    })
}

/// The children of `root`, which must all be `<child>` elements.
fn children<'e, 'a>(root: &'e Element<'a>, child: &str) -> Result<impl Iterator<Item = &'e Element<'a>>, ErrorKind> {
    if let Some(other) = root.children.iter().find(|c| c.name != child) {
        return Err(ErrorKind::UnknownElement(other.name.clone()));
    }
    Ok(root.children.iter())
}

fn optional(e: &Element<'_>, key: &str) -> Option<String> {
    e.attribute(key).map(str::to_owned)
}

fn required(e: &Element<'_>, key: &'static str) -> Result<String, ErrorKind> {
    optional(e, key).ok_or(ErrorKind::MissingAttribute { element: e.name.clone(), attribute: key })
}

fn name(e: &Element<'_>) -> Result<String, ErrorKind> {
    required(e, "name")
}

fn bad(element: &str, what: &str, value: &str) -> ErrorKind {
    ErrorKind::BadValue { element: element.to_owned(), what: what.to_owned(), value: shorten(value) }
}

/// An optional attribute parsed by `parse`; present but unparseable is an error naming the element.
fn parsed<T>(e: &Element<'_>, key: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Option<T>, ErrorKind> {
    let Some(value) = e.attribute(key) else { return Ok(None) };
    let label = e.attribute("name").unwrap_or(&e.name);
    parse(value).map(Some).ok_or_else(|| bad(label, key, value))
}

fn timestamp(e: &Element<'_>) -> Result<Option<SystemTime>, ErrorKind> {
    parsed(e, "timestamp", parse_timestamp)
}

fn number_attribute(e: &Element<'_>, name: &str, key: &str) -> Result<Option<f64>, ErrorKind> {
    let Some(value) = e.attribute(key) else { return Ok(None) };
    parse_number(value).map(Some).ok_or_else(|| bad(name, key, value))
}

fn number_text(e: &Element<'_>, name: &str) -> Result<f64, ErrorKind> {
    parse_number(&e.text).ok_or_else(|| bad(name, "value", e.text.trim()))
}

fn switch_text(e: &Element<'_>) -> Result<SwitchState, ErrorKind> {
    let text = e.text.trim();
    SwitchState::from_wire(text).ok_or_else(|| bad(e.attribute("name").unwrap_or(&e.name), "state", text))
}

fn light_text(e: &Element<'_>) -> Result<PropertyState, ErrorKind> {
    let text = e.text.trim();
    PropertyState::from_wire(text).ok_or_else(|| bad(e.attribute("name").unwrap_or(&e.name), "state", text))
}
