//! The faults of a real observing night (issue 15, part 4), each through the real `indiserver` with the real CCD
//! simulator: the camera disconnected and reconnected, `ACTIVE_CCD` naming a camera that appears later, the driver
//! killed and restarted by the server (`-r`), a client that enables BLOBs and never reads, SIGTERM during a frame.
//! The file and disk faults (configuration unwritable, a full disk, a model file replaced) are in `faults_storage`.
//!
//! Each test asserts what the astronomer would see: frames analysed again after the fault, nothing analysed while
//! the camera is away, the driver alive (or restarted by the server), no `[ERROR]`.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Instant;

use dso_detector::indi::{Message, PropertyState};
use dso_test_support::server::{expose, simulator_scene, simulator_setup, with_log, Options};
use dso_test_support::*;
use nix::sys::signal::Signal;

use crate::DRIVER;

/// A folder with one 1280×1024 frame holding a galaxy, for the simulator's directory mode.
pub(crate) fn sky_frames() -> (tempfile::TempDir, Sky) {
    let frames = tempfile::tempdir().unwrap();
    let sky = Sky::render(1280, 1024, (900.0, 300.0), 22.0, 11);
    std::fs::write(frames.path().join("frame1.fits"), sky.to_fits()).unwrap();
    (frames, sky)
}

/// The highest `FRAMES_PROCESSED` the driver has published so far (0 before any).
pub(crate) fn processed(c: &Peer<TcpStream>) -> f64 {
    c.received
        .iter()
        .filter_map(|m| {
            m.as_ref().ok().filter(|m| is_set(m, "DSO_STATS")).and_then(|m| number_of(m, "FRAMES_PROCESSED"))
        })
        .fold(0.0, f64::max)
}

/// The detector's `[ERROR]` messages so far.
pub(crate) fn errors(c: &Peer<TcpStream>) -> Vec<String> {
    c.received
        .iter()
        .filter_map(|m| match m {
            Ok(Message::Message(dm)) if dm.device.as_deref() == Some("DSO Detector") => dm.message.clone(),
            _ => None,
        })
        .filter(|t| t.starts_with("[ERROR] "))
        .collect()
}

/// `CONNECTION=DISCONNECT` for a device.
fn disconnect_xml(device: &str) -> String {
    set_switch(device, "CONNECTION", "DISCONNECT")
}

/// A shell script standing in for a driver (indiserver runs it as it would run the driver), made executable.
pub(crate) fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Waits for the detector to be defined again after a restart, connects it, and returns the `DSO_SETTINGS` its saved
/// configuration restored.
fn reconnect_after_restart(c: &mut Peer<TcpStream>, server: &Server, from: usize) -> Message {
    with_log(server, || {
        c.wait_from(from, secs(30), |m| is_def(m, "CONNECTION") && m.device() == Some("DSO Detector"));
        let from = c.received.len();
        c.send(&connect_xml("DSO Detector"));
        c.wait_from(from, secs(15), |m| is_def(m, "DSO_RESULTS"));
        c.wait_from(from, secs(15), |m| is_set(m, "DSO_SETTINGS") && m.device() == Some("DSO Detector"))
    })
}

