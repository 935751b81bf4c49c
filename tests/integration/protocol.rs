//! Raw INDI XML to the driver binary over a socketpair, as indiserver runs it: the standard properties, the device's
//! name, snooping, settings, and a protocol loop that answers while frames are analysed. The BLOB forms are in
//! `blobs`, bad input in `malformed`; both use this module's frame and its check.

use std::time::{Duration, Instant};

use dso_detector::indi::{DefElements, Message, PropertyState};
use dso_test_support::*;

use crate::DRIVER;

pub(crate) fn galaxy_sky() -> Sky {
    Sky::render(640, 480, (400.0, 200.0), 14.0, 7)
}

/// Checks that DSO_RESULTS reports the galaxy of `sky` with JSON following the schema.
pub(crate) fn assert_found_galaxy(m: &Message, sky: &Sky, source: &str) {
    assert_eq!(state_of(m), Some(PropertyState::Ok), "{m:?}");
    let json = results_json(m);
    assert_eq!(json["frame"]["width"], sky.width);
    assert_eq!(json["frame"]["height"], sky.height);
    assert_eq!(json["frame"]["source"], source);
    assert_eq!(json["detector"], "naive");
    assert!(json["latency_ms"].as_f64().unwrap() >= 0.0);
    let iou = best_iou(&json, sky.galaxy);
    assert!(iou > 0.3, "galaxy {:?} not found (best IoU {iou}): {json}", sky.galaxy);
    let summary = text_of(m, "SUMMARY").unwrap();
    assert!(summary.contains("object"), "{summary}");
}

#[test]
fn first_get_properties_is_answered_at_once_with_the_standard_properties() {
    let mut d = Driver::start(DRIVER);
    d.peer.send("<getProperties version=\"1.7\"/>\n");
    // Answered without any further input: a decoder that waits for the next message would time out here.
    let info = d.peer.wait(secs(3), |m| is_def(m, "DRIVER_INFO"));
    d.peer.wait_from(0, secs(3), |m| is_def(m, "ACTIVE_DEVICES"));
    assert_eq!(text_of(&info, "DRIVER_INTERFACE").as_deref(), Some("32768"));
    assert_eq!(text_of(&info, "DRIVER_EXEC").as_deref(), Some("indi_dso_detector"));
    for name in ["CONNECTION", "DEBUG", "CONFIG_PROCESS"] {
        assert!(d.peer.received.iter().any(|m| matches!(m, Ok(m) if is_def(m, name))), "{name} not defined");
    }
    // Snooping the default camera: both requests, with exact device and property names.
    assert!(
        d.peer.raw.contains("<getProperties version=\"1.7\" device=\"CCD Simulator\" name=\"CCD1\""),
        "{}",
        d.peer.raw
    );
    assert!(
        d.peer.raw.contains("<enableBLOB device=\"CCD Simulator\" name=\"CCD1\">Also</enableBLOB>"),
        "{}",
        d.peer.raw
    );
    // Detection properties only once connected.
    assert!(!d.peer.raw.contains("DSO_RESULTS"));
    d.peer.send(&connect_xml("DSO Detector"));
    let det = d.peer.wait(secs(5), |m| is_def(m, "DSO_DETECTOR"));
    let Message::Def(det) = det else { unreachable!() };
    assert!(matches!(&det.elements, DefElements::Switch(_, els) if els.iter().any(|e| e.name == "NAIVE")));
    for name in
        ["DSO_SETTINGS", "DSO_OUTPUTS", "DSO_RESULTS", "DSO_STATS", "DSO_ANNOTATED", "DSO_HEATMAP", "DSO_IMAGE_UPLOAD"]
    {
        d.peer.wait_from(0, secs(5), |m| is_def(m, name));
    }
}

#[test]
fn device_name_comes_from_indidev() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Driver::start_with(DRIVER, &dir.path().join("c.xml"), &[("INDIDEV", "Detector 2")]);
    d.peer.send("<getProperties version=\"1.7\"/>\n");
    let m = d.peer.wait(secs(5), |m| is_def(m, "CONNECTION"));
    assert_eq!(m.device(), Some("Detector 2"));
}

#[test]
fn frames_from_other_devices_and_while_disconnected_are_ignored() {
    let mut d = Driver::start(DRIVER);
    d.peer.send("<getProperties version=\"1.7\"/>\n");
    d.peer.wait(secs(5), |m| is_def(m, "ACTIVE_DEVICES"));
    let fits = galaxy_sky().to_fits();
    d.peer.send(&camera_blob_one_line("CCD Simulator", ".fits", &fits));
    d.peer.send(&connect_xml("DSO Detector"));
    d.peer.wait(secs(5), |m| is_def(m, "DSO_RESULTS"));
    d.peer.send(&camera_blob_one_line("Other Camera", ".fits", &fits));
    d.peer.ping("probe");
    // Barrier: a frame of the snooped camera, analysed by the same worker after anything queued before it; its
    // statistics come before its results.
    let from = d.peer.received.len();
    d.peer.send(&camera_blob_one_line("CCD Simulator", ".fits", &fits));
    d.peer.wait_from(from, secs(20), ok_results);
    let stats = d.peer.wait_from(from, secs(5), |m| is_set(m, "DSO_STATS"));
    assert_eq!(number_of(&stats, "FRAMES_PROCESSED"), Some(1.0), "{}", d.peer.tail());
    assert_eq!(number_of(&stats, "FRAMES_DROPPED"), Some(0.0), "{}", d.peer.tail());
    let analysed = d.peer.received.iter().filter(|m| matches!(m, Ok(m) if ok_results(m))).count();
    assert_eq!(analysed, 1, "a frame of another device or from before the connection was analysed: {}", d.peer.tail());
}

