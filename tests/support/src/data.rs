//! What a test needs from outside the repository — `../shared/data`, a detector's runtime — and what it does when
//! that is missing: skip with a reason, or fail when `DSO_REQUIRE_DATA=1` (CI sets it: there everything
//! `installers/deps.sh` installs is present, and a skip would hide a broken setup).

use std::path::{Path, PathBuf};

/// Says why a test is skipped — or fails it when `DSO_REQUIRE_DATA=1`.
pub fn skip(why: impl std::fmt::Display) {
    if std::env::var("DSO_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("required but missing (DSO_REQUIRE_DATA=1): {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// `../shared` beside the project, when present.
pub fn shared_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    p.join("data").is_dir().then(|| p.canonicalize().unwrap_or(p))
}

/// A real FITS file of `../shared/data/real-fits`, or `None` (and a message saying the test is skipped).
pub fn real_fits(name: &str) -> Option<PathBuf> {
    let Some(shared) = shared_dir() else {
        skip("../shared/data is absent");
        return None;
    };
    let path = shared.join("data/real-fits").join(name);
    if path.is_file() {
        Some(path)
    } else {
        skip(format!("{} is absent", path.display()));
        None
    }
}

/// Whether a detector can run here (`availability` from its module); says why not, for tests that then skip.
pub fn runs_here(what: &str, availability: Result<(), String>) -> bool {
    match availability {
        Ok(()) => true,
        Err(why) => {
            skip(format!("{what} cannot run here: {why}"));
            false
        }
    }
}
