#!/usr/bin/env bash
# Installs DSO Detector system-wide so KStars/Ekos and INDI Web Manager list it: the driver and the CLI into
# $PREFIX/bin (default /usr/local), the driver description into /usr/share/indi (where KStars and INDI Web
# Manager look for drivers). Builds first. Run as root or with sudo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PREFIX=${PREFIX:-/usr/local}
INDI_SHARE=${INDI_SHARE:-/usr/share/indi}

installers/deps.sh
cargo build --release --quiet -p dso-detector
install -d "$PREFIX/bin" "$INDI_SHARE" "$PREFIX/lib/dso-detector/plugins"
install -m 755 target/release/indi_dso_detector target/release/dso-detect "$PREFIX/bin/"
install -m 644 xml/indi_dso_detector.xml "$INDI_SHARE/"
echo "installed: $PREFIX/bin/indi_dso_detector, $PREFIX/bin/dso-detect, $INDI_SHARE/indi_dso_detector.xml"
echo "third-party detector plugins go in $PREFIX/lib/dso-detector/plugins (see plugin-api/README.md)"
