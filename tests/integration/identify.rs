//! Naming through the real `indiserver`: real frames uploaded with `DSO_IMAGE_UPLOAD` come back with catalogue
//! names, the target's state, results published last; a frame with only a pointing gets its names after a plate
//! solve, in a second `DSO_RESULTS` marked `"update": "names"`; a solver that hangs is stopped and reported, and the
//! driver goes on.

use std::net::TcpStream;
use std::path::Path;

use dso_detector::indi::{Message, PropertyState};

use dso_test_support::*;

use crate::DRIVER;

fn connected(server: &Server) -> Peer<TcpStream> {
    let mut c = server.client();
    c.send("<getProperties version=\"1.7\"/>\n");
    c.wait_from(0, secs(15), |m| is_def(m, "CONNECTION"));
    c.send(&connect_xml("DSO Detector"));
    c.wait_from(0, secs(15), |m| is_def(m, "DSO_IMAGE_UPLOAD"));
    c
}

fn message_with(m: &Message, text: &str) -> bool {
    matches!(m, Message::Message(d) if d.message.as_deref().is_some_and(|t| t.contains(text)))
}

#[test]
fn a_frame_with_a_wcs_is_named_with_its_target_captured_and_results_come_last() {
    let Some(real) = real_fits("Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs.fit") else { return };
    let Some(server) = Server::start(&[DRIVER]) else { return };
    let mut c = connected(&server);
    let from = c.received.len();
    c.send(&upload_xml(".fits", &std::fs::read(&real).unwrap()));
    let m = c.wait_from(from, secs(60), ok_results);
    let summary = text_of(&m, "SUMMARY").unwrap();
    assert!(summary.starts_with("NGC 7023 (Iris Nebula)"), "{summary}");
    let json = results_json(&m);
    assert_eq!(json["field"]["solved_by"], "header", "{json}");
    let named = json["detections"].as_array().unwrap().iter().find(|d| d["name"] == "NGC 7023").expect("named");
    assert_eq!((named["catalog_id"].as_str(), named["label"].as_str()), (Some("NGC 7023"), Some("nebula")));
    assert_eq!(json["target"]["state"], "captured", "the frame's OBJECT is the target: {json}");
    // Statistics and the target's state were published before the results, for the same frame.
    let done = c.received.len();
    let before: Vec<&Message> = c.received[from..done].iter().filter_map(|r| r.as_ref().ok()).collect();
    let last_results = before.iter().rposition(|m| ok_results(m)).unwrap();
    let stats = before[..last_results].iter().rev().find(|m| is_set(m, "DSO_STATS")).expect("DSO_STATS before");
    let count = json["detections"].as_array().unwrap().len() as f64;
    assert_eq!(number_of(stats, "COUNT"), Some(count), "COUNT counts the catalogue's finds too");
    let state = before[..last_results].iter().rev().find(|m| is_set(m, "DSO_TARGET_STATE")).expect("target state");
    assert_eq!(text_of(state, "STATE").as_deref(), Some("captured"));
    c.wait_from(from, secs(5), |m| message_with(m, "[INFO] target NGC 7023: captured"));
}

#[test]
fn a_frame_with_only_a_pointing_is_named_after_the_plate_solve() {
    let Some(real) = real_fits("Light_M94_10.0s_IRCUT_20250326-212046.fit") else { return };
    if !runs_here("the plate solver", dso_models::sky::solve::check(&Default::default()).map_err(|e| e.to_string())) {
        return;
    }
    let Some(server) = Server::start(&[DRIVER]) else { return };
    let mut c = connected(&server);
    let from = c.received.len();
    c.send(&upload_xml(".fits", &std::fs::read(&real).unwrap()));
    let first = c.wait_from(from, secs(60), ok_results);
    let json = results_json(&first);
    assert!(json.get("update").is_none(), "detections first: {json}");
    assert_eq!(json["field"]["solved_by"], "pointing", "{json}");
    let named = c.wait_from(from, secs(120), |m| ok_results(m) && results_json(m)["update"] == "names");
    let json2 = results_json(&named);
    assert_eq!(json2["field"]["solved_by"], "astrometry.net", "{json2}");
    assert_eq!(json2["frame"]["timestamp"], json["frame"]["timestamp"], "the same frame");
    assert!(text_of(&named, "SUMMARY").unwrap().contains("M 94"), "{json2}");
    assert_eq!(json2["target"]["state"], "captured");
}

