#!/usr/bin/env bash
# INDI Web Manager with the Debian package, without installing either on the system: unpacks the .deb into a scratch
# root (installers/package.sh builds it if needed), installs the real INDI Web Manager (`indiweb` from PyPI, pinned)
# into a venv under /tmp, points it at a driver folder holding Debian's drivers.xml and the package's
# indi_dso_detector.xml, and checks through its REST API that it lists DSO Detector under Auxiliary, that a profile
# with the CCD Simulator and DSO Detector starts both, and that an INDI client (indi_getprop) sees the DSO properties.
# Needs PyPI, so not part of installers/test.sh; docs/PACKAGING.md has a recorded run. INDIWEB_VENV reuses a venv.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
INDIWEB_VERSION=1.2.0

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
deb=${PACKAGE_DEB:-$(ls -t "$target_dir"/debian/indi-dso-detector_*.deb 2>/dev/null | head -1)}
if [ -z "$deb" ]; then
  installers/package.sh >/dev/null
  deb=$(ls -t "$target_dir"/debian/indi-dso-detector_*.deb | head -1)
fi
work=$(mktemp -d /tmp/indiweb-check.XXXXXX)
venv=${INDIWEB_VENV:-$work/venv}
web=""
cleanup() {
  local rc=$?
  set +e
  # Only what this script started: indi-web by its pid, and the indiserver whose FIFO is ours (found by that path;
  # its drivers end when it closes their pipes).
  [ -n "$web" ] && kill "$web" 2>/dev/null && wait "$web" 2>/dev/null
  for pid in $(pgrep -f -- "-f $work/fifo"); do kill "$pid" 2>/dev/null; done
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "indiweb-check: FAIL: $*" >&2; [ -f /tmp/indiserver.log ] && tail -20 /tmp/indiserver.log >&2; exit 1; }

echo "== unpacking $deb into a scratch root"
dpkg -x "$deb" "$work/root"
mkdir -p "$work/xml" "$work/conf" "$work/home"
cp /usr/share/indi/drivers.xml "$work/xml/"
cp "$work/root/usr/share/indi/indi_dso_detector.xml" "$work/xml/"

if [ ! -x "$venv/bin/indi-web" ]; then
  echo "== pip install indiweb==$INDIWEB_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "indiweb==$INDIWEB_VERSION"
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
indi_port=$(free_port)
web_port=$(free_port)
api="http://127.0.0.1:$web_port/api"
echo "== indi-web on :$web_port (indiserver :$indi_port), the package's binaries first on PATH"
# indiserver, which indi-web starts, finds drivers on PATH: the scratch root's indi_dso_detector comes first.
HOME="$work/home" PATH="$work/root/usr/bin:$PATH" "$venv/bin/indi-web" --host 127.0.0.1 -P "$web_port" \
  -p "$indi_port" --fifo "$work/fifo" --conf "$work/conf" --xmldir "$work/xml" -l "$work/indiweb.log" >"$work/indiweb.out" 2>&1 &
web=$!
for _ in $(seq 100); do curl -sf "$api/info/version" >/dev/null && break; sleep 0.2; done
curl -sf "$api/info/version" >/dev/null || fail "indi-web did not start"

curl -sf "$api/drivers" | python3 -c '
import json, sys
drivers = json.load(sys.stdin)
dso = [d for d in drivers if d["label"] == "DSO Detector"]
assert dso, "DSO Detector is not listed"
d = dso[0]
assert d["family"] == "Auxiliary" and d["binary"] == "indi_dso_detector", d
print("  ok: listed: %s (%s, %s %s) among %d drivers" % (d["label"], d["family"], d["binary"], d["version"], len(drivers)))
' || fail "driver list"

curl -sf -X POST "$api/profiles/dso" >/dev/null
curl -sf -X PUT -H 'Content-Type: application/json' -d "{\"port\": $indi_port}" "$api/profiles/dso" >/dev/null
curl -sf -X POST -H 'Content-Type: application/json' \
  -d '[{"label": "CCD Simulator"}, {"label": "DSO Detector"}]' "$api/profiles/dso/drivers" >/dev/null
echo "  ok: profile dso: $(curl -sf "$api/profiles/dso/labels")"
curl -sf -X POST "$api/server/start/dso" >/dev/null || fail "starting the profile"
for _ in $(seq 50); do
  indi_getprop -p "$indi_port" -t 1 "DSO Detector.DRIVER_INFO.DRIVER_INTERFACE" >/dev/null 2>&1 && break
  sleep 0.2
done
running=$(curl -sf "$api/server/drivers" | python3 -c 'import json, sys; print(", ".join(sorted(d["label"] for d in json.load(sys.stdin))))')
[ "$running" = "CCD Simulator, DSO Detector" ] || fail "running drivers: $running"
echo "  ok: server status $(curl -sf "$api/server/status"); running: $running"

get() { indi_getprop -p "$indi_port" -t 3 -1 "$1" 2>/dev/null; }
[ "$(get "DSO Detector.DRIVER_INFO.DRIVER_INTERFACE")" = 32768 ] || fail "no DSO Detector on indiserver"
[ "$(get "DSO Detector.DRIVER_INFO.DRIVER_EXEC")" = indi_dso_detector ] || fail "DRIVER_EXEC"
indi_setprop -p "$indi_port" "DSO Detector.CONNECTION.CONNECT=On"
indi_eval -p "$indi_port" -t 20 -w '"DSO Detector.CONNECTION.CONNECT"==1' >/dev/null || fail "connecting"
sleep 1
props=$(indi_getprop -p "$indi_port" -t 3 "DSO Detector.*.*" 2>/dev/null | sed -n 's/^DSO Detector\.\(DSO_[A-Z_]*\)\..*/\1/p' | sort -u)
for p in DSO_DETECTOR DSO_SETTINGS DSO_OUTPUTS DSO_RESULTS DSO_STATS DSO_IDENTIFY DSO_TARGET; do
  grep -qx "$p" <<<"$props" || fail "an INDI client does not see $p: $props"
done
echo "  ok: indi_getprop sees $(wc -l <<<"$props") DSO properties: $(tr '\n' ' ' <<<"$props")"
echo "  ok: driver's ONNX Runtime: $(grep -o 'ONNX Runtime loaded from [^ ]*' /tmp/indiserver.log | tail -1 || echo 'not loaded yet')"
echo "== INDI Web Manager check passed"
