//! `dso-detect detect` spread out: over the cores with `--jobs`, and over hosts with `--shard K/N` started by GNU
//! parallel, the tested form of the example in docs/BENCHMARKS.md (`-S :` runs the shards here; `-S host1,host2`
//! runs them over ssh with the same command). Either way every image is analysed once, with the results one plain
//! run gives.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use dso_test_support::Sky;

const CLI: &str = env!("CARGO_BIN_EXE_dso-detect");

/// A folder of seven frames with a galaxy each (in different star fields) and one broken file.
fn night(dir: &Path) {
    for i in 0..7u32 {
        let sky = Sky::render(800, 600, (500.0 - 20.0 * i as f32, 250.0 + 10.0 * i as f32), 16.0, 21 + i as u64);
        std::fs::write(dir.join(format!("frame_{i:02}.fits")), sky.to_fits()).unwrap();
    }
    std::fs::write(dir.join("frame_07.fits"), b"SIMPLE  = T but nothing else").unwrap();
}

/// The YOLO text written for each image, by file name.
fn outputs(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

fn detect(input: &Path, out: &Path, extra: &[&str]) -> (i32, String, String) {
    let o = Command::new(CLI)
        .args(["detect", "--no-identify", "--yolo-dir", out.to_str().unwrap()])
        .args(extra)
        .arg(input)
        .output()
        .expect("running dso-detect");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (o.status.code().unwrap_or(-1), text(&o.stdout), text(&o.stderr))
}

#[test]
fn several_jobs_give_the_results_of_one() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("night");
    std::fs::create_dir(&input).unwrap();
    night(&input);
    let (one, three) = (dir.path().join("one"), dir.path().join("three"));
    let (code1, out1, err1) = detect(&input, &one, &[]);
    let (code3, out3, err3) = detect(&input, &three, &["--jobs", "3"]);
    assert_eq!((code1, code3), (1, 1), "the broken file fails both\n{err1}\n{err3}");
    assert!(err3.contains("frame_07.fits: error:") && err3.contains("1 of 8 images failed"), "{err3}");
    assert_eq!(out1.lines().count(), 7, "{out1}");
    assert_eq!(out3.lines().count(), 7, "{out3}");
    let (a, b) = (outputs(&one), outputs(&three));
    assert_eq!(a.len(), 7);
    let found = a.values().filter(|t| !t.is_empty()).count();
    assert!(found >= 5, "most frames have their galaxy found, so that the comparison means something: {a:?}");
    assert_eq!(a, b, "three jobs found what one did");
}

#[test]
fn a_night_sharded_with_gnu_parallel_is_covered_once() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("night");
    std::fs::create_dir(&input).unwrap();
    night(&input);
    let (whole, sharded) = (dir.path().join("whole"), dir.path().join("sharded"));
    detect(&input, &whole, &[]);

    // docs/BENCHMARKS.md, "Beyond one machine": one dso-detect per shard, started by GNU parallel on the hosts of
    // `-S` (here `:`, this machine), all reading the same folder and writing to the same one.
    let out = Command::new("parallel")
        .args(["--will-cite", "-S", ":", "--halt", "never", CLI, "detect", "--no-identify", "--shard", "{}/3"])
        .args(["--yolo-dir", sharded.to_str().unwrap(), input.to_str().unwrap(), ":::", "0", "1", "2"])
        .output()
        .expect("GNU parallel is installed by installers/deps.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // parallel's exit status is the number of failed jobs: the shard with the broken file.
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_eq!(stdout.lines().count(), 7, "each good frame reported once: {stdout}");
    assert_eq!(stderr.matches("frame_07.fits: error:").count(), 1, "{stderr}");
    assert_eq!(outputs(&sharded), outputs(&whole), "the shards wrote what one run did");
}
