//! Running a Python baseline of `models/tools/` from a benchmark: the benchmarks compare the driver with a Python
//! pipeline run in a fresh interpreter on the same frame.

use std::process::Command;

/// Runs `models/tools/<script>` with `args` and returns the numbers it prints on stdout, or why it could not run
/// (the last line of its stderr).
pub fn figures(script: &str, args: &[&str]) -> Result<Vec<f64>, String> {
    let path = format!("{}/../../models/tools/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3").arg(&path).args(args).output().map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("failed").to_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).split_whitespace().filter_map(|w| w.parse().ok()).collect())
}
