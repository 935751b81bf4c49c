//! The configuration file: saved in libindi's format through `CONFIG_PROCESS`, loaded at the next start.

use dso_detector::indi::PropertyState;

use dso_test_support::*;

use crate::DRIVER;

#[test]
fn save_then_restart_restores_camera_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("DSO Detector_config.xml");
    {
        let mut d = Driver::start_with(DRIVER, &config, &[]);
        d.connect();
        d.peer.send("<newTextVector device=\"DSO Detector\" name=\"ACTIVE_DEVICES\"><oneText name=\"ACTIVE_CCD\">My Camera</oneText></newTextVector>");
        d.peer.send("<newNumberVector device=\"DSO Detector\" name=\"DSO_SETTINGS\"><oneNumber name=\"CONFIDENCE\">0.3</oneNumber><oneNumber name=\"MAX_DETECTIONS\">7</oneNumber></newNumberVector>");
        d.peer.send("<newSwitchVector device=\"DSO Detector\" name=\"DSO_OUTPUTS\"><oneSwitch name=\"ANNOTATED_IMAGE\">On</oneSwitch></newSwitchVector>");
        d.peer.send("<newSwitchVector device=\"DSO Detector\" name=\"CONFIG_PROCESS\"><oneSwitch name=\"CONFIG_SAVE\">On</oneSwitch></newSwitchVector>");
        d.peer.wait(secs(5), |m| is_set(m, "CONFIG_PROCESS") && state_of(m) == Some(PropertyState::Ok));
    }
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("<INDIDriver>"), "{text}");
    assert!(text.contains("My Camera") && text.contains("ANNOTATED_IMAGE"), "{text}");
    assert!(dso_detector::config::default_path(&config).exists(), "no .default file");

    let mut d = Driver::start_with(DRIVER, &config, &[]);
    d.peer.send("<getProperties version=\"1.7\"/>\n");
    let active = d.peer.wait(secs(5), |m| is_def(m, "ACTIVE_DEVICES"));
    assert_eq!(text_of(&active, "ACTIVE_CCD").as_deref(), Some("My Camera"));
    assert!(d.peer.raw.contains("<enableBLOB device=\"My Camera\" name=\"CCD1\">Also</enableBLOB>"));
    assert!(!d.peer.raw.contains("device=\"CCD Simulator\""), "snooped the default camera first: {}", d.peer.raw);
    d.peer.send(&connect_xml("DSO Detector"));
    let settings = d.peer.wait(secs(5), |m| is_set(m, "DSO_SETTINGS"));
    assert_eq!(number_of(&settings, "CONFIDENCE"), Some(0.3));
    assert_eq!(number_of(&settings, "MAX_DETECTIONS"), Some(7.0));

    // CONFIG_DEFAULT restores the factory values; CONFIG_PURGE deletes the file.
    let from = d.peer.received.len();
    d.peer.send("<newSwitchVector device=\"DSO Detector\" name=\"CONFIG_PROCESS\"><oneSwitch name=\"CONFIG_DEFAULT\">On</oneSwitch></newSwitchVector>");
    let settings = d.peer.wait_from(from, secs(5), |m| is_set(m, "DSO_SETTINGS"));
    assert_eq!(number_of(&settings, "CONFIDENCE"), Some(dso_detector::report::DEFAULT_CONFIDENCE as f64));
    // CONFIG_DEFAULT's own CONFIG_PROCESS answer, so that it cannot be taken for the purge's below
    d.peer.wait_from(from, secs(5), |m| is_set(m, "CONFIG_PROCESS") && state_of(m) == Some(PropertyState::Ok));
    let from = d.peer.received.len();
    d.peer.send("<newSwitchVector device=\"DSO Detector\" name=\"CONFIG_PROCESS\"><oneSwitch name=\"CONFIG_PURGE\">On</oneSwitch></newSwitchVector>");
    d.peer.wait_from(from, secs(5), |m| is_set(m, "CONFIG_PROCESS") && state_of(m) == Some(PropertyState::Ok));
    assert!(!config.exists());
}

#[test]
fn a_corrupt_configuration_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.xml");
    std::fs::write(&config, "<INDIDriver><newTextVector device='DSO Detector' name='ACTIVE_DEV").unwrap();
    let mut d = Driver::start_with(DRIVER, &config, &[]);
    d.peer.send("<getProperties version=\"1.7\"/>\n");
    let active = d.peer.wait(secs(5), |m| is_def(m, "ACTIVE_DEVICES"));
    assert_eq!(text_of(&active, "ACTIVE_CCD").as_deref(), Some("CCD Simulator"));
    assert!(d.peer.raw.contains("[WARNING] configuration"), "{}", d.peer.raw);
}

#[test]
fn the_settings_files_solver_time_limit_is_the_default_of_dso_solver() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("dso-detector.conf");
    std::fs::write(&settings, "[solver]\ntimeout_s = 45\n").unwrap();
    let conf = settings.to_str().unwrap();
    let mut d = Driver::start_with(DRIVER, &dir.path().join("c.xml"), &[("DSO_DETECTOR_CONF", conf)]);
    d.connect();
    let solver = d.peer.wait_from(0, secs(5), |m| is_def(m, "DSO_SOLVER"));
    assert_eq!(number_of(&solver, "TIMEOUT"), Some(45.0));
    // Beyond the property's range it is clamped to it, not refused.
    std::fs::write(&settings, "[solver]\ntimeout_s = 7200\n").unwrap();
    let mut d = Driver::start_with(DRIVER, &dir.path().join("c.xml"), &[("DSO_DETECTOR_CONF", conf)]);
    d.connect();
    let solver = d.peer.wait_from(0, secs(5), |m| is_def(m, "DSO_SOLVER"));
    assert_eq!(number_of(&solver, "TIMEOUT"), Some(600.0));
}
