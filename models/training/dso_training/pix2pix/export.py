#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exports the Pix2Pix generator to ONNX: input[N,3,224,224] (stretched RGB in [0, 1]) -> heat[N,1,224,224].

    python3 -m dso_training.pix2pix.export out/gpu2/pix2pix.pt    # into models/weights

Eval mode: BatchNorm uses its running statistics and dropout is off, so the map is deterministic (Pix2Pix keeps
dropout on at test time for diversity; a detector wants the same answer twice). The map is the XRAI map divided by
the checkpoint's `scale`, clipped to [0, 1]; the scale is printed and goes into the model card and the Rust constant
`pix2pix::MAP_SCALE`. Checked against PyTorch before it returns.
"""
from __future__ import annotations

import torch

from ..common.export import arguments, export_batched, forward_error
from .net import load_generator

SIDE = 224


def main() -> int:
    args = arguments(__doc__, "dso_pix2pix")
    g = load_generator(args.checkpoint)
    ck = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    path = args.path
    export_batched(g, path, "heat", SIDE, 1024)
    err, _ = forward_error(g, path, SIDE)
    print(f"wrote {path}; max abs error vs PyTorch {err:.1e}; map scale {ck['scale']:.6g}; "
          f"val PSNR {ck['val_psnr']:.2f} dB at epoch {ck['epoch']} ({ck['train_pairs']} train pairs)")
    if err > 1e-3:
        raise SystemExit("exported graph disagrees with PyTorch")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
