#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Trains the Pix2Pix generator to imitate XRAI teacher maps (teacher.py). Run by hand, never in CI.

    python3 -m dso_training.pix2pix.train --train out/pix2pix/train.npz --val out/pix2pix/val.npz \
        --out out/pix2pix/pix2pix.pt --seconds 3600

Loss as in Pix2Pix: the conditional GAN loss of a 70x70 PatchGAN plus 100 x L1 to the teacher map; Adam 2e-4,
betas (0.5, 0.999), the learning rate constant for the first half and decaying linearly to zero in the second
(measured in time when --seconds is given). Targets: the raw XRAI map divided by one global scale (the 99.5th
percentile of the training maps) and clipped to [0, 1], so that a weak map stays weak (a patch without an object gives
a dim map, not one stretched to full brightness). The checkpoint stores that scale. Augmentation: the 8
flips/rotations, applied to image and map alike. Runs on a CUDA GPU when present, else on the CPU. The checkpoint
with the best held-out PSNR is kept.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from ..common.training import add_schedule, device as pick_device, dihedral, keep_best, out_of_time, parser, progress
from ..common.training import set_lr, step
from .net import NGF, PatchGan, UNet

L1_WEIGHT = 100.0


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB for maps in [0, 1] (N, 1, H, W)."""
    mse = ((pred - target) ** 2).mean((1, 2, 3)).clamp_min(1e-10)
    return -10 * torch.log10(mse)


def tensors(path: str, scale: float | None, device):
    d = np.load(path)
    maps = d["map"].astype(np.float32)
    if scale is None:
        scale = float(np.percentile(maps, 99.5))
    x = torch.from_numpy(d["x"]).to(device).permute(0, 3, 1, 2).contiguous()
    m = torch.from_numpy(np.clip(maps / scale, 0, 1)).to(device)[:, None]
    return x, m, torch.from_numpy(d["y"]).to(device), scale


def evaluate(g, x, m, y, batch: int = 64):
    """Mean PSNR over held-out pairs: all, with an object, without."""
    g.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(m), batch):
            out.append(psnr(g(x[i:i + batch].float() / 255), m[i:i + batch]))
    g.train()
    p = torch.cat(out)
    pos, neg = p[y == 1], p[y == 0]
    return float(p.mean()), float(pos.mean()) if len(pos) else float("nan"), float(neg.mean()) if len(neg) else float(
        "nan")


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--out", required=True)
    add_schedule(ap, epochs=200, batch=16, lr=2e-4)
    args = ap.parse_args()
    device = pick_device(args.seed)
    xt, mt, _, scale = tensors(args.train, None, device)
    xv, mv, yv, _ = tensors(args.val, scale, device)
    print(f"train {len(mt)} pairs, val {len(mv)}, map scale {scale:.4g}, device {device}", flush=True)
    g, d = UNet().to(device), PatchGan().to(device)
    opt_g = torch.optim.Adam(g.parameters(), args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), args.lr, betas=(0.5, 0.999))
    steps = max(len(mt) // args.batch, 1)
    t0, best = time.time(), -1.0
    for epoch in range(args.epochs):
        l1_sum = 0.0
        for s in range(steps):
            done = min(progress(args, t0, epoch, s, steps), 1.0)
            set_lr([opt_g, opt_d], args.lr * min(1.0, 2 * (1 - done)))
            idx = torch.randint(0, len(mt), (args.batch,), device=device)
            x, m = dihedral(xt[idx].float() / 255, mt[idx])
            fake = g(x)
            # discriminator: real pairs -> 1, generated pairs -> 0
            real_logits, fake_logits = d(x, m), d(x, fake.detach())
            loss_d = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
            step(opt_d, loss_d)
            # generator: fool the discriminator and stay close to the teacher
            adv = d(x, fake)
            l1 = F.l1_loss(fake, m)
            loss_g = F.binary_cross_entropy_with_logits(adv, torch.ones_like(adv)) + L1_WEIGHT * l1
            step(opt_g, loss_g)
            l1_sum += l1.item()
        p_all, p_pos, p_neg = evaluate(g, xv, mv, yv)
        elapsed = time.time() - t0
        print(f"epoch {epoch + 1} L1 {l1_sum / steps:.4f} val PSNR {p_all:.2f} dB (object {p_pos:.2f}, "
              f"none {p_neg:.2f}) {elapsed:.0f} s", flush=True)
        best = keep_best(best, p_all, lambda: {
            "generator": {k: v.detach().cpu().half() for k, v in g.state_dict().items()}, "ngf": NGF, "scale": scale,
            "epoch": epoch + 1, "val_psnr": p_all, "val_psnr_object": p_pos, "val_psnr_none": p_neg,
            "train_pairs": len(mt), "val_pairs": len(mv)}, args.out)
        if out_of_time(args, elapsed, epoch):
            break
    print(f"best val PSNR {best:.2f} dB", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
