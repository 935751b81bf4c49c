#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""XRAI teacher maps for Pix2Pix: image -> heat map pairs from the classifier's patches.

    python3 -m dso_training.pix2pix.teacher --classifier out/classifier/dso_classifier.pt \
        --patches out/classifier/data/train.npz --count 4000 --out out/pix2pix/train.npz

XRAI here is Google PAIR's `saliency` 0.2.1 (the reference the Rust XRAI in models/src/xrai is tested against, see
its fixture tests) fed with Integrated Gradients computed in PyTorch exactly as the library computes them: constant
baselines at the patch's min and max, `steps` points of linspace(0, 1) with both ends, sum(grad) * (x - baseline) /
steps, the two baselines averaged. Why not the Rust XRAI: teacher maps are made where a GPU is, in bulk (thousands of
patches in minutes); the Felzenszwalb segmentation and greedy ranking run in a process pool.

Output .npz: `x` (N, 224, 224, 3) uint8, `map` (N, 224, 224) float32 raw XRAI values, `y` (N,) the patch labels,
`p` (N,) the classifier's P(DSO), `steps`.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

import numpy as np
import torch

from ..classifier.net import load


def integrated_gradients(net, x: np.ndarray, steps: int, device, chunk: int = 256) -> np.ndarray:
    """IG attribution (H, W, 3) of logit 1 for one HWC patch in [0, 1], averaged over the min and max baselines."""
    xt = torch.from_numpy(x).to(device).permute(2, 0, 1)[None]
    alphas = torch.linspace(0, 1, steps, device=device).view(-1, 1, 1, 1)
    total = torch.zeros_like(xt)
    for base_value in (float(x.min()), float(x.max())):
        base = torch.full_like(xt, base_value)
        grads = torch.zeros_like(xt)
        for i in range(0, steps, chunk):
            pts = (base + alphas[i:i + chunk] * (xt - base)).requires_grad_(True)
            (g,) = torch.autograd.grad(net(pts)[:, 1].sum(), pts)
            grads += g.sum(0, keepdim=True)
        total += grads * (xt - base) / steps
    return (total / 2)[0].permute(1, 2, 0).cpu().numpy().astype(np.float64)


def _xrai(args):
    x, attr = args
    import saliency.core as saliency

    out = saliency.XRAI().GetMaskWithDetails(x, None, base_attribution=attr)
    return np.asarray(out.attribution_mask, np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classifier", required=True)
    ap.add_argument("--patches", required=True, help="patches.py output (.npz with x, y)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=0, help="first N patches (0: all)")
    ap.add_argument("--steps", type=int, default=100, help="IG steps per baseline (library default 100)")
    ap.add_argument("--workers", type=int, default=max(os.cpu_count() - 1, 1))
    ap.add_argument("--seconds", type=float, default=0, help="stop taking new patches after this long (0: none)")
    args = ap.parse_args()

    pool = mp.get_context("fork").Pool(args.workers)  # before CUDA starts: the workers never touch the GPU
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    net = load(args.classifier).to(device)
    for p in net.parameters():
        p.requires_grad_(False)
    data = np.load(args.patches)
    xs, ys = data["x"], data["y"]
    n = min(args.count or len(ys), len(ys))
    t0 = time.time()
    done_x, done_y, done_p, maps = [], [], [], []
    with pool:
        pending = []
        for i in range(n):
            if args.seconds and time.time() - t0 > args.seconds:
                print(f"time budget reached at {i} patches", flush=True)
                break
            x = xs[i].astype(np.float64) / 255.0
            attr = integrated_gradients(net, x.astype(np.float32), args.steps, device)
            with torch.no_grad():
                p = torch.softmax(net(torch.from_numpy(x.astype(np.float32)).to(device).permute(2, 0, 1)[None]), 1)
            done_x.append(xs[i])
            done_y.append(ys[i])
            done_p.append(float(p[0, 1]))
            pending.append(pool.apply_async(_xrai, ((x, attr),)))
            while sum(not r.ready() for r in pending) > 2 * args.workers:  # IG outruns the pool: wait for it
                time.sleep(0.01)
            if (i + 1) % 500 == 0:
                print(f"{i + 1} patches, {time.time() - t0:.0f} s", flush=True)
        maps = [r.get() for r in pending]
    np.savez(args.out, x=np.stack(done_x), map=np.stack(maps), y=np.asarray(done_y, np.uint8),
             p=np.asarray(done_p, np.float32), steps=args.steps)
    dt = time.time() - t0
    print(f"{len(maps)} teacher maps at {args.steps} IG steps in {dt:.0f} s ({dt / max(len(maps), 1):.3f} s each)",
          flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
