//! Running a Python baseline of the training code's `dso_training.tools` (models/training) from a benchmark: both
//! benchmarks compare the driver with a Python pipeline run in a fresh interpreter on the same frame.

use std::process::Command;

/// Runs `python3 -m dso_training.tools.<module>` (models/training put first on `PYTHONPATH`) with `args` and returns
/// the numbers it prints on stdout, or why it could not run (the last line of its stderr).
pub fn figures(module: &str, args: &[&str]) -> Result<Vec<f64>, String> {
    let training = format!("{}/../../models/training", env!("CARGO_MANIFEST_DIR"));
    let path = match std::env::var("PYTHONPATH") {
        Ok(p) if !p.is_empty() => format!("{training}:{p}"),
        _ => training,
    };
    let out = Command::new("python3")
        .args(["-m", &format!("dso_training.tools.{module}")])
        .args(args)
        .env("PYTHONPATH", path)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("failed").to_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).split_whitespace().filter_map(|w| w.parse().ok()).collect())
}
