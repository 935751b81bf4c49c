#!/usr/bin/env bash
# The Debian package, tested without touching the system: builds it (installers/package.sh), checks its control
# fields, contents and maintainer scripts, unpacks it into a scratch root with `dpkg -x` (no dpkg database, nothing
# under /usr), then runs the unpacked binaries: `dso-detect` on a frame with the packaged YOLO model and ONNX Runtime,
# and the unpacked driver under the real indiserver beside indi_simulator_ccd. installers/test.sh runs it.
# PACKAGE_DEB=path skips the build and tests that file.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() { echo "test-package: FAIL: $*" >&2; exit 1; }
ok() { echo "  ok: $*"; }

if [ -z "${PACKAGE_DEB:-}" ]; then
  PACKAGE_FAST=1 installers/package.sh >/dev/null
  target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  PACKAGE_DEB=$(ls -t "$target_dir"/debian/indi-dso-detector_*.deb | head -1)
fi
deb=$PACKAGE_DEB
echo "== package test: $deb ($(du -h "$deb" | cut -f1))"
scratch=$(mktemp -d)
server=""
cleanup() {
  local rc=$?
  set +e
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$scratch"
  exit "$rc"
}
trap cleanup EXIT

# --- control fields
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = indi-dso-detector ] || fail "Package is $(field Package)"
[ "$(field Section)" = science ] || fail "Section is $(field Section)"
depends=$(field Depends)
names=$(sed 's/ *([^)]*)//g; s/, */\n/g' <<<"$depends")
for dep in indi-bin libcfitsio10 libc6 libstdc++6; do
  grep -qxF "$dep" <<<"$names" || fail "Depends lacks $dep: $depends"
done
grep -q "astrometry.net" <<<"$(field Recommends)" || fail "Recommends lacks astrometry.net"
ok "control: Depends: $depends"

# --- maintainer scripts: none, so nothing runs at install, upgrade or removal (no home folder is ever touched);
# the one conffile is the service's settings.
mkdir "$scratch/control"
dpkg-deb -e "$deb" "$scratch/control"
for script in preinst postinst prerm postrm config; do
  [ ! -e "$scratch/control/$script" ] || fail "unexpected maintainer script $script"
done
[ "$(cat "$scratch/control/conffiles")" = /etc/default/indi-dso-detector ] || fail "conffiles: $(cat "$scratch/control/conffiles")"
ok "no maintainer scripts; conffiles: /etc/default/indi-dso-detector"

# --- contents
contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for path in /usr/bin/indi_dso_detector /usr/bin/dso-detect /usr/share/indi/indi_dso_detector.xml \
    /usr/share/dso-detector/dso_yolo.onnx /usr/share/dso-detector/dso_classifier.onnx \
    /usr/share/dso-detector/dso_classifier_grad.onnx /usr/share/dso-detector/dso_pix2pix.onnx \
    /usr/share/dso-detector/openngc.tsv /usr/lib/dso-detector/libonnxruntime.so.1.31.1 \
    /usr/share/man/man1/indi_dso_detector.1.gz /usr/share/man/man1/dso-detect.1.gz \
    /usr/share/man/man1/dso-detect-detect.1.gz /usr/share/doc/indi-dso-detector/copyright \
    /usr/share/doc/indi-dso-detector/changelog.Debian.gz /usr/lib/systemd/system/indi-dso-detector@.service \
    /etc/default/indi-dso-detector; do
  grep -qxF "$path" <<<"$contents" || fail "$path is not in the package"
done
if grep -E '^/(home|root|var|opt|usr/local)/' <<<"$contents"; then fail "files outside the package's places"; fi
ok "contents: $(grep -vc '/$' <<<"$contents") files in their places"

dpkg -x "$deb" "$scratch/root"
root="$scratch/root"
copyright="$root/usr/share/doc/indi-dso-detector/copyright"
for licence in GPL-3.0-or-later CC-BY-SA-4.0 Expat; do
  grep -q "^License: $licence" "$copyright" || fail "copyright lacks $licence"
done
grep -q "OpenNGC" "$copyright" || fail "copyright lacks the OpenNGC attribution"
grep -q "DSO Detector" "$root/usr/share/indi/indi_dso_detector.xml" || fail "driver XML"
ok "unpacked into a scratch root; copyright has GPL-3.0-or-later, CC-BY-SA-4.0 (OpenNGC), Expat (ONNX Runtime)"

# --- install, upgrade and removal with dpkg itself, in a scratch dpkg root (its own database; dependencies, which
# live in the real root, forced): the user's ~/.indi and an edited conffile must survive.
droot="$scratch/dpkg-root"
mkdir -p "$droot/var/lib/dpkg/info" "$droot/var/lib/dpkg/updates" "$droot/home/pi/.indi"
touch "$droot/var/lib/dpkg/status"
sdpkg() { dpkg --root="$droot" --log="$scratch/dpkg.log" --force-depends "$@" >>"$scratch/dpkg.out" 2>&1 \
  || { cat "$scratch/dpkg.out"; fail "dpkg $*"; }; }
