#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exports a trained checkpoint to the ONNX model DSO Detector ships (`models/weights/dso_yolo.onnx`).

    python3 -m dso_training.yolo.export out/yolo/runs/dso/weights/best.pt

The graph has input `images` float[1,3,S,S] (RGB in 0..1, letterboxed with grey 114/255) and output
float[1,4+nc,N] (YOLOv8 layout, no NMS); ultralytics writes the class names as the `names` metadata entry, which the
Rust detector reads. Opset 17, static shape, fp32.
"""
from __future__ import annotations

import argparse
import shutil
import sys

from ..common.paths import REPO, WEIGHTS
from .train import offline_environment


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint", help="best.pt or last.pt")
    ap.add_argument("--imgsz", type=int, default=0, help="input size (default: the training size)")
    ap.add_argument("--out", default=str(WEIGHTS / "dso_yolo.onnx"))
    args = ap.parse_args()
    offline_environment(REPO / "out/yolo/ultralytics-config")
    from ultralytics import YOLO  # noqa: E402

    model = YOLO(args.checkpoint)
    imgsz = args.imgsz or int(model.ckpt.get("train_args", {}).get("imgsz", 320))
    path = model.export(format="onnx", opset=17, imgsz=imgsz, simplify=False, dynamic=False, nms=False)
    shutil.copy(path, args.out)
    print(f"wrote {args.out} (input {imgsz}×{imgsz})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
