//! Each message comes out exactly when its last byte is pushed: never earlier, and never only when the next
//! message starts (the failure of the published `indi` crate).

use super::*;

/// The sample stream with whitespace and a declaration between messages, and the end offset of each message.
fn stream() -> (Vec<u8>, Vec<usize>) {
    let mut bytes = b"<?xml version=\"1.0\"?>\n".to_vec();
    let mut ends = Vec::new();
    for message in samples() {
        let mut one = xml(&message);
        // Drop the newline the writer adds, so that the message ends with its '>'.
        one.pop();
        bytes.extend_from_slice(&one);
        ends.push(bytes.len());
        bytes.extend_from_slice(b"\n \t");
    }
    (bytes, ends)
}

#[test]
fn each_message_is_delivered_when_its_last_byte_arrives() {
    let (bytes, ends) = stream();
    let mut decoder = Decoder::new();
    let mut delivered = Vec::new();
    for (i, byte) in bytes.iter().enumerate() {
        decoder.push(std::slice::from_ref(byte));
        while let Some(next) = decoder.next_message() {
            delivered.push((i + 1, next.unwrap()));
        }
    }
    let at: Vec<usize> = delivered.iter().map(|(at, _)| *at).collect();
    assert_eq!(at, ends);
    assert_eq!(delivered.into_iter().map(|(_, m)| m).collect::<Vec<_>>(), samples());
}

#[test]
fn any_split_point_gives_the_same_messages() {
    let (bytes, ends) = stream();
    let expected = samples();
    for split in 0..=bytes.len() {
        let mut decoder = Decoder::new();
        decoder.push(&bytes[..split]);
        let first = drain(&mut decoder);
        assert_eq!(first.len(), ends.iter().filter(|&&end| end <= split).count(), "split at {split}");
        decoder.push(&bytes[split..]);
        let all: Vec<Message> = first.into_iter().chain(drain(&mut decoder)).map(Result::unwrap).collect();
        assert_eq!(all, expected, "split at {split}");
    }
}

#[test]
fn self_closing_get_properties_is_answered_at_once() {
    let mut decoder = Decoder::new();
    decoder.push(b"<getProperties version=\"1.7\"/");
    assert!(decoder.next_message().is_none());
    decoder.push(b">");
    assert!(matches!(decoder.next_message(), Some(Ok(Message::GetProperties(_)))));
    assert_eq!(decoder.buffered_bytes(), 0);
}

#[test]
fn end_of_input_reports_a_cut_message() {
    let mut decoder = Decoder::new();
    decoder.push(b"<setNumberVector device=\"D\" name=\"P\"><oneNumber name=\"N\">1</oneNumber>");
    assert!(decoder.next_message().is_none());
    decoder.finish();
    let error = decoder.next_message().unwrap().unwrap_err();
    assert_eq!((error.device.as_deref(), error.name.as_deref()), (Some("D"), Some("P")));
    assert_eq!(error.kind, ErrorKind::Truncated);
    assert!(decoder.next_message().is_none());
}
