//! The device without a server: which properties each hook defines, the base layer's fall-through, and the frame
//! origins its jobs carry. The same behaviour through a real indiserver is in `tests/integration/protocol.rs`.

use std::time::Instant;

use crate::indi::{GetProperties, Message, NewVector, OneBlob, OneSwitch, PropertyState, SwitchState, Values};
use crate::pipeline::Origin;

use super::{Device, Kind, Prop};

fn device(dir: &tempfile::TempDir) -> Device {
    Device::new("DSO Detector", dir.path().join("DSO_Detector_config.xml"))
}

fn new(name: &str, values: Values) -> NewVector {
    NewVector { device: "DSO Detector".into(), name: name.into(), timestamp: None, values }
}

fn connect(d: &mut Device) {
    let on = OneSwitch { name: "CONNECT".into(), state: SwitchState::On };
    d.new_vector(new("CONNECTION", Values::Switch(vec![on])), Instant::now());
}

fn defined(d: &mut Device) -> Vec<String> {
    let names = d.outbox.iter().filter_map(|m| if let Message::Def(v) = m { Some(v.name.clone()) } else { None });
    let names = names.collect();
    d.outbox.clear();
    names
}

fn names(kind: Kind) -> Vec<String> {
    Prop::of_kind(kind).map(|p| p.name().to_owned()).collect()
}

#[test]
fn standard_properties_always_detection_ones_once_connected() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = device(&dir);
    d.get_properties(&GetProperties::default());
    assert_eq!(defined(&mut d), names(Kind::Standard));
    connect(&mut d);
    assert_eq!(defined(&mut d), names(Kind::Detection), "updateProperties on connecting");
    d.get_properties(&GetProperties { name: Some("DSO_RESULTS".into()), ..GetProperties::default() });
    assert_eq!(defined(&mut d), ["DSO_RESULTS"]);
}

#[test]
fn a_detection_property_before_connecting_goes_alert_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = device(&dir);
    d.new_vector(new("DSO_OUTPUTS", Values::Switch(Vec::new())), Instant::now());
    let alert = d
        .outbox
        .iter()
        .any(|m| matches!(m, Message::Set(s) if s.name == "DSO_OUTPUTS" && s.state == Some(PropertyState::Alert)));
    assert!(alert, "{:?}", d.outbox);
    let said = d.outbox.iter().any(|m| {
        matches!(m, Message::Message(t) if t.message.as_deref()
            == Some("[ERROR] DSO_OUTPUTS can be changed once the device is connected"))
    });
    assert!(said, "{:?}", d.outbox);
}

#[test]
fn frames_carry_their_origin_and_show_todays_names() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = device(&dir);
    connect(&mut d);
    let image = OneBlob { name: "IMAGE".into(), size: 3, format: ".fits".into(), data: vec![1, 2, 3] };
    d.new_vector(new("DSO_IMAGE_UPLOAD", Values::Blob(vec![image])), Instant::now());
    assert_eq!(d.jobs.len(), 1);
    assert_eq!(d.jobs[0].source.origin, Origin::Upload);
    assert_eq!(d.get(Prop::ImageUpload).state, PropertyState::Busy);

    assert_eq!(Origin::Upload.to_string(), "upload");
    let camera = Origin::Camera { device: "CCD Simulator".into(), property: "CCD1".into() };
    assert_eq!(camera.to_string(), "CCD Simulator.CCD1");
    assert_eq!(Origin::File("/data/m31.fits".into()).to_string(), "/data/m31.fits");
}
