//! Every form in which a frame reaches the driver, as servers and clients send it: inline base64 on one line and in
//! 72 columns with `enclen`, padded past `len`, attached memfds over `SCM_RIGHTS` (indiserver 1.9.7–1.9.9), uploads
//! through `DSO_IMAGE_UPLOAD` with the annotated picture, and XISF as INDI 2.x cameras write it.

use dso_detector::indi::{Message, PropertyState};
use dso_test_support::*;

use crate::protocol::{assert_found_galaxy, galaxy_sky};
use crate::DRIVER;

#[test]
fn inline_base64_on_one_line_is_analysed() {
    let mut d = Driver::start(DRIVER);
    d.connect();
    let sky = galaxy_sky();
    d.peer.send(&camera_blob_one_line("CCD Simulator", ".fits", &sky.to_fits()));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD1");
    let stats =
        d.peer.wait_from(0, secs(5), |m| is_set(m, "DSO_STATS") && number_of(m, "FRAMES_PROCESSED") == Some(1.0));
    assert_eq!(number_of(&stats, "WIDTH"), Some(640.0));
    assert_eq!(number_of(&stats, "HEIGHT"), Some(480.0));
    assert!(number_of(&stats, "COUNT").unwrap() >= 1.0);
    assert!(number_of(&stats, "LATENCY_MS").unwrap() > 0.0);
}

#[test]
fn inline_base64_in_72_columns_with_enclen_is_analysed() {
    let mut d = Driver::start(DRIVER);
    d.connect();
    let sky = galaxy_sky();
    d.peer.send(&camera_blob_72("CCD Simulator", ".fits", &sky.to_fits()));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD1");
}

#[test]
fn payload_padded_past_len_is_trimmed() {
    use base64::Engine;
    let mut d = Driver::start(DRIVER);
    d.connect();
    let sky = galaxy_sky();
    let fits = sky.to_fits();
    let mut padded = fits.clone();
    padded.resize(fits.len() + 100_000, 0);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&padded);
    d.peer.send(&format!(
        "<setBLOBVector device=\"CCD Simulator\" name=\"CCD1\"><oneBLOB name=\"CCD1\" size=\"{0}\" format=\".fits\" len=\"{0}\">{b64}</oneBLOB></setBLOBVector>",
        fits.len()
    ));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD1");
}

#[test]
fn attached_blob_over_scm_rights_is_analysed() {
    let mut d = Driver::start(DRIVER);
    d.connect();
    let sky = galaxy_sky();
    let fits = sky.to_fits();
    let fd = memfd_with(&fits);
    let xml = camera_blob_attached("CCD Simulator", ".fits", fits.len());
    d.send_with_fd(&xml, &fd);
    drop(fd);
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD1");
    // Twice in a row: each message takes its own descriptor.
    let fd2 = memfd_with(&fits);
    d.send_with_fd(&xml, &fd2);
    d.peer.wait(secs(20), |m| is_set(m, "DSO_STATS") && number_of(m, "FRAMES_PROCESSED") == Some(2.0));
}

#[test]
fn upload_gets_results_and_annotated_image() {
    let mut d = Driver::start(DRIVER);
    d.connect();
    d.peer.send("<newSwitchVector device=\"DSO Detector\" name=\"DSO_OUTPUTS\"><oneSwitch name=\"ANNOTATED_IMAGE\">On</oneSwitch></newSwitchVector>");
    let sky = galaxy_sky();
    let fits = sky.to_fits();
    let upload = upload_xml(".fits", &fits);
    d.peer.send(&upload);
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "upload");
    let blob = d.peer.wait_from(0, secs(20), |m| is_set(m, "DSO_ANNOTATED"));
    let Message::Set(set) = blob else { unreachable!() };
    let dso_detector::indi::Values::Blob(b) = &set.values else { panic!("not a BLOB") };
    assert_eq!(b[0].format, ".jpg");
    let img = image::load_from_memory(&b[0].data).expect("a JPEG");
    assert_eq!((img.width(), img.height()), (640, 480));
    d.peer.wait_from(0, secs(5), |m| is_set(m, "DSO_IMAGE_UPLOAD") && state_of(m) == Some(PropertyState::Ok));

    // A picture size below the frame's: a binned preview, while the detections stay in frame pixels.
    d.peer.send("<newNumberVector device=\"DSO Detector\" name=\"DSO_SETTINGS\"><oneNumber name=\"CONFIDENCE\">0.5</oneNumber><oneNumber name=\"MAX_DETECTIONS\">20</oneNumber><oneNumber name=\"PICTURE_SIZE\">320</oneNumber></newNumberVector>");
    d.peer.wait(secs(5), |m| is_set(m, "DSO_SETTINGS") && number_of(m, "PICTURE_SIZE") == Some(320.0));
    let from = d.peer.received.len();
    d.peer.send(&upload);
    let m = d.peer.wait_from(from, secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "upload");
    let blob = d.peer.wait_from(from, secs(20), |m| is_set(m, "DSO_ANNOTATED"));
    let Message::Set(set) = blob else { unreachable!() };
    let dso_detector::indi::Values::Blob(b) = &set.values else { panic!("not a BLOB") };
    let img = image::load_from_memory(&b[0].data).expect("a JPEG");
    assert_eq!((img.width(), img.height()), (320, 240));
}

/// The sky as an XISF file the way INDI 2.x cameras send it (UInt16, LZ4 with byte shuffling, FITS keywords), written
/// by PyPI's `xisf` encoder; `None` (test skipped) without python3 or the module.
fn xisf_of(sky: &Sky) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("sky.u16");
    std::fs::write(&raw, sky.data.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
    let script = format!(
        "import numpy as np, xisf\n\
         d = np.fromfile('sky.u16', dtype='<u2').reshape({h}, {w}, 1)\n\
         meta = {{'FITSKeywords': {{'INSTRUME': [{{'value': \"'CCD Simulator'\", 'comment': ''}}]}}}}\n\
         xisf.XISF.write('sky.xisf', d, 'test', meta, codec='lz4', shuffle=True)\n",
        h = sky.height,
        w = sky.width
    );
    let out = std::process::Command::new("python3").arg("-c").arg(script).current_dir(dir.path()).output().ok()?;
    if !out.status.success() {
        skip(format!(
            "no XISF encoder (installers/deps.sh installs PyPI's xisf): {}",
            String::from_utf8_lossy(&out.stderr)
        ));
        return None;
    }
    Some(std::fs::read(dir.path().join("sky.xisf")).unwrap())
}

#[test]
fn xisf_frames_as_indi_2_cameras_send_them_are_analysed() {
    let sky = galaxy_sky();
    let Some(xisf) = xisf_of(&sky) else { return };
    let mut d = Driver::start(DRIVER);
    d.connect();
    d.peer.send(&upload_xml(".xisf", &xisf));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "upload");
    assert_eq!(results_json(&m)["frame"]["format"], ".xisf");
}
