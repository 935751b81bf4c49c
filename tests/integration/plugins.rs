//! Third-party detectors through the plugin ABI, end to end: the Rust example (`dso-plugin-example`) and the C
//! example listed and run by `dso-detect` and by the driver, heat maps included, and libraries broken on purpose
//! (wrong ABI version, missing entry symbol, not a library, a name clash, a panicking detect, NaN confidences, boxes
//! outside the frame) refused or contained with a clear message while the built-in detector keeps working.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use dso_detector::indi::{DefElements, Message, PropertyState};

use dso_test_support::*;

use crate::DRIVER;

const CLI: &str = env!("CARGO_BIN_EXE_dso-detect");

/// `target/release/libdso_plugin_example.so`, built here: `cargo test` does not build a workspace member's cdylib.
fn rust_plugin() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let status = Command::new(env!("CARGO"))
            .args(["build", "--release", "--quiet", "-p", "dso-plugin-example"])
            .current_dir(&root)
            .status()
            .expect("running cargo build for the example plugin");
        assert!(status.success(), "cargo build -p dso-plugin-example failed");
        let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
        let lib = target.join("release").join(format!("libdso_plugin_example{}", std::env::consts::DLL_SUFFIX));
        assert!(lib.is_file(), "{} was not built", lib.display());
        lib
    })
}

/// Compiles the C example (with `flags`) into `dir/name`; `None` (test skipped) without a C compiler.
fn c_plugin(dir: &Path, name: &str, flags: &[&str]) -> Option<PathBuf> {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugin-api");
    let out = dir.join(name);
    let mut args: Vec<std::ffi::OsString> = ["-std=c11", "-O1", "-shared", "-fPIC", "-I"].map(Into::into).into();
    args.push(api.join("include").into());
    args.extend(flags.iter().map(Into::into));
    args.push(api.join("example-c/example_plugin.c").into());
    args.push("-lm".into());
    cc::compile("the C example", &args, &out)?;
    Some(out)
}

/// A plugin directory, a private configuration home (so the user's own plugins.conf never interferes) and a frame.
struct Setup {
    dir: tempfile::TempDir,
    sky: Sky,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
        std::fs::create_dir_all(dir.path().join("config/dso-detector")).unwrap();
        let sky = Sky::render(640, 480, (400.0, 200.0), 14.0, 7);
        std::fs::write(dir.path().join("sky.fits"), sky.to_fits()).unwrap();
        Self { dir, sky }
    }

    fn plugins(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    fn with_rust(self) -> Self {
        std::fs::copy(rust_plugin(), self.plugins().join("libdso_plugin_example.so")).unwrap();
        self
    }

    /// Writes `plugins.conf` in the private configuration home.
    fn conf(&self, text: &str) {
        std::fs::write(self.dir.path().join("config/dso-detector/plugins.conf"), text).unwrap();
    }

    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("DSO_DETECTOR_PLUGIN_PATH".into(), self.plugins().display().to_string()),
            ("XDG_CONFIG_HOME".into(), self.dir.path().join("config").display().to_string()),
        ]
    }

    fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(CLI);
        cmd.args(args).current_dir(self.dir.path()).envs(self.env());
        cmd.output().expect("running dso-detect")
    }

    /// `dso-detect detect` on the sky frame; the JSON report and whether a heat map was written.
    fn detect(&self, detector: &str) -> (Output, Option<serde_json::Value>, bool) {
        let out =
            self.cli(&["detect", "--detector", detector, "--json-dir", "json", "--heatmap-dir", "heat", "sky.fits"]);
        let json = std::fs::read_to_string(self.dir.path().join("json/sky.json")).ok().map(|t| {
            let _ = std::fs::remove_file(self.dir.path().join("json/sky.json"));
            serde_json::from_str(&t).unwrap()
        });
        let heat = self.dir.path().join("heat/sky.png");
        let had_heat = heat.is_file();
        let _ = std::fs::remove_file(heat);
        (out, json, had_heat)
    }

    fn driver(&self) -> Driver {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut d = Driver::start_with(DRIVER, &self.dir.path().join("indi.xml"), &env);
        d.connect();
        d
    }
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn line_of<'a>(list: &'a str, name: &str) -> &'a str {
    list.lines().find(|l| l.split('\t').next() == Some(name)).unwrap_or_else(|| panic!("{name} not listed:\n{list}"))
}

fn select(d: &mut Driver, element: &str) {
    d.peer.send(&format!("<newSwitchVector device=\"DSO Detector\" name=\"DSO_DETECTOR\"><oneSwitch name=\"{element}\">On</oneSwitch></newSwitchVector>"));
}

