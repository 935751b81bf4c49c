//! The file's syntax, its errors by line, the old files, and the environment.

use std::path::{Path, PathBuf};

use super::*;

const FILE: &str = "/etc/dso/dso-detector.conf";

fn lines(errors: &[SettingsError]) -> Vec<usize> {
    errors
        .iter()
        .map(|e| match e.origin {
            Origin::File { line, .. } => line,
            Origin::Env(_) => 0,
        })
        .collect()
}

#[test]
fn every_section_is_read() {
    let text =
        "# mine\n[yolo]\nmodel = \"/m/x.onnx\"  # trained on my skies\nthreads=2\nscore_power = 0.34\ntiles = 3\n\
                nested = 2\n[xrai]\nmodel = cls.onnx\n[pix2pix]\nmodel = /m/p.onnx\nthreads = 1\n[plugins]\n\
                path = /opt/plugins\npath = more\nconfig = Brightest radius=8 max=2\n[solver]\nenabled = yes\n\
                command = /usr/bin/solve-field\ntimeout_s = 30.5\nindex_dir = /usr/share/astrometry\n\
                [identify]\nenabled = false\n";
    let s = parse(text, Path::new(FILE)).unwrap();
    let at = |line| Origin::File { path: FILE.into(), line };
    assert_eq!(s.yolo.model, Some(ModelPath { path: "/m/x.onnx".into(), origin: at(3) }));
    assert_eq!(
        (s.yolo.threads, s.yolo.score_power, s.yolo.tiles, s.yolo.nested),
        (Some(2), Some(0.34), Some(3), Some(2.0))
    );
    assert_eq!(s.xrai.model.unwrap().path, PathBuf::from("/etc/dso/cls.onnx"), "relative to the file");
    assert_eq!((s.pix2pix.model.unwrap().path, s.pix2pix.threads), ("/m/p.onnx".into(), Some(1)));
    let paths: Vec<_> = s.plugin_paths.iter().map(|p| p.path.clone()).collect();
    assert_eq!(paths, [PathBuf::from("/opt/plugins"), PathBuf::from("/etc/dso/more")]);
    assert_eq!(s.plugin_configs["brightest"], "radius=8 max=2");
    assert_eq!(
        s.solver,
        SolverSettings {
            enabled: true,
            command: "/usr/bin/solve-field".into(),
            timeout_s: 30.5,
            index_dir: Some("/usr/share/astrometry".into())
        }
    );
    assert!(!s.identify.enabled);
}

#[test]
fn defaults_without_a_file() {
    let s = parse("", Path::new(FILE)).unwrap();
    assert_eq!(s, Settings::default());
    assert_eq!(s.solver.command, PathBuf::from("solve-field"));
    assert_eq!(s.solver.timeout_s, 60.0);
    assert!(s.solver.enabled && s.identify.enabled);
    assert_eq!(s.max_frame_mib, DEFAULT_MAX_FRAME_MIB);
}

#[test]
fn malformed_values_are_errors_naming_their_line() {
    let text = "[yolo]\nthreads = many\n\nscore_power = -1\nnested = 0\njust words\n[solver]\ntimeout_s = soon\n\
                enabled = maybe\n[identify]\nenabled = 2\n";
    let errors = parse(text, Path::new(FILE)).unwrap_err();
    assert_eq!(lines(&errors), [2, 4, 5, 6, 8, 9, 11]);
    assert_eq!(errors[0].to_string(), format!("{FILE}:2: [yolo] threads must be a whole number, not 'many'"));
    assert_eq!(errors[0].section.as_deref(), Some("yolo"));
    assert_eq!(errors[4].section.as_deref(), Some("solver"));
    // the other settings are still read
    let mut s = Settings::default();
    parse::apply("[yolo]\nthreads = x\ntiles = 4\n", Path::new(FILE), None, &mut s);
    assert_eq!((s.yolo.threads, s.yolo.tiles), (None, Some(4)));
}

