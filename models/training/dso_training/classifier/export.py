#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Exports the classifier twice: the forward graph and the input-gradient graph that XRAI runs.

    python3 -m dso_training.classifier.export out/classifier/dso_classifier.pt    # into models/weights

writes `dso_classifier.onnx` (input[N,3,224,224] -> logits[N,2]) and `dso_classifier_grad.onnx`
(input[1,3,224,224], onehot[1,2] -> logits[1,2], grad[1,3,224,224] = d sum(logits * onehot) / d input).

Why a second graph: ONNX Runtime has no autograd. The eval-mode network's forward and backward pass is traced into
one graph of plain ATen ops with `make_fx` and the core decompositions, plus two decompositions of our own that keep
the graph in standard ONNX ops: a convolution's input gradient becomes a transposed convolution, and max-pool's
backward pass becomes a scatter-add at the pooling indices. `torch.onnx.export(dynamo=True)` then writes it. The
exporter checks both graphs against PyTorch before it returns; re-export whenever the weights change.
"""
from __future__ import annotations

import numpy as np
import torch
from torch._decomp import core_aten_decompositions
from torch.fx.experimental.proxy_tensor import make_fx

from ..common.export import arguments, export_batched, forward_error
from .net import INPUT, load

aten = torch.ops.aten


def _conv_backward(grad_out, inp, weight, bias_sizes, stride, padding, dilation, transposed, output_padding, groups,
                   output_mask):
    """Input gradient of a convolution as a transposed convolution (weights and bias need no gradient)."""
    assert not transposed and groups == 1
    k = weight.shape[2:]
    extra = [inp.shape[2 + i] - ((grad_out.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k[i] - 1)
                                 + 1) for i in range(len(k))]
    return aten.convolution.default(grad_out, weight, None, stride, padding, dilation, True, extra, groups), None, None


def _maxpool_backward(grad_out, inp, kernel_size, stride, padding, dilation, ceil_mode, indices):
    """Max-pool's backward pass: each output gradient goes back to the input element that won."""
    n, c, h, w = inp.shape
    g = aten.new_zeros.default(grad_out, [n, c, h * w])
    g = aten.scatter_add.default(g, 2, indices.reshape(n, c, -1), grad_out.reshape(n, c, -1))
    return g.reshape(n, c, h, w)


class _Graph(torch.nn.Module):
    def __init__(self, gm):
        super().__init__()
        self.gm = gm

    def forward(self, x, onehot):
        return self.gm(x, onehot)


def export_gradient(net: torch.nn.Module, path: str, side: int = INPUT, classes: int = 2) -> None:
    """Writes the input-gradient graph of `net` (eval mode, parameters frozen)."""
    for p in net.parameters():
        p.requires_grad_(False)
    decomp = dict(core_aten_decompositions())
    decomp[aten.convolution_backward.default] = _conv_backward
    decomp[aten.max_pool2d_with_indices_backward.default] = _maxpool_backward

    def grad_fn(x, onehot):
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            y = net(x)
            (g,) = torch.autograd.grad((y * onehot).sum(), x)
        return y.detach(), g

    x = torch.rand(1, 3, side, side)
    onehot = torch.zeros(1, classes)
    onehot[0, 1] = 1
    gm = make_fx(grad_fn, decomposition_table=decomp, tracing_mode="real")(x, onehot)
    torch.onnx.export(_Graph(gm), (x, onehot), path, dynamo=True, input_names=["input", "onehot"],
                      output_names=["logits", "grad"], external_data=False, verbose=False)


def check(net: torch.nn.Module, forward: str, gradient: str) -> tuple[float, float]:
    """Errors of the ONNX graphs against PyTorch on random patches: relative max (logits), relative L2 (gradient)."""
    import onnxruntime as ort

    err, peak = forward_error(net, forward, INPUT)
    e_fwd = err / max(peak, 1e-12)
    x = torch.rand(1, 3, INPUT, INPUT)
    xi = x.clone().requires_grad_(True)
    (g_ref,) = torch.autograd.grad(net(xi)[0, 1], xi)
    sess = ort.InferenceSession(gradient, providers=["CPUExecutionProvider"])
    _, g = sess.run(None, {"input": x.numpy(), "onehot": np.array([[0, 1]], np.float32)})
    # relative L2: a max-pool whose two inputs differ by fp32 noise may route one gradient to the neighbour
    e_grad = float(np.linalg.norm(g - g_ref.numpy()) / max(np.linalg.norm(g_ref.numpy()), 1e-12))
    return e_fwd, e_grad


def main() -> int:
    args = arguments(__doc__, "dso_classifier")
    net = load(args.checkpoint)
    fwd, grad = args.path, args.path.removesuffix(".onnx") + "_grad.onnx"
    export_batched(net, fwd, "logits", INPUT, 4096)
    export_gradient(net, grad)
    e_fwd, e_grad = check(net, fwd, grad)
    print(f"wrote {fwd} and {grad}; error vs PyTorch: logits {e_fwd:.1e} (max), gradient {e_grad:.1e} (L2)")
    if e_fwd > 1e-3 or e_grad > 1e-3:
        raise SystemExit("exported graphs disagree with PyTorch")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
