//! Keeps `include/dso_detector_plugin.h` in sync with `src/abi.rs`: a tiny C program including the header prints
//! every constant, size and field offset, and each must equal the Rust definition. A plugin author compiles against
//! the header, the host against the Rust types; a drift would corrupt memory silently, so it must fail here.

use std::collections::HashMap;
use std::mem::{offset_of, size_of};
use std::path::Path;
use std::process::Command;

use dso_plugin_api::abi::*;

/// `(name, C expression)` pairs printed by the probe, compared with the Rust values below.
fn rust_values() -> Vec<(&'static str, &'static str, usize)> {
    macro_rules! layout {
        ($t:ident; $($f:ident),*) => {
            vec![
                (concat!("sizeof ", stringify!($t)), concat!("sizeof(", stringify!($t), ")"), size_of::<$t>()),
                $((
                    concat!(stringify!($t), ".", stringify!($f)),
                    concat!("offsetof(", stringify!($t), ", ", stringify!($f), ")"),
                    offset_of!($t, $f),
                ),)*
            ]
        };
    }
    let mut v = vec![
        ("DSO_PLUGIN_ABI_VERSION", "DSO_PLUGIN_ABI_VERSION", DSO_PLUGIN_ABI_VERSION as usize),
        ("DSO_LABEL_LEN", "DSO_LABEL_LEN", DSO_LABEL_LEN),
        ("DSO_STATUS_OK", "DSO_STATUS_OK", DSO_STATUS_OK as usize),
        ("DSO_STATUS_ERROR", "DSO_STATUS_ERROR", DSO_STATUS_ERROR as usize),
        ("DSO_STATUS_INVALID_ARGUMENT", "DSO_STATUS_INVALID_ARGUMENT", DSO_STATUS_INVALID_ARGUMENT as usize),
        ("DSO_STATUS_PANIC", "DSO_STATUS_PANIC", DSO_STATUS_PANIC as usize),
        ("DSO_ENCODING_LINEAR", "DSO_ENCODING_LINEAR", DSO_ENCODING_LINEAR as usize),
        ("DSO_ENCODING_STRETCHED", "DSO_ENCODING_STRETCHED", DSO_ENCODING_STRETCHED as usize),
        ("entry length", "sizeof(DSO_PLUGIN_ENTRY)", DSO_PLUGIN_ENTRY.len()),
    ];
    v.extend(layout!(DsoHeaderCard; keyword, value));
    v.extend(layout!(DsoFrame; width, height, n_planes, encoding, planes, header, n_header));
    v.extend(layout!(DsoDetection; x, y, width, height, confidence, label));
    v.extend(layout!(DsoHeatMap; width, height, values));
    v.extend(layout!(DsoResult; detections, n_detections, heatmap));
    v.extend(layout!(DsoDetectorVTable; abi_version, struct_size, name, version, description, create, detect,
        free_result, destroy, last_error));
    v
}

#[test]
fn c_header_matches_the_rust_definitions() {
    let values = rust_values();
    let dir = std::env::temp_dir().join(format!("dso-header-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut c =
        String::from("#include <stdio.h>\n#include <stddef.h>\n#include \"dso_detector_plugin.h\"\nint main(void) {\n");
    for (name, expr, _) in &values {
        c.push_str(&format!("    printf(\"%s=%zu\\n\", \"{name}\", (size_t)({expr}));\n"));
    }
    // The entry symbol's name must be the same string too.
    c.push_str("    printf(\"entry=%s\\n\", DSO_PLUGIN_ENTRY);\n    return 0;\n}\n");
    let src = dir.join("probe.c");
    let exe = dir.join("probe");
    std::fs::write(&src, c).unwrap();
    let include = Path::new(env!("CARGO_MANIFEST_DIR")).join("include");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = Command::new(&cc)
        .args(["-std=c99", "-Wall", "-Werror", "-I"])
        .arg(&include)
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output();
    let built = match built {
        Ok(o) => o,
        Err(e) => {
            eprintln!("SKIPPED: no C compiler ({cc}: {e}); the header is not checked");
            return;
        }
    };
    assert!(built.status.success(), "the header does not compile:\n{}", String::from_utf8_lossy(&built.stderr));
    let out = Command::new(&exe).output().expect("running the probe");
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8(out.stdout).unwrap();
    let printed: HashMap<&str, &str> = text.lines().filter_map(|l| l.split_once('=')).collect();
    for (name, _, rust) in &values {
        let c: usize = printed[name].parse().unwrap();
        assert_eq!(c, *rust, "{name}: C says {c}, Rust says {rust}");
    }
    let entry = std::str::from_utf8(&DSO_PLUGIN_ENTRY[..DSO_PLUGIN_ENTRY.len() - 1]).unwrap();
    assert_eq!(printed["entry"], entry);
}
