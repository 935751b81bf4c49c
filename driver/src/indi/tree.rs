//! quick-xml turns one framed element into a two-level tree: the vector and its children.
//!
//! INDI messages are never deeper than that, so a generic tree keeps XML details (events, entities, CDATA, end-tag
//! checks) apart from INDI semantics in `parse`. Element text borrows from the frame where quick-xml allows it, so
//! a 40 MB base64 payload is not copied here.

use std::borrow::Cow;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// One XML element: name, attributes (unescaped), text (entities resolved, not trimmed) and children.
#[derive(Debug, Default)]
pub(crate) struct Element<'a> {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: Cow<'a, str>,
    pub children: Vec<Element<'a>>,
}

impl Element<'_> {
    /// The value of an attribute.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Parses exactly one element (with optional comments, declarations and whitespace around it).
pub(crate) fn parse_element(xml: &str) -> Result<Element<'_>, String> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Element<'_>> = Vec::new();
    let mut root: Option<Element<'_>> = None;
    loop {
        let event = reader.read_event().map_err(|e| format!("{e} at byte {}", reader.error_position()))?;
        match event {
            Event::Start(start) | Event::Empty(start) if stack.len() >= 2 => {
                return Err(format!("<{}> is nested too deep for INDI", start.name().as_ref()));
            }
            Event::Start(start) => stack.push(element(&start)?),
            Event::Empty(start) => attach(&mut stack, &mut root, element(&start)?)?,
            Event::End(_) => {
                let done = stack.pop().ok_or("unexpected end tag")?;
                attach(&mut stack, &mut root, done)?;
            }
            Event::Text(text) => append(&mut stack, text.xml10_content())?,
            Event::CData(text) => append(&mut stack, text.xml10_content())?,
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => Cow::Owned(c.to_string()),
                    None => Cow::Borrowed(
                        resolve_predefined_entity(&reference)
                            .ok_or_else(|| format!("unknown entity &{};", &*reference))?,
                    ),
                };
                append(&mut stack, resolved)?;
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{}> is not closed", open.name));
    }
    root.ok_or_else(|| "no element".to_owned())
}

/// Reads a start tag's name and attributes.
fn element<'a>(start: &BytesStart<'_>) -> Result<Element<'a>, String> {
    let name = start.name().as_ref().to_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| format!("<{name}>: {e}"))?;
        let value = attribute.normalized_value(XmlVersion::Implicit1_0).map_err(|e| format!("<{name}>: {e}"))?;
        attributes.push((attribute.key.as_ref().to_owned(), value.into_owned()));
    }
    Ok(Element { name, attributes, ..Element::default() })
}

/// Puts a finished element into its parent, or makes it the root.
fn attach<'a>(stack: &mut [Element<'a>], root: &mut Option<Element<'a>>, done: Element<'a>) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(done),
        None if root.is_none() => *root = Some(done),
        None => return Err(format!("a second element <{}> follows the first", done.name)),
    }
    Ok(())
}

/// Adds text to the innermost open element; text outside any element must be whitespace.
fn append<'a>(stack: &mut [Element<'a>], text: Cow<'a, str>) -> Result<(), String> {
    match stack.last_mut() {
        Some(open) if open.text.is_empty() => open.text = text,
        Some(open) => open.text.to_mut().push_str(&text),
        None if text.trim().is_empty() => {}
        None => return Err("text outside the element".to_owned()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_with_entities_and_cdata() {
        let el = parse_element(
            "<?xml version='1.0'?><v a=\"x &amp; &quot;y&quot;\">\n \
             <c n='1'>a &lt;b&gt; &#65;<![CDATA[<raw>]]></c><c/></v>\n",
        )
        .unwrap();
        assert_eq!(el.name, "v");
        assert_eq!(el.attribute("a"), Some("x & \"y\""));
        assert_eq!(el.children.len(), 2);
        assert_eq!(el.children[0].text, "a <b> A<raw>");
        assert!(matches!(el.children[0].text, Cow::Owned(_)));
        let plain = parse_element("<v><c>QUJD\nREVG</c></v>").unwrap();
        assert!(matches!(plain.children[0].text, Cow::Borrowed(_)), "plain text is not copied");
    }

    #[test]
    fn malformed_trees_are_errors() {
        for bad in
            ["<v><c></v>", "<v>", "<v a='1' a='2'/>", "<v/><w/>", "<a><b><c/></b></a>", "<v>&bogus;</v>", "x<v/>"]
        {
            assert!(parse_element(bad).is_err(), "{bad}");
        }
    }
}