#[test]
fn camera_disconnect_and_reconnect() {
    let (frames, sky) = sky_frames();
    let Some((server, mut c)) = simulator_setup(DRIVER, frames.path()) else { return };
    expose(&mut c, &server);
    assert_eq!(processed(&c), 1.0);

    c.send(&disconnect_xml("CCD Simulator"));
    c.wait(secs(15), |m| is_set(m, "CONNECTION") && m.device() == Some("CCD Simulator"));
    // An exposure asked of the disconnected camera: no frame comes, so none may be analysed. Nothing is sent to
    // wait on, so the check is a quiet time of three exposure lengths.
    let from = c.received.len();
    c.send("<newNumberVector device=\"CCD Simulator\" name=\"CCD_EXPOSURE\"><oneNumber name=\"CCD_EXPOSURE_VALUE\">1</oneNumber></newNumberVector>\n");
    c.drain(secs(3));
    assert!(!c.received[from..].iter().any(|m| matches!(m, Ok(m) if is_set(m, "DSO_RESULTS"))), "{}", c.tail());
    // The detector still answers while its camera is away.
    c.send("<getProperties version=\"1.7\" device=\"DSO Detector\" name=\"DSO_STATS\"/>\n");
    let stats = c.wait(secs(10), |m| is_def(m, "DSO_STATS"));
    assert_eq!(number_of(&stats, "FRAMES_PROCESSED"), Some(1.0));

    c.send(&connect_xml("CCD Simulator"));
    c.wait(secs(15), |m| is_def(m, "CCD_EXPOSURE") && m.device() == Some("CCD Simulator"));
    let m = expose(&mut c, &server);
    let iou = best_iou(&results_json(&m), sky.galaxy);
    assert!(iou > 0.3, "galaxy missed after the camera came back (IoU {iou})");
    let stats = c.wait_from(0, secs(5), |m| is_set(m, "DSO_STATS") && number_of(m, "FRAMES_PROCESSED") == Some(2.0));
    assert_eq!(number_of(&stats, "FRAMES_DROPPED"), Some(0.0));
    assert!(errors(&c).is_empty(), "{:?}", errors(&c));
    assert!(!c.raw.contains("never arrive"), "a spurious arrival warning: {}", c.tail());
}

#[test]
fn active_ccd_names_a_camera_that_appears_later() {
    let (frames, sky) = sky_frames();
    let opts = Options { fifo: true, ..Options::default() };
    let Some(server) = Server::start_with(&[DRIVER], &opts) else { return };
    let mut c = server.client();
    c.send("<getProperties version=\"1.7\"/>\n");
    c.wait(secs(15), |m| is_def(m, "CONNECTION") && m.device() == Some("DSO Detector"));
    c.send(&connect_xml("DSO Detector"));
    c.wait_from(0, secs(15), |m| is_def(m, "DSO_RESULTS"));
    c.send(&set_switch("DSO Detector", "DSO_OUTPUTS", "ANNOTATED_IMAGE"));
    c.send(&set_text("DSO Detector", "ACTIVE_DEVICES", "ACTIVE_CCD", "CCD Simulator 2"));
    c.wait(secs(5), |m| is_set(m, "ACTIVE_DEVICES") && state_of(m) == Some(PropertyState::Ok));
    assert!(!c.raw.contains("device=\"CCD Simulator 2\""), "the camera exists already");

    // The camera appears: started at run time through the server's FIFO, as INDI Web Manager starts drivers.
    server.fifo("start indi_simulator_ccd -n \"CCD Simulator 2\"");
    let cam = "CCD Simulator 2";
    with_log(&server, || c.wait(secs(20), |m| is_def(m, "CONNECTION") && m.device() == Some(cam)));
    c.send(&connect_xml(cam));
    c.wait(secs(15), |m| is_def(m, "CCD_DIRECTORY_LOCATION") && m.device() == Some(cam));
    c.send(&set_text(cam, "CCD_DIRECTORY_LOCATION", "LOCATION", frames.path().to_str().unwrap()));
    c.wait(secs(5), |m| is_set(m, "CCD_DIRECTORY_LOCATION"));
    c.send(&set_switch(cam, "CCD_DIRECTORY_TOGGLE", "INDI_ENABLED"));
    c.wait(secs(5), |m| is_set(m, "CCD_DIRECTORY_TOGGLE"));
    c.send(&format!("<newNumberVector device=\"{cam}\" name=\"CCD_EXPOSURE\"><oneNumber name=\"CCD_EXPOSURE_VALUE\">1</oneNumber></newNumberVector>\n"));
    let m = with_log(&server, || c.wait(secs(60), ok_results));
    let json = results_json(&m);
    assert_eq!(json["frame"]["source"], "CCD Simulator 2.CCD1", "{json}");
    let iou = best_iou(&json, sky.galaxy);
    assert!(iou > 0.3, "galaxy missed in the late camera's frame (IoU {iou}): {json}");
    assert!(errors(&c).is_empty(), "{:?}", errors(&c));
}

