//! The real thing: Debian's `indiserver` running `indi_simulator_ccd` in directory mode and our driver, a TCP client
//! taking exposures. On Debian 12 (INDI 1.9.9) the frames reach the driver as attached memfd BLOBs; on INDI 2.x as
//! inline base64 — this test passes on either.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dso_detector::indi::{Message, PropertyState, Values};

use crate::support::sky::Sky;
use crate::support::*;

/// An indiserver on a free port with its own unix socket, killed on drop.
pub(crate) struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    pub(crate) fn start(drivers: &[&str]) -> Option<Self> {
        Self::start_with_env(drivers, &[])
    }

    /// [`Server::start`] with extra environment variables for the server and its drivers.
    pub(crate) fn start_with_env(drivers: &[&str], env: &[(&str, &str)]) -> Option<Self> {
        if Command::new("indiserver").arg("-h").stderr(Stdio::null()).stdout(Stdio::null()).status().is_err() {
            skip("indiserver is not installed (apt-get install indi-bin)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let log = std::fs::File::create(dir.path().join("indiserver.log")).unwrap();
        let child = Command::new("indiserver")
            .arg("-v")
            .args(["-p", &port.to_string(), "-u", dir.path().join("sock").to_str().unwrap()])
            .args(drivers)
            .env("HOME", dir.path()) // drivers write their configuration under ~/.indi
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("starting indiserver");
        Some(Self { child, port, _dir: dir })
    }

    pub(crate) fn client(&self) -> Peer<TcpStream> {
        let deadline = Instant::now() + secs(10);
        loop {
            match TcpStream::connect(("127.0.0.1", self.port)) {
                Ok(s) => return Peer::new(s),
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("indiserver did not listen: {e}"),
            }
        }
    }

    /// The server's TCP port (for a second server chained to this one).
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("indiserver.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn set_text(device: &str, prop: &str, el: &str, value: &str) -> String {
    format!(
        "<newTextVector device=\"{device}\" name=\"{prop}\"><oneText name=\"{el}\">{value}</oneText></newTextVector>\n"
    )
}

pub(crate) fn set_switch(device: &str, prop: &str, el: &str) -> String {
    format!("<newSwitchVector device=\"{device}\" name=\"{prop}\"><oneSwitch name=\"{el}\">On</oneSwitch></newSwitchVector>\n")
}

/// Starts the server with the simulator serving `frames`, both devices connected, annotated images on.
pub(crate) fn setup(frames: &Path) -> Option<(Server, Peer<TcpStream>)> {
    let server = Server::start(&["indi_simulator_ccd", DRIVER])?;
    let mut c = server.client();
    c.send("<getProperties version=\"1.7\"/>\n");
    c.wait_from(0, secs(15), |m| is_def(m, "CONNECTION") && m.device() == Some("CCD Simulator"));
    c.wait_from(0, secs(15), |m| is_def(m, "CONNECTION") && m.device() == Some("DSO Detector"));
    c.send(&connect_xml("CCD Simulator"));
    c.send(&connect_xml("DSO Detector"));
    c.wait_from(0, secs(15), |m| is_def(m, "CCD_DIRECTORY_LOCATION"));
    c.wait_from(0, secs(15), |m| is_def(m, "DSO_RESULTS"));
    c.send(&set_text("CCD Simulator", "CCD_DIRECTORY_LOCATION", "LOCATION", frames.to_str().unwrap()));
    c.wait(secs(5), |m| is_set(m, "CCD_DIRECTORY_LOCATION"));
    c.send(&set_switch("CCD Simulator", "CCD_DIRECTORY_TOGGLE", "INDI_ENABLED"));
    c.wait(secs(5), |m| is_set(m, "CCD_DIRECTORY_TOGGLE"));
    c.send(&set_switch("DSO Detector", "DSO_OUTPUTS", "ANNOTATED_IMAGE"));
    c.send("<enableBLOB device=\"DSO Detector\">Also</enableBLOB>\n");
    Some((server, c))
}

/// Takes a 1 s exposure and returns the next successful DSO_RESULTS (how long that takes is the demo's and the
/// benchmarks' business, not a test's).
pub(crate) fn expose(c: &mut Peer<TcpStream>, server: &Server) -> Message {
    let from = c.received.len();
    c.send("<newNumberVector device=\"CCD Simulator\" name=\"CCD_EXPOSURE\"><oneNumber name=\"CCD_EXPOSURE_VALUE\">1</oneNumber></newNumberVector>\n");
    let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        c.wait_from(from, secs(60), |m| {
            is_set(m, "DSO_RESULTS") && m.device() == Some("DSO Detector") && state_of(m) == Some(PropertyState::Ok)
        })
    }));
    match found {
        Ok(m) => m,
        Err(e) => {
            eprintln!("indiserver log:\n{}", server.log());
            std::panic::resume_unwind(e)
        }
    }
}

