#!/usr/bin/env bash
# The night-long soak (issue 15; not in CI): a real indiserver with the CCD simulator exposing back to back and the
# DSO Detector, for SOAK_SECONDS (default 7200), while installers/soak.py uploads frames faster than the detector
# keeps up with (a corrupt one in ten), switches detectors every 15 min and settings every 5 min, and samples the
# driver's memory, descriptors, threads, latency and frame counts every 10 s. Results: out/soak/soak.csv, soak.svg
# and the summary printed at the end (recorded in docs/RELIABILITY.md).
# SOAK_SECONDS=600 installers/soak.sh is a ten-minute rehearsal; SOAK_UPLOADS (per second, default 4) sets the rate,
# SOAK_SWITCH the seconds between detector switches (default 900), SOAK_OUT the results folder (default out/soak),
# SOAK_DRIVER the driver binary to soak (default: target/release/indi_dso_detector, built first; a copy elsewhere
# keeps the soak's driver fixed while this tree is rebuilt).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

installers/deps.sh
if [ -z "${SOAK_DRIVER:-}" ]; then
  cargo build --release --quiet -p dso-detector
fi
driver="${SOAK_DRIVER:-$root/target/release/indi_dso_detector}"

out="${SOAK_OUT:-$root/out/soak}"
frames="$out/frames"
mkdir -p "$out" "$frames"
if ! ls "$frames"/frame_*.fits >/dev/null 2>&1; then
  echo "== generating 8 frames (1280×1024 16-bit FITS with deep-sky objects)"
  PYTHONPATH="$root/models/training" python3 -m dso_training.datagen --frames 8 --frame-size 1280x1024 --seed 7 \
    --out "$frames" >/dev/null
fi

# One ONNX Runtime thread per model, as on a Raspberry Pi core (and to leave the other core to the machine's owner).
conf="$out/dso-detector.conf"
printf '[yolo]\nthreads = 1\n[xrai]\nthreads = 1\n[pix2pix]\nthreads = 1\n' >"$conf"
export DSO_DETECTOR_CONF="$conf"

port=${SOAK_PORT:-7625}
echo "== indiserver on port $port: indi_simulator_ccd + indi_dso_detector, ${SOAK_SECONDS:-7200} s"
indiserver -p "$port" -u "$out/indiserver.sock" indi_simulator_ccd "$driver" 2>"$out/indiserver.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do indi_getprop -p "$port" -t 1 "DSO Detector.CONNECTION.*" >/dev/null 2>&1 && break; sleep 0.2; done

python3 installers/soak.py --port "$port" --server-pid "$server" --frames "$frames" --out "$out" \
  --seconds "${SOAK_SECONDS:-7200}" --uploads-per-second "${SOAK_UPLOADS:-4}" --switch-every "${SOAK_SWITCH:-900}" \
  | tee "$out/summary.txt"
