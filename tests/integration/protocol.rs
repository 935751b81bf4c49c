//! Raw INDI XML to the driver binary over a socketpair, as indiserver runs it: every BLOB form servers send, the
//! standard properties, uploads, and bad input that must leave the driver running.

use std::time::{Duration, Instant};

use dso_detector::indi::{DefElements, Message, PropertyState};

use crate::support::sky::Sky;
use crate::support::*;

fn galaxy_sky() -> Sky {
    Sky::render(640, 480, (400.0, 200.0), 14.0, 7)
}

/// Checks that DSO_RESULTS reports the galaxy of `sky` with JSON following the schema.
fn assert_found_galaxy(m: &Message, sky: &Sky, source: &str) {
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

fn ok_results(m: &Message) -> bool {
    is_set(m, "DSO_RESULTS") && state_of(m) == Some(PropertyState::Ok)
}

#[test]
fn first_get_properties_is_answered_at_once_with_the_standard_properties() {
    let mut d = Driver::start();
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
    let mut d = Driver::start_with(&dir.path().join("c.xml"), &[("INDIDEV", "Detector 2")]);
    d.peer.send("<getProperties version=\"1.7\"/>\n");
    let m = d.peer.wait(secs(5), |m| is_def(m, "CONNECTION"));
    assert_eq!(m.device(), Some("Detector 2"));
}

#[test]
fn inline_base64_on_one_line_is_analysed() {
    let mut d = Driver::start();
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
    let mut d = Driver::start();
    d.connect();
    let sky = galaxy_sky();
    d.peer.send(&camera_blob_72("CCD Simulator", ".fits", &sky.to_fits()));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD1");
}

#[test]
fn payload_padded_past_len_is_trimmed() {
    use base64::Engine;
    let mut d = Driver::start();
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
    let mut d = Driver::start();
    d.connect();
    let sky = galaxy_sky();
    let fits = sky.to_fits();
    let fd = memfd_with(&fits);
    let xml = format!(
        "<setBLOBVector device=\"CCD Simulator\" name=\"CCD1\" state=\"Ok\"><oneBLOB name=\"CCD1\" size=\"{0}\" format=\".fits\" len=\"{0}\" attached=\"true\"/></setBLOBVector>\n",
        fits.len()
    );
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
    use base64::Engine;
    let mut d = Driver::start();
    d.connect();
    d.peer.send("<newSwitchVector device=\"DSO Detector\" name=\"DSO_OUTPUTS\"><oneSwitch name=\"ANNOTATED_IMAGE\">On</oneSwitch></newSwitchVector>");
    let sky = galaxy_sky();
    let fits = sky.to_fits();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&fits);
    d.peer.send(&format!(
        "<newBLOBVector device=\"DSO Detector\" name=\"DSO_IMAGE_UPLOAD\"><oneBLOB name=\"IMAGE\" size=\"{0}\" format=\".fits\">{b64}</oneBLOB></newBLOBVector>",
        fits.len()
    ));
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
    d.peer.send(&format!(
        "<newBLOBVector device=\"DSO Detector\" name=\"DSO_IMAGE_UPLOAD\"><oneBLOB name=\"IMAGE\" size=\"{0}\" format=\".fits\">{b64}</oneBLOB></newBLOBVector>",
        fits.len()
    ));
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
    use base64::Engine;
    let sky = galaxy_sky();
    let Some(xisf) = xisf_of(&sky) else { return };
    let mut d = Driver::start();
    d.connect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&xisf);
    d.peer.send(&format!(
        "<newBLOBVector device=\"DSO Detector\" name=\"DSO_IMAGE_UPLOAD\"><oneBLOB name=\"IMAGE\" size=\"{0}\" format=\".xisf\">{b64}</oneBLOB></newBLOBVector>",
        xisf.len()
    ));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "upload");
    assert_eq!(results_json(&m)["frame"]["format"], ".xisf");
}

#[test]
fn frames_from_other_devices_and_while_disconnected_are_ignored() {
    let mut d = Driver::start();
    d.peer.send("<getProperties version=\"1.7\"/>\n");
    d.peer.wait(secs(5), |m| is_def(m, "ACTIVE_DEVICES"));
    let fits = galaxy_sky().to_fits();
    d.peer.send(&camera_blob_one_line("CCD Simulator", ".fits", &fits));
    d.peer.send(&connect_xml("DSO Detector"));
    d.peer.wait(secs(5), |m| is_def(m, "DSO_RESULTS"));
    d.peer.send(&camera_blob_one_line("Other Camera", ".fits", &fits));
    d.peer.send("<pingRequest uid=\"probe\"/>");
    d.peer.wait(secs(5), |m| matches!(m, Message::PingReply { uid } if uid == "probe"));
    d.peer.drain(Duration::from_millis(1500));
    assert!(!d.peer.received.iter().any(|m| matches!(m, Ok(m) if ok_results(m))), "{}", d.peer.tail());
}

