//! The host against real libraries: the C example plugin, and variants of it broken on purpose (compiled here with
//! the system C compiler, skipped with a message when there is none).

use std::path::{Path, PathBuf};
use std::process::Command;

use dso_plugin_api::{Encoding, Frame};

use super::discover::{Candidate, Found};
use super::*;

/// Compiles `example-c/example_plugin.c` with extra flags into `dir/name`; `None` without a C compiler.
fn build_c(dir: &Path, name: &str, flags: &[&str]) -> Option<PathBuf> {
    let api = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugin-api");
    let out = dir.join(name);
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c11", "-O1", "-shared", "-fPIC", "-I"])
        .arg(api.join("include"))
        .args(flags)
        .arg(api.join("example-c/example_plugin.c"))
        .arg("-o")
        .arg(&out)
        .arg("-lm")
        .status();
    match status {
        Ok(s) if s.success() => Some(out),
        Ok(s) => panic!("{cc} failed on the C example ({s})"),
        Err(e) => {
            crate::skip(format!("no C compiler ({cc}: {e})"));
            None
        }
    }
}

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dso-plugins-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn found(paths: &[PathBuf], configs: &[(&str, &str)]) -> Found {
    Found {
        candidates: paths.iter().map(|p| Candidate { path: p.clone(), origin: "test".into() }).collect(),
        configs: configs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        problems: Vec::new(),
    }
}

fn blob_frame() -> Frame {
    let (w, h) = (64, 48);
    let mut p = vec![0.1f32; w * h];
    for y in 10..20 {
        for x in 30..45 {
            p[y * w + x] = 0.9;
        }
    }
    Frame::new(w, h, vec![p], Encoding::Linear).unwrap()
}

#[test]
fn the_c_example_loads_and_detects_with_a_heat_map() {
    let dir = temp("good");
    let Some(lib) = build_c(&dir, "libcblob.so", &[]) else { return };
    let plugins = load_all(found(&[lib], &[]), &["naive"]);
    let entry = &plugins.entries[0];
    assert_eq!(entry.name, "cblob");
    assert_eq!(entry.available(), Ok(()));
    assert!(plugins.warnings().is_empty());
    let mut d = entry.create().unwrap();
    assert_eq!(d.name(), "cblob");
    for _ in 0..3 {
        let found = d.detect(&blob_frame()).unwrap();
        let o = &found.objects[0];
        assert_eq!((o.x, o.y, o.width, o.height, o.label.as_str()), (30.0, 10.0, 15.0, 10.0, "dso"));
        let map = found.heatmap.expect("a heat map");
        assert_eq!((map.width, map.height, map.values.len()), (64, 48, 64 * 48));
    }
    drop(d);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn broken_libraries_are_refused_with_the_reason() {
    let dir = temp("broken");
    let Some(wrong) = build_c(&dir, "libwrong.so", &["-DWRONG_ABI"]) else { return };
    let no_entry = build_c(&dir, "libnoentry.so", &["-DNO_ENTRY"]).unwrap();
    let clash = build_c(&dir, "libclash.so", &["-DPLUGIN_NAME=\"naive\""]).unwrap();
    let bad_name = build_c(&dir, "libbadname.so", &["-DPLUGIN_NAME=\"Bad Name\""]).unwrap();
    let text = dir.join("libtext.so");
    std::fs::write(&text, "not a library").unwrap();
    let good = build_c(&dir, "libcblob.so", &[]).unwrap();
    let twice = build_c(&dir, "libcblob2.so", &[]).unwrap();
    let plugins = load_all(found(&[wrong, no_entry, clash, bad_name, text, good, twice], &[]), &["naive"]);
    let why: Vec<(String, String)> = plugins
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.available().err().map(|e| e.to_string()).unwrap_or_default()))
        .collect();
    let expect = [
        ("wrong", "libwrong.so: ABI version 7, this host speaks 1"),
        ("noentry", "libnoentry.so: no dso_detector_plugin symbol"),
        ("clash", "libclash.so: its detector is named 'naive', the name of a built-in detector"),
        ("badname", "libbadname.so: detector name 'Bad Name' is not"),
        ("text", "libtext.so: cannot be loaded as a library"),
        ("cblob", ""),
        ("cblob2", "libcblob2.so: another plugin already provides 'cblob'"),
    ];
    for ((name, reason), (want_name, want)) in why.iter().zip(expect) {
        assert_eq!(name, want_name);
        assert!(reason.starts_with(want), "{name}: {reason}");
    }
    assert_eq!(plugins.warnings().len(), 6, "{:?}", plugins.warnings());
    assert!(plugins.entries[0].create().is_err());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_bad_configuration_is_the_create_error() {
    let dir = temp("config");
    let Some(lib) = build_c(&dir, "libcblob.so", &[]) else { return };
    let plugins = load_all(found(&[lib], &[("cblob", "k=lots")]), &[]);
    let err = plugins.entries[0].create().err().expect("create fails");
    assert!(err.to_string().contains("cblob: bad configuration 'k=lots'"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}