user_config="$droot/home/pi/.indi/DSO Detector_config.xml"
echo '<INDIDriver><newTextVector device="DSO Detector" name="ACTIVE_DEVICES"/></INDIDriver>' >"$user_config"
cp "$user_config" "$scratch/config.before"
sdpkg -i "$deb"
[ -x "$droot/usr/bin/indi_dso_detector" ] || fail "dpkg -i did not install the driver"
echo 'INDI_DRIVERS="indi_asi_ccd"' >>"$droot/etc/default/indi-dso-detector"
# The upgrade: the same files as version <version>+1 (repacked, so no second build).
mkdir "$scratch/repack"
dpkg-deb -R "$deb" "$scratch/repack/pkg"
version=$(field Version)
sed -i "s/^Version: .*/Version: ${version}+upgrade1/" "$scratch/repack/pkg/DEBIAN/control"
dpkg-deb -Znone -b "$scratch/repack/pkg" "$scratch/repack/next.deb" >/dev/null
sdpkg -i "$scratch/repack/next.deb"
[ "$(dpkg-query --admindir="$droot/var/lib/dpkg" -W -f '${Version}' indi-dso-detector)" = "${version}+upgrade1" ] \
  || fail "the upgrade did not happen"
grep -q 'indi_asi_ccd' "$droot/etc/default/indi-dso-detector" || fail "the upgrade overwrote the edited conffile"
cmp -s "$user_config" "$scratch/config.before" || fail "the upgrade changed ~/.indi"
sdpkg -r indi-dso-detector
[ ! -e "$droot/usr/bin/indi_dso_detector" ] || fail "dpkg -r left the driver"
cmp -s "$user_config" "$scratch/config.before" || fail "removal changed ~/.indi"
sdpkg -P indi-dso-detector
[ ! -e "$droot/etc/default/indi-dso-detector" ] || fail "purge left the conffile"
cmp -s "$user_config" "$scratch/config.before" || fail "purge changed ~/.indi"
ok "dpkg install, upgrade (edited conffile kept), remove, purge in a scratch root; ~/.indi untouched throughout"

# --- the systemd unit: valid for an instance (the user), installed disabled (no maintainer script enables it).
if command -v systemd-analyze >/dev/null; then
  mkdir "$scratch/units"
  cp "$root/usr/lib/systemd/system/indi-dso-detector@.service" "$scratch/units/"
  ln -s indi-dso-detector@.service "$scratch/units/indi-dso-detector@$(id -un).service"
  systemd-analyze verify --man=no "$scratch/units/indi-dso-detector@$(id -un).service" \
    || fail "systemd-analyze verify indi-dso-detector@.service"
  ok "systemd-analyze verify indi-dso-detector@$(id -un).service"
fi

# --- the unpacked binaries. HOME and the settings file point into the scratch folder so nothing of the user's is
# read or written; ONNX Runtime and the models must come from the scratch root (../lib and ../share of the binary).
export HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/home/.config" DSO_DETECTOR_CONF="$scratch/none.conf"
unset ORT_DYLIB_PATH DSO_YOLO_MODEL DSO_CLASSIFIER_MODEL DSO_PIX2PIX_MODEL DSO_DETECTOR_PLUGIN_PATH
mkdir -p "$HOME"
"$root/usr/bin/dso-detect" --help | grep -q "deep-sky" || fail "dso-detect --help"
"$root/usr/bin/dso-detect" --version | grep -q "^dso-detect " || fail "dso-detect --version"
if command -v man >/dev/null; then
  man -l "$root/usr/share/man/man1/dso-detect-detect.1.gz" 2>/dev/null | grep -q -- "--detector" \
    || fail "the dso-detect-detect man page does not document --detector"
else
  zcat "$root/usr/share/man/man1/dso-detect-detect.1.gz" | grep -qF '\-\-detector' \
    || fail "the dso-detect-detect man page does not document --detector"
fi
ok "dso-detect --help, --version, man pages"

# A 256×256 8-bit FITS (a Gaussian blob on a sky) for the detectors: written here, no dependency.
frame="$scratch/frame.fits"
python3 - "$frame" <<'PY'
import math, sys
w = h = 256
cards = ["SIMPLE  = T", "BITPIX  = 8", "NAXIS   = 2", f"NAXIS1  = {w}", f"NAXIS2  = {h}", "END"]
header = "".join(c.ljust(80) for c in cards).ljust(2880)
data = bytes(min(255, int(20 + 200 * math.exp(-((x - 128) ** 2 + (y - 120) ** 2) / 300.0)))
             for y in range(h) for x in range(w))
with open(sys.argv[1], "wb") as f:
    f.write(header.encode("ascii") + data + bytes((-len(data)) % 2880))
