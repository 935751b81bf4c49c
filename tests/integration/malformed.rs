//! Bad input that must leave the driver running: malformed BLOBs and XML, oversized declarations and numbers, forged
//! file paths, compressed bombs. Each is reported (an `[ERROR]` message, the property in Alert), memory stays
//! bounded, and the next good frame is analysed.

use dso_detector::indi::{Message, PropertyState};
use dso_test_support::*;

use crate::protocol::{assert_found_galaxy, galaxy_sky};
use crate::DRIVER;

/// Sends `xml`, then expects an error message, DSO_RESULTS (or `property`) in Alert, and a good frame still analysed.
fn survives(xml: &[u8], property: &str, expect_in_message: &str) {
    let mut d = Driver::start(DRIVER);
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
    let mut d = Driver::start(DRIVER);
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
fn huge_blob_declaration_is_skipped_with_bounded_memory() {
    // 200 MB declared and actually streamed: the driver must skip it without holding it.
    let mut d = Driver::start(DRIVER);
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
    let mut d = Driver::start(DRIVER);
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
    let mut d = Driver::start(DRIVER);
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
    let mut d = Driver::start(DRIVER);
    d.connect();
    for (head, expected) in [(&b""[..], "does not hold an image"), (&header[..], "40000×40000×16-bit FITS image")] {
        let bomb = packed(head, 1 << 30);
        let from = d.peer.received.len();
        d.peer.send(&upload_xml(".fits.gz", &bomb));
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
