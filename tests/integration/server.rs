//! The real thing: Debian's `indiserver` running `indi_simulator_ccd` in directory mode and our driver, a TCP client
//! taking exposures. On Debian 12 (INDI 1.9.9) the frames reach the driver as attached memfd BLOBs; on INDI 2.x as
//! inline base64 — this test passes on either.

use std::net::TcpStream;

use dso_detector::indi::{Message, PropertyState, Values};

use dso_test_support::server::{expose, simulator_setup, with_log};
use dso_test_support::*;

use crate::DRIVER;

#[test]
fn simulator_frames_are_analysed_end_to_end() {
    let frames = tempfile::tempdir().unwrap();
    let sky = Sky::render(1280, 1024, (900.0, 300.0), 22.0, 11);
    std::fs::write(frames.path().join("frame1.fits"), sky.to_fits()).unwrap();
    let Some((server, mut c)) = simulator_setup(DRIVER, frames.path()) else { return };
    for round in 1..=2 {
        let m = expose(&mut c, &server);
        let json = results_json(&m);
        eprintln!("exposure {round}: {json}");
        assert_eq!(json["frame"]["width"], 1280);
        assert_eq!(json["frame"]["height"], 1024);
        assert_eq!(json["frame"]["source"], "CCD Simulator.CCD1");
        let iou = best_iou(&json, sky.galaxy);
        assert!(iou > 0.3, "galaxy {:?} missed (IoU {iou}): {json}", sky.galaxy);
    }
    let blob = c.wait_from(0, secs(30), |m| is_set(m, "DSO_ANNOTATED"));
    let Message::Set(set) = blob else { unreachable!() };
    let Values::Blob(b) = &set.values else { panic!("not a BLOB") };
    let img = image::load_from_memory(&b[0].data).expect("annotated JPEG decodes");
    assert_eq!((img.width(), img.height()), (1280, 1024));
    let stats = c.wait_from(0, secs(5), |m| is_set(m, "DSO_STATS") && number_of(m, "FRAMES_PROCESSED") == Some(2.0));
    assert!(number_of(&stats, "LATENCY_MS").unwrap() > 0.0);
}

#[test]
fn real_fits_served_by_the_simulator_are_analysed() {
    let Some(real) = real_fits("ngc4535-autofocus3.fits") else { return };
    let frames = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&real, frames.path().join("ngc4535.fits")).unwrap();
    let Some((server, mut c)) = simulator_setup(DRIVER, frames.path()) else { return };
    let m = expose(&mut c, &server);
    let json = results_json(&m);
    eprintln!("NGC 4535 field: {}", text_of(&m, "SUMMARY").unwrap());
    assert_eq!(json["frame"]["width"], 2328);
    assert_eq!(json["frame"]["height"], 1760);
    assert!(!json["detections"].as_array().unwrap().is_empty(), "no galaxy found in the Virgo field: {json}");
}

#[test]
fn uploads_through_the_server_get_results() {
    let Some(real) = real_fits("Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs.fit") else { return };
    let Some(server) = Server::start(&[DRIVER]) else { return };
    let mut c = server.client();
    c.send("<getProperties version=\"1.7\"/>\n");
    c.wait_from(0, secs(15), |m| is_def(m, "CONNECTION"));
    c.send(&connect_xml("DSO Detector"));
    c.wait_from(0, secs(15), |m| is_def(m, "DSO_IMAGE_UPLOAD"));
    c.send(&upload_xml(".fit", &std::fs::read(&real).unwrap()));
    let m = c.wait(secs(60), |m| is_set(m, "DSO_RESULTS") && state_of(m) == Some(PropertyState::Ok));
    let json = results_json(&m);
    eprintln!("Seestar NGC 7023 upload: {}", text_of(&m, "SUMMARY").unwrap());
    assert_eq!(json["frame"]["source"], "upload");
    // A Seestar S50 sub-frame: 1080×1920, Bayer GRBG, debayered by the driver.
    assert_eq!((json["frame"]["width"].as_u64(), json["frame"]["height"].as_u64()), (Some(1080), Some(1920)));
}

