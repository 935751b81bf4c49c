#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pix2Pix against its teacher on held-out patches: PSNR and SSIM of the generator's maps against the project's Rust
XRAI maps, the cost of XRAI's faster default (32 steps per baseline against the library's 100), and a figure.

    python3 -m dso_training.classifier.patches --dataset out/yolo-data --out out/classifier/data   # once
    python3 -m dso_training.pix2pix.fidelity --patches out/classifier/data/val.npz --count 60 \
        --figure docs/figures/pix2pix-vs-xrai.png

The patches are the classifier's held-out split (the generator's val images, never trained on), half with an
object and half without. Maps are compared on the detector's scale: XRAI map / MAP_SCALE, clipped to [0, 1].
The Rust XRAI runs through `cargo run --release -p dso-models --example xrai_maps`.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time

import numpy as np
import onnxruntime as ort
from skimage.metrics import structural_similarity

from ..common.paths import REPO, WEIGHTS

MAP_SCALE = 0.00476282  # models/weights/PIX2PIX_CARD.md; the Rust constant pix2pix::MAP_SCALE


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(-10 * np.log10(max(float(np.mean((a - b) ** 2)), 1e-10)))


def top_iou(a: np.ndarray, b: np.ndarray, frac: float = 0.1) -> float:
    ma, mb = a >= np.quantile(a, 1 - frac), b >= np.quantile(b, 1 - frac)
    return float((ma & mb).sum() / max((ma | mb).sum(), 1))


def rust_xrai(grad: str, patches: np.ndarray, steps: int) -> tuple[np.ndarray, float]:
    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "p.npy"), os.path.join(d, "m.npy")
        np.save(src, patches)
        out = subprocess.run(["cargo", "run", "--release", "-q", "-p", "dso-models", "--example", "xrai_maps", "--",
                              grad, src, str(steps), dst], cwd=REPO, check=True, capture_output=True, text=True)
        secs = float(out.stdout.split(":")[-1].split()[0])
        return np.load(dst), secs


def colour(m: np.ndarray) -> np.ndarray:
    """A [0, 1] map as an inferno-like RGB image (black, purple, orange, yellow)."""
    stops = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], np.float32)
    t = np.clip(m, 0, 1) * (len(stops) - 1)
    i = np.minimum(t.astype(int), len(stops) - 2)
    f = (t - i)[..., None]
    return ((1 - f) * stops[i] + f * stops[i + 1]).astype(np.uint8)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patches", required=True)
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--grad", default=str(WEIGHTS / "dso_classifier_grad.onnx"))
    ap.add_argument("--generator", default=str(WEIGHTS / "dso_pix2pix.onnx"))
    ap.add_argument("--figure", default="")
    args = ap.parse_args()

    d = np.load(args.patches)
    rng = np.random.default_rng(args.seed)
    pos, neg = np.flatnonzero(d["y"] == 1), np.flatnonzero(d["y"] == 0)
    k = args.count // 2
    idx = np.concatenate([rng.choice(pos, k, replace=False), rng.choice(neg, k, replace=False)])
    x, y = d["x"][idx], d["y"][idx]

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    gen = ort.InferenceSession(args.generator, so, providers=["CPUExecutionProvider"])
    t = time.perf_counter()
    p2p = np.concatenate([gen.run(None, {"input": x[i:i + 1].transpose(0, 3, 1, 2).astype(np.float32) / 255})[0]
                          for i in range(len(y))])[:, 0]
    p2p_secs = (time.perf_counter() - t) / len(y)
    x100, s100 = rust_xrai(args.grad, x, 100)
    x32, s32 = rust_xrai(args.grad, x, 32)
    t100, t32 = np.clip(x100 / MAP_SCALE, 0, 1), np.clip(x32 / MAP_SCALE, 0, 1)

    def rows(a, b):
        ps = np.array([psnr(a[i], b[i]) for i in range(len(y))])
        ss = np.array([structural_similarity(a[i], b[i], data_range=1.0) for i in range(len(y))])
        ious = np.array([top_iou(a[i], b[i]) for i in range(len(y))])
        return [(name, ps[m].mean(), ss[m].mean(), ious[m].mean()) for name, m in
                (("all", np.ones(len(y), bool)), ("with object", y == 1), ("without", y == 0))]

    print(f"{len(y)} held-out patches ({int(y.sum())} with an object); Rust XRAI {s100:.2f} s per patch at 100 "
          f"steps, {s32:.2f} s at 32; Pix2Pix {p2p_secs * 1000:.1f} ms per patch")
    print("| comparison | patches | PSNR (dB) | SSIM | top-10 % IoU |\n|---|---|---|---|---|")
    for title, a, b in (("Pix2Pix vs XRAI (100 steps, the teacher's setting)", p2p, t100),
                        ("Pix2Pix vs XRAI (32 steps, the detector's default)", p2p, t32),
                        ("XRAI 32 steps vs XRAI 100 steps", t32, t100)):
        for name, p, s, iou in rows(a, b):
            print(f"| {title} | {name} | {p:.2f} | {s:.3f} | {iou:.3f} |")
    if args.figure:
        from PIL import Image

        pick = [i for i in range(len(y)) if y[i] == 1][:3] + [i for i in range(len(y)) if y[i] == 0][:1]
        rows_img = [np.concatenate([x[i], colour(t100[i]), colour(p2p[i])], 1) for i in pick]
        os.makedirs(os.path.dirname(os.path.abspath(args.figure)), exist_ok=True)
        Image.fromarray(np.concatenate(rows_img, 0)).save(args.figure)
        print(f"figure: {args.figure} (rows: 3 patches with an object, 1 without; columns: patch, XRAI, Pix2Pix)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