/// `inf` parses as a number > 0, and so does `1e39` (infinite as an f32): neither is a setting. Found by the
/// `config_files` fuzz target's check that every "> 0" setting is finite (`fuzz/seeds/config_files/crash-inf`).
#[test]
fn infinite_numbers_are_errors() {
    let text =
        "[yolo]\nscore_power = inf\nnested = 1e39\n[solver]\ntimeout_s = inf\n[triage]\nclouds_marginal = -inf\n";
    let errors = parse(text, Path::new(FILE)).unwrap_err();
    assert_eq!(lines(&errors), [2, 3, 5, 7]);
    let mut s = Settings::default();
    parse::apply(text, Path::new(FILE), None, &mut s);
    assert_eq!((s.yolo.score_power, s.yolo.nested, s.solver.timeout_s), (None, None, 60.0));
}

#[test]
fn unknown_keys_and_sections_are_warnings() {
    let mut s = Settings::default();
    let report = parse::apply(
        "[yolo]\ncolour = red\n[camera]\nx = 1\n[identify]\nenabled = no\n",
        Path::new(FILE),
        None,
        &mut s,
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(lines(&report.warnings), [2, 3]);
    assert!(report.warnings[0].message.contains("colour"), "{:?}", report.warnings);
    assert!(!s.identify.enabled, "sections after an unknown one are read");
}

#[test]
fn old_detector_conf_keys_still_work_with_a_deprecation() {
    let mut s = Settings::default();
    let text = "yolo_model = ~/m.onnx\nyolo_threads=2\nother = 1\nyolo_nested = 2\n";
    let report = parse::apply(text, Path::new(FILE), Some(Path::new("/home/me")), &mut s);
    assert!(report.errors.is_empty());
    assert_eq!(s.yolo.model.unwrap().path, PathBuf::from("/home/me/m.onnx"));
    assert_eq!((s.yolo.threads, s.yolo.nested), (Some(2), Some(2.0)));
    assert!(report.warnings.iter().any(|w| w.message.contains("deprecated")));
    let errors = parse("\nyolo_score_power = -1", Path::new(FILE)).unwrap_err();
    assert_eq!((lines(&errors), errors[0].section.as_deref()), (vec![2], Some("yolo")));
}

fn temp_home(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dso-settings-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("config/dso-detector")).unwrap();
    d
}