#[test]
fn simulator_frames_are_analysed_end_to_end() {
    let frames = tempfile::tempdir().unwrap();
    let sky = Sky::render(1280, 1024, (900.0, 300.0), 22.0, 11);
    std::fs::write(frames.path().join("frame1.fits"), sky.to_fits()).unwrap();
    let Some((server, mut c)) = setup(frames.path()) else { return };
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
    let Some((server, mut c)) = setup(frames.path()) else { return };
    let m = expose(&mut c, &server);
    let json = results_json(&m);
    eprintln!("NGC 4535 field: {}", text_of(&m, "SUMMARY").unwrap());
    assert_eq!(json["frame"]["width"], 2328);
    assert_eq!(json["frame"]["height"], 1760);
    assert!(!json["detections"].as_array().unwrap().is_empty(), "no galaxy found in the Virgo field: {json}");
}

#[test]
fn uploads_through_the_server_get_results() {
    use base64::Engine;
    let Some(real) = real_fits("Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs.fit") else { return };
    let Some(server) = Server::start(&[DRIVER]) else { return };
    let mut c = server.client();
    c.send("<getProperties version=\"1.7\"/>\n");
    c.wait_from(0, secs(15), |m| is_def(m, "CONNECTION"));
    c.send(&connect_xml("DSO Detector"));
    c.wait_from(0, secs(15), |m| is_def(m, "DSO_IMAGE_UPLOAD"));
    let bytes = std::fs::read(&real).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    c.send(&format!(
        "<newBLOBVector device=\"DSO Detector\" name=\"DSO_IMAGE_UPLOAD\"><oneBLOB name=\"IMAGE\" size=\"{0}\" format=\".fit\">{b64}</oneBLOB></newBLOBVector>\n",
        bytes.len()
    ));
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
    let Some((server, mut c)) = setup(frames.path()) else { return };
    c.send(&set_switch("CCD Simulator", "CCD_COMPRESSION", "INDI_ENABLED"));
    c.wait(secs(5), |m| is_set(m, "CCD_COMPRESSION"));
    let m = expose(&mut c, &server);
    let json = results_json(&m);
    assert_eq!(json["frame"]["format"], ".fits.fz", "{json}");
    assert_eq!((json["frame"]["width"].as_u64(), json["frame"]["height"].as_u64()), (Some(1280), Some(1024)));
    let iou = best_iou(&json, sky.galaxy);
    assert!(iou > 0.3, "galaxy {:?} missed in the compressed frame (IoU {iou}): {json}", sky.galaxy);
}

