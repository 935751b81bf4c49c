//! Tests of the codec as a whole: round trips, streaming delivery, the BLOB forms, robustness against malformed
//! input, and the socket transport. Unit tests of single pieces live beside them in their modules.

mod blobs;
mod framing;
mod robustness;
mod roundtrip;
mod streaming;
mod transport;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

/// Everything the decoder has ready.
fn drain(decoder: &mut Decoder) -> Vec<Result<Message, ProtocolError>> {
    std::iter::from_fn(|| decoder.next_message()).collect()
}

/// Decodes a complete stream with default limits.
fn decode_all(bytes: &[u8]) -> Vec<Result<Message, ProtocolError>> {
    let mut decoder = Decoder::new();
    decoder.push(bytes);
    decoder.finish();
    drain(&mut decoder)
}

/// The single message a stream must decode to.
fn decode_one(bytes: &[u8]) -> Message {
    let mut all = decode_all(bytes);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
}

/// The single error a stream must decode to.
fn decode_error(bytes: &[u8]) -> ProtocolError {
    let mut all = decode_all(bytes);
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0).expect_err("an error")
}

fn xml(message: &Message) -> Vec<u8> {
    to_xml(message).unwrap()
}

fn time(seconds: u64) -> Option<SystemTime> {
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

fn s(text: &str) -> String {
    text.to_owned()
}

/// One message of every kind, with every optional attribute somewhere.
fn samples() -> Vec<Message> {
    let set = |values| {
        Message::Set(SetVector {
            device: s("CCD Simulator"),
            name: s("PROP"),
            state: Some(PropertyState::Busy),
            timeout: Some(60.0),
            timestamp: time(1_795_633_983),
            message: Some(s("a & b")),
            values,
        })
    };
    let new = |values| Message::New(NewVector { device: s("DSO Detector"), name: s("P"), timestamp: None, values });
    let def = |elements, perm| {
        Message::Def(DefVector {
            device: s("DSO Detector"),
            name: s("DSO_PROP"),
            label: Some(s("Label <1>")),
            group: Some(s("Main Control")),
            state: PropertyState::Ok,
            perm,
            timeout: if matches!(elements, DefElements::Light(_)) { None } else { Some(0.5) },
            timestamp: time(0),
            message: None,
            elements,
        })
    };
    let texts = vec![OneText { name: s("T1"), value: s("it's \"quoted\"") }, OneText { name: s("T2"), value: s("") }];
    let numbers = vec![OneNumber { name: s("N1"), value: -12.5 }, OneNumber { name: s("N2"), value: 6.02e23 }];
    let switches = vec![
        OneSwitch { name: s("ON"), state: SwitchState::On },
        OneSwitch { name: s("OFF"), state: SwitchState::Off },
    ];
    let blob = OneBlob { name: s("CCD1"), size: 300, format: s(".fits"), data: (0..300u32).map(|i| i as u8).collect() };
    vec![
        Message::GetProperties(GetProperties { version: Some(s("1.7")), device: None, name: None }),
        Message::GetProperties(GetProperties {
            version: Some(s("1.7")),
            device: Some(s("CCD Simulator")),
            name: Some(s("CCD1")),
        }),
        def(
            DefElements::Text(vec![DefText {
                name: s("ACTIVE_CCD"),
                label: Some(s("CCD")),
                value: s("CCD Simulator"),
            }]),
            Permission::ReadWrite,
        ),
        def(
            DefElements::Number(vec![DefNumber {
                name: s("RA"),
                label: None,
                format: s("%010.6m"),
                min: 0.0,
                max: 24.0,
                step: 0.0,
                value: 12.5,
            }]),
            Permission::ReadOnly,
        ),
        def(
            DefElements::Switch(
                SwitchRule::OneOfMany,
                vec![
                    DefSwitch { name: s("CONNECT"), label: Some(s("Connect")), state: SwitchState::Off },
                    DefSwitch { name: s("DISCONNECT"), label: None, state: SwitchState::On },
                ],
            ),
            Permission::WriteOnly,
        ),
        def(
            DefElements::Light(vec![DefLight { name: s("L"), label: None, state: PropertyState::Alert }]),
            Permission::ReadOnly,
        ),
        def(DefElements::Blob(vec![DefBlob { name: s("DSO_IMAGE"), label: Some(s("Image")) }]), Permission::ReadOnly),
        set(Values::Text(texts.clone())),
        set(Values::Number(numbers.clone())),
        set(Values::Switch(switches.clone())),
        set(Values::Light(vec![OneLight { name: s("L"), state: PropertyState::Idle }])),
        set(Values::Blob(vec![blob.clone(), OneBlob { name: s("EMPTY"), size: 0, format: s(".txt"), data: vec![] }])),
        new(Values::Text(texts)),
        new(Values::Number(numbers)),
        new(Values::Switch(switches)),
        new(Values::Blob(vec![blob])),
        Message::DelProperty(DelProperty {
            device: s("D"),
            name: Some(s("P")),
            timestamp: time(5),
            message: Some(s("bye")),
        }),
        Message::DelProperty(DelProperty { device: s("D"), ..DelProperty::default() }),
        Message::EnableBlob(EnableBlob { device: s("CCD Simulator"), name: Some(s("CCD1")), mode: BlobEnable::Also }),
        Message::EnableBlob(EnableBlob { device: s("D"), name: None, mode: BlobEnable::Never }),
        Message::EnableBlob(EnableBlob { device: s("D"), name: None, mode: BlobEnable::Only }),
        Message::Message(DeviceMessage { device: Some(s("D")), timestamp: time(7), message: Some(s("[INFO] hi")) }),
        Message::Message(DeviceMessage::default()),
        Message::PingRequest { uid: s("SetBLOB/1") },
        Message::PingReply { uid: s("SetBLOB/1") },
    ]
}
