#!/usr/bin/env bash
# kstars_check.sh - issue 13's check "KStars shows the names in the summary and the target state", as a user would:
# a real indiserver (CCD Simulator + DSO Detector), the real KStars (../shared/tools/kstars/kstars_client.sh, Debian
# packages listed in its README), the CCD Simulator in directory mode serving a real frame (Seestar NGC 7023).
# Everything is driven through KStars' D-Bus; screenshots of the INDI Control Panel go to OUT (default /tmp/kstars-check).
# Needs target/release/indi_dso_detector (cargo build --release -p dso-detector) and python3 with PIL for the crops.
# Usage: installers/kstars_check.sh [PORT] [OUT]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${1:-7731}"
OUT="${2:-/tmp/kstars-check}"
KSC="${KSC:-$ROOT/../shared/tools/kstars/kstars_client.sh}"
FRAME="${FRAME:-$ROOT/../shared/data/real-fits/Light_NGC7023_10.0s_IRCUT_20240730-224436_wcs.fit}"
WORK="$(mktemp -d /tmp/kstars-check.XXXXXX)"
S=(--state "$WORK/kstars")
mkdir -p "$OUT" "$WORK/frames" "$WORK/home"
INDI_PID=""
cleanup() {
  "$KSC" stop "${S[@]}" >/dev/null 2>&1 || true
  [ -n "$INDI_PID" ] && kill "$INDI_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The simulator serves only 8/16-bit files with PIXSIZE1: a copy of the frame with that card added before END.
python3 - "$FRAME" "$WORK/frames/frame.fits" <<'EOF'
import sys
d = open(sys.argv[1], 'rb').read()
cards, i = [], 0
while True:
    c = d[i:i + 80].decode('ascii'); i += 80
    if c.startswith('END '): break
    cards.append(c)
body = d[(i + 2879) // 2880 * 2880:]
if not any(c.startswith('PIXSIZE1') for c in cards):
    xp = [c for c in cards if c.startswith('XPIXSZ')]
    cards.append(('PIXSIZE1= %20s / pixel size (um)' % (xp[0][10:].split('/')[0].strip() if xp else '2.9')).ljust(80))
h = (''.join(cards) + 'END'.ljust(80)).encode('ascii')
open(sys.argv[2], 'wb').write(h + b' ' * (-len(h) % 2880) + body)
EOF

HOME="$WORK/home" PATH="$ROOT/target/release:$PATH" \
  indiserver -p "$PORT" -u "$WORK/indi.sock" indi_simulator_ccd indi_dso_detector > "$WORK/indiserver.log" 2>&1 &
INDI_PID=$!
sleep 2

"$KSC" start "${S[@]}" --port "$PORT" --connect "CCD Simulator,DSO Detector" --display "${DISPLAY_NUM:-:97}"
k() { "$KSC" call "${S[@]}" "$@"; }
get() { k getText "DSO Detector" "$1" "$2"; }
expose() { k setNumber "CCD Simulator" CCD_EXPOSURE CCD_EXPOSURE_VALUE 1 >/dev/null; k sendProperty "CCD Simulator" CCD_EXPOSURE >/dev/null; }
# waits for DSO_TARGET_STATE.STATE = $1 (the frame has no pointing once the simulator rewrote its header: blind solve)
wait_state() {
  for _ in $(seq 1 90); do [ "$(get DSO_TARGET_STATE STATE)" = "$1" ] && return 0; sleep 1; done
  echo "timed out waiting for state '$1'" >&2
}
show() {
  for p in "DSO_TARGET NAME" "DSO_RESULTS SUMMARY" "DSO_TARGET_STATE STATE" "DSO_TARGET_STATE DETAIL"; do
    printf '%-26s %s\n' "$p" "$(get $p)"
  done
  printf '%-26s %s\n' "DSO_TARGET_STATE (light)" "$(k getPropertyState "DSO Detector" DSO_TARGET_STATE)"
}
shot() { "$KSC" tab "${S[@]}" "DSO Detector/$1"; sleep 2; "$KSC" shot "${S[@]}" "$2" '^INDI Control Panel'; }

# the CCD Simulator in directory mode, from KStars
k setText "CCD Simulator" CCD_DIRECTORY_LOCATION LOCATION "$WORK/frames" >/dev/null
k sendProperty "CCD Simulator" CCD_DIRECTORY_LOCATION >/dev/null
k setSwitch "CCD Simulator" CCD_DIRECTORY_TOGGLE INDI_ENABLED On >/dev/null
k sendProperty "CCD Simulator" CCD_DIRECTORY_TOGGLE >/dev/null

echo "== target NGC 7023 (the simulator replaces the frame's OBJECT by 'Unknown', so the target is set)"
k setText "DSO Detector" DSO_TARGET NAME "NGC 7023" >/dev/null
k sendProperty "DSO Detector" DSO_TARGET >/dev/null
expose; wait_state captured; show
shot Identification "$WORK/target.png"; shot Results "$WORK/results.png"

echo "== target M 94"
k setText "DSO Detector" DSO_TARGET NAME "M 94" >/dev/null
k sendProperty "DSO Detector" DSO_TARGET >/dev/null
expose; wait_state "not in field"; show
shot Identification "$WORK/not-in-field.png"

# the panel's top (properties) and bottom (log), without the empty middle
python3 - "$WORK" "$OUT" <<'EOF'
import sys
from PIL import Image
w, out = sys.argv[1:]
for name, top in (('target', 260), ('results', 445), ('not-in-field', 260)):
    im = Image.open(f'{w}/{name}.png').convert('RGB')
    a, b = im.crop((0, 0, 1000, top)), im.crop((0, 655, 1000, 750))
    c = Image.new('RGB', (1000, a.height + b.height), 'white'); c.paste(a, (0, 0)); c.paste(b, (0, a.height))
    c.save(f'{out}/kstars-identify-{name}.png', optimize=True)
    print(f'{out}/kstars-identify-{name}.png')
EOF
