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

/// Found by the `device_messages` fuzz target: `ACTIVE_TELESCOPE` with a newline was snooped as written, but XML
/// turns the newline into a space in the request's `device` attribute, so the name asked for was never the one
/// matched.
#[test]
fn device_names_with_control_characters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = device(&dir);
    d.get_properties(&GetProperties::default());
    d.outbox.clear();
    let value = "Telescope\nSimulator".to_owned();
    let one = crate::indi::OneText { name: "ACTIVE_TELESCOPE".into(), value };
    d.new_vector(new("ACTIVE_DEVICES", Values::Text(vec![one])), Instant::now());
    assert_eq!(d.get(Prop::ActiveDevices).state, PropertyState::Alert);
    assert_eq!(crate::props::text_value(d.get(Prop::ActiveDevices), "ACTIVE_TELESCOPE"), "Telescope Simulator");
    assert!(!d.outbox.iter().any(|m| matches!(m, Message::GetProperties(_))), "{:?}", d.outbox);
}

/// Found by the `device_messages` fuzz target: a client's write to `DSO_STATS` (read-only) put it in Alert, and the
/// Alert rode along on its next publication, after a plate solve. A refused write to a read-only property is said,
/// and the property keeps its state.
#[test]
fn a_write_to_a_read_only_property_is_refused_without_alert() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = device(&dir);
    connect(&mut d);
    d.outbox.clear();
    let count = crate::indi::OneNumber { name: "COUNT".into(), value: 3.0 };
    d.new_vector(new("DSO_STATS", Values::Number(vec![count])), Instant::now());
    assert_eq!(d.get(Prop::Stats).state, PropertyState::Idle);
    let said = d.outbox.iter().any(|m| {
        matches!(m, Message::Message(t) if t.message.as_deref().is_some_and(|s| s.starts_with("[ERROR] DSO_STATS")))
    });
    assert!(said, "{:?}", d.outbox);
    assert!(!d.outbox.iter().any(|m| matches!(m, Message::Set(_))), "{:?}", d.outbox);
}

/// Found by the `device_messages` fuzz target: a change to an unknown property, or an unknown CONFIG_PROCESS action,
/// echoed the client's name whole in the error sent to every client (a 4 096-character name made a 2.8 KB message).
#[test]
fn refusals_echo_names_shortened() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = device(&dir);
    let long = "Ж".repeat(50_000);
    d.new_vector(new(&long, Values::Text(Vec::new())), Instant::now());
    let action = OneSwitch { name: long.clone(), state: SwitchState::On };
    d.new_vector(new("CONFIG_PROCESS", Values::Switch(vec![action])), Instant::now());
    let texts: Vec<&str> =
        d.outbox.iter().filter_map(|m| if let Message::Message(t) = m { t.message.as_deref() } else { None }).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts.iter().all(|t| t.len() < 300), "{texts:?}");
}
