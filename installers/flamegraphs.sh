#!/usr/bin/env bash
# Flame graphs of the driver's whole frame path for each detector (issue 17; not in CI): the driver on a socketpair
# as indiserver runs it, 16-bit FITS frames sent inline in base64 as INDI 2.x sends them, plate solving off, the
# annotated JPEG on; `perf record` (DWARF call graphs; 999 samples/s, XRAI 49) enabled after a warm-up frame. Writes
# docs/figures/flame-<detector>-<W>x<H>.svg, keeps the collapsed stacks in out/flame/, and prints the time of each
# profiled frame and the share of CPU samples of each stage (installers/flame_shares.py).
# FLAME_SIZE (default 4096x4096), FLAME_FRAMES (default 3; XRAI gets 1), FLAME_DETECTORS (default all four).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v perf >/dev/null || { apt-get update -qq && apt-get install -y -qq linux-perf; }
command -v inferno-flamegraph >/dev/null || cargo install --locked --quiet inferno
cargo build --release --quiet -p dso-detector --bins --example profile_frames

size="${FLAME_SIZE:-4096x4096}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p out/flame
for detector in ${FLAME_DETECTORS:-NAIVE YOLO PIX2PIX XRAI}; do
  frames="${FLAME_FRAMES:-3}" hz=999
  [ "$detector" = XRAI ] && frames=1 hz=49
  target/release/examples/profile_frames "$detector" "$size" "$frames" "$hz" "$work/perf.data"
  lower=$(echo "$detector" | tr '[:upper:]' '[:lower:]')
  folded="out/flame/$lower-$size.folded"
  perf script -i "$work/perf.data" 2>/dev/null | inferno-collapse-perf >"$folded"
  inferno-flamegraph --title "DSO Detector, $lower, $size 16-bit, base64 frames" --width 1600 \
    <"$folded" >"docs/figures/flame-$lower-$size.svg"
  python3 installers/flame_shares.py "$folded"
done
