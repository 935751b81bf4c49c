//! The writer: any [`Message`] as INDI XML.
//!
//! Small messages are built in one `String` and written with one `write_all`, so a message never interleaves with
//! another writer's output at the byte level of a single call. BLOB payloads are streamed as 72-column base64 in
//! blocks of about 73 KiB, so a 30 MB image costs no quadratic string building and no second full-size copy.

use std::io::{self, Write};

use base64_simd::{Out, STANDARD};

use super::message::*;
use super::values::{format_number, format_timestamp};
use super::vector::*;

/// Raw bytes per 72-character base64 line.
const LINE_BYTES: usize = 54;
/// Lines encoded per `write_all`.
const LINES_PER_BLOCK: usize = 1024;

/// Writes one message followed by a newline. Flush `out` afterwards if it is buffered.
///
/// Fails with `InvalidInput` for a [`Message::New`] with light values (INDI has no `newLightVector`).
pub fn write_message<W: Write + ?Sized>(out: &mut W, message: &Message) -> io::Result<()> {
    let mut xml = Xml(String::with_capacity(256));
    let tag = message.tag();
    xml.open(tag);
    match message {
        Message::GetProperties(g) => {
            xml.attr_opt("version", &g.version);
            xml.attr_opt("device", &g.device);
            xml.attr_opt("name", &g.name);
            xml.0.push_str("/>\n");
        }
        Message::Def(d) => {
            xml.attr("device", &d.device);
            xml.attr("name", &d.name);
            xml.attr_opt("label", &d.label);
            xml.attr_opt("group", &d.group);
            xml.attr("state", d.state.as_str());
            if let DefElements::Switch(rule, _) = &d.elements {
                xml.attr("rule", rule.as_str());
            }
            if d.elements.kind() != VectorKind::Light {
                xml.attr("perm", d.perm.as_str());
                xml.number_opt("timeout", d.timeout);
            }
            xml.timestamp(d.timestamp);
            xml.attr_opt("message", &d.message);
            xml.0.push_str(">\n");
            def_elements(&mut xml, &d.elements);
        }
        Message::Set(s) => {
            xml.attr("device", &s.device);
            xml.attr("name", &s.name);
            if let Some(state) = s.state {
                xml.attr("state", state.as_str());
            }
            xml.number_opt("timeout", s.timeout);
            xml.timestamp(s.timestamp);
            xml.attr_opt("message", &s.message);
            xml.0.push_str(">\n");
            values(out, &mut xml, &s.values)?;
        }
        Message::New(n) => {
            if n.values.kind() == VectorKind::Light {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "INDI has no newLightVector"));
            }
            xml.attr("device", &n.device);
            xml.attr("name", &n.name);
            xml.timestamp(n.timestamp);
            xml.0.push_str(">\n");
            values(out, &mut xml, &n.values)?;
        }
        Message::DelProperty(d) => {
            xml.attr("device", &d.device);
            xml.attr_opt("name", &d.name);
            xml.timestamp(d.timestamp);
            xml.attr_opt("message", &d.message);
            xml.0.push_str("/>\n");
        }
        Message::EnableBlob(e) => {
            xml.attr("device", &e.device);
            xml.attr_opt("name", &e.name);
            xml.0.push('>');
            xml.0.push_str(e.mode.as_str());
            xml.close(tag);
        }
        Message::Message(m) => {
            xml.attr_opt("device", &m.device);
            xml.timestamp(m.timestamp);
            xml.attr_opt("message", &m.message);
            xml.0.push_str("/>\n");
        }
        Message::PingRequest { uid } | Message::PingReply { uid } => {
            xml.attr("uid", uid);
            xml.0.push_str("/>\n");
        }
    }
    if matches!(message, Message::Def(_) | Message::Set(_) | Message::New(_)) {
        xml.close(tag);
    }
    out.write_all(xml.0.as_bytes())
}

/// Serialises a message into a new buffer (convenient for tests and small messages).
pub fn to_xml(message: &Message) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    write_message(&mut out, message)?;
    Ok(out)
}

fn def_elements(xml: &mut Xml, elements: &DefElements) {
    let child = elements.kind().def_child();
    let head = |xml: &mut Xml, name: &str, label: &Option<String>| {
        xml.0.push_str("  ");
        xml.open(child);
        xml.attr("name", name);
        xml.attr_opt("label", label);
    };
    match elements {
        DefElements::Text(list) => list.iter().for_each(|e| {
            head(xml, &e.name, &e.label);
            xml.text_element(child, &e.value);
        }),
        DefElements::Number(list) => list.iter().for_each(|e| {
            head(xml, &e.name, &e.label);
            xml.attr("format", &e.format);
            xml.number_opt("min", Some(e.min));
            xml.number_opt("max", Some(e.max));
            xml.number_opt("step", Some(e.step));
            xml.number_element(child, e.value);
        }),
        DefElements::Switch(_, list) => list.iter().for_each(|e| {
            head(xml, &e.name, &e.label);
            xml.text_element(child, e.state.as_str());
        }),
        DefElements::Light(list) => list.iter().for_each(|e| {
            head(xml, &e.name, &e.label);
            xml.text_element(child, e.state.as_str());
        }),
        DefElements::Blob(list) => list.iter().for_each(|e| {
            head(xml, &e.name, &e.label);
            xml.0.push_str("/>\n");
        }),
    }
}

