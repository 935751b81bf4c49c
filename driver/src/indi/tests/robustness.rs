//! Malformed input of any kind: an error for the bad message (naming its property when known), never a panic, and
//! the next message decodes normally. Ends with a fuzz-style test over random junk, mutations and splits.

use super::*;
// The project's one seeded generator (SplitMix64): a reproducible fuzz without a dependency.
use dso_models::naive::synth::Rng;

const PING: &[u8] = b"<pingRequest uid=\"next\"/>";

/// Decodes `bad` then a ping; returns the errors, asserting that the ping came out last and intact.
fn errors_before_ping(bad: &[u8]) -> Vec<ProtocolError> {
    let mut decoder = Decoder::new();
    decoder.push(bad);
    decoder.push(PING);
    let mut all = drain(&mut decoder);
    let last = all.pop();
    assert!(
        matches!(&last, Some(Ok(Message::PingRequest { uid })) if uid == "next"),
        "after {:?}: {last:?}",
        String::from_utf8_lossy(bad)
    );
    all.into_iter().map(|r| r.expect_err("only errors before the ping")).collect()
}

fn one_error_before_ping(bad: &[u8]) -> ProtocolError {
    let errors = errors_before_ping(bad);
    assert_eq!(errors.len(), 1, "{errors:?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn junk_then_a_valid_message() {
    let error = one_error_before_ping(b"\x00\xff\xfe binary junk \x1b[0m");
    assert!(matches!(error.kind, ErrorKind::Junk { bytes: 17 }), "{error}");
}

#[test]
fn truncated_message_names_its_property() {
    let error = one_error_before_ping(b"<setNumberVector device=\"D\" name=\"P\"><oneNumber name=\"N\">1.5");
    assert_eq!(
        (error.device.as_deref(), error.name.as_deref(), error.kind),
        (Some("D"), Some("P"), ErrorKind::Truncated)
    );
    // Cut inside an attribute value: the device is known, the property is not.
    let error = one_error_before_ping(b"<setNumberVector device=\"D\" name=\"P");
    assert_eq!(error.kind, ErrorKind::Truncated);
}

#[test]
fn unknown_elements() {
    let error = one_error_before_ping(b"<newLightVector device=\"D\" name=\"P\"></newLightVector>");
    assert_eq!(error.kind, ErrorKind::UnknownElement(s("newLightVector")));
    let error = one_error_before_ping(b"<foo><bar/></foo>");
    assert_eq!(error.kind, ErrorKind::UnknownElement(s("foo")));
    let error = one_error_before_ping(
        b"<setTextVector device=\"D\" name=\"P\"><oneNumber name=\"N\">1</oneNumber></setTextVector>",
    );
    assert_eq!(error.kind, ErrorKind::UnknownElement(s("oneNumber")));
}

#[test]
fn bad_values_name_the_element() {
    let cases: [(&[u8], &str, &str); 6] = [
        (
            b"<setNumberVector device=\"D\" name=\"P\"><oneNumber name=\"N\">twelve</oneNumber></setNumberVector>",
            "N",
            "value",
        ),
        (b"<setNumberVector device=\"D\" name=\"P\" state=\"Fine\"></setNumberVector>", "P", "state"),
        (
            b"<setSwitchVector device=\"D\" name=\"P\"><oneSwitch name=\"S\">Maybe</oneSwitch></setSwitchVector>",
            "S",
            "state",
        ),
        (
            b"<defNumberVector device=\"D\" name=\"P\"><defNumber name=\"N\" min=\"x\">1</defNumber></defNumberVector>",
            "N",
            "min",
        ),
        (b"<message device=\"D\" timestamp=\"yesterday\"/>", "message", "timestamp"),
        (b"<enableBLOB device=\"D\">Sometimes</enableBLOB>", "enableBLOB", "text"),
    ];
    for (bad, element, what) in cases {
        let error = one_error_before_ping(bad);
        let ErrorKind::BadValue { element: e, what: w, .. } = &error.kind else { panic!("{error}") };
        assert_eq!((e.as_str(), w.as_str()), (element, what), "{error}");
        assert_eq!(error.device.as_deref(), Some("D"));
    }
}

#[test]
fn missing_required_attributes() {
    let error = one_error_before_ping(b"<setTextVector name=\"P\"></setTextVector>");
    assert_eq!(error.kind, ErrorKind::MissingAttribute { element: s("setTextVector"), attribute: "device" });
    let error = one_error_before_ping(b"<pingReply/>");
    assert_eq!(error.kind, ErrorKind::MissingAttribute { element: s("pingReply"), attribute: "uid" });
}

#[test]
fn malformed_xml() {
    for bad in [
        &b"<setTextVector device=\"D\" name=\"P\"><oneText name=\"T\">x</oneTxt></setTextVector>"[..],
        b"<message device=\"D\" device=\"E\"/>",
        b"<message device=D/>",
        b"<message device=\"\xff\"/>",
        b"<setTextVector device=\"D\" name=\"P\"><oneText name=\"T\">&nbsp;</oneText></setTextVector>",
        b"<setTextVector device=\"D\" name=\"P\"><oneText name=\"T\"><b>x</b></oneText></setTextVector>",
    ] {
        let error = one_error_before_ping(bad);
        assert!(matches!(error.kind, ErrorKind::Xml(_)), "{error}");
    }
}

#[test]
fn runaway_message_is_dropped_and_decoding_resynchronises() {
    let mut decoder = Decoder::with_config(DecoderConfig { max_message: 64 * 1024, ..DecoderConfig::default() });
    decoder.push(b"<message device=\"D\" message=\"");
    for _ in 0..100 {
        decoder.push(&[b'a'; 10_000]);
        assert!(decoder.buffered_bytes() < 80 * 1024);
    }
    decoder.push(PING);
    let error = decoder.next_message().unwrap().unwrap_err();
    assert!(matches!(error.kind, ErrorKind::MessageTooLarge { .. }), "{error}");
    assert!(matches!(decoder.next_message(), Some(Ok(Message::PingRequest { .. }))));
}

#[test]
fn multibyte_element_names_are_errors_not_panics() {
    // Found by fuzz/indi_stream (issue 15): the reader thread panicked on a 3-byte character straddling byte 3.
    for bad in ["<g\u{feff}/>", "<ab\u{e9}TextVector/>", "<\u{e9}\u{e9}/>", "<se\u{1F52D}t/>"] {
        let mut decoder = Decoder::new();
        decoder.push(bad.as_bytes());
        decoder.push(PING);
        let error = decoder.next_message().unwrap().unwrap_err();
        assert!(matches!(error.kind, ErrorKind::UnknownElement(_)), "{bad}: {error}");
        assert!(matches!(decoder.next_message(), Some(Ok(Message::PingRequest { .. }))), "{bad}");
    }
}

#[test]
fn oversized_complete_message_is_reported_as_too_long_not_unclosed() {
    let mut decoder = Decoder::with_config(DecoderConfig { max_message: 1024, ..DecoderConfig::default() });
    let name = "N".repeat(4000);
    decoder.push(
        format!("<newTextVector device=\"D\" name=\"P\"><oneText name=\"{name}\">x</oneText></newTextVector>")
            .as_bytes(),
    );
    decoder.push(PING);
    let error = decoder.next_message().unwrap().unwrap_err();
    assert!(matches!(error.kind, ErrorKind::MessageTooLarge { limit: 1024 }), "{error}");
    assert_eq!(error.to_string(), "D.P: message longer than the 1024 bytes allowed; skipped");
    assert!(matches!(decoder.next_message(), Some(Ok(Message::PingRequest { .. }))));
}

/// Random junk: raw bytes, markup characters, and slices of real INDI messages, some with flipped bytes.
fn junk(rng: &mut Rng, corpus: &[u8]) -> Vec<u8> {
    const MARKUP: &[u8] = b"<>/\"'=!-?[]&; \nabcoBLOB";
    let mut out = Vec::new();
    for _ in 0..1 + rng.below(6) {
        match rng.below(4) {
            0 => out.extend((0..rng.below(64)).map(|_| rng.next_u64() as u8)),
            1 => out.extend((0..rng.below(64)).map(|_| MARKUP[rng.below(MARKUP.len())])),
            _ => {
                let start = rng.below(corpus.len());
                let end = (start + rng.below(400)).min(corpus.len());
                let mut slice = corpus[start..end].to_vec();
                for _ in 0..rng.below(4) {
                    if !slice.is_empty() {
                        let at = rng.below(slice.len());
                        slice[at] = rng.next_u64() as u8;
                    }
                }
                out.extend(slice);
            }
        }
    }
    out
}

#[test]
fn fuzz_random_junk_and_splits_never_panic_and_recover() {
    let corpus: Vec<u8> = samples().iter().flat_map(xml).collect();
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut decoder = Decoder::with_config(DecoderConfig { max_blob: 4096, max_message: 8192 });
    for round in 0..5000 {
        let mut input = junk(&mut rng, &corpus);
        let ping = format!("<pingRequest uid=\"{round}\"/>");
        input.extend_from_slice(ping.as_bytes());
        let mut outputs = Vec::new();
        let mut at = 0;
        while at < input.len() {
            let end = (at + 1 + rng.below(40)).min(input.len());
            decoder.push(&input[at..end]);
            outputs.extend(drain(&mut decoder));
            at = end;
        }
        let last = outputs.pop();
        assert!(
            matches!(&last, Some(Ok(Message::PingRequest { uid })) if *uid == round.to_string()),
            "round {round}: {last:?} after {:?}",
            String::from_utf8_lossy(&input)
        );
        assert!(decoder.buffered_bytes() <= 16 * 1024);
    }
}

/// Found by the `device_messages` fuzz target: a malformed message with a 4 000-character tag name became a 3.8 KB
/// error text, which the driver sends to every client. Every peer-given name and detail in it is shortened.
#[test]
fn error_texts_stay_short_whatever_the_names() {
    let long = "A".repeat(4000);
    let bad = [
        format!("<set{long}><oneText name=\"{long}\"></set{long}x>\n"),
        format!(
            "<newTextVector device=\"{long}\" name=\"{long}\"><oneText name=\"{long}\">v</oneText></newTextVector>\n"
        ),
        format!("<{long}/>\n"),
    ]
    .concat();
    let mut decoder = Decoder::new();
    decoder.push(bad.as_bytes());
    decoder.finish();
    let mut errors = 0;
    while let Some(m) = decoder.next_message() {
        if let Err(e) = m {
            errors += 1;
            assert!(e.to_string().len() < 400, "{} bytes: {e}", e.to_string().len());
        }
    }
    assert!(errors >= 2, "{errors} errors");
}
