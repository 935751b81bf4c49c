#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Trains the DSO / no-DSO classifier (net.py) from scratch on patches cut by patches.py. Run by hand, never in CI.

    python3 -m dso_training.classifier.patches --dataset out/yolo-data --out out/classifier/data
    python3 -m dso_training.classifier.train --data out/classifier/data --out out/classifier/dso_classifier.pt \
        --seconds 1800

Runs on a CUDA GPU when one is present (bf16 autocast), else on the CPU. The best checkpoint by held-out accuracy
is written after every epoch, so an interrupted run leaves a usable model. Augmentation: the 8 flips/rotations (the
sky has no up), gamma 0.6-1.8 (under- and over-stretch), per-channel gain 0.8-1.2 (colour balance), Gaussian noise.
"""
from __future__ import annotations

import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from ..common.training import add_schedule, device as pick_device, dihedral, keep_best, out_of_time, parser, progress
from ..common.training import set_lr, step
from .net import WIDTHS, DsoNet


def augment(x: torch.Tensor) -> torch.Tensor:
    """Random dihedral transform, gamma, channel gains and noise on a float batch in [0, 1] (N, 3, H, W)."""
    n = x.shape[0]
    (x,) = dihedral(x)
    gamma = torch.empty(n, 1, 1, 1, device=x.device).uniform_(math.log(0.6), math.log(1.8)).exp()
    x = x.clamp_min(1e-6) ** gamma
    x = x * torch.empty(n, 3, 1, 1, device=x.device).uniform_(0.8, 1.2)
    x = x + torch.randn_like(x) * torch.empty(n, 1, 1, 1, device=x.device).uniform_(0, 0.03)
    return x.clamp(0, 1)


def to_float(xb, device) -> torch.Tensor:
    """uint8 NHWC (numpy or tensor) -> float NCHW in [0, 1] on `device`."""
    t = xb if isinstance(xb, torch.Tensor) else torch.from_numpy(xb)
    return t.to(device).permute(0, 3, 1, 2).float() / 255.0


def learning_rate(base: float, progress: float) -> float:
    """Linear warm-up over the first 5 %, then cosine decay to zero; `progress` in [0, 1] (time or epochs)."""
    if progress < 0.05:
        return base * progress / 0.05
    return base * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def evaluate(net, x: np.ndarray, y: np.ndarray, device, batch: int = 256) -> float:
    net.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            logits = net(to_float(x[i:i + batch], device))
            right += int((logits.argmax(1).cpu().numpy() == y[i:i + batch]).sum())
    return right / max(len(y), 1)


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("--data", required=True, help="folder with train.npz and val.npz")
    ap.add_argument("--out", required=True, help="checkpoint to write (best held-out accuracy)")
    add_schedule(ap, epochs=40, batch=128, lr=2e-3)
    ap.add_argument("--init", default="", help="start from this checkpoint's weights (a fresh schedule)")
    args = ap.parse_args()

    device = pick_device(args.seed)
    tr, va = np.load(os.path.join(args.data, "train.npz")), np.load(os.path.join(args.data, "val.npz"))
    xt, yt, xv, yv = tr["x"], tr["y"].astype(np.int64), va["x"], va["y"].astype(np.int64)
    print(f"train {len(yt)} ({yt.mean():.2f} positive), val {len(yv)}, device {device}", flush=True)
    net = DsoNet()
    if args.init:
        init = torch.load(args.init, map_location="cpu", weights_only=True)["state_dict"]
        net.load_state_dict({k: v.to(net.state_dict()[k].dtype) for k, v in init.items()})
    net = net.to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.05)
    steps_per_epoch = max(len(yt) // args.batch, 1)
    if device.type == "cuda":  # the whole uint8 set fits on the GPU; indexing there avoids host copies
        xt, yt_dev = torch.from_numpy(xt).to(device), torch.from_numpy(yt).to(device)
    else:
        yt_dev = torch.from_numpy(yt)
    t0, best, rng = time.time(), -1.0, np.random.default_rng(args.seed)
    for epoch in range(args.epochs):
        net.train()
        order = rng.permutation(len(yt))
        loss_sum = 0.0
        for s in range(steps_per_epoch):
            set_lr([opt], learning_rate(args.lr, progress(args, t0, epoch, s, steps_per_epoch)))
            idx = torch.from_numpy(np.sort(order[s * args.batch:(s + 1) * args.batch]))
            xb = augment(to_float(xt[idx.to(xt.device)], device))
            yb = yt_dev[idx.to(yt_dev.device)].to(device)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                loss = F.cross_entropy(net(xb), yb, label_smoothing=0.05)
            step(opt, loss)
            loss_sum += loss.item()
        acc = evaluate(net, xv, yv, device)
        elapsed = time.time() - t0
        print(f"epoch {epoch + 1} loss {loss_sum / steps_per_epoch:.4f} val_acc {acc:.4f} {elapsed:.0f} s", flush=True)
        best = keep_best(best, acc, lambda: {
            "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()}, "widths": list(WIDTHS),
            "val_acc": acc, "epoch": epoch + 1, "train_patches": len(yt), "val_patches": len(yv)}, args.out)
        if out_of_time(args, elapsed, epoch):
            break
    print(f"best val_acc {best:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
