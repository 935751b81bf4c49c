//! Every configuration file the programs read, on arbitrary text (the first byte chooses the reader; the rest, as
//! UTF-8 with invalid bytes replaced, is the file: the readers refuse non-UTF-8 files before parsing):
//! 0. the driver's libindi XML configuration (`dso_detector::config::parse`, what `CONFIG_LOAD` and the start
//!    read from `~/.indi/<Device>_config.xml`);
//! 1. the settings file `dso-detector.conf` and the deprecated `detector.conf` (`dso_models::settings::parse::apply`);
//! 2. the deprecated `plugins.conf` (`apply_plugins_conf`);
//! 3. a YOLO model's class names: the ONNX `names` metadata and the `.names` sidecar file;
//! 4. the environment variables the settings read (`settings::load`, one `NAME=value` per line, no file present).
//!
//! Checked: no panic, and the round trips that hold. The driver's configuration: what it parses, rendered as the
//! driver saves it, parses to the same vectors (BLOB vectors save no elements). The settings and `plugins.conf`:
//! the values parsed, written back as a canonical file, parse to the same values; every number the syntax says
//! is "> 0" is finite and > 0; every problem names a line of the file. Class names: written back as metadata they
//! parse to the same list; sidecar names are trimmed, non-empty and not comments.
#![no_main]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use dso_detector::config;
use dso_detector::indi::{NewVector, Values};
use dso_models::settings::parse::{apply, apply_plugins_conf, Report};
use dso_models::settings::{self, Origin, Settings};
use dso_models::yolo::model::{parse_names_file, parse_names_metadata};
use dso_models::yolo::preprocess::CurveOrder;
use libfuzzer_sys::fuzz_target;

const FILE: &str = "/etc/dso-detector/dso-detector.conf";
const HOME: &str = "/home/observer";

/// What a configuration item holds once saved: BLOB vectors keep no elements, timestamps are not written.
fn saved_form(items: &[NewVector]) -> Vec<NewVector> {
    items
        .iter()
        .map(|i| NewVector {
            timestamp: None,
            values: match &i.values {
                Values::Blob(_) => Values::Blob(Vec::new()),
                v => v.clone(),
            },
            ..i.clone()
        })
        .collect()
}

fn driver_config(text: &str) {
    let Ok(items) = config::parse(text) else { return };
    let rendered = config::render(&items);
    let again = config::parse(&rendered).unwrap_or_else(|e| panic!("the driver cannot read what it saves: {e}"));
    // Debug text: NaN equals NaN there, which `==` on f64 would deny. As INDI reads them: element texts trimmed,
    // and XML makes tabs and newlines in attributes (names) spaces.
    let shown = |items: &[NewVector]| {
        let mut items = items.to_vec();
        for i in &mut items {
            if let Values::Text(els) = &mut i.values {
                els.iter_mut().for_each(|e| e.value = e.value.trim().to_owned());
            }
        }
        format!("{items:?}").replace("\\n", " ").replace("\\r", " ").replace("\\t", " ")
    };
    assert_eq!(shown(&saved_form(&items)), shown(&again), "save(load(x)) changed the values");
}

/// The values of the settings a file sets, without where they came from (line numbers change when rewritten).
fn values(s: &Settings) -> String {
    let mut configs: Vec<_> = s.plugin_configs.iter().collect();
    configs.sort();
    let paths: Vec<&PathBuf> = s.plugin_paths.iter().map(|p| &p.path).collect();
    let model = |m: &Option<settings::ModelPath>| m.as_ref().map(|m| m.path.clone());
    format!(
        "{:?} {:?} {:?} {:?} {:?} {:?} | {:?} {:?} | {:?} {:?} | {paths:?} {configs:?} | {:?} | {:?} | {:?}",
        model(&s.yolo.model),
        s.yolo.threads,
        s.yolo.score_power,
        s.yolo.tiles,
        s.yolo.nested,
        s.yolo.stretch_order,
        model(&s.xrai.model),
        s.xrai.threads,
        model(&s.pix2pix.model),
        s.pix2pix.threads,
        s.solver,
        s.identify,
        s.triage,
    )
}

