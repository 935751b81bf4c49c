#!/usr/bin/env bash
# Installs DSO Detector system-wide so KStars/Ekos and INDI Web Manager list it: the driver and the CLI into
# $PREFIX/bin (default /usr/local), the driver description into /usr/share/indi (where KStars and INDI Web
# Manager look for drivers), the shipped models into $PREFIX/share/dso-detector (where the detectors look beside
# their executable's prefix). Builds first. Run as root or with sudo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PREFIX=${PREFIX:-/usr/local}
INDI_SHARE=${INDI_SHARE:-/usr/share/indi}

installers/deps.sh
cargo build --release --quiet -p dso-detector
install -d "$PREFIX/bin" "$INDI_SHARE" "$PREFIX/lib/dso-detector/plugins" "$PREFIX/share/dso-detector"
install -m 755 target/release/indi_dso_detector target/release/dso-detect "$PREFIX/bin/"
install -m 644 xml/indi_dso_detector.xml "$INDI_SHARE/"
install -m 644 models/weights/dso_yolo.onnx models/weights/dso_classifier.onnx models/weights/dso_classifier_grad.onnx \
    models/weights/dso_pix2pix.onnx "$PREFIX/share/dso-detector/"
echo "installed: $PREFIX/bin/indi_dso_detector, $PREFIX/bin/dso-detect, $INDI_SHARE/indi_dso_detector.xml, models in $PREFIX/share/dso-detector"
echo "third-party detector plugins go in $PREFIX/lib/dso-detector/plugins (see plugin-api/README.md)"