PY
RUST_LOG=info "$root/usr/bin/dso-detect" detect --detector yolo --no-identify --json-dir "$scratch/json" "$frame" \
  >/dev/null 2>"$scratch/detect.log" || { cat "$scratch/detect.log"; fail "dso-detect detect --detector yolo"; }
grep -q "ONNX Runtime loaded from $root/usr/lib/dso-detector/libonnxruntime.so.1.31.1" "$scratch/detect.log" \
  || { cat "$scratch/detect.log"; fail "ONNX Runtime was not loaded from the scratch root"; }
grep -q '"detector": *"yolo"' "$scratch/json/frame.json" || fail "no YOLO result: $(cat "$scratch/json/frame.json")"
# The model must be the scratch root's: a broken copy there must break YOLO (the source tree's would not).
cp "$root/usr/share/dso-detector/dso_yolo.onnx" "$scratch/yolo.bak"
echo "not a model" >"$root/usr/share/dso-detector/dso_yolo.onnx"
if "$root/usr/bin/dso-detect" detect --detector yolo --no-identify --json-dir "$scratch/json2" "$frame" \
    >/dev/null 2>"$scratch/broken.log"; then
  fail "YOLO ran with the scratch root's model broken: the model came from elsewhere"
fi
grep -q "$root/usr/share/dso-detector/dso_yolo.onnx" "$scratch/broken.log" \
  || { cat "$scratch/broken.log"; fail "the error does not name the scratch root's model"; }
cp "$scratch/yolo.bak" "$root/usr/share/dso-detector/dso_yolo.onnx"
ok "dso-detect ran YOLO with the scratch root's model and ONNX Runtime"

# --- the unpacked driver under the real indiserver, beside the CCD simulator
if ! command -v indiserver >/dev/null; then
  [ "${DSO_REQUIRE_DATA:-0}" = 1 ] && fail "indiserver is not installed"
  echo "  SKIPPED: indiserver is not installed (installers/deps.sh installs indi-bin)"
  exit 0
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
indiserver -v -p "$port" -u "$scratch/indi.sock" indi_simulator_ccd "$root/usr/bin/indi_dso_detector" \
  2>"$scratch/indiserver.log" &
server=$!
get() { indi_getprop -p "$port" -t 3 -1 "$1" 2>/dev/null; }
for _ in $(seq 50); do get "DSO Detector.DRIVER_INFO.DRIVER_INTERFACE" >/dev/null && break; sleep 0.2; done
[ "$(get "DSO Detector.DRIVER_INFO.DRIVER_INTERFACE")" = 32768 ] \
  || { cat "$scratch/indiserver.log"; fail "the driver did not define DRIVER_INFO (auxiliary)"; }
indi_setprop -p "$port" "CCD Simulator.CONNECTION.CONNECT=On" "DSO Detector.CONNECTION.CONNECT=On"
indi_eval -p "$port" -t 20 -w '"DSO Detector.CONNECTION.CONNECT"==1' >/dev/null || fail "the driver did not connect"
indi_eval -p "$port" -t 20 -w '"CCD Simulator.CONNECTION.CONNECT"==1' >/dev/null || fail "the simulator did not connect"
[ "$(get "DSO Detector.DSO_DETECTOR.YOLO")" = Off ] || fail "DSO_DETECTOR has no YOLO element"
sleep 1
indi_setprop -p "$port" "DSO Detector.DSO_DETECTOR.YOLO=On" "DSO Detector.DSO_IDENTIFY.PLATE_SOLVE=Off"
indi_eval -p "$port" -t 10 -w '"DSO Detector.DSO_DETECTOR.YOLO"==1' >/dev/null || fail "YOLO could not be chosen"
indi_setprop -p "$port" "CCD Simulator.CCD_EXPOSURE.CCD_EXPOSURE_VALUE=1"
indi_eval -p "$port" -t 60 -w '"DSO Detector.DSO_STATS.FRAMES_PROCESSED">=1' >/dev/null \
  || { tail -20 "$scratch/indiserver.log"; fail "no frame was analysed"; }
json=$(get "DSO Detector.DSO_RESULTS.JSON")
grep -q '"detector":"yolo"' <<<"${json// /}" || fail "DSO_RESULTS.JSON: $json"
grep -q "ONNX Runtime loaded from $root/usr/lib/dso-detector/" "$scratch/indiserver.log" \
  || { tail -20 "$scratch/indiserver.log"; fail "the driver did not load ONNX Runtime from the scratch root"; }
ok "the unpacked driver under indiserver: auxiliary, connected, YOLO on a simulator frame ($(get "DSO Detector.DSO_STATS.WIDTH")×$(get "DSO Detector.DSO_STATS.HEIGHT"), $(get "DSO Detector.DSO_STATS.LATENCY_MS") ms)"
echo "== package test passed"
