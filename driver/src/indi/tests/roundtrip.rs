//! Every message kind survives write → decode unchanged; hand-written XML in the styles real peers use decodes.

use super::*;

#[test]
fn every_message_round_trips() {
    for message in samples() {
        let bytes = xml(&message);
        assert_eq!(decode_one(&bytes), message, "{}", String::from_utf8_lossy(&bytes));
    }
}

#[test]
fn a_stream_of_all_messages_round_trips() {
    let stream: Vec<u8> = samples().iter().flat_map(xml).collect();
    let decoded: Vec<Message> = decode_all(&stream).into_iter().map(Result::unwrap).collect();
    assert_eq!(decoded, samples());
}

#[test]
fn server_indented_text_is_trimmed() {
    let message = decode_one(
        b"<setTextVector device=\"DSO Detector\" name=\"ACTIVE_DEVICES\" state=\"Ok\">\n  \
          <oneText name=\"ACTIVE_CCD\">\nCCD Simulator\n    </oneText>\n</setTextVector>\n",
    );
    let Message::Set(SetVector { values: Values::Text(texts), .. }) = message else { panic!("{message:?}") };
    assert_eq!(texts[0].value, "CCD Simulator");
}

#[test]
fn sexagesimal_numbers_and_defaults() {
    let message = decode_one(
        br#"<defNumberVector device="Telescope" name="EQUATORIAL_EOD_COORD">
    <defNumber name="RA" format="%010.6m" min="0" max="24" step="0">
      12:30:00
    </defNumber>
    <defNumber name="DEC" label="Dec">
      -0:30
    </defNumber>
</defNumberVector>"#,
    );
    let Message::Def(def) = message else { panic!() };
    assert_eq!((def.state, def.perm, def.timeout, def.label), (PropertyState::Idle, Permission::ReadOnly, None, None));
    let DefElements::Number(numbers) = def.elements else { panic!() };
    assert_eq!((numbers[0].value, numbers[1].value), (12.5, -0.5));
    assert_eq!((numbers[1].format.as_str(), numbers[1].max), ("%g", 0.0));
}

#[test]
fn cdata_entities_and_declarations() {
    let message = decode_one(
        b"<?xml version=\"1.0\"?>\n<!-- hello --><newTextVector device='D' name='P'>\
          <oneText name='T'>a &amp; b &#x3c; <![CDATA[<c>]]></oneText></newTextVector>",
    );
    let Message::New(NewVector { values: Values::Text(texts), .. }) = message else { panic!() };
    assert_eq!(texts[0].value, "a & b < <c>");
}

#[test]
fn accessors_name_the_message() {
    let samples = samples();
    assert_eq!(samples[1].tag(), "getProperties");
    assert_eq!((samples[1].device(), samples[1].name()), (Some("CCD Simulator"), Some("CCD1")));
    assert_eq!(samples[11].tag(), "setBLOBVector");
    assert_eq!(samples[15].tag(), "newBLOBVector");
}

#[test]
fn new_light_vector_cannot_be_written() {
    let message =
        Message::New(NewVector { device: s("D"), name: s("P"), timestamp: None, values: Values::Light(vec![]) });
    assert_eq!(to_xml(&message).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}