/// The canonical `dso-detector.conf` for settings: every value set, quoted where it is free text.
fn render(s: &Settings) -> String {
    let mut out = String::from("[yolo]\n");
    let line = |out: &mut String, key: &str, value: &dyn std::fmt::Display| {
        let _ = writeln!(out, "{key} = \"{value}\"");
    };
    if let Some(m) = &s.yolo.model {
        line(&mut out, "model", &m.path.display());
    }
    s.yolo.threads.inspect(|v| line(&mut out, "threads", v));
    s.yolo.score_power.inspect(|v| line(&mut out, "score_power", v));
    s.yolo.tiles.inspect(|v| line(&mut out, "tiles", v));
    s.yolo.nested.inspect(|v| line(&mut out, "nested", v));
    if let Some(o) = s.yolo.stretch_order {
        line(&mut out, "stretch_order", &if o == CurveOrder::AfterResampling { "after" } else { "before" });
    }
    for (section, m) in [("xrai", &s.xrai), ("pix2pix", &s.pix2pix)] {
        let _ = writeln!(out, "[{section}]");
        if let Some(model) = &m.model {
            line(&mut out, "model", &model.path.display());
        }
        m.threads.inspect(|v| line(&mut out, "threads", v));
    }
    out.push_str("[plugins]\n");
    s.plugin_paths.iter().for_each(|p| line(&mut out, "path", &p.path.display()));
    s.plugin_configs.iter().for_each(|(name, text)| line(&mut out, "config", &format!("{name} {text}")));
    out.push_str("[solver]\n");
    line(&mut out, "enabled", &s.solver.enabled);
    line(&mut out, "command", &s.solver.command.display());
    line(&mut out, "timeout_s", &s.solver.timeout_s);
    if let Some(d) = &s.solver.index_dir {
        line(&mut out, "index_dir", &d.display());
    }
    out.push_str("[identify]\n");
    line(&mut out, "enabled", &s.identify.enabled);
    let t = &s.triage.thresholds;
    out.push_str("[triage]\n");
    line(&mut out, "enabled", &s.triage.enabled);
    line(&mut out, "trails", &s.triage.trails);
    for (key, v) in [
        ("clouds_marginal", t.clouds_marginal),
        ("clouds_reject", t.clouds_reject),
        ("focus_marginal", t.focus_marginal),
        ("focus_reject", t.focus_reject),
        ("tracking_marginal", t.tracking_marginal),
        ("tracking_reject", t.tracking_reject),
        ("elongation_max", t.elongation_max),
        ("sky_marginal", t.sky_marginal),
        ("saturation_marginal", t.saturation_marginal),
    ] {
        line(&mut out, key, &v);
    }
    line(&mut out, "trail", &t.trail.as_str());
    line(&mut out, "history", &t.history);
    out
}

/// Every problem names a line of the file it was found in.
fn lines_named(report: &Report, file: &Path, lines: usize) {
    for e in report.errors.iter().chain(&report.warnings) {
        match &e.origin {
            Origin::File { path, line } => {
                assert!(path == file && (1..=lines).contains(line), "{e} names no line of the file");
            }
            Origin::Env(_) => panic!("a file's problem blamed on a variable: {e}"),
        }
    }
}

/// The numbers the syntax says are "> 0".
fn positive_numbers_hold(s: &Settings) {
    let t = &s.triage.thresholds;
    let floats = [s.yolo.score_power, s.yolo.nested].into_iter().flatten().chain([
        t.clouds_marginal,
        t.clouds_reject,
        t.focus_marginal,
        t.focus_reject,
        t.tracking_marginal,
        t.tracking_reject,
        t.elongation_max,
        t.sky_marginal,
        t.saturation_marginal,
    ]);
    for v in floats.map(f64::from).chain([s.solver.timeout_s]) {
        assert!(v.is_finite() && v > 0.0, "a setting that must be > 0 is {v}: {s:?}");
    }
    assert!(t.history > 0);
}

