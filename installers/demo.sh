#!/usr/bin/env bash
# The main job, live: installs what is missing, builds, generates deep-sky frames, starts a real indiserver with the
# INDI CCD simulator serving them (directory mode) and the DSO Detector, takes exposures, prints what was found and
# saves the annotated images under out/demo/. The server then stays up (port 7624) so KStars/Ekos or any INDI client
# can connect; Ctrl-C stops it. DEMO_EXPOSURES=N sets the number of exposures, DEMO_KEEP=0 stops after them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

installers/deps.sh
echo "== building (release)"
cargo build --release --quiet -p dso-detector
driver="$root/target/release/indi_dso_detector"

out="$root/out/demo"
frames="$out/frames"
mkdir -p "$out" "$frames"
if ! ls "$frames"/frame_*.fits >/dev/null 2>&1; then
  echo "== generating demo frames (linear 16-bit FITS with PIXSIZE1, a galaxy, a nebula, a cluster each)"
  PYTHONPATH="$root/models/training" python3 -m dso_training.datagen --frames 4 --frame-size 1280x1024 --seed 2026 --out "$frames" >/dev/null
fi

port=${INDI_PORT:-7624}
echo "== starting indiserver on port $port: indi_simulator_ccd + indi_dso_detector"
indiserver -v -p "$port" -u "$out/indiserver.sock" indi_simulator_ccd "$driver" 2>"$out/indiserver.log" &
server=$!
trap 'rc=$?; kill $server 2>/dev/null; wait $server 2>/dev/null || true; exit $rc' EXIT
for _ in $(seq 50); do indi_getprop -p "$port" -t 1 "DSO Detector.CONNECTION.*" >/dev/null 2>&1 && break; sleep 0.2; done

setprop() { indi_setprop -p "$port" "$@"; }
getval() { indi_getprop -p "$port" -t 5 -1 "$1"; }
waitfor() { indi_eval -p "$port" -t "${2:-30}" -w "$1" >/dev/null; }

setprop "CCD Simulator.CONNECTION.CONNECT=On" "DSO Detector.CONNECTION.CONNECT=On"
waitfor '"CCD Simulator.CONNECTION.CONNECT"==1'
waitfor '"DSO Detector.CONNECTION.CONNECT"==1'
sleep 1
setprop "CCD Simulator.CCD_DIRECTORY_LOCATION.LOCATION=$frames"
setprop "CCD Simulator.CCD_DIRECTORY_TOGGLE.INDI_ENABLED=On"
setprop "DSO Detector.DSO_OUTPUTS.ANNOTATED_IMAGE=On"
# The demo's frames are generated: no real sky to plate-solve, so no names (real frames: docs/IDENTIFY.md).
setprop "DSO Detector.DSO_IDENTIFY.PLATE_SOLVE=Off"

# A client that saves every annotated image the detector publishes (as KStars would show it).
( cd "$out" && exec indi_getprop -p "$port" -m -t 0 "DSO Detector.DSO_ANNOTATED.ANNOTATED_IMAGE" >/dev/null 2>&1 ) &
saver=$!
trap 'rc=$?; kill $saver $server 2>/dev/null; wait $server 2>/dev/null || true; exit $rc' EXIT
sleep 0.5

n=${DEMO_EXPOSURES:-4}
for i in $(seq "$n"); do
  t0=$(date +%s%N)
  setprop "CCD Simulator.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=1"
  waitfor "\"DSO Detector.DSO_STATS.FRAMES_PROCESSED\">=$i" 60
  t1=$(date +%s%N)
  sleep 0.3
  printf '\nexposure %d (1 s): results %d ms after the exposure started\n' "$i" $(( (t1 - t0) / 1000000 ))
  echo "  summary: $(getval 'DSO Detector.DSO_RESULTS.SUMMARY')"
  echo "  json:    $(getval 'DSO Detector.DSO_RESULTS.JSON')"
  img="$out/DSO Detector.DSO_ANNOTATED.ANNOTATED_IMAGE.jpg"
  [ -f "$img" ] && cp "$img" "$out/annotated-$i.jpg" && echo "  image:   $out/annotated-$i.jpg"
done

echo
echo "indiserver is running on port $port (log: $out/indiserver.log)."
echo "Connect KStars/Ekos or any INDI client to localhost:$port; Ctrl-C stops the demo."
if [ "${DEMO_KEEP:-1}" = "1" ]; then wait $server; fi
