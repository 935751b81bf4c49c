//! What an INDI client can make the driver do (`docs/SECURITY.md`): no path, library or model is ever loaded because
//! of a property value. Two guards: the exact list of writable text and BLOB elements (a new one — a model path, a
//! plugin folder — fails here and asks for a security review), and a library whose constructor leaves a marker
//! file, handed to every writable property, to a forged snooped `CCD_FILE_PATH` and as an upload, that must never
//! run (a positive control shows the marker appears when the library is loaded).

use std::path::{Path, PathBuf};
use std::time::Duration;

use dso_detector::indi::{DefElements, Message, Permission};

use dso_test_support::*;

use crate::DRIVER;

/// A shared library that creates `marker` when loaded (an ELF constructor), or `None` (test skipped) without `cc`.
fn marker_library(dir: &Path, marker: &Path) -> Option<PathBuf> {
    let src = dir.join("marker.c");
    std::fs::write(
        &src,
        format!(
            "#include <stdio.h>\n__attribute__((constructor)) static void loaded(void) {{ FILE *f = fopen(\"{}\", \"w\"); if (f) fclose(f); }}\n",
            marker.display()
        ),
    )
    .unwrap();
    let lib = dir.join("libdso_marker.so");
    cc::compile("the marker library", [Path::new("-shared"), Path::new("-fPIC"), &src], &lib)?;
    Some(lib)
}

#[test]
fn writable_properties_take_no_path() {
    let mut d = Driver::start(DRIVER);
    d.connect();
    d.peer.ping("defined");
    let mut writable: Vec<String> = d
        .peer
        .received
        .iter()
        .filter_map(|m| match m {
            Ok(Message::Def(v)) if v.device == "DSO Detector" && v.perm != Permission::ReadOnly => Some(v),
            _ => None,
        })
        .flat_map(|v| {
            let names: Vec<String> = match &v.elements {
                DefElements::Text(e) => e.iter().map(|e| format!("text {}.{}", v.name, e.name)).collect(),
                DefElements::Blob(e) => e.iter().map(|e| format!("BLOB {}.{}", v.name, e.name)).collect(),
                _ => Vec::new(),
            };
            names
        })
        .collect();
    writable.sort();
    writable.dedup();
    // Device names, an object name and an image: nothing that names a file, a library or a model.
    assert_eq!(
        writable,
        [
            "BLOB DSO_IMAGE_UPLOAD.IMAGE",
            "text ACTIVE_DEVICES.ACTIVE_CCD",
            "text ACTIVE_DEVICES.ACTIVE_TELESCOPE",
            "text DSO_TARGET.NAME",
        ],
        "a writable text or BLOB property was added: review it against docs/SECURITY.md and update this list"
    );
}

#[test]
fn no_library_is_loaded_from_a_property_value() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("loaded");
    let Some(lib) = marker_library(dir.path(), &marker) else { return };
    let path = lib.display().to_string();

    // Positive control: loaded as a plugin (from the environment, as an administrator would), it leaves the marker.
    {
        let plugins = dir.path().join("plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        std::fs::copy(&lib, plugins.join("libdso_marker.so")).unwrap();
        let config = dir.path().join("control.xml");
        let plugin_path = plugins.display().to_string();
        let mut d = Driver::start_with(DRIVER, &config, &[("DSO_DETECTOR_PLUGIN_PATH", &plugin_path)]);
        d.connect();
        assert!(marker.exists(), "the marker library did not announce its loading: the test cannot see a load");
        std::fs::remove_file(&marker).unwrap();
    }

    let empty_home = dir.path().join("empty");
    std::fs::create_dir_all(&empty_home).unwrap();
    let config = dir.path().join("indi.xml");
    let home = empty_home.display().to_string();
    let mut d = Driver::start_with(DRIVER, &config, &[("XDG_CONFIG_HOME", &home), ("DSO_DETECTOR_PLUGIN_PATH", "")]);
    d.connect();
    let text = |prop: &str, el: &str, value: &str| {
        format!("<newTextVector device=\"DSO Detector\" name=\"{prop}\"><oneText name=\"{el}\">{value}</oneText></newTextVector>\n")
    };
    let dir_path = dir.path().display().to_string();
    for xml in [
        text("ACTIVE_DEVICES", "ACTIVE_CCD", &path),
        text("ACTIVE_DEVICES", "ACTIVE_TELESCOPE", &path),
        text("ACTIVE_DEVICES", "ACTIVE_CCD", "CCD Simulator"),
        text("DSO_TARGET", "NAME", &path),
        text("DSO_TARGET", "NAME", ""),
        format!("<newSwitchVector device=\"DSO Detector\" name=\"DSO_DETECTOR\"><oneSwitch name=\"{path}\">On</oneSwitch></newSwitchVector>\n"),
        "<newSwitchVector device=\"DSO Detector\" name=\"CONFIG_PROCESS\"><oneSwitch name=\"CONFIG_SAVE\">On</oneSwitch></newSwitchVector>\n".into(),
        "<newSwitchVector device=\"DSO Detector\" name=\"CONFIG_PROCESS\"><oneSwitch name=\"CONFIG_LOAD\">On</oneSwitch></newSwitchVector>\n".into(),
        // Forged snooped messages: the camera's upload folder and a saved file, both pointing at the library.
        format!("<setTextVector device=\"CCD Simulator\" name=\"UPLOAD_SETTINGS\" state=\"Ok\"><oneText name=\"UPLOAD_DIR\">{dir_path}</oneText></setTextVector>\n"),
        format!("<setTextVector device=\"CCD Simulator\" name=\"CCD_FILE_PATH\" state=\"Ok\"><oneText name=\"FILE_PATH\">{path}</oneText></setTextVector>\n"),
    ] {
        d.peer.send(&xml);
    }
    // The library as an image, uploaded and as a camera frame.
    let bytes = std::fs::read(&lib).unwrap();
    d.peer.send(&camera_blob_one_line("CCD Simulator", ".so", &bytes));
    // What is checked is an absence (no library loaded while the driver handles all this), which no single reply
    // proves: the frames may end analysed, refused or replaced in the worker's slot. Two seconds of reading is the
    // margin given to the worker (an order of magnitude above the time to refuse these bytes).
    d.peer.drain(Duration::from_secs(2));
    assert!(d.alive(), "the driver died");
    assert!(!marker.exists(), "a property value made the driver load a library");
    // The library's path names no detector; the driver still answers.
    d.peer.send("<getProperties version=\"1.7\" device=\"DSO Detector\" name=\"DSO_DETECTOR\"/>\n");
    let def = d.peer.wait(secs(5), |m| is_def(m, "DSO_DETECTOR"));
    let Message::Def(def) = def else { unreachable!() };
    let DefElements::Switch(_, els) = &def.elements else { panic!("DSO_DETECTOR is not a switch") };
    assert!(els.iter().all(|e| !e.name.contains("marker") && e.name != path), "{els:?}");
}
