#!/usr/bin/env bash
# Builds the Debian package: target/debian/indi-dso-detector_<version>_<arch>.deb (docs/PACKAGING.md).
# cargo-deb (installed here with `cargo install --locked` if missing) builds the release binaries and the archive
# from [package.metadata.deb] in driver/Cargo.toml; this script first stages what the package bundles besides the
# source tree: the ONNX Runtime library and its third-party notices from the pinned wheel that installers/deps.sh
# installs (no pip step for the end user; its MIT licence is in the package's copyright file), and the man pages
# generated from the CLI. PACKAGE_FAST=1 compresses faster (the test does).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
ORT_VERSION=1.31.1
CARGO_DEB_VERSION=3.8.0

installers/deps.sh
if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
  echo "== installing cargo-deb $CARGO_DEB_VERSION"
  cargo install --locked --quiet cargo-deb --version "$CARGO_DEB_VERSION"
fi

# Under target/release/ so cargo-deb maps it to the real target folder (CARGO_TARGET_DIR included).
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
stage="$target_dir/release/debian-stage"
rm -rf "$stage"
mkdir -p "$stage/lib" "$stage/man" "$stage/doc/onnxruntime"

# ONNX Runtime from python3's onnxruntime package (the wheel pinned in installers/requirements.txt).
ort_dir=$(python3 -c 'import importlib.util as u, os; s = u.find_spec("onnxruntime"); print(os.path.dirname(s.origin))')
ort_lib="$ort_dir/capi/libonnxruntime.so.$ORT_VERSION"
if [ ! -f "$ort_lib" ]; then
  echo "package.sh: $ort_lib not found: installers/deps.sh installs onnxruntime==$ORT_VERSION" >&2
  exit 1
fi
install -m 644 "$ort_lib" "$stage/lib/"
gzip -9n -c "$ort_dir/ThirdPartyNotices.txt" >"$stage/doc/onnxruntime/ThirdPartyNotices.txt.gz"

# Man pages: dso-detect's from its clap definition, the driver's written by hand (it takes no arguments).
echo "== man pages"
cargo run --release --quiet -p dso-detector --example manpages -- "$stage/man" 2>/dev/null
cp installers/debian/indi_dso_detector.1 "$stage/man/"
for page in "$stage"/man/*.1; do gzip -9n "$page"; done
gzip -9n -c installers/debian/README.Debian >"$stage/doc/README.Debian.gz"

echo "== cargo deb"
fast=()
[ "${PACKAGE_FAST:-0}" = "1" ] && fast=(--fast)
cargo deb -p dso-detector --locked --strip "${fast[@]}" --output "$target_dir/debian/"
ls -l "$target_dir"/debian/*.deb