/// Whether a message is a device message containing this text.
fn said_containing(m: &Message, part: &str) -> bool {
    matches!(m, Message::Message(dm) if dm.message.as_deref().is_some_and(|t| t.contains(part)))
}

fn assert_inside(json: &serde_json::Value, (w, h): (f64, f64)) {
    for d in json["detections"].as_array().unwrap() {
        let f = |k: &str| d[k].as_f64().unwrap();
        assert!(f("x") >= 0.0 && f("y") >= 0.0 && f("x") + f("width") <= w && f("y") + f("height") <= h, "{d}");
        assert!((0.0..=1.0).contains(&f("confidence")), "{d}");
    }
}

#[test]
fn both_example_plugins_are_listed_and_run_by_the_cli() {
    let s = Setup::new().with_rust();
    let Some(_) = c_plugin(&s.plugins(), "libcblob.so", &[]) else { return };
    let (list, err) = text(&s.cli(&["list"]));
    assert!(list.starts_with("naive\tavailable"), "{list}\n{err}");
    assert!(line_of(&list, "brightest").starts_with("brightest\tavailable\texample plugin (Rust)"), "{list}");
    assert!(line_of(&list, "cblob").starts_with("cblob\tavailable\texample plugin (C)"), "{list}");
    for name in ["brightest", "cblob"] {
        let (out, json, heat) = s.detect(name);
        assert!(out.status.success(), "{name}: {:?}", text(&out));
        let json = json.expect("a JSON report");
        assert_eq!(json["detector"], name);
        assert!(!json["detections"].as_array().unwrap().is_empty(), "{name} found nothing: {json}");
        assert!(best_iou(&json, s.sky.galaxy) > 0.0, "{name} missed the galaxy {:?}: {json}", s.sky.galaxy);
        assert!(heat, "{name}: no heat map written");
    }
}

#[test]
fn both_example_plugins_run_in_the_driver_with_heat_maps() {
    let s = Setup::new().with_rust();
    let Some(_) = c_plugin(&s.plugins(), "libcblob.so", &[]) else { return };
    let mut d = s.driver();
    let def = d.peer.wait_from(0, secs(5), |m| is_def(m, "DSO_DETECTOR"));
    let Message::Def(def) = def else { unreachable!() };
    let DefElements::Switch(_, els) = &def.elements else { panic!("DSO_DETECTOR is not a switch") };
    let names: Vec<&str> = els.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names[0], "NAIVE", "built-in detectors come first: {names:?}");
    assert!(names.contains(&"BRIGHTEST") && names.contains(&"CBLOB"), "{names:?}");
    d.peer.send("<newSwitchVector device=\"DSO Detector\" name=\"DSO_OUTPUTS\"><oneSwitch name=\"HEATMAP\">On</oneSwitch></newSwitchVector>");
    let fits = s.sky.to_fits();
    for (element, name) in [("BRIGHTEST", "brightest"), ("CBLOB", "cblob")] {
        select(&mut d, element);
        d.peer.wait(secs(5), |m| is_set(m, "DSO_DETECTOR") && state_of(m) == Some(PropertyState::Ok));
        let from = d.peer.received.len();
        d.peer.send(&upload_xml(".fits", &fits));
        let m = d.peer.wait_from(from, secs(20), finished_results);
        assert_eq!(state_of(&m), Some(PropertyState::Ok), "{}", d.peer.tail());
        let json = results_json(&m);
        assert_eq!(json["detector"], name);
        assert!(best_iou(&json, s.sky.galaxy) > 0.0, "{name}: {json}");
        d.peer.wait_from(from, secs(20), |m| is_set(m, "DSO_HEATMAP"));
    }
}

