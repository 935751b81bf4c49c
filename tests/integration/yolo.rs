//! The YOLO detector through the real programs: the shipped model on a real frame served by Debian's
//! `indi_simulator_ccd` through `indiserver`, and the reason shown when ONNX Runtime is missing.
//!
//! Tests that need ONNX Runtime (`pip install onnxruntime==1.31.1`, installers/deps.sh) or the shipped model skip
//! with a message when either is absent; the missing-runtime tests always run.

use std::process::Command;

use dso_detector::indi::{Message, PropertyState, Values};

use dso_test_support::server::{expose, simulator_setup};
use dso_test_support::*;

use crate::DRIVER;

const MISSING_ORT: &str = "/nonexistent/libonnxruntime.so.1.31.1";

/// Whether this machine can run the YOLO detector; prints why not.
fn yolo_runs_here() -> bool {
    runs_here("YOLO", dso_models::yolo::AVAILABILITY.check().map_err(|e| e.to_string()))
}

#[test]
fn list_says_why_yolo_cannot_run_without_onnx_runtime() {
    let out = Command::new(env!("CARGO_BIN_EXE_dso-detect"))
        .arg("list")
        .env("ORT_DYLIB_PATH", MISSING_ORT)
        .output()
        .expect("dso-detect list");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("yolo\t")).unwrap_or_else(|| panic!("yolo not listed: {text}"));
    // with no model file the model is the reason; otherwise the runtime
    assert!(line.contains("unavailable"), "{line}");
    assert!(line.contains("ONNX Runtime") || line.contains("no YOLO model"), "{line}");
    assert!(text.lines().any(|l| l.starts_with("naive\tavailable")), "naive must keep working: {text}");
}

#[test]
fn selecting_yolo_without_onnx_runtime_is_an_alert_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut d = Driver::start_with(DRIVER, &dir.path().join("cfg.xml"), &[("ORT_DYLIB_PATH", MISSING_ORT)]);
    d.connect();
    let from = d.peer.received.len();
    d.peer.send(&set_switch("DSO Detector", "DSO_DETECTOR", "YOLO"));
    let m = d.peer.wait_from(from, secs(10), |m| is_set(m, "DSO_DETECTOR"));
    assert_eq!(state_of(&m), Some(PropertyState::Alert), "{}", d.peer.tail());
    // the reason reaches the client as the property's message or a device message, possibly just after the state
    let said = d.peer.wait_from(from, secs(10), |m| format!("{m:?}").contains("cannot run"));
    let said = format!("{said:?}");
    assert!(said.contains("YOLO") && (said.contains("ONNX Runtime") || said.contains("no YOLO model")), "{said}");
    assert!(d.alive());
}

#[test]
fn a_model_with_the_wrong_shape_is_refused_precisely() {
    if !yolo_runs_here() {
        return;
    }
    let Some(shared) = shared_dir() else {
        skip("../shared is absent");
        return;
    };
    let classifier = shared.join("reference/xrai-fixture/tiny_classifier.onnx");
    if !classifier.is_file() {
        skip(format!("{} is absent", classifier.display()));
        return;
    }
    let err = dso_models::yolo::YoloDetector::load(&classifier, Default::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("tiny_classifier.onnx") && msg.contains("output"), "{msg}");
}

#[test]
fn real_frames_through_indiserver_get_yolo_results() {
    if !yolo_runs_here() {
        return;
    }
    // The Virgo field of NGC 4492/4535 (2328×1760): larger than the model input, so tiles are used too.
    let Some(real) = real_fits("ngc4535-autofocus3.fits") else { return };
    let frames = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&real, frames.path().join("ngc4535.fits")).unwrap();
    let Some((server, mut c)) = simulator_setup(DRIVER, frames.path()) else { return };
    let from = c.received.len();
    c.send(&set_switch("DSO Detector", "DSO_DETECTOR", "YOLO"));
    let sel = c.wait_from(from, secs(15), |m| is_set(m, "DSO_DETECTOR") && m.device() == Some("DSO Detector"));
    assert_eq!(state_of(&sel), Some(PropertyState::Ok), "{}", c.tail());
    let m = expose(&mut c, &server);
    let json = results_json(&m);
    eprintln!("NGC 4535 field with YOLO: {json}");
    assert_eq!(json["detector"], "yolo");
    assert_eq!((json["frame"]["width"].as_u64(), json["frame"]["height"].as_u64()), (Some(2328), Some(1760)));
    for d in json["detections"].as_array().unwrap() {
        let label = d["label"].as_str().unwrap();
        assert!(["galaxy", "nebula", "cluster"].contains(&label), "{label}");
    }
    let blob = c.wait_from(0, secs(30), |m| is_set(m, "DSO_ANNOTATED"));
    let Message::Set(set) = blob else { unreachable!() };
    let Values::Blob(b) = &set.values else { panic!("not a BLOB") };
    let img = image::load_from_memory(&b[0].data).expect("annotated JPEG decodes");
    // The picture is binned 2×2 to fit the default PICTURE_SIZE of 2048 px; the detections above are in frame pixels.
    assert_eq!((img.width(), img.height()), (1164, 880));
}
