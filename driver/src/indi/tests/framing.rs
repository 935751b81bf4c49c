//! The framer alone: where elements end, and how a top-level name cuts off an unfinished element.

use crate::indi::framer::{Framed, Framer, Limits};

fn frames(input: &[u8]) -> Vec<String> {
    let mut framer = Framer::new(Limits { max_blob: 1 << 20, max_message: 1 << 20 });
    framer.feed(input);
    framer.finish();
    std::iter::from_fn(|| framer.pop())
        .map(|f| match f {
            Framed::Complete(bytes, _) => String::from_utf8(bytes).unwrap(),
            Framed::Failed(info, kind) => format!("FAILED {} {kind:?}", info.tag),
            Framed::Junk(n) => format!("JUNK {n}"),
        })
        .collect()
}

#[test]
fn frames_nested_self_closing_and_markup() {
    let input = br#"<?xml version="1.0"?> <!-- <a> -->
<setTextVector device="D" name="P" message="a > b"><oneText name="T"><![CDATA[</x>]]></oneText></setTextVector>
<pingRequest uid="1"/>"#;
    assert_eq!(
        frames(input),
        [
            concat!(
                r#"<setTextVector device="D" name="P" message="a > b">"#,
                r#"<oneText name="T"><![CDATA[</x>]]></oneText></setTextVector>"#
            ),
            r#"<pingRequest uid="1"/>"#
        ]
    );
}

#[test]
fn top_level_name_cuts_off_an_open_element() {
    let got = frames(br#"xx<message device="D" message="oops <pingReply uid="2"/> </stray>"#);
    assert_eq!(got, ["JUNK 2", "FAILED message Truncated", r#"<pingReply uid="2"/>"#, "JUNK 8"]);
}
