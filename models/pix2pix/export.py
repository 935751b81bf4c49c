#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exports the Pix2Pix generator to ONNX: input[N,3,224,224] (stretched RGB in [0, 1]) -> heat[N,1,224,224].

    python3 -m models.pix2pix.export out/gpu2/pix2pix.pt --out models/pix2pix

Eval mode: BatchNorm uses its running statistics and dropout is off, so the map is deterministic (Pix2Pix keeps
dropout on at test time for diversity; a detector wants the same answer twice). The map is the XRAI map divided by
the checkpoint's `scale`, clipped to [0, 1]; the scale is printed and goes into the model card and the Rust constant
`pix2pix::MAP_SCALE`. Checked against PyTorch before it returns.
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import torch

from .net import load_generator

SIDE = 224


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--name", default="dso_pix2pix")
    args = ap.parse_args()
    g = load_generator(args.checkpoint)
    ck = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    path = os.path.join(args.out, args.name + ".onnx")
    x = torch.rand(2, 3, SIDE, SIDE)
    torch.onnx.export(g, (x,), path, dynamo=True, input_names=["input"], output_names=["heat"],
                      dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=1024)},), external_data=False,
                      verbose=False)
    import onnxruntime as ort

    xt = torch.rand(3, 3, SIDE, SIDE)
    with torch.no_grad():
        ref = g(xt).numpy()
    got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": xt.numpy()})[0]
    err = float(np.abs(got - ref).max())
    print(f"wrote {path}; max abs error vs PyTorch {err:.1e}; map scale {ck['scale']:.6g}; "
          f"val PSNR {ck['val_psnr']:.2f} dB at epoch {ck['epoch']} ({ck['train_pairs']} train pairs)")
    if err > 1e-3:
        raise SystemExit("exported graph disagrees with PyTorch")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
