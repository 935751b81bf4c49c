# SPDX-License-Identifier: GPL-3.0-or-later
"""What the ONNX exporters share (torch): the command line, the batched forward export and its check.

Every exporter reads a checkpoint and writes `<name>.onnx` into `models/weights` (where the driver finds the shipped
models) unless told otherwise, exports with a dynamic batch dimension (the detectors run a frame's tiles as one
batch) and refuses to finish when ONNX Runtime's answer differs from PyTorch's on random input.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch

from .paths import WEIGHTS


def arguments(doc: str, name: str) -> argparse.Namespace:
    """checkpoint, --out (folder, default models/weights) and --name (file stem, default `name`)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--out", default=str(WEIGHTS))
    ap.add_argument("--name", default=name)
    args = ap.parse_args()
    args.path = os.path.join(args.out, args.name + ".onnx")
    return args


def export_batched(net: torch.nn.Module, path: str, output: str, side: int, max_batch: int) -> None:
    """Writes `net` with input `input`[N,3,side,side] and one output named `output`, N from 1 to `max_batch`."""
    x = torch.rand(2, 3, side, side)
    torch.onnx.export(net, (x,), path, dynamo=True, input_names=["input"], output_names=[output],
                      dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=max_batch)},), external_data=False,
                      verbose=False)


def forward_error(net: torch.nn.Module, path: str, side: int) -> tuple[float, float]:
    """(max abs error, max |PyTorch output|) of the ONNX graph at `path` against `net` on 3 random inputs."""
    import onnxruntime as ort

    x = torch.rand(3, 3, side, side)
    with torch.no_grad():
        ref = net(x).numpy()
    got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})[0]
    return float(np.abs(got - ref).max()), float(np.abs(ref).max())