#[test]
fn broken_libraries_are_refused_with_a_clear_message_and_naive_still_works() {
    let s = Setup::new();
    let p = s.plugins();
    let Some(_) = c_plugin(&p, "libwrongabi.so", &["-DWRONG_ABI"]) else { return };
    c_plugin(&p, "libnoentry.so", &["-DNO_ENTRY"]).unwrap();
    c_plugin(&p, "libclash.so", &["-DPLUGIN_NAME=\"naive\""]).unwrap();
    std::fs::write(p.join("libnotalib.so"), "#!/bin/sh\necho this is not a shared library\n").unwrap();
    let expected = [
        ("wrongabi", "libwrongabi.so: ABI version 7, this host speaks 1"),
        ("noentry", "libnoentry.so: no dso_detector_plugin symbol"),
        ("clash", "libclash.so: its detector is named 'naive', the name of a built-in detector"),
        ("notalib", "libnotalib.so: cannot be loaded as a library"),
    ];
    let (list, err) = text(&s.cli(&["list"]));
    assert!(list.starts_with("naive\tavailable"), "{list}\n{err}");
    for (name, why) in expected {
        let line = line_of(&list, name);
        assert!(line.starts_with(&format!("{name}\tunavailable: {why}")), "{line}");
    }
    let (out, json, _) = s.detect("naive");
    assert!(out.status.success() && json.is_some(), "{:?}", text(&out));
    let (out, _, _) = s.detect("wrongabi");
    assert!(!out.status.success() && text(&out).1.contains("ABI version 7"), "{:?}", text(&out));

    let mut d = s.driver();
    for (name, why) in expected {
        let warning = format!("[WARNING] plugin {name} refused (DSO_DETECTOR_PLUGIN_PATH): {why}");
        // Waits for it (a loaded machine may deliver it after the connection): fails after 10 s with all received.
        d.peer.wait_from(0, secs(10), |m| said_starting(m, &warning));
    }
    select(&mut d, "WRONGABI");
    d.peer.wait(secs(5), |m| is_set(m, "DSO_DETECTOR") && state_of(m) == Some(PropertyState::Alert));
    let from = d.peer.received.len();
    d.peer.send(&upload_xml(".fits", &s.sky.to_fits()));
    let m = d.peer.wait_from(from, secs(20), finished_results);
    assert_eq!(results_json(&m)["detector"], "naive");
}

#[test]
fn a_panicking_detect_is_contained_and_the_plugin_disabled() {
    let s = Setup::new().with_rust();
    s.conf("config brightest misbehave=panic\n");
    let (out, _, _) = s.detect("brightest");
    let (_, err) = text(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("misbehaved and is disabled: it panicked: brightest was configured to panic"), "{err}");

    let mut d = s.driver();
    select(&mut d, "BRIGHTEST");
    let fits = s.sky.to_fits();
    let from = d.peer.received.len();
    d.peer.send(&upload_xml(".fits", &fits));
    let m = d.peer.wait_from(from, secs(20), finished_results);
    assert_eq!(state_of(&m), Some(PropertyState::Alert));
    let why = "plugin brightest misbehaved and is disabled: it panicked: brightest was configured to panic";
    // The Alert is published just before its message: wait for the message rather than read what has arrived.
    d.peer.wait_from(from, secs(5), |m| said_starting(m, "[ERROR] upload (brightest)") && said_containing(m, why));
    // Disabled from now on: selecting it again is refused, and the built-in detector runs on.
    select(&mut d, "NAIVE");
    select(&mut d, "BRIGHTEST");
    d.peer.wait(secs(5), |m| is_set(m, "DSO_DETECTOR") && state_of(m) == Some(PropertyState::Alert));
    let from = d.peer.received.len();
    d.peer.send(&upload_xml(".fits", &fits));
    let m = d.peer.wait_from(from, secs(20), finished_results);
    assert_eq!(state_of(&m), Some(PropertyState::Ok));
    assert_eq!(results_json(&m)["detector"], "naive");
    assert!(d.alive());
}

#[test]
fn nan_confidences_and_boxes_outside_the_frame_are_contained() {
    // Found through the configuration file this time, not DSO_DETECTOR_PLUGIN_PATH.
    let s = Setup::new();
    let elsewhere = s.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::copy(rust_plugin(), elsewhere.join("libdso_plugin_example.so")).unwrap();
    let size = (s.sky.width as f64, s.sky.height as f64);
    for (setting, note) in [("nan", "non-finite value"), ("outside", "outside the 640×480 frame")] {
        s.conf(&format!("{}\nconfig brightest misbehave={setting}\n", elsewhere.display()));
        let (out, json, _) = s.detect("brightest");
        let (_, err) = text(&out);
        assert!(out.status.success(), "{setting}: {err}");
        assert!(err.contains(note), "{setting}: {err}");
        let json = json.unwrap();
        assert_inside(&json, size);
        if setting == "nan" {
            assert!(json["detections"].as_array().unwrap().is_empty(), "{json}");
        }
        let mut d = s.driver();
        select(&mut d, "BRIGHTEST");
        let from = d.peer.received.len();
        d.peer.send(&upload_xml(".fits", &s.sky.to_fits()));
        let m = d.peer.wait_from(from, secs(20), finished_results);
        assert_eq!(state_of(&m), Some(PropertyState::Ok), "{setting}");
        assert_inside(&results_json(&m), size);
    }
}
