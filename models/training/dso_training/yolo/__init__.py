# SPDX-License-Identifier: GPL-3.0-or-later
"""The YOLO detector's trainer (ultralytics, a training tool only) and its exporter to models/weights/dso_yolo.onnx."""