#[test]
fn server_restarts_a_killed_driver_with_its_configuration() {
    let (frames, _sky) = sky_frames();
    let opts = Options { args: &["-r", "2"], ..Options::default() };
    let Some(server) = Server::start_with(&["indi_simulator_ccd", DRIVER], &opts) else { return };
    let (server, mut c) = simulator_scene(server, frames.path());
    c.send("<newNumberVector device=\"DSO Detector\" name=\"DSO_SETTINGS\"><oneNumber name=\"CONFIDENCE\">0.3</oneNumber></newNumberVector>\n");
    c.wait(secs(5), |m| is_set(m, "DSO_SETTINGS") && state_of(m) == Some(PropertyState::Ok));
    c.send(&set_switch("DSO Detector", "CONFIG_PROCESS", "CONFIG_SAVE"));
    c.wait(secs(5), |m| is_set(m, "CONFIG_PROCESS") && state_of(m) == Some(PropertyState::Ok));
    expose(&mut c, &server);

    let pid = process::wait_child(server.pid(), DRIVER, None, secs(5)).expect("the driver runs");
    let from = c.received.len();
    process::signal(pid, Signal::SIGKILL);
    let settings = reconnect_after_restart(&mut c, &server, from);
    let again = process::wait_child(server.pid(), DRIVER, Some(pid), secs(5)).expect("restarted");
    assert_ne!(again, pid);
    assert_eq!(number_of(&settings, "CONFIDENCE"), Some(0.3), "the saved configuration was not reloaded");
    let m = expose(&mut c, &server);
    assert_eq!(results_json(&m)["frame"]["source"], "CCD Simulator.CCD1");
    // the restarted driver counts from zero: this is its first frame
    c.wait_from(from, secs(5), |m| is_set(m, "DSO_STATS") && number_of(m, "FRAMES_PROCESSED") == Some(1.0));
    eprintln!(
        "indiserver on the kill: {}",
        server.log().lines().filter(|l| l.contains("restart")).collect::<Vec<_>>().join(" | ")
    );
}

#[test]
fn a_client_that_never_reads_blobs_is_dropped_not_the_driver() {
    let (frames, _sky) = sky_frames();
    // indiserver 1.9.9 counts a camera frame (2.6 MB here) against every client that watches the camera, whether
    // or not it enabled the camera's BLOBs: a limit below one frame drops every client at the first exposure.
    let opts = Options { args: &["-m", "10"], ..Options::default() };
    let Some(server) = Server::start_with(&["indi_simulator_ccd", DRIVER], &opts) else { return };
    let (server, mut c) = simulator_scene(server, frames.path());
    let pid = process::wait_child(server.pid(), DRIVER, None, secs(5)).expect("the driver runs");
    // The hog: asks for everything and the detector's BLOBs (annotated images on), then never reads its socket.
    let mut hog = std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap();
    std::io::Write::write_all(
        &mut hog,
        b"<getProperties version=\"1.7\"/>\n<enableBLOB device=\"DSO Detector\">Also</enableBLOB>\n",
    )
    .unwrap();
    let start = Instant::now();
    let mut rounds = 0;
    while !server.log().contains("behind, shutting down") {
        assert!(rounds < 40, "the hog was never dropped after {rounds} frames:\n{}", server.log());
        expose(&mut c, &server);
        rounds += 1;
    }
    let dropped_after = processed(&c);
    eprintln!("the hog was dropped after {rounds} analysed frames, {:.1} s", start.elapsed().as_secs_f64());
    expose(&mut c, &server);
    assert!(processed(&c) > dropped_after, "no frame analysed after the hog was dropped");
    assert_eq!(process::wait_child(server.pid(), DRIVER, None, secs(1)), Some(pid), "the driver was restarted");
    assert!(!server.log().contains("restart"), "{}", server.log());
    assert!(errors(&c).is_empty(), "{:?}", errors(&c));
    drop(hog);
}

