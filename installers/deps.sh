#!/usr/bin/env bash
# Installs what DSO Detector needs on Debian 12 (or newer) and Raspberry Pi OS: INDI, cfitsio, Python with the
# ONNX Runtime wheel. Safe to run again: it only installs what is missing. Sourced by demo.sh and test.sh.
set -euo pipefail

need_apt=()
# stellarium-data: real deep-sky photographs the training-data generator composites (models/training).
# dpkg-dev: dpkg-shlibdeps, with which cargo-deb computes the Debian package's library dependencies (package.sh).
# parallel: GNU parallel, the scheduler of the tested example that shards a night across hosts (docs/BENCHMARKS.md).
# cmake, nasm: build libjpeg-turbo from the turbojpeg crate's bundled sources (the annotated JPEG; nasm is its x86
# SIMD, arm64 needs none), linked statically: nothing to install at run time.
for pkg in indi-bin libcfitsio-dev pkg-config python3-pip python3-venv stellarium-data dpkg-dev parallel cmake nasm; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# The plate solver (models/src/sky/solve.rs): astrometry.net's solve-field and the Tycho-2 index files 07–19, whose
# quads span 22′–2000′: fields from about 22′ wide up (a Seestar S50's 43′×76′ solves; narrower fields need
# astrometry.net's 4100/5200 series, which Debian does not package). About 300 MB of index files, read from /usr/share/astrometry; nothing is fetched at run time. Without
# recommends: source-extractor, python3-exif and libcfitsio-bin are not used (solve-field's own image2xy is).
need_solver=()
for pkg in astrometry.net astrometry-data-tycho2-07-littleendian astrometry-data-tycho2-08-littleendian \
           astrometry-data-tycho2-09-littleendian astrometry-data-tycho2-10-19-littleendian; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_solver+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ] || [ ${#need_solver[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need_apt[*]} ${need_solver[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  if [ ${#need_apt[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
  if [ ${#need_solver[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_solver[@]}" >/dev/null
  fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust first (https://rustup.rs or Debian's cargo package)" >&2
  exit 1
fi

# Python packages: ONNX Runtime (the library the Rust driver loads), numpy/OpenCV for the benchmark's Python
# baseline, pytest and the training-data generator's dependencies (included with `-r` from
# models/training/requirements-datagen.txt). Into the interpreter on PATH (a venv if active).
REQ="$(dirname "${BASH_SOURCE[0]}")/requirements.txt"
if ! python3 -c 'import os, sys, importlib.metadata as m
def pins(path):
    for line in open(path):
        r = line.split("#")[0].strip()
        if r.startswith("-r "):
            yield from pins(os.path.join(os.path.dirname(path), r[3:].strip()))
        elif r:
            yield r
for r in pins(sys.argv[1]):
    name, _, ver = r.partition("==")
    if m.version(name) != ver: sys.exit(1)' "$REQ" 2>/dev/null; then
  echo "== installing Python packages from installers/requirements.txt"
  python3 -m pip install -q --disable-pip-version-check -r "$REQ" 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages -r "$REQ"
fi