#[test]
fn frames_saved_locally_by_the_camera_are_analysed() {
    // UPLOAD_LOCAL: the camera sends no BLOB, only the path of the file it saved in CCD_FILE_PATH.
    let frames = tempfile::tempdir().unwrap();
    let saved = tempfile::tempdir().unwrap();
    let sky = Sky::render(1280, 1024, (300.0, 300.0), 20.0, 17);
    std::fs::write(frames.path().join("frame1.fits"), sky.to_fits()).unwrap();
    let Some((server, mut c)) = setup(frames.path()) else { return };
    c.send(&set_text("CCD Simulator", "UPLOAD_SETTINGS", "UPLOAD_DIR", saved.path().to_str().unwrap()));
    c.wait(secs(5), |m| is_set(m, "UPLOAD_SETTINGS"));
    c.send(&set_switch("CCD Simulator", "UPLOAD_MODE", "UPLOAD_LOCAL"));
    c.wait(secs(5), |m| is_set(m, "UPLOAD_MODE"));
    let m = expose(&mut c, &server);
    let json = results_json(&m);
    assert_eq!(json["frame"]["source"], "CCD Simulator.CCD_FILE_PATH", "{json}");
    let iou = best_iou(&json, sky.galaxy);
    assert!(iou > 0.3, "galaxy {:?} missed in the saved frame (IoU {iou}): {json}", sky.galaxy);
    assert!(std::fs::read_dir(saved.path()).unwrap().count() >= 1, "the camera saved no file");
}

#[test]
fn forged_file_paths_through_the_server_are_refused() {
    // Issue 15: indiserver forwards a client's forged `setTextVector CCD_FILE_PATH` to the snooping driver as if the
    // camera had sent it. A FIFO in the camera's upload folder and a link there to /dev/zero are refused with an
    // error and DSO_RESULTS in Alert; the camera's next real frame is analysed.
    let frames = tempfile::tempdir().unwrap();
    let saved = tempfile::tempdir().unwrap();
    let sky = Sky::render(1280, 1024, (300.0, 300.0), 20.0, 17);
    std::fs::write(frames.path().join("frame1.fits"), sky.to_fits()).unwrap();
    let fifo = saved.path().join("IMAGE_900.fits");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let zero = saved.path().join("IMAGE_901.fits");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let Some((server, mut c)) = setup(frames.path()) else { return };
    c.send(&set_text("CCD Simulator", "UPLOAD_SETTINGS", "UPLOAD_DIR", saved.path().to_str().unwrap()));
    c.wait(secs(5), |m| is_set(m, "UPLOAD_SETTINGS"));
    for (path, expected) in [(&fifo, "it is a FIFO"), (&zero, "outside the camera's upload directory")] {
        let from = c.received.len();
        c.send(&format!(
            "<setTextVector device=\"CCD Simulator\" name=\"CCD_FILE_PATH\" state=\"Ok\"><oneText name=\"FILE_PATH\">{}</oneText></setTextVector>\n",
            path.display()
        ));
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            c.wait_from(from, secs(15), |m| {
                is_set(m, "DSO_RESULTS")
                    && m.device() == Some("DSO Detector")
                    && state_of(m) == Some(PropertyState::Alert)
            });
            c.wait_from(from, secs(5), |m| {
                matches!(m, Message::Message(dm) if dm.device.as_deref() == Some("DSO Detector")
                    && dm.message.as_deref().is_some_and(|t| t.starts_with("[ERROR] ") && t.contains(expected)))
            })
        }));
        if let Err(e) = found {
            eprintln!("indiserver log:\n{}", server.log());
            std::panic::resume_unwind(e)
        }
    }
    c.send(&set_switch("CCD Simulator", "UPLOAD_MODE", "UPLOAD_LOCAL"));
    c.wait(secs(5), |m| is_set(m, "UPLOAD_MODE"));
    let m = expose(&mut c, &server);
    let json = results_json(&m);
    assert_eq!(json["frame"]["source"], "CCD Simulator.CCD_FILE_PATH", "{json}");
    let iou = best_iou(&json, sky.galaxy);
    assert!(iou > 0.3, "galaxy {:?} missed in the saved frame (IoU {iou}): {json}", sky.galaxy);
}