#[test]
fn sigterm_during_a_frame_exits_promptly_and_the_server_restarts_it() {
    if !runs_here("XRAI", dso_models::xrai::detector::AVAILABILITY.check().map_err(|e| e.to_string())) {
        return;
    }
    let (frames, _sky) = sky_frames();
    let home = tempfile::tempdir().unwrap();
    // The driver under a shell that records its exit status, which indiserver keeps to itself.
    let status = home.path().join("status");
    let body = format!("\"{DRIVER}\"\necho $? >> \"{}\"", status.display());
    let wrapper = script(home.path(), "indi_dso_detector_status", &body);
    let wrapper = wrapper.to_str().unwrap();
    let opts = Options { args: &["-r", "1"], ..Options::default() };
    let Some(server) = Server::start_with(&["indi_simulator_ccd", wrapper], &opts) else { return };
    let (server, mut c) = simulator_scene(server, frames.path());
    c.send("<newNumberVector device=\"DSO Detector\" name=\"DSO_SETTINGS\"><oneNumber name=\"CONFIDENCE\">0.3</oneNumber></newNumberVector>\n");
    c.send(&set_switch("DSO Detector", "CONFIG_PROCESS", "CONFIG_SAVE"));
    c.wait(secs(5), |m| is_set(m, "CONFIG_PROCESS") && state_of(m) == Some(PropertyState::Ok));
    let config = server.dir().join(".indi/DSO Detector_config.xml");
    let saved = std::fs::read_to_string(&config).unwrap();

    // XRAI takes seconds per tile: SIGTERM as soon as it has started on the frame (DSO_RESULTS Busy).
    c.send(&set_switch("DSO Detector", "DSO_DETECTOR", "XRAI"));
    c.wait(secs(5), |m| is_set(m, "DSO_DETECTOR") && state_of(m) == Some(PropertyState::Ok));
    c.send("<newNumberVector device=\"CCD Simulator\" name=\"CCD_EXPOSURE\"><oneNumber name=\"CCD_EXPOSURE_VALUE\">1</oneNumber></newNumberVector>\n");
    let busy = c.received.len();
    with_log(&server, || c.wait(secs(60), |m| is_set(m, "DSO_RESULTS") && state_of(m) == Some(PropertyState::Busy)));
    let shell = process::wait_child(server.pid(), wrapper, None, secs(5)).expect("the driver's shell runs");
    let pid = process::wait_child(shell, DRIVER, None, secs(5)).expect("the driver runs");
    let from = c.received.len();
    let sent = Instant::now();
    process::signal(pid, Signal::SIGTERM);
    let took = process::wait_ended(pid, secs(10)).expect("the driver did not exit within 10 s of SIGTERM");
    eprintln!("SIGTERM during an XRAI frame: the driver exited after {:.0} ms", took.as_secs_f64() * 1000.0);
    assert!(took < secs(5), "exited only after {took:?}");
    let settings = reconnect_after_restart(&mut c, &server, from);
    let finished = c.received[busy..from].iter().any(|m| matches!(m, Ok(m) if finished_results(m)));
    assert!(!finished, "the XRAI frame had finished before SIGTERM: not a signal during a frame");
    let code = std::fs::read_to_string(&status).unwrap();
    assert_eq!(
        code.trim(),
        "0",
        "exit status after SIGTERM (restarted {:.1} s after it)",
        sent.elapsed().as_secs_f64()
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), saved, "the configuration changed");
    assert_eq!(number_of(&settings, "CONFIDENCE"), Some(0.3));
    let m = expose(&mut c, &server);
    assert_eq!(results_json(&m)["detector"], "naive", "the unsaved XRAI choice came back");
}