#[test]
fn active_ccd_change_resnoops() {
    let mut d = Driver::start();
    d.connect();
    d.peer.send("<newTextVector device=\"DSO Detector\" name=\"ACTIVE_DEVICES\"><oneText name=\"ACTIVE_CCD\">\nZWO CCD ASI294MC\n    </oneText></newTextVector>");
    d.peer.wait(secs(5), |m| is_set(m, "ACTIVE_DEVICES"));
    d.peer.drain(Duration::from_millis(300));
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

/// Sends `xml`, then expects an error message, DSO_RESULTS (or `property`) in Alert, and a good frame still analysed.
fn survives(xml: &[u8], property: &str, expect_in_message: &str) {
    let mut d = Driver::start();
    d.connect();
    let from = d.peer.received.len();
    std::io::Write::write_all(&mut d.peer.stream, xml).unwrap();
    let alert = d.peer.wait_from(from, secs(20), |m| is_set(m, property) && state_of(m) == Some(PropertyState::Alert));
    drop(alert);
    let msg = d.peer.wait_from(
        from,
        secs(5),
        |m| matches!(m, Message::Message(dm) if dm.message.as_deref().is_some_and(|t| t.starts_with("[ERROR] "))),
    );
    let Message::Message(dm) = msg else { unreachable!() };
    let text = dm.message.unwrap();
    assert!(text.to_lowercase().contains(&expect_in_message.to_lowercase()), "message: {text}");
    assert!(d.alive(), "the driver died");
    let sky = galaxy_sky();
    d.peer.send(&camera_blob_one_line("CCD Simulator", ".fits", &sky.to_fits()));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD1");
}

#[test]
fn bad_base64_is_reported_and_the_next_frame_processed() {
    survives(
        b"<setBLOBVector device=\"CCD Simulator\" name=\"CCD1\"><oneBLOB name=\"CCD1\" size=\"8\" format=\".fits\" len=\"8\">@@@@!!!!</oneBLOB></setBLOBVector>",
        "DSO_RESULTS",
        "base64",
    );
}

#[test]
fn lying_len_is_reported() {
    survives(
        b"<setBLOBVector device=\"CCD Simulator\" name=\"CCD1\"><oneBLOB name=\"CCD1\" size=\"5000\" format=\".fits\" len=\"5000\">AAAA</oneBLOB></setBLOBVector>",
        "DSO_RESULTS",
        "declares 5000 bytes but carries only 3",
    );
}

#[test]
fn fits_shorter_than_its_header_is_reported() {
    let mut fits = galaxy_sky().to_fits();
    fits.truncate(fits.len() / 2);
    survives(camera_blob_one_line("CCD Simulator", ".fits", &fits).as_bytes(), "DSO_RESULTS", "short");
}

#[test]
fn unknown_format_is_reported() {
    survives(camera_blob_one_line("CCD Simulator", ".xyz", b"not an image at all").as_bytes(), "DSO_RESULTS", "format");
}

#[test]
fn truncated_xml_then_good_frames() {
    // A message cut off mid-attribute, then a new message starts: the decoder must resynchronise.
    let mut d = Driver::start();
    d.connect();
    d.peer.send("<newNumberVector device=\"DSO Detector\" name=\"DSO_SETTINGS\"><oneNumber name=\"CONF");
    d.peer.send("<getProperties version=\"1.7\" device=\"DSO Detector\" name=\"DSO_STATS\"/>\n");
    d.peer.wait(secs(5), |m| is_def(m, "DSO_STATS"));
    let sky = galaxy_sky();
    d.peer.send(&camera_blob_one_line("CCD Simulator", ".fits", &sky.to_fits()));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD1");
    assert!(d.peer.raw.contains("[ERROR] "), "the truncated message was not reported: {}", d.peer.tail());
}

#[test]
fn settings_out_of_range_are_refused() {
    let mut d = Driver::start();
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
fn huge_blob_declaration_is_skipped_with_bounded_memory() {
    // 200 MB declared and actually streamed: the driver must skip it without holding it.
    let mut d = Driver::start();
    d.connect();
    let len = 200_000_000usize;
    d.peer.send(&format!(
        "<setBLOBVector device=\"CCD Simulator\" name=\"CCD1\"><oneBLOB name=\"CCD1\" size=\"{len}\" format=\".fits\" len=\"{len}\">"
    ));
    let chunk = "A".repeat(1 << 20);
    let writer = {
        let mut s = d.peer.stream.try_clone().unwrap();
        std::thread::spawn(move || {
            for _ in 0..(len * 4 / 3 / chunk.len()) {
                std::io::Write::write_all(&mut s, chunk.as_bytes()).unwrap();
            }
            std::io::Write::write_all(&mut s, b"</oneBLOB></setBLOBVector>\n").unwrap();
        })
    };
    let from = d.peer.received.len();
    d.peer.wait_from(from, secs(120), |m| is_set(m, "DSO_RESULTS") && state_of(m) == Some(PropertyState::Alert));
    writer.join().unwrap();
    let rss = d.peak_rss_mib();
    assert!(rss < 150.0, "peak memory {rss:.0} MiB while skipping a 200 MB BLOB");
    let sky = galaxy_sky();
    d.peer.send(&camera_blob_one_line("CCD Simulator", ".fits", &sky.to_fits()));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD1");
}

#[test]
fn getproperties_is_answered_while_a_frame_is_analysed_and_extra_frames_are_dropped() {
    let mut d = Driver::start();
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
    let mut d = Driver::start();
    d.connect();
    d.peer.stream.shutdown(std::net::Shutdown::Write).unwrap();
    let deadline = Instant::now() + secs(10);
    while d.alive() {
        assert!(Instant::now() < deadline, "driver still running after EOF");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.child.wait().unwrap().success());
}

/// The text of the first `[ERROR]` message received after `from`.
fn error_after(d: &mut Driver, from: usize) -> String {
    let msg = d.peer.wait_from(
        from,
        secs(10),
        |m| matches!(m, Message::Message(dm) if dm.message.as_deref().is_some_and(|t| t.starts_with("[ERROR] "))),
    );
    let Message::Message(dm) = msg else { unreachable!() };
    dm.message.unwrap()
}

/// A `CCD_FILE_PATH` as a camera in UPLOAD_LOCAL mode sends it — or as a client forges it (indiserver forwards both).
fn file_path_xml(path: &std::path::Path) -> String {
    format!(
        "<setTextVector device=\"CCD Simulator\" name=\"CCD_FILE_PATH\" state=\"Ok\"><oneText name=\"FILE_PATH\">{}</oneText></setTextVector>\n",
        path.display()
    )
}

#[test]
fn forged_file_paths_are_refused_and_the_next_frame_processed() {
    // Issue 15: a FIFO blocked the worker in open() for good; a link to /dev/zero grew memory without bound.
    let mut d = Driver::start();
    d.connect();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("IMAGE_001.fits");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let zero = dir.path().join("IMAGE_002.fits");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let sky = galaxy_sky();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside = elsewhere.path().join("private.fits");
    std::fs::write(&outside, sky.to_fits()).unwrap();
    let refused = |d: &mut Driver, path: &std::path::Path, expected: &str| {
        let from = d.peer.received.len();
        d.peer.send(&file_path_xml(path));
        d.peer.wait_from(from, secs(10), |m| is_set(m, "DSO_RESULTS") && state_of(m) == Some(PropertyState::Alert));
        let text = error_after(d, from);
        assert!(text.contains(expected), "{text}");
        assert!(text.contains("CCD Simulator.CCD_FILE_PATH"), "{text}");
    };
    // With no upload directory known, only regular files are read.
    refused(&mut d, &fifo, "it is a FIFO");
    refused(&mut d, &zero, "it is a device");
    // Once the camera says where it saves, nothing outside is read, regular file or not.
    d.peer.send(&format!(
        "<setTextVector device=\"CCD Simulator\" name=\"UPLOAD_SETTINGS\" state=\"Ok\"><oneText name=\"UPLOAD_DIR\">{}</oneText><oneText name=\"UPLOAD_PREFIX\">IMAGE_XXX</oneText></setTextVector>\n",
        dir.path().display()
    ));
    refused(&mut d, &outside, "outside the camera's upload directory");
    refused(&mut d, &zero, "outside the camera's upload directory");
    assert!(d.alive(), "the driver died");
    // A frame the camera really saved there is analysed; so is the next BLOB.
    let saved = dir.path().join("IMAGE_003.fits");
    std::fs::write(&saved, sky.to_fits()).unwrap();
    d.peer.send(&file_path_xml(&saved));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD_FILE_PATH");
    d.peer.send(&camera_blob_one_line("CCD Simulator", ".fits", &sky.to_fits()));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD1");
}

#[test]
fn huge_numbers_and_long_device_names_get_short_refusals() {
    let mut d = Driver::start();
    d.connect();
    let from = d.peer.received.len();
    d.peer.send("<newNumberVector device=\"DSO Detector\" name=\"DSO_SETTINGS\"><oneNumber name=\"CONFIDENCE\">1e308</oneNumber></newNumberVector>\n");
    d.peer.wait_from(from, secs(5), |m| is_set(m, "DSO_SETTINGS") && state_of(m) == Some(PropertyState::Alert));
    let text = error_after(&mut d, from);
    assert_eq!(text, "[ERROR] DSO_SETTINGS.CONFIDENCE = 1e308 is outside 0…1");
    // A 100 KB camera name: refused whole, the camera snooped stays.
    let from = d.peer.received.len();
    let long = "C".repeat(100_000);
    d.peer.send(&format!("<newTextVector device=\"DSO Detector\" name=\"ACTIVE_DEVICES\"><oneText name=\"ACTIVE_CCD\">{long}</oneText></newTextVector>\n"));
    let alert =
        d.peer.wait_from(from, secs(5), |m| is_set(m, "ACTIVE_DEVICES") && state_of(m) == Some(PropertyState::Alert));
    assert_eq!(text_of(&alert, "ACTIVE_CCD").as_deref(), Some("CCD Simulator"));
    let text = error_after(&mut d, from);
    assert!(text.len() < 200 && text.contains("100000 bytes"), "{text}");
    let sky = galaxy_sky();
    d.peer.send(&camera_blob_one_line("CCD Simulator", ".fits", &sky.to_fits()));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD1");
    assert!(!d.peer.raw.contains(&long[..1000]), "the long name was echoed");
}

#[test]
fn compressed_bomb_uploads_are_refused_with_bounded_memory() {
    // Issue 15: a 4 MB gzip upload took the driver to about 1.1 GB before the 1 GiB inflate limit refused it.
    use base64::Engine;
    use std::io::Write;
    fn packed(head: &[u8], zeros: usize) -> Vec<u8> {
        let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(head).unwrap();
        let block = vec![0u8; 1 << 20];
        for _ in 0..zeros >> 20 {
            z.write_all(&block).unwrap();
        }
        z.finish().unwrap()
    }
    let mut header: Vec<u8> =
        ["SIMPLE  =                    T", "BITPIX  =                   16", "NAXIS   =                    2"]
            .iter()
            .chain(&["NAXIS1  =                40000", "NAXIS2  =                40000", "END"])
            .flat_map(|c| format!("{c:<80}").into_bytes())
            .collect();
    header.resize(2880, b' ');
    let mut d = Driver::start();
    d.connect();
    for (head, expected) in [(&b""[..], "does not hold an image"), (&header[..], "40000×40000×16-bit FITS image")] {
        let bomb = packed(head, 1 << 30);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bomb);
        let from = d.peer.received.len();
        d.peer.send(&format!(
            "<newBLOBVector device=\"DSO Detector\" name=\"DSO_IMAGE_UPLOAD\"><oneBLOB name=\"IMAGE\" size=\"{}\" format=\".fits.gz\">{b64}</oneBLOB></newBLOBVector>\n",
            bomb.len()
        ));
        d.peer.wait_from(from, secs(30), |m| is_set(m, "DSO_RESULTS") && state_of(m) == Some(PropertyState::Alert));
        let text = error_after(&mut d, from);
        assert!(text.contains(expected), "{text}");
        eprintln!("{} byte gzip of 1 GiB: {text}", bomb.len());
    }
    let rss = d.peak_rss_mib();
    eprintln!("driver peak RSS {rss:.0} MiB");
    assert!(rss < 150.0, "peak memory {rss:.0} MiB for two 1 GiB gzip bombs");
    let sky = galaxy_sky();
    d.peer.send(&camera_blob_one_line("CCD Simulator", ".fits", &sky.to_fits()));
    let m = d.peer.wait(secs(20), ok_results);
    assert_found_galaxy(&m, &sky, "CCD Simulator.CCD1");
}
