//! The heat-map detectors (XRAI and Pix2Pix) in the driver binary, spoken to in raw INDI XML: a frame uploaded
//! through `DSO_IMAGE_UPLOAD`, results with the detector's name, a frame-sized PNG heat map in `DSO_HEATMAP`, and
//! XRAI's progress as a Busy `DSO_RESULTS` whose summary carries the percentage.
//!
//! They need ONNX Runtime and the committed models; without them they print why and skip.

use dso_detector::indi::{Message, PropertyState, Values};

use dso_test_support::*;

use crate::DRIVER;

/// Selects `element`, uploads a 700×560 frame with one galaxy, and returns the messages from the upload on and the
/// results.
fn run(element: &str) -> (Vec<Message>, serde_json::Value, Driver) {
    let mut d = Driver::start(DRIVER);
    d.connect();
    d.peer.send("<newSwitchVector device=\"DSO Detector\" name=\"DSO_OUTPUTS\"><oneSwitch name=\"HEATMAP\">On</oneSwitch></newSwitchVector>");
    d.peer.send(&format!("<newSwitchVector device=\"DSO Detector\" name=\"DSO_DETECTOR\"><oneSwitch name=\"{element}\">On</oneSwitch></newSwitchVector>"));
    let sel = d.peer.wait(secs(20), |m| is_set(m, "DSO_DETECTOR") && state_of(m) != Some(PropertyState::Busy));
    assert_eq!(state_of(&sel), Some(PropertyState::Ok), "{}", d.peer.tail());
    let sky = Sky::render(700, 560, (420.0, 250.0), 60.0, 7);
    let from = d.peer.received.len();
    d.peer.send(&upload_xml(".fits", &sky.to_fits()));
    let m = d.peer.wait_from(from, secs(120), finished_results);
    assert_eq!(state_of(&m), Some(PropertyState::Ok), "{}", d.peer.tail());
    d.peer.wait_from(from, secs(20), |m| is_set(m, "DSO_HEATMAP"));
    let json = results_json(&m);
    let messages = d.peer.received[from..].iter().filter_map(|m| m.as_ref().ok().cloned()).collect();
    (messages, json, d)
}

fn heat_png(messages: &[Message]) -> image::DynamicImage {
    let m = messages.iter().find(|m| is_set(m, "DSO_HEATMAP")).expect("DSO_HEATMAP sent");
    let Message::Set(set) = m else { unreachable!() };
    let Values::Blob(b) = &set.values else { panic!("DSO_HEATMAP is not a BLOB") };
    assert_eq!(b[0].format, ".png");
    image::load_from_memory(&b[0].data).expect("the heat map is a PNG")
}

#[test]
fn pix2pix_publishes_a_frame_sized_heat_map() {
    if !runs_here("Pix2Pix", dso_models::pix2pix::AVAILABILITY.check().map_err(|e| e.to_string())) {
        return;
    }
    let (messages, json, mut d) = run("PIX2PIX");
    assert_eq!(json["detector"], "pix2pix");
    let png = heat_png(&messages);
    assert_eq!((png.width(), png.height()), (700, 560));
    for det in json["detections"].as_array().unwrap() {
        assert_eq!(det["label"], "dso");
        let (x, y) = (det["x"].as_f64().unwrap(), det["y"].as_f64().unwrap());
        let (w, h) = (det["width"].as_f64().unwrap(), det["height"].as_f64().unwrap());
        assert!(x >= 0.0 && y >= 0.0 && x + w <= 700.0 && y + h <= 560.0, "{det}");
    }
    assert!(d.alive());
}

#[test]
fn xrai_reports_progress_then_its_heat_map() {
    if !runs_here("XRAI", dso_models::xrai::detector::AVAILABILITY.check().map_err(|e| e.to_string())) {
        return;
    }
    let (messages, json, mut d) = run("XRAI");
    assert_eq!(json["detector"], "xrai");
    let png = heat_png(&messages);
    assert_eq!((png.width(), png.height()), (700, 560));
    // tiles the classifier believes in are explained one by one; the last progress is 100 %
    let percents: Vec<u32> = messages
        .iter()
        .filter(|m| is_set(m, "DSO_RESULTS") && state_of(m) == Some(PropertyState::Busy))
        .filter_map(|m| text_of(m, "SUMMARY"))
        .filter_map(|s| s.rsplit_once("… ").and_then(|(_, p)| p.trim_end_matches(" %").parse().ok()))
        .collect();
    assert!(!percents.is_empty(), "no progress: {}", d.peer.tail());
    assert!(percents.windows(2).all(|w| w[0] < w[1]), "{percents:?}");
    assert_eq!(percents.last(), Some(&100), "{percents:?}");
    assert!(d.alive());
}