#[test]
fn compressed_frames_from_the_simulator_are_analysed() {
    // With CCD_COMPRESSION on, the camera sends `.fits.fz` (fpack RICE_1), `size` uncompressed, `len` compressed.
    let frames = tempfile::tempdir().unwrap();
    let sky = Sky::render(1280, 1024, (400.0, 700.0), 20.0, 13);
    std::fs::write(frames.path().join("frame1.fits"), sky.to_fits()).unwrap();
    let Some((server, mut c)) = simulator_setup(DRIVER, frames.path()) else { return };
    c.send(&set_switch("CCD Simulator", "CCD_COMPRESSION", "INDI_ENABLED"));
    c.wait(secs(5), |m| is_set(m, "CCD_COMPRESSION"));
    let m = expose(&mut c, &server);
    let json = results_json(&m);
    assert_eq!(json["frame"]["format"], ".fits.fz", "{json}");
    assert_eq!((json["frame"]["width"].as_u64(), json["frame"]["height"].as_u64()), (Some(1280), Some(1024)));
    let iou = best_iou(&json, sky.galaxy);
    assert!(iou > 0.3, "galaxy {:?} missed in the compressed frame (IoU {iou}): {json}", sky.galaxy);
}

/// The scene of the `UPLOAD_LOCAL` tests: the simulator serving a frame with a galaxy, told to save its frames in
/// `saved`; `None` (test skipped) without indiserver.
struct SavingCamera {
    server: Server,
    c: Peer<TcpStream>,
    sky: Sky,
    saved: tempfile::TempDir,
    _frames: tempfile::TempDir,
}

impl SavingCamera {
    fn start() -> Option<Self> {
        let frames = tempfile::tempdir().unwrap();
        let saved = tempfile::tempdir().unwrap();
        let sky = Sky::render(1280, 1024, (300.0, 300.0), 20.0, 17);
        std::fs::write(frames.path().join("frame1.fits"), sky.to_fits()).unwrap();
        let (server, mut c) = simulator_setup(DRIVER, frames.path())?;
        c.send(&set_text("CCD Simulator", "UPLOAD_SETTINGS", "UPLOAD_DIR", saved.path().to_str().unwrap()));
        c.wait(secs(5), |m| is_set(m, "UPLOAD_SETTINGS"));
        Some(Self { server, c, sky, saved, _frames: frames })
    }

    /// Switches the camera to `UPLOAD_LOCAL`, exposes, and checks that the saved frame's galaxy was found.
    fn expose_locally(&mut self) {
        self.c.send(&set_switch("CCD Simulator", "UPLOAD_MODE", "UPLOAD_LOCAL"));
        self.c.wait(secs(5), |m| is_set(m, "UPLOAD_MODE"));
        let m = expose(&mut self.c, &self.server);
        let json = results_json(&m);
        assert_eq!(json["frame"]["source"], "CCD Simulator.CCD_FILE_PATH", "{json}");
        let iou = best_iou(&json, self.sky.galaxy);
        assert!(iou > 0.3, "galaxy {:?} missed in the saved frame (IoU {iou}): {json}", self.sky.galaxy);
    }
}

#[test]
fn frames_saved_locally_by_the_camera_are_analysed() {
    // UPLOAD_LOCAL: the camera sends no BLOB, only the path of the file it saved in CCD_FILE_PATH.
    let Some(mut cam) = SavingCamera::start() else { return };
    cam.expose_locally();
    assert!(std::fs::read_dir(cam.saved.path()).unwrap().count() >= 1, "the camera saved no file");
}

#[test]
fn forged_file_paths_through_the_server_are_refused() {
    // Issue 15: indiserver forwards a client's forged `setTextVector CCD_FILE_PATH` to the snooping driver as if the
    // camera had sent it. A FIFO in the camera's upload folder and a link there to /dev/zero are refused with an
    // error and DSO_RESULTS in Alert; the camera's next real frame is analysed.
    let Some(mut cam) = SavingCamera::start() else { return };
    let fifo = cam.saved.path().join("IMAGE_900.fits");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let zero = cam.saved.path().join("IMAGE_901.fits");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let SavingCamera { server, c, .. } = &mut cam;
    for (path, expected) in [(&fifo, "it is a FIFO"), (&zero, "outside the camera's upload directory")] {
        let from = c.received.len();
        c.send(&format!(
            "<setTextVector device=\"CCD Simulator\" name=\"CCD_FILE_PATH\" state=\"Ok\"><oneText name=\"FILE_PATH\">{}</oneText></setTextVector>\n",
            path.display()
        ));
        with_log(server, || {
            c.wait_from(from, secs(15), |m| {
                is_set(m, "DSO_RESULTS")
                    && m.device() == Some("DSO Detector")
                    && state_of(m) == Some(PropertyState::Alert)
            });
            c.wait_from(from, secs(5), |m| {
                matches!(m, Message::Message(dm) if dm.device.as_deref() == Some("DSO Detector")
                    && dm.message.as_deref().is_some_and(|t| t.starts_with("[ERROR] ") && t.contains(expected)))
            })
        });
    }
    cam.expose_locally();
}
