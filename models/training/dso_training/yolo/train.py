#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Trains DSO Detector's default YOLO model from scratch, offline, on the CPU.

The data comes from the project's own generator (never from the real dev set, which is evaluation only):

    nice python3 -m dso_training.datagen --out out/yolo-data --seed 1 --synthetic 1500 --composite 1500 \
        --size 640 --stretch-target 0.12:0.35 --workers 2

then, in the background, with a checkpoint after every epoch (`last.pt`, `best.pt` under `--project/--name/weights`):

    nohup nice -n 19 python3 -m dso_training.yolo.train --data out/yolo-data/data.yaml > out/yolo/train.log 2>&1 &

and to continue an interrupted run in a later session:

    nohup nice -n 19 python3 -m dso_training.yolo.train --resume out/yolo/runs/dso/weights/last.pt \
        > out/yolo/train.log 2>&1 &

Augmentation (why): the generator already varies noise, sky gradients (light pollution), star density, Bayer
demosaicing and, with `--stretch-target 0.12:0.35`, how under- or over-exposed the stretched patch looks. On top of
that ultralytics' own augmentation runs with wider colour jitter than its defaults (real smart-telescope frames range
from neutral to strongly tinted by light pollution and H-alpha), vertical flips (the sky has no up), and mosaic until
the last epoch (mosaic cuts boxes at tile borders, and 65 % of the real labels are truncated at the patch border).
On top of those, `sky_augment` (below) replaces ultralytics' optional albumentations step with sky-specific ones,
each drawn independently per training image: Gaussian read/shot-like noise (p=0.4, sigma 2–12 of 255), Gaussian blur
for seeing and focus (p=0.2, sigma 0.5–1.5 px), a gamma curve for under- or over-stretched frames (p=0.4, gamma
0.6–1.8), and a linear light-pollution gradient of random direction and colour (p=0.3, up to +60 of 255).

Uses ultralytics (AGPL-3.0) as a training tool only; the exported ONNX graph is the project's own weights.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from ..common.paths import REPO as ROOT


def offline_environment(config_dir: Path) -> None:
    """ultralytics must never reach the network here: no hub, no font download, no pip auto-install."""
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    font = config_dir / "Arial.ttf"
    if not font.exists():
        for candidate in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/stellarium/data/DejaVuSans.ttf"):
            if Path(candidate).exists():
                shutil.copy(candidate, font)
                break


def sky_augment(labels: dict) -> dict:
    """Noisy, under-exposed, light-polluted skies (see the module docstring); boxes are unchanged."""
    import cv2
    import numpy as np

    img = labels["img"]
    rng = np.random.default_rng()
    x = img.astype(np.float32)
    if rng.random() < 0.4:
        x = 255.0 * (x / 255.0) ** rng.uniform(0.6, 1.8)
    if rng.random() < 0.3:
        h, w = x.shape[:2]
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = (np.cos(angle) * xx / w + np.sin(angle) * yy / h)
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
        colour = rng.uniform(0.5, 1.0, 3).astype(np.float32)
        x = x + rng.uniform(10, 60) * ramp[..., None] * colour[None, None]
    if rng.random() < 0.2:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < 0.4:
        x = x + rng.normal(0.0, rng.uniform(2, 12), x.shape).astype(np.float32)
    labels["img"] = np.clip(x, 0, 255).astype(np.uint8)
    return labels


def install_sky_augment() -> None:
    """ultralytics calls `Albumentations(p=1.0)` in every training pipeline; make that step ours."""
    from ultralytics.data import augment

    augment.Albumentations.__call__ = lambda self, labels: sky_augment(labels)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(ROOT / "out/yolo-data/data.yaml"), help="generator's data.yaml")
    ap.add_argument("--model", default="yolov8n.yaml", help="architecture yaml (trained from scratch)")
    ap.add_argument("--imgsz", type=int, default=320, help="training input size (px)")
    ap.add_argument("--epochs", type=int, default=30, help="epochs (upper bound when --hours is given)")
    ap.add_argument("--hours", type=float, default=0.0,
                    help="wall-clock budget; ultralytics then fits the epoch count and LR schedule to it (0: off)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--project", default=str(ROOT / "out/yolo/runs"))
    ap.add_argument("--name", default="dso")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu, or a CUDA device index such as 0")
    ap.add_argument("--workers", type=int, default=0, help="data-loading processes (0: in the training process)")
    ap.add_argument("--resume", default="", help="last.pt of an interrupted run to continue")
    ap.add_argument("--weights", default="",
                    help="start from these weights (a finished run's last.pt) with a fresh schedule; --model stays the yaml")
    args = ap.parse_args()

    offline_environment(ROOT / "out/yolo/ultralytics-config")
    import torch  # noqa: E402  (after the environment is set)
    from ultralytics import YOLO  # noqa: E402

    torch.set_num_threads(2)
    install_sky_augment()
    if args.resume:
        YOLO(args.resume).train(resume=True)
        return 0

    model = YOLO(args.model)
    model.train(
        data=args.data, imgsz=args.imgsz, epochs=args.epochs, time=args.hours or None, batch=args.batch,
        device=args.device, workers=args.workers, amp=args.device != "cpu", pretrained=args.weights or False, seed=args.seed, deterministic=False,
        project=args.project, name=args.name, exist_ok=True, save=True, save_period=1, plots=False, val=True,
        patience=100, cache=False,
        optimizer="AdamW", lr0=0.002, cos_lr=False, warmup_epochs=1.0,
        # augmentation: see the module docstring
        hsv_h=0.03, hsv_s=0.7, hsv_v=0.5, degrees=0.0, translate=0.15, scale=0.6, shear=0.0, perspective=0.0,
        flipud=0.5, fliplr=0.5, mosaic=1.0, mixup=0.0, close_mosaic=1,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