fn settings_file(text: &str) {
    let file = Path::new(FILE);
    let mut s = Settings::default();
    let report = apply(text, file, Some(Path::new(HOME)), &mut s);
    lines_named(&report, file, text.lines().count());
    positive_numbers_hold(&s);
    // Paths of the old top-level keys stay relative to the working folder; written under a section they become
    // relative to the file's. Compare them as the second reading sees them.
    let base = file.parent().expect("the file has a folder");
    for m in [&mut s.yolo.model, &mut s.xrai.model, &mut s.pix2pix.model].into_iter().flatten() {
        if m.path.is_relative() {
            m.path = base.join(&m.path);
        }
    }
    let canonical = render(&s);
    let mut again = Settings::default();
    let report = apply(&canonical, file, Some(Path::new(HOME)), &mut again);
    assert!(report.errors.is_empty() && report.warnings.is_empty(), "{canonical}\n{report:?}");
    assert_eq!(values(&s), values(&again), "the values read differ when written back:\n{canonical}");
}

fn plugins_conf(text: &str) {
    let file = Path::new("/etc/dso-detector/plugins.conf");
    let mut s = Settings::default();
    let report = apply_plugins_conf(text, file, &mut s);
    lines_named(&report, file, text.lines().count());
    assert!(s.plugin_configs.keys().all(|k| !k.is_empty() && *k == k.to_ascii_lowercase()));
    let mut canonical = String::new();
    s.plugin_paths.iter().for_each(|p| canonical += &format!("path {}\n", p.path.display()));
    s.plugin_configs.iter().for_each(|(name, text)| canonical += &format!("config {name} {text}\n"));
    let mut again = Settings::default();
    let report = apply_plugins_conf(&canonical, file, &mut again);
    assert!(report.errors.is_empty(), "{canonical}\n{report:?}");
    assert_eq!(values(&s), values(&again), "plugins.conf read differently when written back:\n{canonical}");
}

fn class_names(text: &str) {
    for name in parse_names_file(text) {
        assert!(!name.is_empty() && name == name.trim() && !name.starts_with('#'), "sidecar name {name:?}");
    }
    let Some(names) = parse_names_metadata(text) else { return };
    assert!(!names.is_empty());
    let mut meta = String::from("{");
    for (i, n) in names.iter().enumerate() {
        let q = if n.contains('\'') { '"' } else { '\'' };
        let _ = write!(meta, "{i}: {q}{n}{q}, ");
    }
    meta.push('}');
    assert_eq!(parse_names_metadata(&meta).as_ref(), Some(&names), "names metadata read back differently: {meta}");
}

fn environment(text: &str) {
    let pairs = text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k, v.to_owned()));
    // Never the real configuration: a file that cannot exist.
    let pairs = pairs.filter(|(k, _)| !["DSO_DETECTOR_CONF", "XDG_CONFIG_HOME", "HOME"].contains(k));
    let env = settings::Env::from_pairs(pairs.chain([("DSO_DETECTOR_CONF", "/nonexistent/dso.conf".to_owned())]));
    let (s, report) = settings::load(&env);
    assert!((1..1 << 20).contains(&s.max_frame_mib), "DSO_MAX_FRAME_MB gave {}", s.max_frame_mib);
    assert!(s.plugin_env_dirs.iter().all(|d| !d.as_os_str().is_empty()));
    assert_eq!(s.errors, report.errors);
}

fuzz_target!(|data: &[u8]| {
    let [which, rest @ ..] = data else { return };
    let text = String::from_utf8_lossy(rest);
    match which % 5 {
        0 => driver_config(&text),
        1 => settings_file(&text),
        2 => plugins_conf(&text),
        3 => class_names(&text),
        _ => environment(&text),
    }
});
