//! Shared libraries compiled from C during a test (the C plugin example, libraries broken on purpose): tests that
//! need one skip without a C compiler.

use std::path::Path;
use std::process::Command;

use crate::skip;

/// Runs `cc` with `args` to build `out`; `Some(())` when it was built, `None` (test skipped) without a C compiler.
/// A compiler that runs and fails fails the test: the source is ours.
pub fn compile<A: AsRef<std::ffi::OsStr>>(what: &str, args: impl IntoIterator<Item = A>, out: &Path) -> Option<()> {
    match Command::new("cc").args(args).arg("-o").arg(out).status() {
        Ok(s) => {
            assert!(s.success(), "cc failed on {what}");
            Some(())
        }
        Err(e) => {
            skip(format!("no C compiler (cc: {e})"));
            None
        }
    }
}