#[test]
fn old_files_are_read_with_a_deprecation_and_the_new_one_wins() {
    let root = temp_home("old");
    let dir = root.join("config/dso-detector");
    std::fs::write(dir.join("detector.conf"), "yolo_model = /old.onnx\nyolo_tiles = 1\n").unwrap();
    std::fs::write(dir.join("plugins.conf"), "# plugins\n/opt/p\nlibs/libx.so\nconfig two x=1\nconfig\n").unwrap();
    std::fs::write(dir.join(FILE_NAME), "[yolo]\nmodel = /new.onnx\n[plugins]\npath = /opt/q\n").unwrap();
    let env = Env::from_pairs([("XDG_CONFIG_HOME", root.join("config").display().to_string())]);
    let (s, report) = load(&env);
    assert_eq!(s.file, Some(dir.join(FILE_NAME)));
    assert_eq!(s.yolo.model.as_ref().unwrap().path, PathBuf::from("/new.onnx"));
    assert_eq!(s.yolo.tiles, Some(1), "what the new file does not say comes from the old one");
    let paths: Vec<_> = s.plugin_paths.iter().map(|p| p.path.clone()).collect();
    assert_eq!(paths, [PathBuf::from("/opt/p"), dir.join("libs/libx.so"), PathBuf::from("/opt/q")]);
    assert_eq!(s.plugin_configs["two"], "x=1");
    let deprecations: Vec<_> = report.warnings.iter().filter(|w| w.message.contains("deprecated")).collect();
    assert_eq!(deprecations.len(), 4, "two files and two old keys: {:?}", report.warnings);
    assert!(deprecations[0].message.contains(FILE_NAME));
    assert_eq!(lines(&report.errors), [5], "the bare 'config' of plugins.conf");
    assert!(s.section_errors("plugins").is_err() && s.section_errors("yolo").is_ok());

    // DSO_DETECTOR_CONF replaces the file and detector.conf; plugins.conf is still read
    let conf = root.join("mine.conf");
    std::fs::write(&conf, "yolo_threads = 3\n").unwrap();
    let env = Env::from_pairs([
        ("XDG_CONFIG_HOME", root.join("config").display().to_string()),
        ("DSO_DETECTOR_CONF", conf.display().to_string()),
    ]);
    let (s, _) = load(&env);
    assert_eq!((s.yolo.model, s.yolo.threads, s.plugin_paths.len()), (None, Some(3), 2));
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn the_file_is_found_by_variable_then_xdg_then_home() {
    let env = |pairs: &[(&str, &str)]| Env::from_pairs(pairs.iter().map(|(k, v)| (*k, v.to_string())));
    assert_eq!(env(&[("HOME", "/h")]).config_file(), Some("/h/.config/dso-detector/dso-detector.conf".into()));
    assert_eq!(
        env(&[("HOME", "/h"), ("XDG_CONFIG_HOME", "/x")]).config_file(),
        Some("/x/dso-detector/dso-detector.conf".into())
    );
    assert_eq!(env(&[("HOME", "/h"), ("DSO_DETECTOR_CONF", "/c.conf")]).config_file(), Some("/c.conf".into()));
    assert_eq!(env(&[("XDG_CONFIG_HOME", "")]).config_file(), None);
}

#[test]
fn environment_variables_are_validated() {
    let env = |pairs: &[(&str, &str)]| load(&Env::from_pairs(pairs.iter().map(|(k, v)| (*k, v.to_string()))));
    let (s, report) = env(&[("DSO_MAX_FRAME_MB", "256")]);
    assert_eq!((s.max_frame_mib, report.errors.len()), (256, 0));
    for bad in ["lots", "-1", "0", "1.5"] {
        let (s, report) = env(&[("DSO_MAX_FRAME_MB", bad)]);
        assert_eq!(s.max_frame_mib, DEFAULT_MAX_FRAME_MIB, "{bad}");
        assert_eq!(report.errors.len(), 1, "{bad}");
        assert!(report.errors[0].to_string().starts_with("DSO_MAX_FRAME_MB: '"), "{}", report.errors[0]);
    }
    let (s, _) =
        env(&[("DSO_YOLO_MODEL", "/y.onnx"), ("DSO_PIX2PIX_MODEL", "/p.onnx"), ("DSO_DETECTOR_PLUGIN_PATH", "/a::/b")]);
    assert_eq!(s.yolo.model.as_ref().unwrap().to_string(), "DSO_YOLO_MODEL=/y.onnx");
    assert_eq!(s.pix2pix.model.unwrap().origin, Origin::Env("DSO_PIX2PIX_MODEL"));
    assert_eq!(s.xrai.model, None);
    assert_eq!(s.plugin_env_dirs, [PathBuf::from("/a"), PathBuf::from("/b")]);
}

#[test]
fn yolo_stretch_order_is_read_in_both_spellings() {
    use crate::yolo::preprocess::CurveOrder;
    let s = parse("[yolo]\nstretch_order = before\n", Path::new(FILE)).unwrap();
    assert_eq!(s.yolo.stretch_order, Some(CurveOrder::BeforeResampling));
    assert_eq!(parse("", Path::new(FILE)).unwrap().yolo.stretch_order, None);
    let errs = parse("[yolo]\nstretch_order = first\n", Path::new(FILE)).unwrap_err();
    assert!(errs.iter().any(|e| e.to_string().contains("after or before")), "{errs:?}");
}

#[test]
fn triage_limits_are_read_and_checked() {
    use crate::quality::Level;
    let text =
        "[triage]\nclouds_reject = 70\nfocus_marginal = 40 # percent\ntrail = reject\ntrails = no\nhistory = 50\n";
    let s = parse(text, Path::new(FILE)).unwrap();
    assert_eq!(s.triage.thresholds.clouds_reject, 70.0);
    assert_eq!(s.triage.thresholds.focus_marginal, 40.0);
    assert_eq!(s.triage.thresholds.trail, Level::Reject);
    assert_eq!(s.triage.thresholds.history, 50);
    assert!(!s.triage.trails && s.triage.enabled);
    assert_eq!(s.triage.thresholds.tracking_reject, crate::quality::Thresholds::default().tracking_reject);
    let errs = parse("[triage]\nfocus_reject = -3\ntrail = maybe\n", Path::new(FILE)).unwrap_err();
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs[0].to_string().contains("[triage] focus_reject must be a number > 0"), "{}", errs[0]);
}