/// Writes the `oneXXX` children; BLOB payloads go straight to `out`.
fn values<W: Write + ?Sized>(out: &mut W, xml: &mut Xml, values: &Values) -> io::Result<()> {
    let child = values.kind().one_child();
    let head = |xml: &mut Xml, name: &str| {
        xml.0.push_str("  ");
        xml.open(child);
        xml.attr("name", name);
    };
    match values {
        Values::Text(list) => list.iter().for_each(|e| {
            head(xml, &e.name);
            xml.text_element(child, &e.value);
        }),
        Values::Number(list) => list.iter().for_each(|e| {
            head(xml, &e.name);
            xml.number_element(child, e.value);
        }),
        Values::Switch(list) => list.iter().for_each(|e| {
            head(xml, &e.name);
            xml.text_element(child, e.state.as_str());
        }),
        Values::Light(list) => list.iter().for_each(|e| {
            head(xml, &e.name);
            xml.text_element(child, e.state.as_str());
        }),
        Values::Blob(list) => {
            for blob in list {
                head(xml, &blob.name);
                xml.attr("size", &blob.size.to_string());
                xml.attr("format", &blob.format);
                xml.attr("len", &blob.data.len().to_string());
                xml.0.push_str(">\n");
                out.write_all(xml.0.as_bytes())?;
                xml.0.clear();
                write_base64(out, &blob.data)?;
                xml.0.push_str("  ");
                xml.close(child);
            }
        }
    }
    Ok(())
}

/// Streams `data` as base64 in 72-column lines, each ending with a newline.
fn write_base64<W: Write + ?Sized>(out: &mut W, data: &[u8]) -> io::Result<()> {
    let mut block = vec![0u8; LINES_PER_BLOCK * (LINE_BYTES / 3 * 4 + 1)];
    for chunk in data.chunks(LINE_BYTES * LINES_PER_BLOCK) {
        let mut used = 0;
        for line in chunk.chunks(LINE_BYTES) {
            let len = STANDARD.encoded_length(line.len());
            let _ = STANDARD.encode(line, Out::from_slice(&mut block[used..used + len]));
            used += len;
            block[used] = b'\n';
            used += 1;
        }
        out.write_all(&block[..used])?;
    }
    Ok(())
}

/// A message under construction.
struct Xml(String);

impl Xml {
    fn open(&mut self, tag: &str) {
        self.0.push('<');
        self.0.push_str(tag);
    }

    fn close(&mut self, tag: &str) {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push_str(">\n");
    }

    fn attr(&mut self, key: &str, value: &str) {
        self.0.push(' ');
        self.0.push_str(key);
        self.0.push_str("=\"");
        escape_into(&mut self.0, value);
        self.0.push('"');
    }

    fn attr_opt(&mut self, key: &str, value: &Option<String>) {
        if let Some(value) = value {
            self.attr(key, value);
        }
    }

    fn number_opt(&mut self, key: &str, value: Option<f64>) {
        if let Some(value) = value {
            self.0.push(' ');
            self.0.push_str(key);
            self.0.push_str("=\"");
            format_number(value, &mut self.0);
            self.0.push('"');
        }
    }

    fn timestamp(&mut self, time: Option<std::time::SystemTime>) {
        if let Some(time) = time {
            self.attr("timestamp", &format_timestamp(time));
        }
    }

    /// Ends the start tag, writes escaped text and the end tag.
    fn text_element(&mut self, tag: &str, text: &str) {
        self.0.push('>');
        escape_into(&mut self.0, text);
        self.close(tag);
    }

    fn number_element(&mut self, tag: &str, value: f64) {
        self.0.push('>');
        format_number(value, &mut self.0);
        self.close(tag);
    }
}

/// Appends `text` with `& < > " '` escaped.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    let mut from = 0;
    for (at, c) in text.match_indices(['&', '<', '>', '"', '\'']) {
        out.push_str(&text[from..at]);
        out.push_str(match c {
            "&" => "&amp;",
            "<" => "&lt;",
            ">" => "&gt;",
            "\"" => "&quot;",
            _ => "&apos;",
        });
        from = at + 1;
    }
    out.push_str(&text[from..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_layout() {
        let message = Message::Message(DeviceMessage {
            device: Some("A&B".into()),
            timestamp: None,
            message: Some("[INFO] 1 < 2 > 0 \"q\" 'a'".into()),
        });
        assert_eq!(
            String::from_utf8(to_xml(&message).unwrap()).unwrap(),
            "<message device=\"A&amp;B\" message=\"[INFO] 1 &lt; 2 &gt; 0 &quot;q&quot; &apos;a&apos;\"/>\n"
        );
    }

    #[test]
    fn base64_lines_are_72_columns() {
        let data: Vec<u8> = (0..=255).cycle().take(LINE_BYTES * LINES_PER_BLOCK + 100).collect();
        let mut out = Vec::new();
        write_base64(&mut out, &data).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.len() <= 72));
        assert_eq!(text.lines().filter(|l| l.len() < 72).count(), 1);
        let joined: String = text.lines().collect();
        assert_eq!(STANDARD.decode_to_vec(joined).unwrap(), data);
    }
}
