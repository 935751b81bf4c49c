#!/usr/bin/env bash
# All of DSO Detector's checks and tests, on a fresh Debian machine: installs what is missing (installers/deps.sh),
# then formatting, lints, docs, the Rust unit and integration tests (the latter with the real indiserver and
# indi_simulator_ccd), a short run of every fuzz target, the Debian package (installers/test-package.sh: built,
# then installed only in scratch roots) and the Python tests of the training-data generator. `.ci/run` calls this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

installers/deps.sh

echo "== cargo fmt"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --release -- -D warnings
echo "== cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
echo "== cargo test"
# Release: the detectors run on multi-megapixel frames in the tests.
cargo test --workspace --release
echo "== fuzz smoke (fuzz/smoke.sh, 10 s per target from the committed seeds; docs/RELIABILITY.md)"
# cargo-fuzz needs the nightly toolchain (libFuzzer, sanitizers); both are installed when missing.
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo +nightly fuzz --version >/dev/null 2>&1 || cargo +nightly install --locked cargo-fuzz
FUZZ_SECONDS=10 fuzz/smoke.sh
echo "== Debian package (build, contents, scratch-root install, the installed driver under indiserver)"
installers/test-package.sh
if [ -d models/training/tests ]; then
  echo "== pytest (training code: the training-data generator, models/training)"
  python3 -m pytest -q models/training/tests
fi
