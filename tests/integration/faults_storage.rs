//! The file faults of a real night (issue 15, part 4), through the real `indiserver` and CCD simulator: a
//! configuration that cannot be written, a full disk (a tmpfs of 64 KiB in a mount namespace of the server's own),
//! and a model file replaced while the driver runs. The protocol and process faults are in `faults`.
//!
//! The driver itself writes no pictures to disk (they go to clients as BLOBs); what it writes is its configuration,
//! so the full disk is tested on that, and on the nearest real thing for pictures: a camera saving its frames locally
//! (`UPLOAD_LOCAL`) onto the full disk while the driver reads them.

use std::process::{Command, Stdio};

use dso_detector::indi::PropertyState;
use dso_test_support::server::{expose, simulator_scene, with_log, Options};
use dso_test_support::*;

use crate::faults::{errors, processed, script, sky_frames};
use crate::DRIVER;

/// A configuration as libindi writes it, with `CONFIDENCE` = 0.3.
const SAVED: &str = "<INDIDriver>\n<newNumberVector device='DSO Detector' name='DSO_SETTINGS'>\n  <oneNumber name='CONFIDENCE'>\n      0.3\n  </oneNumber>\n</newNumberVector>\n</INDIDriver>\n";

/// `CONFIG_PROCESS` with one action.
fn config_xml(action: &str) -> String {
    set_switch("DSO Detector", "CONFIG_PROCESS", action)
}

/// `DSO_SETTINGS.CONFIDENCE`.
fn confidence_xml(value: f64) -> String {
    format!("<newNumberVector device=\"DSO Detector\" name=\"DSO_SETTINGS\"><oneNumber name=\"CONFIDENCE\">{value}</oneNumber></newNumberVector>\n")
}

#[test]
fn an_unwritable_configuration_is_an_alert_and_frames_go_on() {
    let (frames, _sky) = sky_frames();
    let home = tempfile::tempdir().unwrap();
    // The configuration's folder is a regular file: no write succeeds there, even as root (where chmod would not
    // stop one).
    let blocker = home.path().join("indi-config");
    std::fs::write(&blocker, "a file where the folder should be").unwrap();
    let config = blocker.join("DSO Detector_config.xml");
    let body = format!("INDICONFIG=\"{}\" exec \"{DRIVER}\"", config.display());
    let wrapper = script(home.path(), "indi_dso_detector_cfg", &body);
    let Some(server) = Server::start(&["indi_simulator_ccd", wrapper.to_str().unwrap()]) else { return };
    let (server, mut c) = simulator_scene(server, frames.path());
    c.send(&confidence_xml(0.3));
    let from = c.received.len();
    c.send(&config_xml("CONFIG_SAVE"));
    c.wait(secs(5), |m| is_set(m, "CONFIG_PROCESS") && state_of(m) == Some(PropertyState::Alert));
    let said = c.wait_from(from, secs(5), |m| said_starting(m, "[ERROR] "));
    let said = format!("{said:?}");
    assert!(said.contains("cannot save") && said.contains("indi-config is a file, not a folder"), "{said}");
    eprintln!("CONFIG_SAVE into a file: {said}");
    let m = expose(&mut c, &server);
    assert_eq!(results_json(&m)["frame"]["source"], "CCD Simulator.CCD1");
    assert_eq!(processed(&c), 1.0);
    // a second try is refused the same way, not a crash or a hang
    c.send(&config_xml("CONFIG_SAVE"));
    c.wait(secs(5), |m| is_set(m, "CONFIG_PROCESS") && state_of(m) == Some(PropertyState::Alert));
    assert!(blocker.is_file());
}

/// Whether this machine lets a user create a user and mount namespace (`unshare --user --map-root-user --mount`).
fn namespaces_work() -> bool {
    let ok = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skip("unshare --user --map-root-user --mount is not permitted here: no full disk to test on");
    }
    ok
}