#[test]
fn a_hanging_solver_is_stopped_and_reported_and_the_driver_goes_on() {
    let Some(real) = real_fits("Light_M94_10.0s_IRCUT_20250326-212046.fit") else { return };
    // A `solve-field` first on PATH that never answers (and leaves a child behind, as the real one does).
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("solve-field");
    std::fs::write(&fake, "#!/bin/sh\nsleep 300 &\nsleep 300\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let Some(server) = Server::start_with_env(&[DRIVER], &[("PATH", &path)]) else { return };
    let mut c = connected(&server);
    c.send(
        "<newNumberVector device=\"DSO Detector\" name=\"DSO_SOLVER\"><oneNumber name=\"TIMEOUT\">5</oneNumber>\
         </newNumberVector>\n",
    );
    c.wait(secs(5), |m| is_set(m, "DSO_SOLVER") && state_of(m) == Some(PropertyState::Ok));
    let from = c.received.len();
    c.send(&upload_xml(".fits", &std::fs::read(&real).unwrap()));
    let first = c.wait_from(from, secs(60), ok_results);
    assert!(results_json(&first)["detections"].is_array());
    let warning = c.wait_from(from, secs(60), |m| message_with(m, "no names"));
    let Message::Message(w) = &warning else { unreachable!() };
    let text = w.message.clone().unwrap_or_default();
    assert!(text.starts_with("[WARNING] "), "{text}");
    assert!(text.contains("stopped after 5 s") || text.contains("index files"), "{text}");
    // The driver still answers and analyses the next frame.
    let again = c.received.len();
    c.send(&upload_xml(".fits", &std::fs::read(&real).unwrap()));
    c.wait_from(again, secs(60), ok_results);
}

#[test]
fn a_solve_in_progress_ends_with_the_driver() {
    let Some(real) = real_fits("Light_M94_10.0s_IRCUT_20250326-212046.fit") else { return };
    // The driver checks for index files before it starts the (fake) solver.
    if !runs_here("the plate solver", dso_models::sky::solve::check(&Default::default()).map_err(|e| e.to_string())) {
        return;
    }
    // A `solve-field` that records its pid and would run for five minutes.
    let bin = tempfile::tempdir().unwrap();
    let pid_file = bin.path().join("pid");
    let fake = bin.path().join("solve-field");
    std::fs::write(&fake, format!("#!/bin/sh\necho $$ > {}\nexec sleep 300\n", pid_file.display())).unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    let Some(server) = Server::start_with_env(&[DRIVER], &[("PATH", &path)]) else { return };
    let mut c = connected(&server);
    let from = c.received.len();
    c.send(&upload_xml(".fits", &std::fs::read(&real).unwrap()));
    c.wait_from(from, secs(60), ok_results);
    let deadline = std::time::Instant::now() + secs(30);
    let pid = loop {
        if let Some(pid) = std::fs::read_to_string(&pid_file).ok().and_then(|s| s.trim().parse::<u32>().ok()) {
            break pid;
        }
        assert!(std::time::Instant::now() < deadline, "the solver never started");
        // Polling for a file the stand-in solver writes, which no INDI reply announces: a time between looks.
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(c);
    drop(server); // indiserver killed: the driver sees its stdin close and exits.
    let deadline = std::time::Instant::now() + secs(10);
    // Gone, or a zombie waiting for init to reap it.
    let running = || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
    while running() && std::time::Instant::now() < deadline {
        // Polling for another process's exit, which sends nothing to wait on: a time between looks.
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!running(), "solve-field (pid {pid}) outlived the driver");
}
