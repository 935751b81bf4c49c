# SPDX-License-Identifier: GPL-3.0-or-later
"""Cuts the classifier's balanced DSO / no-DSO patches out of a generated YOLO data set (`python3 -m dso_training.datagen`).

Why cut rather than generate: the generator's patches already carry everything the classifier must learn to ignore
(the paper's false positives): dense and sparse star fields, saturated bright stars with halos (unlabelled hard
negatives), light-pollution gradients, Bayer artefacts, noise, under- and over-stretch. A region of such a patch that
no label touches is a realistic negative; a region that holds most of an object is a positive.

Each source image gives (a) the whole patch resized to 224 px, the way the detector sees a whole small frame, and
(b) random square crops of 0.35, 0.5 and 0.7 of the patch side, resized to 224 px, the way it sees tiles of a large
frame. A crop is positive when an object's visible part is at least half of the object or a quarter of the crop, and
at least 6 px (at 224) on its short side; negative when no label touches it; anything between is skipped (the label
would be a guess). Positives and negatives are balanced by dropping the surplus at random.

Output: one .npz per split with `x` (N, 224, 224, 3) uint8 RGB and `y` (N,) uint8.
"""
from __future__ import annotations

import argparse
import glob
import os

import cv2
import numpy as np

SIDE = 224
CROP_FRACTIONS = (0.35, 0.5, 0.7)
CROPS_PER_FRACTION = 2


def read_boxes(path: str, w: int, h: int) -> list[tuple[float, float, float, float]]:
    """YOLO label lines -> pixel boxes (x0, y0, x1, y1)."""
    out = []
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            p = line.split()
            if len(p) == 5:
                cx, cy, bw, bh = (float(v) for v in p[1:])
                out.append(((cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h))
    return out


def crop_label(boxes, x0: float, y0: float, side: float) -> int | None:
    """1, 0, or None (ambiguous) for the square crop at (x0, y0) of the given side (see module docs)."""
    x1, y1 = x0 + side, y0 + side
    touched = False
    for bx0, by0, bx1, by1 in boxes:
        ix0, iy0, ix1, iy1 = max(bx0, x0), max(by0, y0), min(bx1, x1), min(by1, y1)
        if ix1 <= ix0 or iy1 <= iy0:
            continue
        touched = True
        vis = (ix1 - ix0) * (iy1 - iy0)
        area = max((bx1 - bx0) * (by1 - by0), 1e-6)
        short = min(ix1 - ix0, iy1 - iy0) * SIDE / side
        if (vis >= 0.5 * area or vis >= 0.25 * side * side) and short >= 6:
            return 1
    return None if touched else 0


def patches_of(img: np.ndarray, boxes, rng: np.random.Generator):
    """(patch, label) pairs from one RGB image: the whole image and random crops."""
    h, w = img.shape[:2]
    n = min(h, w)
    out = []
    lab = crop_label(boxes, 0, 0, n) if h == w else None
    if h == w and lab is not None:
        out.append((cv2.resize(img, (SIDE, SIDE), interpolation=cv2.INTER_AREA), lab))
    for f in CROP_FRACTIONS:
        side = int(round(f * n))
        for _ in range(CROPS_PER_FRACTION):
            x0, y0 = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
            lab = crop_label(boxes, x0, y0, side)
            if lab is None:
                continue
            crop = img[y0:y0 + side, x0:x0 + side]
            interp = cv2.INTER_AREA if side > SIDE else cv2.INTER_LINEAR
            out.append((cv2.resize(crop, (SIDE, SIDE), interpolation=interp), lab))
    return out


def cut(dataset: str, split: str, seed: int, limit: int = 0):
    """Balanced (x, y) arrays from `dataset/images/<split>`."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    files = sorted(glob.glob(os.path.join(dataset, "images", split, "*.jpg")))
    if limit:
        files = files[:limit]
    for f in files:
        img = cv2.cvtColor(cv2.imread(f, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        lab = os.path.join(dataset, "labels", split, os.path.basename(f)[:-4] + ".txt")
        for p, y in patches_of(img, read_boxes(lab, img.shape[1], img.shape[0]), rng):
            xs.append(p)
            ys.append(y)
    y = np.asarray(ys, np.uint8)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    k = min(len(pos), len(neg))
    keep = np.sort(np.concatenate([rng.choice(pos, k, replace=False), rng.choice(neg, k, replace=False)]))
    return np.stack([xs[i] for i in keep]) if k else np.zeros((0, SIDE, SIDE, 3), np.uint8), y[keep]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", action="append", required=True, help="generator output folder (repeatable)")
    ap.add_argument("--out", required=True, help="folder for train.npz / val.npz")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=0, help="at most this many source images per split and data set")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for split in ("train", "val"):
        parts = [cut(d, split, args.seed + i, args.limit) for i, d in enumerate(args.dataset)]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        np.savez(os.path.join(args.out, f"{split}.npz"), x=x, y=y)
        print(f"{split}: {len(y)} patches, {int(y.sum())} positive", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