#[test]
fn a_full_disk_fails_saves_cleanly_and_keeps_the_last_configuration() {
    if !namespaces_work() {
        return;
    }
    let (frames, _sky) = sky_frames();
    let seed = tempfile::tempdir().unwrap();
    std::fs::write(seed.path().join("config.xml"), SAVED).unwrap();
    // The server and its drivers see a 64 KiB tmpfs at ~/.indi holding the saved configuration, then filled up.
    let fill = "mkdir -p \"$HOME/.indi\" && mount -t tmpfs -o size=64k tmpfs \"$HOME/.indi\" \
                && cp \"$DSO_SEED/config.xml\" \"$HOME/.indi/DSO Detector_config.xml\" \
                && { dd if=/dev/zero of=\"$HOME/.indi/filler\" bs=1k 2>/dev/null; true; } && exec \"$@\"";
    let seed_dir = seed.path().to_str().unwrap();
    let opts = Options {
        env: &[("DSO_SEED", seed_dir)],
        under: &["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", fill, "sh"],
        ..Options::default()
    };
    let Some(server) = Server::start_with(&["indi_simulator_ccd", DRIVER], &opts) else { return };
    let (server, mut c) = simulator_scene(server, frames.path());
    let restored = c.wait_from(0, secs(5), |m| is_set(m, "DSO_SETTINGS") && number_of(m, "CONFIDENCE") == Some(0.3));
    assert_eq!(state_of(&restored), Some(PropertyState::Ok));

    c.send(&confidence_xml(0.7));
    let from = c.received.len();
    c.send(&config_xml("CONFIG_SAVE"));
    c.wait(secs(5), |m| is_set(m, "CONFIG_PROCESS") && state_of(m) == Some(PropertyState::Alert));
    let said = format!("{:?}", c.wait_from(from, secs(5), |m| said_starting(m, "[ERROR] ")));
    assert!(said.contains("No space left on device"), "{said}");
    eprintln!("CONFIG_SAVE on a full disk: {said}");
    // The file on the full disk is still the last one saved: loading it brings 0.3 back.
    let from = c.received.len();
    c.send(&config_xml("CONFIG_LOAD"));
    c.wait(secs(5), |m| is_set(m, "CONFIG_PROCESS") && state_of(m) == Some(PropertyState::Ok));
    let loaded = c.wait_from(from, secs(5), |m| is_set(m, "DSO_SETTINGS"));
    assert_eq!(number_of(&loaded, "CONFIDENCE"), Some(0.3), "the configuration was damaged by the failed save");
    let m = expose(&mut c, &server);
    assert_eq!(results_json(&m)["frame"]["source"], "CCD Simulator.CCD1");

    // The camera saving its frames locally onto the full disk: INDI 1.9.9's simulator says "Image saved" and
    // announces a file of 0 bytes. The detector says why there is nothing to analyse, and analyses the next frame.
    let before = processed(&c);
    let dir = server.dir().join(".indi");
    c.send(&set_text("CCD Simulator", "UPLOAD_SETTINGS", "UPLOAD_DIR", dir.to_str().unwrap()));
    c.wait(secs(5), |m| is_set(m, "UPLOAD_SETTINGS"));
    c.send(&set_switch("CCD Simulator", "UPLOAD_MODE", "UPLOAD_LOCAL"));
    c.wait(secs(5), |m| is_set(m, "UPLOAD_MODE"));
    let from = c.received.len();
    c.send("<newNumberVector device=\"CCD Simulator\" name=\"CCD_EXPOSURE\"><oneNumber name=\"CCD_EXPOSURE_VALUE\">1</oneNumber></newNumberVector>\n");
    let end = with_log(&server, || c.wait_from(from, secs(30), finished_results));
    assert_eq!(state_of(&end), Some(PropertyState::Alert), "a frame from a full disk was analysed: {end:?}");
    let said = format!("{:?}", c.wait_from(from, secs(5), |m| said_starting(m, "[ERROR] ")));
    assert!(said.contains("is empty: the camera saved no image (is its disk full?)"), "{said}");
    eprintln!("camera saving onto the full disk: {said}");
    c.send(&set_switch("CCD Simulator", "UPLOAD_MODE", "UPLOAD_CLIENT"));
    c.wait(secs(5), |m| is_set(m, "UPLOAD_MODE"));
    expose(&mut c, &server);
    assert!(processed(&c) > before);
}

/// Selects a detector and waits until the driver has taken it.
fn select(c: &mut Peer<std::net::TcpStream>, element: &str) {
    let from = c.received.len();
    c.send(&set_switch("DSO Detector", "DSO_DETECTOR", element));
    c.wait_from(from, secs(5), |m| is_set(m, "DSO_DETECTOR") && state_of(m) == Some(PropertyState::Ok));
}

#[test]
fn a_model_file_replaced_while_running() {
    if !runs_here("YOLO", dso_models::yolo::AVAILABILITY.check().map_err(|e| e.to_string())) {
        return;
    }
    let shipped = dso_models::onnx::first_shipped(dso_models::yolo::DEFAULT_MODEL_FILE).expect("the shipped model");
    let (frames, _sky) = sky_frames();
    let models = tempfile::tempdir().unwrap();
    let model = models.path().join("dso_yolo.onnx");
    std::fs::copy(&shipped, &model).unwrap();
    let opts = Options { env: &[("DSO_YOLO_MODEL", model.to_str().unwrap())], ..Options::default() };
    let Some(server) = Server::start_with(&["indi_simulator_ccd", DRIVER], &opts) else { return };
    let (server, mut c) = simulator_scene(server, frames.path());
    select(&mut c, "YOLO");
    assert_eq!(results_json(&expose(&mut c, &server))["detector"], "yolo");

    // Overwritten in place while loaded: the model in use is not disturbed.
    std::fs::write(&model, b"not an ONNX model, a file cut short by a copy").unwrap();
    assert_eq!(results_json(&expose(&mut c, &server))["detector"], "yolo");

    // Chosen again: the file is read again, and its problem is the frame's error.
    select(&mut c, "NAIVE");
    select(&mut c, "YOLO");
    let from = c.received.len();
    c.send("<newNumberVector device=\"CCD Simulator\" name=\"CCD_EXPOSURE\"><oneNumber name=\"CCD_EXPOSURE_VALUE\">1</oneNumber></newNumberVector>\n");
    let end = with_log(&server, || c.wait_from(from, secs(60), finished_results));
    assert_eq!(state_of(&end), Some(PropertyState::Alert), "{end:?}");
    let said = format!("{:?}", c.wait_from(from, secs(5), |m| said_starting(m, "[ERROR] ")));
    assert!(said.contains("YOLO model") && said.contains("dso_yolo.onnx") && said.contains("not a loadable"), "{said}");
    eprintln!("a corrupt model chosen again: {said}");
    select(&mut c, "NAIVE");
    assert_eq!(results_json(&expose(&mut c, &server))["detector"], "naive");

    // The good model back, as tools replace files (a new file renamed over the old), and YOLO chosen again: it runs.
    let tmp = models.path().join("dso_yolo.onnx.new");
    std::fs::copy(&shipped, &tmp).unwrap();
    std::fs::rename(&tmp, &model).unwrap();
    select(&mut c, "YOLO");
    assert_eq!(results_json(&expose(&mut c, &server))["detector"], "yolo");
    assert_eq!(errors(&c).len(), 1, "{:?}", errors(&c));
}