#[test]
fn active_ccd_change_resnoops() {
    let mut d = Driver::start(DRIVER);
    d.connect();
    d.peer.send("<newTextVector device=\"DSO Detector\" name=\"ACTIVE_DEVICES\"><oneText name=\"ACTIVE_CCD\">\nZWO CCD ASI294MC\n    </oneText></newTextVector>");
    d.peer.wait(secs(5), |m| is_set(m, "ACTIVE_DEVICES"));
    d.peer.ping("resnooped");
    assert!(
        d.peer.raw.contains("<enableBLOB device=\"CCD Simulator\" name=\"CCD1\">Never</enableBLOB>"),
        "{}",
        d.peer.raw
    );
    assert!(d.peer.raw.contains("<getProperties version=\"1.7\" device=\"ZWO CCD ASI294MC\" name=\"CCD1\""));
    assert!(d.peer.raw.contains("<enableBLOB device=\"ZWO CCD ASI294MC\" name=\"CCD1\">Also</enableBLOB>"));
    let sky = galaxy_sky();
    d.peer.send(&camera_blob_one_line("ZWO CCD ASI294MC", ".fits", &sky.to_fits()));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "ZWO CCD ASI294MC.CCD1");
}

#[test]
fn settings_out_of_range_are_refused() {
    let mut d = Driver::start(DRIVER);
    d.connect();
    d.peer.send("<newNumberVector device=\"DSO Detector\" name=\"DSO_SETTINGS\"><oneNumber name=\"CONFIDENCE\">1.5</oneNumber></newNumberVector>");
    d.peer.wait(secs(5), |m| is_set(m, "DSO_SETTINGS") && state_of(m) == Some(PropertyState::Alert));
    d.peer.send("<newNumberVector device=\"DSO Detector\" name=\"DSO_SETTINGS\"><oneNumber name=\"CONFIDENCE\">0.95</oneNumber><oneNumber name=\"MAX_DETECTIONS\">1</oneNumber></newNumberVector>");
    let m = d.peer.wait(secs(5), |m| is_set(m, "DSO_SETTINGS") && state_of(m) == Some(PropertyState::Ok));
    assert_eq!(number_of(&m, "CONFIDENCE"), Some(0.95));
    d.peer.send("<newSwitchVector device=\"DSO Detector\" name=\"DSO_DETECTOR\"><oneSwitch name=\"NO_SUCH\">On</oneSwitch></newSwitchVector>");
    d.peer.wait(secs(5), |m| is_set(m, "DSO_DETECTOR") && state_of(m) == Some(PropertyState::Alert));
}

#[test]
fn getproperties_is_answered_while_a_frame_is_analysed_and_extra_frames_are_dropped() {
    let mut d = Driver::start(DRIVER);
    d.connect();
    let big = Sky::render(4096, 4096, (1000.0, 1000.0), 40.0, 3).to_fits();
    let msg = camera_blob_one_line("CCD Simulator", ".fits", &big);
    d.peer.send(&msg);
    // The worker has started on the frame: the protocol loop must answer before that frame's results, which take
    // hundreds of milliseconds, not after them (an order, not a time, is asserted).
    let busy_at = d.peer.received.len();
    d.peer.wait(secs(30), |m| is_set(m, "DSO_RESULTS") && state_of(m) == Some(PropertyState::Busy));
    d.peer.send("<getProperties version=\"1.7\" device=\"DSO Detector\" name=\"DSO_SETTINGS\"/>");
    d.peer.wait_from(busy_at, secs(30), |m| is_def(m, "DSO_SETTINGS"));
    let position = |pred: &dyn Fn(&Message) -> bool| {
        d.peer.received[busy_at..].iter().position(|m| matches!(m, Ok(m) if pred(m))).map(|i| i + busy_at)
    };
    let reply = position(&|m| is_def(m, "DSO_SETTINGS"));
    let first_result = position(&|m| ok_results(m));
    assert!(first_result.is_none() || reply < first_result, "getProperties was answered only after the frame");
    // Three more while it works: processed + dropped = sent, and at least one was dropped or processed each.
    for _ in 0..3 {
        d.peer.send(&msg);
    }
    let stats = d.peer.wait_from(0, secs(120), |m| {
        is_set(m, "DSO_STATS")
            && number_of(m, "FRAMES_PROCESSED").unwrap_or(0.0) + number_of(m, "FRAMES_DROPPED").unwrap_or(0.0) == 4.0
            && number_of(m, "FRAMES_PROCESSED").unwrap_or(0.0) >= 1.0
    });
    eprintln!(
        "getProperties answered during analysis; processed {:?}, dropped {:?}",
        number_of(&stats, "FRAMES_PROCESSED"),
        number_of(&stats, "FRAMES_DROPPED")
    );
}

#[test]
fn stdin_eof_ends_the_driver_cleanly() {
    let mut d = Driver::start(DRIVER);
    d.connect();
    d.peer.stream.shutdown(std::net::Shutdown::Write).unwrap();
    let deadline = Instant::now() + secs(10);
    while d.alive() {
        assert!(Instant::now() < deadline, "driver still running after EOF");
        // Polling for the exit, which sends nothing to wait on: a time between looks, not a barrier.
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.child.wait().unwrap().success());
}
